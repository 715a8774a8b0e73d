// Google Cloud Monitoring: a webhook notification channel's payload (`version` "1.2"; "1.1"
// and later 1.x are read the same way), the channel's "send test notification" payload
// (`version` "test"), and the same JSON inside a Pub/Sub push envelope
// (`{"message": {"data": <base64>, ...}, "subscription": ...}`), decoded by the schema so a
// problem inside is reported under `message.data`.
//
// Fingerprint parts, in order:
//   `policy=<alert policy path>` (`projects/P/alertPolicies/ID`, from `condition.name`, or
//     `policy_name` when it is itself a path; otherwise the policy's display name),
//   `condition=<condition path>` (`condition.name`; otherwise `condition_name`),
//   `resource.type=<type>`, `resource.labels=<label set>` and `metric.labels=<label set>`
//     (labelSetPart: [key, value] pairs sorted by key, as JSON): the time series the condition
//     is violated on (metric labels matter for conditions grouped by a metric label, whose
//     resource labels can be empty). A payload with no
//     resource type and no labels uses `resource_name=<resource_name or resource_id>` instead.
// `incident_id` is not a part: a new incident of the same problem (policy, condition, series)
// gets a new id, and it is still the same problem to the people being notified.
//
// Labels: `condition_name` (the condition's display name) and, on a test notification,
// TEST_LABEL = "true"; then policy user labels, the resource's user labels (`metadata`),
// metric labels and resource labels, in that order of precedence. A key already taken with
// another value keeps its plain name for the earlier source and goes in under Cloud
// Monitoring's own variable name for the later one (`policy.user_label.K`,
// `metadata.user_label.K`, `metric.label.K`, `resource.label.K`).
//
// Region: the resource's `region` label, else its `location` or `zone` label, where a zone
// (`europe-west1-b`) is reduced to its region (`europe-west1`).
// Resource: `resource_display_name` names it; without one (PromQL-based and log-based policies
// send a type and labels only) the most specific resource label does (RESOURCE_NAME_LABELS:
// instance, pod, container, ..., namespace, cluster).
// Placeholders: PromQL-based policies write `__missing__` where the query result has no value
// for a label. A placeholder is not a value: it is left out of the labels, the region, the
// resource, the account and the metric. The fingerprint keeps the labels as sent, placeholders
// included, so existing incidents keep their identity.
// Log-based alerts carry no metric, `observed_value` or `threshold_value`: none is required.
import { Buffer } from 'node:buffer';
import * as z from 'zod';
import { fingerprintOf, labelSetPart } from '../fingerprint.ts';
import { DEFAULT_SEVERITY, TEST_LABEL } from '../incident.ts';
import type { Incident, IncidentLink, IncidentMetric, IncidentResource, IncidentSource, Severity } from '../incident.ts';
import { defineSource, isRecord, nonEmpty, pruned } from './source.ts';
import type { NormalizeContext } from './source.ts';
// The generic link and text helpers live beside the Prometheus mapping; they are not
// Prometheus-specific.
import { httpLink, titleFor, uniqueLinks } from './prometheus-labels.ts';

/** 9999-12-31T23:59:59Z: beyond it a time has no ISO 8601 form the incident schema accepts. */
const MAX_UNIX_SECONDS = 253_402_300_799;
const unixSecondsSchema = z.number().min(0).max(MAX_UNIX_SECONDS);

const labelMapSchema = z.record(z.string(), z.string());

/** `observed_value` and `threshold_value` are decimal strings ("0.934"); numbers are accepted too. */
const decimalSchema = z.union([z.string(), z.number()]);

const documentationLinkSchema = z.looseObject({
  displayName: z.string().nullish(),
  url: z.string().nullish(),
});

