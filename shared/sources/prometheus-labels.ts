// What the two Prometheus-style sources (Alertmanager and Grafana unified alerting) share: the
// alert shape they both send, and how its labels and annotations become an incident's severity,
// title, resource, summary and links. Each source adds only what is its own (Grafana's values
// and extra URLs, Alertmanager's silence link) and its fingerprint.
import * as z from 'zod';
import { DEFAULT_SEVERITY } from '../incident.ts';
import type { IncidentLink, IncidentResource, Severity } from '../incident.ts';
import { nonEmpty } from './source.ts';
import { severityFromWord } from './severity.ts';

/**
 * The `severity` label, case-insensitive. A value that is absent or not one of the contract's
 * words maps to DEFAULT_SEVERITY (`warning`): a rule author who wrote `severity: P1` still gets
 * noticed, and routing can match the raw label, which stays in the incident's labels.
 */
export function severityFromLabels(labels: Readonly<Record<string, string>>): Severity {
  const raw = labels.severity;
  return (raw === undefined ? undefined : severityFromWord(raw)) ?? DEFAULT_SEVERITY;
}

/**
 * Labels that name what is alerting, most specific first. A kube-state-metrics alert carries
 * both `pod` and `instance` (the exporter's address), so the Kubernetes object labels come
 * before `instance`; the scrape `job` is the last resort. Namespaced Kubernetes objects get
 * `<namespace>/<name>` as their id.
 */
const RESOURCE_LABELS: readonly { label: string; namespaced: boolean }[] = [
  { label: 'pod', namespaced: true },
  { label: 'deployment', namespaced: true },
  { label: 'statefulset', namespaced: true },
  { label: 'daemonset', namespaced: true },
  { label: 'job_name', namespaced: true },
  { label: 'persistentvolumeclaim', namespaced: true },
  { label: 'node', namespaced: false },
  { label: 'instance', namespaced: false },
  { label: 'service', namespaced: false },
  { label: 'host', namespaced: false },
  { label: 'hostname', namespaced: false },
  { label: 'job', namespaced: false },
];

export function resourceFromLabels(labels: Readonly<Record<string, string>>): IncidentResource | undefined {
  for (const { label, namespaced } of RESOURCE_LABELS) {
    const name = nonEmpty(labels[label]);
    if (name === undefined) continue;
    const namespace = namespaced ? nonEmpty(labels.namespace) : undefined;
    return { id: namespace === undefined ? name : `${namespace}/${name}`, name, type: label };
  }
  return undefined;
}

/** Rule name used when an alert has no `alertname` label (only hand-posted alerts lack one). */
export const UNNAMED_ALERT = '(unnamed alert)';

export function alertName(labels: Readonly<Record<string, string>>): string {
  return nonEmpty(labels.alertname) ?? UNNAMED_ALERT;
}

/** The contract's title: the rule, plus ` on <resource>` unless the rule name already says it. */
export function titleFor(rule: string, resourceName: string | undefined): string {
  return resourceName === undefined || rule.includes(resourceName) ? rule : `${rule} on ${resourceName}`;
}

/**
 * The reason text: the `summary`, `description` and `message` annotations (kube-prometheus
 * used `message` before it split it in two), each once, separated by a blank line.
 */
export function summaryFromAnnotations(annotations: Readonly<Record<string, string>>): string | undefined {
  const parts: string[] = [];
  for (const key of ['summary', 'description', 'message']) {
    const text = nonEmpty(annotations[key]);
    if (text !== undefined && !parts.includes(text)) parts.push(text);
  }
  return parts.length > 0 ? parts.join('\n\n') : undefined;
}

/**
 * Prometheus reserves label names starting with `__` for internal use; they never identify an
 * alert, so they are left out of the incident's labels and of the fingerprint.
 */
export function publicLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    if (!key.startsWith('__')) out[key] = value;
  }
  return out;
}

/** Link annotations people put on rules, with the title each gets. */
const ANNOTATION_LINKS: readonly { annotation: string; title: string }[] = [
  { annotation: 'runbook_url', title: 'Runbook' },
  { annotation: 'dashboard_url', title: 'Dashboard' },
];

export function annotationLinks(annotations: Readonly<Record<string, string>>): IncidentLink[] {
  return ANNOTATION_LINKS.flatMap(({ annotation, title }) => httpLink(title, annotations[annotation]) ?? []);
}

/**
 * A link only for an absolute http(s) URL: channels render links as clickable, so a
 * `javascript:` or relative URL from a payload must not get through. The URL is given in its
 * parsed form (`href`), so stray whitespace or newlines in the payload cannot reach a message.
 * With `base` (an absolute URL the sender names itself by), a relative `url` is resolved against
 * it; an empty one still gives no link.
 */
