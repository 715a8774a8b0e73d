// The incident: the one schema every alert source is mapped into (schema version 1).
// The table in ../shared/docs/design.md ("The incident") is the contract this file implements.
import * as z from 'zod';

export const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export const STATUSES = ['firing', 'resolved'] as const;
export const SOURCE_KINDS = ['cloudwatch', 'azure-monitor', 'gcp-monitoring', 'alertmanager', 'grafana', 'signalfx'] as const;
export const CLOUDS = ['aws', 'azure', 'gcp', 'other'] as const;

export type Severity = (typeof SEVERITIES)[number];
export type Status = (typeof STATUSES)[number];
export type SourceKind = (typeof SOURCE_KINDS)[number];
export type Cloud = (typeof CLOUDS)[number];

/** Severity used when a source carries none at all (contract: "the default is `warning`"). */
export const DEFAULT_SEVERITY: Severity = 'warning';

/**
 * Label set on incidents that come from a source's "send test notification" button,
 * so routing can treat them apart and people can tell them from real alerts.
 */
export const TEST_LABEL = 'tocsin_test';

const isoDateTime = z.iso.datetime({ offset: true });

export const incidentSourceSchema = z.strictObject({
  kind: z.enum(SOURCE_KINDS),
  cloud: z.enum(CLOUDS),
  /** AWS account id, Azure subscription id, GCP project id. */
  account: z.string().min(1).optional(),
  region: z.string().min(1).optional(),
  /** Alarm name, alert rule name, policy name or alertname. */
  rule: z.string().min(1),
  ruleId: z.string().min(1).optional(),
});

export const incidentResourceSchema = z.strictObject({
  id: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
  type: z.string().min(1).optional(),
});

export const incidentLinkSchema = z.strictObject({
  title: z.string().min(1),
  url: z.url(),
});

export const incidentMetricSchema = z.strictObject({
  name: z.string().min(1).optional(),
  namespace: z.string().min(1).optional(),
  value: z.number().optional(),
  threshold: z.number().optional(),
  operator: z.string().min(1).optional(),
  unit: z.string().min(1).optional(),
});

export const incidentSchema = z.strictObject({
  schemaVersion: z.literal(1),
  fingerprint: z.string().min(1),
  status: z.enum(STATUSES),
  severity: z.enum(SEVERITIES),
  title: z.string().min(1),
  summary: z.string().optional(),
  source: incidentSourceSchema,
  resource: incidentResourceSchema.optional(),
  startsAt: isoDateTime,
  endsAt: isoDateTime.optional(),
  labels: z.record(z.string(), z.string()),
  links: z.array(incidentLinkSchema),
  metric: incidentMetricSchema.optional(),
});

export type Incident = z.infer<typeof incidentSchema>;
export type IncidentSource = z.infer<typeof incidentSourceSchema>;
export type IncidentResource = z.infer<typeof incidentResourceSchema>;
export type IncidentLink = z.infer<typeof incidentLinkSchema>;
export type IncidentMetric = z.infer<typeof incidentMetricSchema>;

/**
 * The time of the change an incident reports: when it ended for a resolved notice, when it
 * began for a firing one. Dedup orders events by this to tell stale deliveries apart.
 */
export function eventTime(incident: Incident): string {
  return incident.status === 'resolved' ? (incident.endsAt ?? incident.startsAt) : incident.startsAt;
}