const gcpIncidentSchema = z.looseObject({
  incident_id: z.string().nullish(),
  scoping_project_id: z.string().nullish(),
  scoping_project_number: z.number().nullish(),
  url: z.string().nullish(),
  severity: z.string().nullish(),
  started_at: unixSecondsSchema,
  ended_at: unixSecondsSchema.nullish(),
  // The test notification writes `OPEN` in upper case.
  state: z
    .string()
    .transform((state) => state.toLowerCase())
    .pipe(z.enum(['open', 'closed'])),
  summary: z.string().nullish(),
  apigee_url: z.string().nullish(),
  observed_value: decimalSchema.nullish(),
  threshold_value: decimalSchema.nullish(),
  resource: z.looseObject({ type: z.string().nullish(), labels: labelMapSchema.nullish() }).nullish(),
  resource_type_display_name: z.string().nullish(),
  resource_id: z.string().nullish(),
  resource_display_name: z.string().nullish(),
  resource_name: z.string().nullish(),
  metric: z
    .looseObject({ type: z.string().nullish(), displayName: z.string().nullish(), labels: labelMapSchema.nullish() })
    .nullish(),
  metadata: z.looseObject({ user_labels: labelMapSchema.nullish() }).nullish(),
  policy_name: z.string().trim().min(1),
  policy_user_labels: labelMapSchema.nullish(),
  // An object on real notifications; a plain string on the test notification.
  documentation: z
    .union([
      z.string(),
      z.looseObject({
        content: z.string().nullish(),
        mime_type: z.string().nullish(),
        subject: z.string().nullish(),
        links: z.array(documentationLinkSchema).nullish(),
      }),
    ])
    .nullish(),
  condition: z
    .looseObject({
      name: z.string().nullish(),
      displayName: z.string().nullish(),
      conditionThreshold: z.looseObject({ comparison: z.string().nullish() }).nullish(),
    })
    .nullish(),
  condition_name: z.string().nullish(),
});

const notificationSchema = z.looseObject({
  version: z.string().refine((version) => version === 'test' || /^1\.\d+$/.test(version), {
    message: 'expected a notification schema version "1.x" or "test"',
  }),
  incident: gcpIncidentSchema,
});

export type GcpNotification = z.infer<typeof notificationSchema>;
type GcpIncident = GcpNotification['incident'];

const pubSubPushSchema = z
  .looseObject({
    message: z.looseObject({
      data: z.base64().transform(parseJsonText).pipe(notificationSchema),
      messageId: z.string().nullish(),
      publishTime: z.string().nullish(),
    }),
    subscription: z.string().nullish(),
  })
  .transform((envelope) => envelope.message.data);

function parseJsonText(base64: string, context: z.RefinementCtx): unknown {
  try {
    return JSON.parse(Buffer.from(base64, 'base64').toString('utf8')) as unknown;
  } catch {
    // The parser's message quotes the payload; say only what is wrong.
    context.issues.push({ code: 'custom', message: 'base64 decodes to text that is not JSON', input: base64 });
    return z.NEVER;
  }
}

function isPubSubPush(payload: unknown): payload is { message: unknown } {
  return isRecord(payload) && 'message' in payload && !('incident' in payload);
}

/**
 * A union would report a failure as "Invalid input" at the root; picking the shape first keeps
 * each issue's real path (`incident.state`, `message.data.incident.started_at`).
 */
export const gcpMonitoringPayloadSchema = z.unknown().transform((payload, context): GcpNotification => {
  const parsed = (isPubSubPush(payload) ? pubSubPushSchema : notificationSchema).safeParse(payload);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    context.issues.push({ code: 'custom', message: issue.message, path: issue.path, input: payload });
  }
  return z.NEVER;
});

function looksLikeNotification(payload: unknown): boolean {
  return isRecord(payload) && typeof payload.version === 'string' && isRecord(payload.incident);
}

export const gcpMonitoring = defineSource<GcpNotification>({
  kind: 'gcp-monitoring',
  detect: (payload) => {
    if (!isPubSubPush(payload)) return looksLikeNotification(payload);
    const { message } = payload;
    if (!isRecord(message) || typeof message.data !== 'string') return false;
    try {
      return looksLikeNotification(JSON.parse(Buffer.from(message.data, 'base64').toString('utf8')));
    } catch {
      return false;
    }
  },
  schema: gcpMonitoringPayloadSchema,
  toIncidents: (notification, context) => [gcpIncident(notification, context)],
});

