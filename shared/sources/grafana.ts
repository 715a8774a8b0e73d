// Grafana unified alerting: the webhook contact point's payload, version "1" — Alertmanager's
// shape plus `orgId`, `state`, `title`, `message` and, per alert, `values`, `valueString`,
// `silenceURL`, `dashboardURL`, `panelURL` and `imageURL`.
//
// Fingerprint parts: `orgId=<orgId>`, then the alert's label set as one part (labelSetPart:
// its [key, value] pairs sorted by key, as JSON; labels starting with `__` left out). Grafana's labels carry
// `alertname` and `grafana_folder` besides the query's own labels, so another rule, folder or
// series differs; the organisation keeps two Grafana orgs with the same rules apart. The
// payload's `fingerprint` field is not used (Grafana's hash, not ours to keep stable).
//
// Mapping beyond ./prometheus-labels.ts: `ruleId` is the rule UID taken from `generatorURL`
// (`.../alerting/grafana/<uid>/view` or the older `.../alerting/<uid>/edit`); `metric.value` is
// the one entry of `values` when there is exactly one (with several — typically the reduced
// query and the 0/1 threshold — nothing says which is the measurement, so none is taken).
// The group's `title`, `state` and `message` describe the whole group, not one alert: unused.
import { z } from 'zod';
import { fingerprintOf, labelSetPart } from '../fingerprint.ts';
import type { Incident, IncidentMetric, IncidentSource } from '../incident.ts';
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
} from './prometheus-labels.ts';

const grafanaAlertSchema = z.looseObject({
  ...prometheusAlertShape,
  silenceURL: z.string().nullish(),
  dashboardURL: z.string().nullish(),
  panelURL: z.string().nullish(),
  imageURL: z.string().nullish(),
  // Go's map[string]float64; a nil map is written as null.
  values: z.record(z.string(), z.number().nullable()).nullish(),
  valueString: z.string().nullish(),
});

export const grafanaPayloadSchema = z.looseObject({
  version: z.literal('1'),
  orgId: z.number().int(),
  ...prometheusGroupShape,
  title: z.string().nullish(),
  state: z.string().nullish(),
  message: z.string().nullish(),
  alerts: z.array(grafanaAlertSchema),
});

export type GrafanaPayload = z.infer<typeof grafanaPayloadSchema>;
type GrafanaAlert = GrafanaPayload['alerts'][number];

export const grafana = defineSource<GrafanaPayload>({
  kind: 'grafana',
  // `orgId` or version "1" is what tells Grafana's webhook apart from Alertmanager's.
  detect: (payload) =>
    isRecord(payload) && Array.isArray(payload.alerts) && ('orgId' in payload || payload.version === '1'),
  schema: grafanaPayloadSchema,
  toIncidents: (payload, context) => payload.alerts.map((alert) => grafanaIncident(alert, payload.orgId, context)),
});

function grafanaIncident(alert: GrafanaAlert, orgId: number, context: NormalizeContext): Incident {
  const labels = publicLabels(alert.labels);
  const rule = alertName(labels);
  const resource = resourceFromLabels(labels);
  const generatorURL = alert.generatorURL ?? undefined;
  return pruned<Incident>({
    schemaVersion: 1,
    fingerprint: fingerprintOf('grafana', [`orgId=${orgId}`, labelSetPart(labels)]),
    status: alert.status,
    severity: severityFromLabels(labels),
    title: titleFor(rule, resource?.name),
    summary: summaryFromAnnotations(alert.annotations),
    source: pruned<IncidentSource>({
      kind: 'grafana',
      cloud: 'other',
      region: nonEmpty(labels.region),
      rule,
      ruleId: ruleUidFrom(generatorURL),
    }),
    resource,
    ...alertTimes(alert, context.receivedAt),
    labels,
    links: uniqueLinks([
      httpLink('Alert rule', generatorURL),
      httpLink('Dashboard', alert.dashboardURL ?? undefined),
      httpLink('Panel', alert.panelURL ?? undefined),
      ...annotationLinks(alert.annotations),
      httpLink('Image', alert.imageURL ?? undefined),
      httpLink('Silence', alert.silenceURL ?? undefined),
    ]),
    metric: metricFrom(alert.values ?? undefined),
  });
}

// Grafana rule UIDs are letters, digits, `-` and `_`.
const RULE_UID_PATH = /\/alerting\/(?:grafana\/)?([\w-]+)\/(?:view|edit)\/?$/;

function ruleUidFrom(generatorURL: string | undefined): string | undefined {
  if (generatorURL === undefined || !URL.canParse(generatorURL)) return undefined;
  return RULE_UID_PATH.exec(new URL(generatorURL).pathname)?.[1];
}

function metricFrom(values: Readonly<Record<string, number | null>> | undefined): IncidentMetric | undefined {
  const entries = Object.values(values ?? {});
  const [only] = entries;
  return entries.length === 1 && typeof only === 'number' ? { value: only } : undefined;
}
