// Splunk Observability Cloud (SignalFx): the webhook integration's notification, default payload
// (`sf_schema` 2). Fields read, as Splunk documents them: `detector`, `detectorId`, `detectorUrl`,
// `rule`, `severity`, `statusExtended` (else the older `status`), `incidentId`, `timestamp`,
// `description`, `messageTitle`, `messageBody`, `runbookUrl`, `tip`, `imageUrl`,
// `originatingMetric`, `orgId`, `dimensions`, and `inputs` (one entry per program variable, with
// the signal's dimensions in `key` — `dimensions` in one of Splunk's samples — its `value` and
// the SignalFlow `fragment`). The payload is a template filled by Splunk, so an absent value may
// arrive as an empty string: it is read as absent.
//
// Fingerprint parts: `detector=<detectorId, else the detector's name>`, `rule=<rule>`, then the
// alerting signal's dimensions as one part, like a label set (labelSetPart: [name, value] pairs
// sorted by name, as JSON; the payload's `dimensions`, else the union of the inputs' keys). A detector rule alerts once per dimension combination, so its
// trigger and its clear agree, and another host (or another rule of the detector) differs.
// `incidentId` is not a part: a new alert on the same signal gets a new one, and it is still the
// same problem; nor are values, times, texts or eventType (new with every detector edit).
//
// Mapping decisions:
// - status: `anomalous` is firing; `ok`, `manually resolved` and `stopped` (the detector was
//   edited or deleted) are resolved. Case and `_` for space are not significant (the API writes
//   MANUALLY_RESOLVED). Anything else is refused.
// - severity (the contract): Critical→critical, Major→error, Minor→warning, Warning→warning,
//   Info→info; another or none is `warning`. The word sent is kept in the `signalfx_severity` label.
// - source.rule is the detector; the rule that triggered is in the title and the `detector_rule`
//   label; ruleId is detectorId, else the id in detectorUrl. account is `orgId` when sent.
// - resource: the dimension that names a host, pod, container or service (RESOURCE_DIMENSIONS),
//   else the first one not starting with `sf_`; id = every dimension `name=value`, sorted, joined
//   by `,`; type = the dimension's name.
// - startsAt is `timestamp` (the receive time without one). A clear notice does not say when the
//   alert began, so it carries startsAt = endsAt = timestamp, and dedup keeps the firing start.
// - metric: name = originatingMetric, else the metric in the signal's `data('...')` fragment;
//   value = the signal's value (the first input with dimensions). No threshold is taken: an input
//   without dimensions may be a threshold or another signal.
import * as z from 'zod';
import { fingerprintOf, labelSetPart } from '../fingerprint.ts';
import { DEFAULT_SEVERITY } from '../incident.ts';
import type { Incident, IncidentMetric, IncidentResource, IncidentSource, Severity, Status } from '../incident.ts';
import { httpLink, titleFor, uniqueLinks } from './prometheus-labels.ts';
import { defineSource, isRecord, nonEmpty, pruned } from './source.ts';
import type { NormalizeContext } from './source.ts';

/** Optional text: a string, or a number Splunk may send for an id; anything else is absent. */
const text = z
  .union([z.string(), z.number()])
  .transform((value) => nonEmpty(String(value)))
  .nullish()
  .catch(undefined);

/** Sets `record[name]`, as data even for `__proto__` (assigning that one would set the prototype). */
function setData(record: Record<string, string>, name: string, value: string): void {
  if (name === '__proto__') Object.defineProperty(record, name, { value, enumerable: true, writable: true, configurable: true });
  else record[name] = value;
}

/** A dimension map: string values (scalars as text); other values are dropped. */
const dimensionMap = z
  .record(z.string(), z.unknown())
  .transform((record) => {
    const dimensions: Record<string, string> = {};
    for (const [name, value] of Object.entries(record)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') setData(dimensions, name, String(value));
    }
    return dimensions;
  })
  .nullish()
  .catch(undefined);

const inputSchema = z
  .looseObject({
    key: dimensionMap,
    dimensions: dimensionMap,
    value: z.union([z.number(), z.string()]).nullish().catch(undefined),
    fragment: text,
  })
  .nullable()
  .catch(null);

const STATUS_BY_WORD: ReadonlyMap<string, Status> = new Map([
  ['anomalous', 'firing'],
  ['ok', 'resolved'],
  ['manually resolved', 'resolved'],
  ['stopped', 'resolved'],
]);

const statusWord = (value: string): string => value.trim().toLowerCase().replaceAll('_', ' ');

