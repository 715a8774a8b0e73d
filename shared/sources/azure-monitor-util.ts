// Small, pure helpers for the Azure Monitor source: ARM resource IDs, Azure's several date
// formats, severities, HTML in service-health text, labels and links.
import * as z from 'zod';
import { fingerprintOf } from '../fingerprint.ts';
import type { Incident, IncidentLink, IncidentMetric, IncidentResource, Severity } from '../incident.ts';
import { incidentLinkSchema } from '../incident.ts';

// ---------------------------------------------------------------------------------------------
// Resource IDs
// ---------------------------------------------------------------------------------------------

export interface ParsedResourceId {
  readonly subscriptionId?: string;
  readonly resourceGroup?: string;
  /** `<namespace>/<type>[/<child type>...]`, in the casing the ID had. */
  readonly type?: string;
  readonly name?: string;
}

const SUBSCRIPTION_ID = /^\/subscriptions\/([^/]+)/i;

/** A subscription id in its canonical lower case (IDs arrive in several casings). */
export function accountOf(subscriptionId: string | undefined): string | undefined {
  const id = subscriptionId?.trim().toLowerCase();
  return id ? id : undefined;
}

/** The subscription in an ARM ID (`/subscriptions/<id>/...`), matched case-insensitively. */
export function subscriptionOf(resourceId: string | undefined): string | undefined {
  if (!resourceId) return undefined;
  return accountOf(SUBSCRIPTION_ID.exec(resourceId.trim())?.[1]);
}

/**
 * Splits `/subscriptions/S/resourceGroups/G/providers/NS/type/name[/childType/childName]`.
 * Azure sends the same ID in several casings (`resourcegroups`, `microsoft.compute`), so keys
 * are matched case-insensitively and values are kept as sent. Extension resources carry
 * `providers` twice: the last one names the resource itself.
 */
export function parseResourceId(resourceId: string): ParsedResourceId {
  const segments = resourceId.trim().split('/').filter((segment) => segment !== '');
  const lower = segments.map((segment) => segment.toLowerCase());
  const subscriptionId = lower[0] === 'subscriptions' ? segments[1] : undefined;
  const groupAt = lower.indexOf('resourcegroups');
  const resourceGroup = groupAt >= 0 ? segments[groupAt + 1] : undefined;
  const providersAt = lower.lastIndexOf('providers');
  if (providersAt >= 0 && segments.length > providersAt + 2) {
    const namespace = segments[providersAt + 1] ?? '';
    const rest = segments.slice(providersAt + 2);
    // rest alternates type, name, child type, child name, ...
    const types = rest.filter((_, index) => index % 2 === 0);
    const name = rest.length % 2 === 0 ? rest[rest.length - 1] : undefined;
    return { subscriptionId, resourceGroup, type: [namespace, ...types].join('/'), name };
  }
  if (resourceGroup !== undefined && segments.length === groupAt + 2) {
    return { subscriptionId, resourceGroup, type: 'Microsoft.Resources/resourceGroups', name: resourceGroup };
  }
  if (subscriptionId !== undefined && segments.length === 2) {
    return { subscriptionId, type: 'Microsoft.Resources/subscriptions', name: subscriptionId };
  }
  return { subscriptionId, resourceGroup, name: segments[segments.length - 1] };
}

/** The incident's `resource` for an ARM ID (or a bare name when no ID is known). */
export function resourceFrom(resourceId: string | undefined, fallbackName?: string): IncidentResource | undefined {
  const id = resourceId?.trim();
  const parsed: ParsedResourceId = id ? parseResourceId(id) : {};
  const resource: IncidentResource = {};
  if (id) resource.id = id;
  const name = parsed.name?.trim() ? parsed.name.trim() : fallbackName?.trim();
  if (name) resource.name = name;
  if (parsed.type?.trim()) resource.type = parsed.type.trim();
  return Object.keys(resource).length > 0 ? resource : undefined;
}

// ---------------------------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------------------------