export function httpLink(title: string, url: string | undefined, base?: string): IncidentLink | undefined {
  if (url === undefined) return undefined;
  // One parse for the usual absolute URL; the base only for what does not parse alone.
  const parsed = URL.parse(url) ?? (base === undefined || url.trim() === '' ? null : URL.parse(url, base));
  if (parsed === null) return undefined;
  return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? { title, url: parsed.href } : undefined;
}

/** Drops links whose URL an earlier link already has. */
export function uniqueLinks(links: readonly (IncidentLink | undefined)[]): IncidentLink[] {
  const seen = new Set<string>();
  const out: IncidentLink[] = [];
  for (const link of links) {
    if (link === undefined || seen.has(link.url)) continue;
    seen.add(link.url);
    out.push(link);
  }
  return out;
}

/**
 * An RFC 3339 timestamp as Alertmanager and Grafana write it (nanoseconds, any offset), turned
 * into a UTC ISO string so incidents compare by string. Go's zero time
 * (`0001-01-01T00:00:00Z`, what a firing alert carries as `endsAt`) becomes `undefined`.
 */
export const goTimestampSchema = z.iso
  .datetime({ offset: true })
  .transform((text, ctx): string | undefined => {
    const date = new Date(text);
    const year = date.getUTCFullYear();
    if (Number.isNaN(date.getTime()) || year > 9999) {
      ctx.issues.push({ code: 'custom', message: 'not a representable point in time', input: text });
      return z.NEVER;
    }
    return year <= 1 ? undefined : date.toISOString();
  });

const labelSetSchema = z.record(z.string(), z.string());

/** A label or annotation set; Go writes an empty map as `null`. */
export const stringMapSchema = labelSetSchema.nullish().transform((map) => map ?? {});

const alertStatus = z.enum(['firing', 'resolved']);

/**
 * The alert fields Alertmanager (webhook versions 3 and 4) and Grafana (version 1) both send. The
 * per-alert `status` may be absent (older Alertmanagers, compatible senders): the group's then
 * stands for it (`checkAlertStatuses`, `statusOf`).
 */
export const prometheusAlertShape = {
  status: alertStatus.nullish(),
  labels: labelSetSchema,
  annotations: stringMapSchema,
  startsAt: goTimestampSchema,
  endsAt: goTimestampSchema.nullish(),
  generatorURL: z.string().nullish(),
  fingerprint: z.string().nullish(),
};

/** The group fields both send; only `status` is read, for alerts that carry none of their own. */
export const prometheusGroupShape = {
  receiver: z.string().nullish(),
  status: alertStatus.nullish(),
  groupLabels: stringMapSchema,
  commonLabels: stringMapSchema,
  commonAnnotations: stringMapSchema,
  externalURL: z.string().nullish(),
  // A string since webhook version 4; Alertmanager's version 3 wrote a number (Go's uint64).
  groupKey: z.union([z.string(), z.number()]).nullish(),
  truncatedAlerts: z.number().nullish(),
};

export type AlertStatus = z.infer<typeof alertStatus>;

export interface PrometheusAlert {
  status?: AlertStatus | null | undefined;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string | undefined;
  endsAt?: string | null | undefined;
  generatorURL?: string | null | undefined;
}

interface GroupWithAlerts {
  readonly status?: AlertStatus | null | undefined;
  readonly alerts: readonly { readonly status?: AlertStatus | null | undefined }[];
}

/**
 * Refuses an alert that has no status when the group has none either (a zod `superRefine` on the
 * group schema); `statusOf` then always finds one.
 */
export function checkAlertStatuses(group: GroupWithAlerts, ctx: z.RefinementCtx): void {
  if (group.status != null) return;
  group.alerts.forEach((alert, index) => {
    if (alert.status == null) {
      ctx.addIssue({
        code: 'custom',
        path: ['alerts', index, 'status'],
        message: 'expected "firing" or "resolved": the alert has no status and neither has the group',
      });
    }
  });
}

/** The alert's status, else the group's (the contract: "the group's status when an alert has none"). */
export function statusOf(alert: GroupWithAlerts['alerts'][number], group: GroupWithAlerts): AlertStatus {
  // checkAlertStatuses guarantees one of the two; 'firing' only satisfies the type.
  return alert.status ?? group.status ?? 'firing';
}

/**
 * When the alert began and, for a resolved one, ended. An alert with Go's zero time where a
 * time belongs carries no time at all, so the receive time stands in (the one place it is used).
 */
export function alertTimes(
  alert: PrometheusAlert,
  status: AlertStatus,
  receivedAt: Date,
): { startsAt: string; endsAt?: string } {
  const startsAt = alert.startsAt ?? receivedAt.toISOString();
  if (status === 'firing') return { startsAt };
  return { startsAt, endsAt: alert.endsAt ?? receivedAt.toISOString() };
}