/** What Cloud Monitoring writes where a PromQL result has no value for a label. */
const PLACEHOLDER = '__missing__';

/** The trimmed text, or undefined when there is none or it is only the placeholder. */
function valueOf(text: string | null | undefined): string | undefined {
  const trimmed = nonEmpty(text);
  return trimmed === PLACEHOLDER ? undefined : trimmed;
}

function gcpIncident(notification: GcpNotification, context: NormalizeContext): Incident {
  const { incident } = notification;
  const isTest = notification.version === 'test';
  const conditionPath = nonEmpty(incident.condition?.name);
  const policyPath = policyPathOf(conditionPath) ?? policyPathOf(incident.policy_name);
  const resource = resourceOf(incident);
  const received = context.receivedAt.toISOString();
  return pruned<Incident>({
    schemaVersion: 1,
    fingerprint: fingerprintOf('gcp-monitoring', [
      `policy=${policyPath ?? incident.policy_name}`,
      `condition=${conditionPath ?? nonEmpty(incident.condition_name) ?? ''}`,
      ...resourceIdentity(incident),
    ]),
    status: incident.state === 'open' ? 'firing' : 'resolved',
    severity: severityOf(incident.severity),
    title: titleFor(incident.policy_name, resource?.name),
    summary: summaryOf(incident),
    source: pruned<IncidentSource>({
      kind: 'gcp-monitoring',
      cloud: 'gcp',
      account: valueOf(incident.scoping_project_id) ?? valueOf(incident.resource?.labels?.project_id),
      region: regionOf(incident.resource?.labels ?? {}),
      rule: incident.policy_name,
      ruleId: policyPath,
    }),
    resource,
    // The test notification's times are 0: it carries no time, so the receive time stands in;
    // so does it for a closed incident without `ended_at`.
    startsAt: isoFromUnixSeconds(incident.started_at) ?? received,
    endsAt: incident.state === 'closed' ? (isoFromUnixSeconds(incident.ended_at) ?? received) : undefined,
    labels: labelsOf(incident, isTest),
    links: linksOf(incident),
    metric: metricOf(incident),
  });
}

const POLICY_PATH = /^projects\/[^/]+\/alertPolicies\/[^/]+/;

function policyPathOf(name: string | undefined): string | undefined {
  return name === undefined ? undefined : POLICY_PATH.exec(name)?.[0];
}

function resourceIdentity(incident: GcpIncident): string[] {
  const type = nonEmpty(incident.resource?.type);
  const resourceLabels = incident.resource?.labels ?? {};
  const metricLabels = incident.metric?.labels ?? {};
  if (type === undefined && Object.keys(resourceLabels).length === 0 && Object.keys(metricLabels).length === 0) {
    return [`resource_name=${nonEmpty(incident.resource_name) ?? nonEmpty(incident.resource_id) ?? ''}`];
  }
  return [
    `resource.type=${type ?? ''}`,
    `resource.labels=${labelSetPart(resourceLabels)}`,
    `metric.labels=${labelSetPart(metricLabels)}`,
  ];
}

/** Cloud Monitoring's severities by name; absent, "No severity" or anything else is the default. */
const SEVERITY_BY_NAME: ReadonlyMap<string, Severity> = new Map([
  ['critical', 'critical'],
  ['error', 'error'],
  ['warning', 'warning'],
]);

function severityOf(severity: string | null | undefined): Severity {
  const name = nonEmpty(severity)?.toLowerCase();
  return (name === undefined ? undefined : SEVERITY_BY_NAME.get(name)) ?? DEFAULT_SEVERITY;
}

/**
 * Resource labels that name what is alerting, most specific first (a pod before the container
 * name, which repeats across pods). Project, location and zone name no resource.
 */