const timestamp = z
  .string()
  .nullish()
  .transform((value, ctx): string | undefined => {
    if (value == null || value.trim() === '') return undefined;
    const instant = z.iso.datetime({ offset: true }).safeParse(value.trim());
    const date = instant.success ? new Date(instant.data) : undefined;
    if (date === undefined || Number.isNaN(date.getTime())) {
      ctx.addIssue({ code: 'custom', message: 'expected an ISO 8601 date-time like 2026-11-25T19:43:30Z' });
      return z.NEVER;
    }
    return date.toISOString();
  });

export const signalFxPayloadSchema = z
  .looseObject({
    sf_schema: z.union([z.number(), z.string()]).nullish(),
    detector: z.string().trim().min(1),
    detectorId: text,
    detectorUrl: text,
    rule: text,
    severity: text,
    // Read: statusExtended, else the older status (its value is not checked when statusExtended says).
    status: z.string().nullish().catch(undefined),
    statusExtended: z.string().nullish().catch(undefined),
    incidentId: text,
    eventType: text,
    timestamp,
    description: text,
    messageTitle: text,
    messageBody: text,
    runbookUrl: text,
    tip: text,
    imageUrl: text,
    originatingMetric: text,
    orgId: text,
    dimensions: dimensionMap,
    inputs: z.record(z.string(), inputSchema).nullish().catch(undefined),
  })
  .superRefine((payload, ctx) => {
    const extended = nonEmpty(payload.statusExtended);
    const sent = extended ?? nonEmpty(payload.status);
    if (sent === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['statusExtended'],
        message: 'expected anomalous, ok, manually resolved or stopped (statusExtended, or status)',
      });
    } else if (!STATUS_BY_WORD.has(statusWord(sent))) {
      ctx.addIssue({
        code: 'custom',
        path: [extended === undefined ? 'status' : 'statusExtended'],
        message: `expected anomalous, ok, manually resolved or stopped, received ${JSON.stringify(sent.length > 40 ? `${sent.slice(0, 40)}…` : sent)}`,
      });
    }
  });

export type SignalFxPayload = z.infer<typeof signalFxPayloadSchema>;

/** The contract's mapping of SignalFx severities. A Map: `constructor` must find nothing. */
const SEVERITY_BY_NAME: ReadonlyMap<string, Severity> = new Map([
  ['critical', 'critical'],
  ['major', 'error'],
  ['minor', 'warning'],
  ['warning', 'warning'],
  ['info', 'info'],
]);

/**
 * Dimensions that name what is alerting, most specific first (Smart Agent names, then
 * OpenTelemetry ones): a host, a pod, a container, a service, a node, a cloud resource, a cluster.
 */
const RESOURCE_DIMENSIONS = [
  'host',
  'host.name',
  'kubernetes_pod_name',
  'k8s.pod.name',
  'container_name',
  'container.name',
  'service.name',
  'sf_service',
  'kubernetes_node',
  'k8s.node.name',
  'AWSUniqueId',
  'gcp_id',
  'azure_resource_id',
  'kubernetes_cluster',
  'k8s.cluster.name',
] as const;

