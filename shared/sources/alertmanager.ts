// Prometheus Alertmanager: the `webhook_config` receiver's payload, version "4", and version "3"
// (older Alertmanagers and Alertmanager-compatible senders: the same shape).
//
// Fingerprint parts: the alert's label set as one part (labelSetPart: its [key, value] pairs
// sorted by key, as JSON; labels starting with `__` left out). A label set is exactly how Alertmanager itself tells
// alerts apart, so firing, resolved and repeated deliveries of one alert agree, and another
// rule (alertname) or another target (instance, pod, ...) differs. The payload's own
// `fingerprint` field is not used: its hash belongs to Alertmanager and may change between its
// versions, and our keys must not.
//
// One incident per entry in `alerts`, each with its own status; an alert without one (older
// Alertmanagers documented none per alert) takes the group's `status`, and an alert with neither
// is refused. Common labels and annotations are not needed. Labels map as in ./prometheus-labels.ts (severity, resource,
// title); `region` comes from a `region` label when there is one, and the account stays empty
// (a Prometheus label set names no cloud account).
import * as z from 'zod';
import { fingerprintOf, labelSetPart } from '../fingerprint.ts';
import type { Incident, IncidentLink, IncidentSource } from '../incident.ts';
import { defineSource, isRecord, nonEmpty, pruned } from './source.ts';
import type { NormalizeContext } from './source.ts';
import {
  alertName,
  alertTimes,
  annotationLinks,
  httpLink,
  prometheusAlertShape,
  prometheusGroupShape,
  publicLabels,
  resourceFromLabels,
  severityFromLabels,
  summaryFromAnnotations,
  titleFor,
  uniqueLinks,
  checkAlertStatuses,
  statusOf,
} from './prometheus-labels.ts';
import type { AlertStatus, PrometheusAlert } from './prometheus-labels.ts';

/** The webhook versions read: "4" (Alertmanager since 0.16) and "3" (older, same shape). */
const VERSIONS = ['3', '4'] as const;
const VERSION_SET: ReadonlySet<unknown> = new Set(VERSIONS);

export const alertmanagerPayloadSchema = z
  .looseObject({
    version: z.enum(VERSIONS),
    ...prometheusGroupShape,
    alerts: z.array(z.looseObject(prometheusAlertShape)),
  })
  .superRefine(checkAlertStatuses);

export type AlertmanagerPayload = z.infer<typeof alertmanagerPayloadSchema>;

export const alertmanager = defineSource<AlertmanagerPayload>({
  kind: 'alertmanager',
  // Grafana's webhook is a superset of this one: a payload with `orgId` is Grafana's.
  detect: (payload) =>
    isRecord(payload) && VERSION_SET.has(payload.version) && Array.isArray(payload.alerts) && !('orgId' in payload),
  schema: alertmanagerPayloadSchema,
  toIncidents: (payload, context) =>
    payload.alerts.map((alert) => alertmanagerIncident(alert, statusOf(alert, payload), payload.externalURL ?? undefined, context)),
});

function alertmanagerIncident(
  alert: PrometheusAlert,
  status: AlertStatus,
  externalURL: string | undefined,
  context: NormalizeContext,
): Incident {
  const labels = publicLabels(alert.labels);
  const rule = alertName(labels);
  const resource = resourceFromLabels(labels);
  return pruned<Incident>({
    schemaVersion: 1,
    fingerprint: fingerprintOf('alertmanager', [labelSetPart(labels)]),
    status,
    severity: severityFromLabels(labels),
    title: titleFor(rule, resource?.name),
    summary: summaryFromAnnotations(alert.annotations),
    source: pruned<IncidentSource>({ kind: 'alertmanager', cloud: 'other', region: nonEmpty(labels.region), rule }),
    resource,
    ...alertTimes(alert, status, context.receivedAt),
    labels,
    links: uniqueLinks([
      httpLink('Source', alert.generatorURL ?? undefined),
      ...annotationLinks(alert.annotations),
      silenceLink(externalURL, labels),
    ]),
  });
}

/**
 * A link to Alertmanager's "new silence" form, filled with this alert's label matchers
 * (the same `{name="value",...}` filter its UI builds).
 */
function silenceLink(externalURL: string | undefined, labels: Readonly<Record<string, string>>): IncidentLink | undefined {
  const base = httpLink('Silence', externalURL);
  if (base === undefined) return undefined;
  const matchers = Object.keys(labels)
    .sort()
    .map((key) => `${key}="${escapeMatcherValue(labels[key] ?? '')}"`)
    .join(',');
  try {
    // The base is already a parsed http(s) URL and encodeURIComponent's output is URL-safe, so
    // the result needs no second parse.
    return { title: 'Silence', url: `${base.url.replace(/\/+$/, '')}/#/silences/new?filter=${encodeURIComponent(`{${matchers}}`)}` };
  } catch {
    // encodeURIComponent throws on a lone surrogate: no silence link rather than no incident.
    return undefined;
  }
}

const MATCHER_SPECIALS = /[\\"\n]/;

function escapeMatcherValue(value: string): string {
  if (!MATCHER_SPECIALS.test(value)) return value;
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}
