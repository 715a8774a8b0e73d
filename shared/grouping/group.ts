// Grouping into digests (issue 16, after Alertmanager's group_by / group_wait / group_interval):
// which group an incident falls in on a route, and when a group's pending notices are told.
// Pure: the stores (./sqlite.ts locally) keep the state; these rules decide over it.
//
// A group is (route, the values of its groupBy keys) on one channel. The first notice of an
// idle group waits `groupWait` for others; then one digest per channel tells them all. Notices
// that arrive within `groupInterval` of the last digest wait for the next one, which goes out
// `groupInterval` after the last; after a quiet `groupInterval` the group is idle again.
import { hash } from 'node:crypto';
import type { Incident, Severity } from '../incident.ts';
import type { DeliveryEvent } from '../channels/channel.ts';
import { transitionIdOf } from '../dedup/decide.ts';

/** Incident fields a route may group by; any other groupBy key names a label. */
export const GROUP_FIELDS = ['source', 'cloud', 'account', 'region', 'resource', 'severity', 'rule'] as const;
export type GroupField = (typeof GROUP_FIELDS)[number];
/** `label:<name>` names a label even when it is spelt like a field (`label:source`). */
export const LABEL_PREFIX = 'label:';

/** Alertmanager's defaults. */
export const DEFAULT_GROUP_WAIT_MS = 30_000;
export const DEFAULT_GROUP_INTERVAL_MS = 5 * 60_000;
/** Notices per digest at most; a group with more is told in several digests, in order. */
export const DIGEST_MAX_ITEMS = 500;

export interface RouteGrouping {
  readonly by: readonly string[];
  readonly waitMs: number;
  readonly intervalMs: number;
}

/** Where an incident goes on a grouped channel. */
export interface GroupAssignment extends RouteGrouping {
  /** Stable across restarts and processes: `g` + 24 hex of SHA-256 over the route and the values. */
  readonly groupId: string;
  /** What the group has in common, in groupBy order (`alertname=HighCPU`), for the digest's header. */
  readonly groupLabels: readonly GroupLabel[];
}

export interface GroupLabel {
  readonly key: string;
  readonly value: string;
}

function isField(key: string): key is GroupField {
  return (GROUP_FIELDS as readonly string[]).includes(key);
}

/** The incident's value for one groupBy key; "" when it has none (as Alertmanager does for a missing label). */
export function groupValueOf(incident: Incident, key: string): string {
  if (key.startsWith(LABEL_PREFIX)) return labelValue(incident, key.slice(LABEL_PREFIX.length));
  if (!isField(key)) return labelValue(incident, key);
  switch (key) {
    case 'source':
      return incident.source.kind;
    case 'cloud':
      return incident.source.cloud;
    case 'account':
      return incident.source.account ?? '';
    case 'region':
      return incident.source.region ?? '';
    case 'resource':
      return incident.resource?.id ?? incident.resource?.name ?? '';
    case 'severity':
      return incident.severity;
    case 'rule':
      return incident.source.rule;
  }
}

function labelValue(incident: Incident, name: string): string {
  return Object.hasOwn(incident.labels, name) ? (incident.labels[name] ?? '') : '';
}

/** The group of `incident` on the route at `routeIndex` (the incident as routed, severity override included). */
export function assignGroup(routeIndex: number, grouping: RouteGrouping, incident: Incident): GroupAssignment {
  const groupLabels = grouping.by.map((key) => ({ key, value: groupValueOf(incident, key) }));
  const identity = JSON.stringify([routeIndex, groupLabels.map((label) => [label.key, label.value])]);
  return { ...grouping, groupId: `g${hash('sha256', identity, 'hex').slice(0, 24)}`, groupLabels };
}

/** What a store keeps per group and channel. */
export interface GroupState {
  /** When the pending notices are told (epoch ms); undefined while nothing is pending. */
  readonly dueAtMs?: number | undefined;
  /** When the last digest was made; undefined before the first. */
  readonly lastFlushAtMs?: number | undefined;
  /** Digests made so far (the next digest's sequence is this + 1). */
  readonly sequence: number;
}

/** When a group that just received a notice is due: unchanged while notices are pending. */
export function dueAfterAdding(state: GroupState | undefined, nowMs: number, grouping: RouteGrouping): number {
  if (state?.dueAtMs !== undefined) return state.dueAtMs;
  const last = state?.lastFlushAtMs;
  // Told recently: this change waits for the next interval. Quiet for an interval: a new wave.
  if (last !== undefined && nowMs < last + grouping.intervalMs) return last + grouping.intervalMs;
  return nowMs + grouping.waitMs;
}

/** One notice waiting in a group. A later notice of the same incident replaces it (the newest state is told). */
export interface DigestItem {
  readonly event: DeliveryEvent;
  readonly transitionId: string;
  readonly incident: Incident;
}

/** One digest: what a delivery job tells a channel about a group. */
export interface Digest {
  readonly groupId: string;
  readonly groupLabels: readonly GroupLabel[];
  /** 1 for the group's first digest; increases by one per digest. */
  readonly sequence: number;
  /** Worst first (digestOrder). */
  readonly items: readonly DigestItem[];
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { critical: 0, error: 1, warning: 2, info: 3 };

function isResolvedItem(item: DigestItem): boolean {
  return item.event === 'resolved' || item.incident.status === 'resolved';
}

/** Problems before good news, then the worst severity first, then the oldest, then by title (a stable order). */
export function digestOrder(a: DigestItem, b: DigestItem): number {
  return (
    Number(isResolvedItem(a)) - Number(isResolvedItem(b)) ||
    SEVERITY_RANK[a.incident.severity] - SEVERITY_RANK[b.incident.severity] ||
    a.incident.startsAt.localeCompare(b.incident.startsAt) ||
    a.incident.title.localeCompare(b.incident.title) ||
    a.incident.fingerprint.localeCompare(b.incident.fingerprint)
  );
}

/**
 * The digests a due group makes (pending notices in the order they arrived), and the group's
 * state after. Each digest's transition id orders it after every earlier digest of the group
 * (time first, then sequence; the time never goes back, even if the clock does), so the delivery
 * claims tell each once and in order.
 */
export function flushGroup(
  state: GroupState | undefined,
  assignment: Pick<GroupAssignment, 'groupId' | 'groupLabels'>,
  pending: readonly DigestItem[],
  nowMs: number,
): { readonly digests: readonly (Digest & { readonly transitionId: string })[]; readonly next: GroupState } {
  const flushAtMs = Math.max(nowMs, (state?.lastFlushAtMs ?? 0) + 1);
  const latest = new Map<string, DigestItem>();
  for (const item of pending) latest.set(item.incident.fingerprint, item);
  const items = [...latest.values()].sort(digestOrder);
  let sequence = state?.sequence ?? 0;
  const digests: (Digest & { transitionId: string })[] = [];
  for (let start = 0; start < items.length; start += DIGEST_MAX_ITEMS) {
    sequence += 1;
    digests.push({
      groupId: assignment.groupId,
      groupLabels: assignment.groupLabels,
      sequence,
      items: items.slice(start, start + DIGEST_MAX_ITEMS),
      transitionId: transitionIdOf(sequence, flushAtMs),
    });
  }
  return { digests, next: { sequence, lastFlushAtMs: digests.length > 0 ? flushAtMs : state?.lastFlushAtMs, dueAtMs: undefined } };
}