/** `https://app.us1.signalfx.com/#/detector/ABCDEFGHIJK/edit` (and `/detector/v2/<id>/...`). */
const DETECTOR_URL_ID = /\/detector\/(?:v2\/)?([\w-]+)/u;
/** `data('memory.utilization')` in a SignalFlow fragment. */
const DATA_CALL = /\bdata\(\s*['"]([^'"]+)['"]/u;

export const signalFx = defineSource<SignalFxPayload>({
  kind: 'signalfx',
  // The schema version Splunk's default payload carries, or a detector with an incident and a status.
  detect: (payload) =>
    isRecord(payload) &&
    !('alerts' in payload) &&
    ('sf_schema' in payload ||
      (typeof payload.detector === 'string' && 'incidentId' in payload && ('statusExtended' in payload || 'status' in payload))),
  schema: signalFxPayloadSchema,
  toIncidents: (payload, context) => [signalFxIncident(payload, context)],
});

interface Signal {
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value?: number | undefined;
  readonly fragment?: string | undefined;
}

/** The inputs that are signals (they carry dimensions), in the payload's order. */
function signalsOf(payload: SignalFxPayload): Signal[] {
  const signals: Signal[] = [];
  for (const input of Object.values(payload.inputs ?? {})) {
    const dimensions = input?.key ?? input?.dimensions;
    if (!input || !dimensions) continue;
    signals.push({ dimensions, value: numberOf(input.value), fragment: input.fragment ?? undefined });
  }
  return signals;
}

function numberOf(value: number | string | null | undefined): number | undefined {
  if (value === null || value === undefined || (typeof value === 'string' && value.trim() === '')) return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

function signalFxIncident(payload: SignalFxPayload, context: NormalizeContext): Incident {
  const statusSent = nonEmpty(payload.statusExtended) ?? nonEmpty(payload.status) ?? '';
  const status = STATUS_BY_WORD.get(statusWord(statusSent)) ?? 'firing';
  const signals = signalsOf(payload);
  // The payload's dimensions, else every signal's (a later input adds to, never replaces, an earlier one).
  const dimensions: Record<string, string> = {};
  for (const source of payload.dimensions ? [payload.dimensions] : signals.map((signal) => signal.dimensions)) {
    for (const name of Object.keys(source)) if (!Object.hasOwn(dimensions, name)) setData(dimensions, name, source[name] ?? '');
  }
  const detector = payload.detector.trim();
  const rule = payload.rule ?? undefined;
  const resource = resourceOf(dimensions);
  const time = payload.timestamp ?? context.receivedAt.toISOString();
  const severityWord = payload.severity ?? undefined;
  const signal = signals[0];

  const labels: Record<string, string> = {};
  for (const name of Object.keys(dimensions).sort()) setData(labels, name, dimensions[name] ?? '');
  const label = (key: string, value: string | undefined): void => {
    if (value !== undefined && !Object.hasOwn(labels, key)) labels[key] = value;
  };
  label('detector_rule', rule);
  label('signalfx_severity', severityWord);
  label('signalfx_status', nonEmpty(statusSent));
  label('incident_id', payload.incidentId ?? undefined);

  const metric = pruned<IncidentMetric>({
    name: payload.originatingMetric ?? (signal?.fragment === undefined ? undefined : DATA_CALL.exec(signal.fragment)?.[1]),
    value: signal?.value,
  });
  const summary = uniqueTexts([payload.description, payload.messageBody, payload.tip && `Tip: ${payload.tip}`]);
  const heading = rule === undefined || rule === detector ? detector : `${detector}: ${rule}`;
  return pruned<Incident>({
    schemaVersion: 1,
    fingerprint: fingerprintOf('signalfx', [
      `detector=${payload.detectorId ?? detector}`,
      `rule=${rule ?? ''}`,
      labelSetPart(dimensions),
    ]),
    status,
    severity: (severityWord === undefined ? undefined : SEVERITY_BY_NAME.get(severityWord.toLowerCase())) ?? DEFAULT_SEVERITY,
    title: titleFor(heading, resource?.name),
    summary: summary.length > 0 ? summary.join('\n\n') : undefined,
    source: pruned<IncidentSource>({
      kind: 'signalfx',
      cloud: 'other',
      account: payload.orgId ?? undefined,
      region: nonEmpty(dimensions.region) ?? nonEmpty(dimensions.aws_region) ?? nonEmpty(dimensions['cloud.region']),
      rule: detector,
      ruleId: payload.detectorId ?? (payload.detectorUrl ? DETECTOR_URL_ID.exec(payload.detectorUrl)?.[1] : undefined),
    }),
    resource,
    startsAt: time,
    endsAt: status === 'resolved' ? time : undefined,
    labels,
    links: uniqueLinks([
      httpLink('Detector', payload.detectorUrl ?? undefined),
      httpLink('Runbook', payload.runbookUrl ?? undefined),
      httpLink('Alert preview', payload.imageUrl ?? undefined),
    ]),
    metric: Object.keys(metric).length > 0 ? metric : undefined,
  });
}

function resourceOf(dimensions: Readonly<Record<string, string>>): IncidentResource | undefined {
  const names = Object.keys(dimensions);
  const named =
    RESOURCE_DIMENSIONS.find((name) => Object.hasOwn(dimensions, name) && nonEmpty(dimensions[name]) !== undefined) ??
    names.find((name) => !name.startsWith('sf_') && nonEmpty(dimensions[name]) !== undefined);
  if (named === undefined) return undefined;
  return {
    id: names
      .sort()
      .map((name) => `${name}=${dimensions[name] ?? ''}`)
      .join(','),
    name: nonEmpty(dimensions[named]) ?? '',
    type: named,
  };
}

/** The texts that say something, each once, in order. */
function uniqueTexts(texts: readonly (string | null | undefined)[]): string[] {
  const out: string[] = [];
  for (const entry of texts) {
    const trimmed = nonEmpty(entry);
    if (trimmed !== undefined && !out.includes(trimmed)) out.push(trimmed);
  }
  return out;
}
