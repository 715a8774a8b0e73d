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
// (`.../alerting/grafana/<uid>/view` or the older `.../alerting/<uid>/edit`). The values that
// fired are shown: the summary ends with `Values: B=44.24, C=1` from `values` (or, without
// `values`, Grafana's own `valueString`). `metric.value` is the one entry of `values` when there
// is exactly one (with several — typically the reduced query and the 0/1 condition — nothing
// says which is the measurement, so none is taken). A relative alert URL (Grafana 12's test
// alerts send `generatorURL: "?orgId=1"`) is joined to the group's `externalURL`.
// The group's `title`, `state` and `message` describe the whole group, not one alert: unused.
import * as z from 'zod';
import { fingerprintOf, labelSetPart } from '../fingerprint.ts';
import type { Incident, IncidentMetric, IncidentSource } from '../incident.ts';
import { defineSource, isRecord, nonEmpty, pruned } from './source.ts';
import type { NormalizeContext } from './source.ts';
import type { AlertStatus } from './prometheus-labels.ts';
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

export const grafanaPayloadSchema = z
  .looseObject({
    version: z.literal('1'),
    orgId: z.number().int(),
    ...prometheusGroupShape,
    title: z.string().nullish(),
    state: z.string().nullish(),
    message: z.string().nullish(),
    alerts: z.array(grafanaAlertSchema),
  })
  .superRefine(checkAlertStatuses);

export type GrafanaPayload = z.infer<typeof grafanaPayloadSchema>;
type GrafanaAlert = GrafanaPayload['alerts'][number];

export const grafana = defineSource<GrafanaPayload>({
  kind: 'grafana',
  // `orgId` or version "1" is what tells Grafana's webhook apart from Alertmanager's.
  detect: (payload) =>
    isRecord(payload) && Array.isArray(payload.alerts) && ('orgId' in payload || payload.version === '1'),
  schema: grafanaPayloadSchema,
  // The external URL is only a base for relative alert URLs; httpLink still keeps http(s) links only.
  toIncidents: (payload, context) =>
    payload.alerts.map((alert) => grafanaIncident(alert, statusOf(alert, payload), payload.orgId, payload.externalURL ?? undefined, context)),
});

function grafanaIncident(
  alert: GrafanaAlert,
  status: AlertStatus,
  orgId: number,
  externalURL: string | undefined,
  context: NormalizeContext,
): Incident {
  const labels = publicLabels(alert.labels);
  const rule = alertName(labels);
  const resource = resourceFromLabels(labels);
  const link = (title: string, url: string | null | undefined) => httpLink(title, url ?? undefined, externalURL);
  const generator = link('Alert rule', alert.generatorURL);
  const values = valuesLine(alert.values, alert.valueString);
  const annotations = summaryFromAnnotations(alert.annotations);
  return pruned<Incident>({
    schemaVersion: 1,
    fingerprint: fingerprintOf('grafana', [`orgId=${orgId}`, labelSetPart(labels)]),
    status,
    severity: severityFromLabels(labels),
    title: titleFor(rule, resource?.name),
    summary: annotations === undefined ? values : values === undefined ? annotations : `${annotations}\n\n${values}`,
    source: pruned<IncidentSource>({
      kind: 'grafana',
      cloud: 'other',
      region: nonEmpty(labels.region),
      rule,
      ruleId: ruleUidFrom(generator?.url),
    }),
    resource,
    ...alertTimes(alert, status, context.receivedAt),
    labels,
    links: uniqueLinks([
      generator,
      link('Dashboard', alert.dashboardURL),
      link('Panel', alert.panelURL),
      ...annotationLinks(alert.annotations),
      link('Image', alert.imageURL),
      link('Silence', alert.silenceURL),
    ]),
    metric: metricFrom(alert.values ?? undefined),
  });
}

/** `Values: B=44.24, C=1` from `values`, else `Values: <valueString>`; undefined when neither says anything. */
function valuesLine(values: Readonly<Record<string, number | null>> | null | undefined, valueString: string | null | undefined): string | undefined {
  let line = '';
  if (values) for (const key in values) line += `${line === '' ? 'Values: ' : ', '}${key}=${String(values[key] ?? null)}`;
  if (line !== '') return line;
  const text = nonEmpty(valueString);
  return text === undefined ? undefined : `Values: ${text}`;
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