const RESOURCE_NAME_LABELS = [
  'instance',
  'pod_name',
  'pod',
  'container_name',
  'container',
  'instance_id',
  'revision_name',
  'service_name',
  'function_name',
  'job',
  'node_name',
  'namespace_name',
  'namespace',
  'cluster_name',
  'cluster',
  'bucket_name',
  'database_id',
  'topic_id',
  'subscription_id',
  'host',
] as const;

function resourceOf(incident: GcpIncident): IncidentResource | undefined {
  const labels = incident.resource?.labels ?? {};
  let name = valueOf(incident.resource_display_name);
  for (const label of RESOURCE_NAME_LABELS) {
    if (name !== undefined) break;
    if (Object.hasOwn(labels, label)) name = valueOf(labels[label]);
  }
  const resource = pruned<IncidentResource>({
    id: valueOf(incident.resource_id) ?? valueOf(incident.resource_name),
    name,
    type: valueOf(incident.resource?.type),
  });
  return Object.keys(resource).length > 0 ? resource : undefined;
}

/** The incident's summary, then the policy's documentation after a blank line. */
function summaryOf(incident: GcpIncident): string | undefined {
  const { documentation } = incident;
  const content = typeof documentation === 'string' ? documentation : documentation?.content;
  const parts = [nonEmpty(incident.summary), nonEmpty(content)].filter((part) => part !== undefined);
  return parts.length > 0 ? parts.join('\n\n') : undefined;
}

const ZONE = /^([a-z]+-[a-z]+\d+)-[a-z]$/;

function regionOf(resourceLabels: Readonly<Record<string, string>>): string | undefined {
  const place = valueOf(resourceLabels.region) ?? valueOf(resourceLabels.location) ?? valueOf(resourceLabels.zone);
  return place === undefined ? undefined : (ZONE.exec(place)?.[1] ?? place);
}

function isoFromUnixSeconds(seconds: number | null | undefined): string | undefined {
  return seconds === undefined || seconds === null || seconds === 0 ? undefined : new Date(seconds * 1000).toISOString();
}

function labelsOf(incident: GcpIncident, isTest: boolean): Record<string, string> {
  const labels: Record<string, string> = {};
  const conditionName = nonEmpty(incident.condition?.displayName) ?? nonEmpty(incident.condition_name);
  if (conditionName !== undefined) labels.condition_name = conditionName;
  if (isTest) labels[TEST_LABEL] = 'true';
  const origins: readonly [string, Readonly<Record<string, string>> | null | undefined][] = [
    ['policy.user_label.', incident.policy_user_labels],
    ['metadata.user_label.', incident.metadata?.user_labels],
    ['metric.label.', incident.metric?.labels],
    ['resource.label.', incident.resource?.labels],
  ];
  for (const [prefix, origin] of origins) {
    for (const [key, value] of Object.entries(origin ?? {})) {
      if (value === PLACEHOLDER) continue;
      if (!Object.hasOwn(labels, key)) labels[key] = value;
      else if (labels[key] !== value) labels[`${prefix}${key}`] = value;
    }
  }
  return labels;
}

function linksOf(incident: GcpIncident): IncidentLink[] {
  const { documentation } = incident;
  const documentationLinks = typeof documentation === 'string' ? [] : (documentation?.links ?? []);
  return uniqueLinks([
    httpLink('Incident', incident.url ?? undefined),
    ...documentationLinks.map((link) => httpLink(nonEmpty(link.displayName) ?? 'Documentation', link.url ?? undefined)),
    httpLink('Apigee', incident.apigee_url ?? undefined),
  ]);
}

function metricOf(incident: GcpIncident): IncidentMetric | undefined {
  const metric = pruned<IncidentMetric>({
    name: valueOf(incident.metric?.type),
    value: decimalOf(incident.observed_value),
    threshold: decimalOf(incident.threshold_value),
    operator: nonEmpty(incident.condition?.conditionThreshold?.comparison),
  });
  return Object.keys(metric).length > 0 ? metric : undefined;
}

function decimalOf(value: string | number | null | undefined): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const text = nonEmpty(value);
  if (text === undefined) return undefined;
  const number = Number(text);
  return Number.isFinite(number) ? number : undefined;
}