// zod's ISO date-time pattern, tested directly: a safeParse per timestamp costs several times more.
const ISO_DATE_TIME = z.regexes.datetime({ offset: true, local: true });
const UTC_DATE_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z?$/;
const HAS_ZONE = /(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/;
// Log search v1 writes interval times as `M/D/YYYY h:mm:ss AM/PM` (UTC, per Microsoft).
const US_LOCALE =
  /^(\d{1,2})\/(\d{1,2})\/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?(?:\s*([+-])(\d{2}):?(\d{2}))?$/;

/**
 * Azure's date-times as ISO 8601 in UTC with milliseconds (`2026-11-25T01:40:12.334Z`).
 * Accepts ISO 8601 with any number of fractional digits (Azure sends seven), with or without a
 * zone (no zone means UTC: Azure documents these fields as UTC), and the US-locale form of log
 * search v1. Anything else gives undefined.
 */
export function toIsoTimestamp(value: string): string | undefined {
  const text = value.trim();
  if (ISO_DATE_TIME.test(text)) {
    // UTC already (Azure's usual form): cut the fraction to milliseconds, as Date would, without
    // a Date round trip, which is most of this function's cost on every alert.
    const utc = UTC_DATE_TIME.exec(text);
    if (utc) return `${utc[1] ?? ''}.${(utc[2] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
    const ms = Date.parse(HAS_ZONE.test(text) ? text : `${text}Z`);
    return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
  }
  const us = US_LOCALE.exec(text);
  if (!us) return undefined;
  const [, month, day, year, hour, minute, second, meridiem, sign, offsetHours, offsetMinutes] = us;
  let hours = Number(hour);
  if (meridiem) {
    if (hours < 1 || hours > 12) return undefined;
    hours = (hours % 12) + (meridiem.toLowerCase() === 'pm' ? 12 : 0);
  }
  const parts = [Number(year), Number(month) - 1, Number(day), hours, Number(minute), Number(second ?? '0')] as const;
  const [y, mo, d, h, mi, s] = parts;
  if (mo > 11 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const date = new Date(Date.UTC(2000, mo, d, h, mi, s));
  // Date.UTC reads years below 100 as 19xx; set the year separately.
  date.setUTCFullYear(y, mo, d);
  // Reject 2/30 and friends instead of letting Date roll them over.
  if (date.getUTCDate() !== d || date.getUTCMonth() !== mo) return undefined;
  let ms = date.getTime();
  if (sign && offsetHours && offsetMinutes) {
    const offset = (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
    ms += sign === '-' ? offset : -offset;
  }
  return new Date(ms).toISOString();
}

/** A date-time field: validated at the edge and normalised by `toIsoTimestamp`. */
export const azureTimestamp = z.string().transform((value, ctx) => {
  const iso = toIsoTimestamp(value);
  if (iso === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected an ISO 8601 date-time (or M/D/YYYY h:mm:ss AM/PM)' });
    return z.NEVER;
  }
  return iso;
});

// ---------------------------------------------------------------------------------------------
// Severities
// ---------------------------------------------------------------------------------------------

export const AZURE_SEVERITIES = ['Sev0', 'Sev1', 'Sev2', 'Sev3', 'Sev4'] as const;
export type AzureSeverity = (typeof AZURE_SEVERITIES)[number];

/** The contract's mapping: Sev0→critical, Sev1→error, Sev2→warning, Sev3/Sev4→info. */
export const SEVERITY_BY_AZURE: Readonly<Record<AzureSeverity, Severity>> = {
  Sev0: 'critical',
  Sev1: 'error',
  Sev2: 'warning',
  Sev3: 'info',
  Sev4: 'info',
};

/** Activity-log `level` (a name, or the .NET EventLevel number some payloads carry). */
// Maps, not objects, for lookups keyed by payload text: `constructor` must find nothing.
const LEVEL_NAMES: ReadonlyMap<string, string> = new Map([
  ['0', 'LogAlways'],
  ['1', 'Critical'],
  ['2', 'Error'],
  ['3', 'Warning'],
  ['4', 'Informational'],
  ['5', 'Verbose'],
]);

export function activityLevelName(level: string | undefined): string | undefined {
  if (level === undefined) return undefined;
  return LEVEL_NAMES.get(level.trim()) ?? level;
}

// Activity-log `channels` is a flags enum when it arrives as a number (1 = Admin, 2 = Operation).
const CHANNEL_FLAGS: readonly (readonly [number, string])[] = [
  [1, 'Admin'],
  [2, 'Operation'],
  [4, 'Debug'],
  [8, 'Analytics'],
];

export function activityChannelsName(channels: string | undefined): string | undefined {
  if (channels === undefined || !/^\d+$/.test(channels.trim())) return channels;
  const flags = Number(channels.trim());
  const names = CHANNEL_FLAGS.filter(([flag]) => (flags & flag) !== 0).map(([, name]) => name);
  return names.length > 0 ? names.join(', ') : channels;
}

const SEVERITY_BY_LEVEL: ReadonlyMap<string, Severity> = new Map([
  ['critical', 'critical'],
  ['error', 'error'],
  ['warning', 'warning'],
  ['informational', 'info'],
  ['verbose', 'info'],
  ['logalways', 'info'],
]);

/** Severity of an activity-log event from its level; undefined when it has none we know. */
export function severityFromLevel(level: string | undefined): Severity | undefined {
  const name = activityLevelName(level);
  return name === undefined ? undefined : SEVERITY_BY_LEVEL.get(name.trim().toLowerCase());
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

const ENTITIES: Readonly<Record<string, string>> = {
  nbsp: ' ',
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  '#39': "'",
};

/** Service-health communications are HTML: keep the words and the paragraph breaks. */
export function stripHtml(html: string): string {
  return html
    .replace(/<\s*(?:br|\/p|\/div|\/li|\/tr|\/h\d)\s*\/?>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(nbsp|amp|lt|gt|quot|apos|#39);/gi, (_, name: string) => ENTITIES[name.toLowerCase()] ?? '')
    .replace(/[ \t\r\f\v]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{2,}/g, '\n')
    .trim();
}

/** Long free text (service-health communications) is cut so queue messages stay small. */
export const MAX_SUMMARY_CHARS = 4000;

export function joinSummary(parts: readonly (string | undefined)[]): string | undefined {
  const text = parts
    .map((part) => part?.trim())
    .filter((part): part is string => !!part)
    .join('\n');
  if (!text) return undefined;
  return text.length > MAX_SUMMARY_CHARS ? `${text.slice(0, MAX_SUMMARY_CHARS - 1)}…` : text;
}

/** `rule`, plus ` on <resource>` when a resource name is known and not already in the rule. */
export function titleFor(rule: string, resourceName: string | undefined): string {
  const name = resourceName?.trim();
  if (!name || rule.toLowerCase().includes(name.toLowerCase())) return rule;
  return `${rule} on ${name}`;
}

export function finiteNumber(value: number | string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string' && value.trim() === '') return undefined;
  const number = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(number) ? number : undefined;
}

// ---------------------------------------------------------------------------------------------
// Labels and links
// ---------------------------------------------------------------------------------------------

export type LabelEntry = readonly [key: string, value: string | null | undefined];

/**
 * Builds a label record from entries, later entries winning; empty keys and values are skipped.
 * Keys such as `__proto__` stay plain data.
 */
export function labelsFrom(...groups: readonly (readonly LabelEntry[])[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const group of groups) {
    for (const [key, value] of group) {
      const trimmedKey = key.trim();
      const trimmedValue = value?.trim();
      if (!trimmedKey || !trimmedValue) continue;
      // Assigning `__proto__` would set the prototype: that one key is defined as data instead.
      if (trimmedKey === '__proto__') {
        Object.defineProperty(labels, trimmedKey, { value: trimmedValue, enumerable: true, writable: true, configurable: true });
      } else {
        labels[trimmedKey] = trimmedValue;
      }
    }
  }
  return labels;
}

/** String-ish values of a free-form object (custom properties, Prometheus labels) as labels. */
export function recordLabels(record: Readonly<Record<string, unknown>> | null | undefined): LabelEntry[] {
  if (!record) return [];
  const entries: LabelEntry[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'string') entries.push([key, value]);
    else if (typeof value === 'number' || typeof value === 'boolean') entries.push([key, String(value)]);
  }
  return entries;
}

export interface LinkCandidate {
  readonly title: string;
  readonly url: string | null | undefined;
}

/** Keeps http(s) URLs the incident schema accepts, each once, in the order given. */
export function linksFrom(candidates: readonly LinkCandidate[]): IncidentLink[] {
  const seen = new Set<string>();
  const links: IncidentLink[] = [];
  for (const { title, url } of candidates) {
    const trimmed = url?.trim();
    if (!trimmed || !/^https?:\/\//i.test(trimmed) || seen.has(trimmed)) continue;
    const link = { title, url: trimmed };
    if (!incidentLinkSchema.safeParse(link).success) continue;
    seen.add(trimmed);
    links.push(link);
  }
  return links;
}

const PORTAL = 'https://portal.azure.com';

/** The alert instance's page in the Azure portal, for an `essentials.alertId`. */
export function portalAlertLink(alertId: string | null | undefined): string | undefined {
  const id = alertId?.trim();
  // Only Azure Monitor alert instances open in this view (budget alerts have other IDs).
  if (!id || !/^\/subscriptions\/[^/]+\/providers\/Microsoft\.AlertsManagement\/alerts\/[^/]+$/i.test(id)) {
    return undefined;
  }
  try {
    return `${PORTAL}/#view/Microsoft_Azure_Monitoring_Alerts/AlertDetails.ReactView/alertId/${encodeURIComponent(id)}`;
  } catch {
    // encodeURIComponent throws on lone surrogates: no link rather than no incident.
    return undefined;
  }
}

/** The resource's blade in the Azure portal, for an ARM resource ID. */
export function portalResourceLink(resourceId: string | null | undefined): string | undefined {
  const id = resourceId?.trim();
  if (!id || !/^\/subscriptions\/[^/]+\//i.test(id)) return undefined;
  try {
    return `${PORTAL}/#resource${encodeURI(id)}`;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Incident assembly
// ---------------------------------------------------------------------------------------------

export interface OptionalParts {
  readonly summary?: string | undefined;
  readonly account?: string | undefined;
  readonly region?: string | undefined;
  readonly ruleId?: string | undefined;
  readonly resource?: IncidentResource | undefined;
  readonly endsAt?: string | undefined;
  readonly metric?: IncidentMetric | undefined;
}

/** Sets the optional fields that have a value: the incident schema refuses empty ones. */
export function withOptionalParts(incident: Incident, parts: OptionalParts): Incident {
  if (parts.summary !== undefined) incident.summary = parts.summary;
  if (parts.account) incident.source.account = parts.account;
  if (parts.region) incident.source.region = parts.region;
  if (parts.ruleId) incident.source.ruleId = parts.ruleId;
  if (parts.resource) incident.resource = parts.resource;
  if (parts.endsAt) incident.endsAt = parts.endsAt;
  if (parts.metric) incident.metric = parts.metric;
  return incident;
}

// ---------------------------------------------------------------------------------------------
// Fingerprint
// ---------------------------------------------------------------------------------------------

export interface FingerprintParts {
  /** `metric`, `log`, `activitylog`, ... (see `squash`). */
  readonly signal: string;
  /** Subscription id, when known. */
  readonly account: string | undefined;
  /** Rule name (or rule id, for the schemas that carry one). */
  readonly rule: string;
  /** Target resource IDs; compared case-insensitively because Azure's casing varies. */
  readonly targets: readonly (string | undefined)[];
  /** Further identity (dimension pairs, operation, tracking id); order does not matter. */
  readonly identity: readonly string[];
}

/** The one place the Azure fingerprint parts are assembled (documented in azure-monitor.ts). */
export function azureFingerprint(parts: FingerprintParts): string {
  const targets = [
    ...new Set(parts.targets.map((target) => target?.trim().toLowerCase()).filter((target) => !!target)),
  ].sort();
  return fingerprintOf('azure-monitor', [
    parts.signal,
    (parts.account ?? '').trim().toLowerCase(),
    parts.rule.trim().toLowerCase(),
    JSON.stringify(targets),
    JSON.stringify([...parts.identity].sort()),
  ]);
}

/** `Activity Log`, `ActivityLog`, `activity log` → `activitylog`: one key per spelling family. */
export function squash(value: string | null | undefined): string {
  return (value ?? '').toLowerCase().replace(/[\s_-]+/g, '');
}
