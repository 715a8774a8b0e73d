// Azure Monitor action-group webhooks → incidents.
//
// Formats read (chosen by `schemaId`, see azure-monitor-schemas.ts):
//   - common alert schema `azureMonitorCommonAlertSchema`: metric (static, dynamic, web test),
//     log search v1 and v2, activity log (administrative, policy, autoscale, security, ...),
//     service health, resource health, smart detector, Prometheus, and budget (CostAlerts);
//   - `AzureMonitorMetricAlert` (older metric alerts), `Microsoft.Insights/activityLogs` (older
//     activity-log alerts), log search v1 flat (no schemaId) or wrapped in `data`
//     (`Microsoft.Insights/LogAlert`, or no schemaId), and Cost Management's
//     `AIP Budget Notification` (budgets without the common schema).
//
// Fingerprint parts (azureFingerprint in azure-monitor-util.ts; all compared lower-cased):
//   signal      `metric` | `log` | `activitylog` | ... (signalType with spaces removed, so
//               "Activity Log" and "ActivityLog" agree; `cost` for budgets)
//   account     subscription id (from the first target ID, else from alertId)
//   rule        essentials.alertRule; legacy metric: context.name; log v1: AlertRuleName;
//               legacy activity log: context.id/name when sent, else empty; budgets: BudgetName
//   targets     the alert target resource IDs, lower-cased (Azure's casing varies) and sorted
//   identity    dimension [name, value] pairs as JSON (one alert instance per combination,
//               metric and log alerts); the operation name (activity log: one rule may watch several
//               operations); the tracking id (service health: every update and the resolution
//               of one service issue share it); the Prometheus label set ([key, value] pairs as
//               JSON); the budget threshold.
// Budgets: targets are the budget ID (`AIP Budget Notification` carries none: it is rebuilt from
// subscription, resource group and name, the ID Azure gives that budget).
// Not part of it: essentials.alertId and originAlertId (new per alert instance: stateless log
// alerts and re-fires would open a new incident each time), eventDataId (new per event),
// values, thresholds and times. So a Fired and its Resolved, and redeliveries, agree; another
// rule, resource or dimension combination does not. Legacy metric alerts use the same parts as
// common-schema metric alerts of the same rule and resource.
import type { Incident } from '../incident.ts';
import { budgetNotificationIncident, commonIncident, costIncident } from './azure-monitor-common.ts';
import { legacyActivityLogIncident, legacyMetricIncident, logSearchV1Incident } from './azure-monitor-legacy.ts';
import type { AzureMonitorPayload } from './azure-monitor-schemas.ts';
import { azureMonitorSchema, knownSchemaId, looksLikeLogSearchV1 } from './azure-monitor-schemas.ts';
import type { NormalizeContext } from './source.ts';
import { defineSource, isRecord } from './source.ts';

export type { AzureMonitorPayload } from './azure-monitor-schemas.ts';

/** A known `schemaId`, or the log search v1 body (flat, or under `data` without a schemaId). */
function detect(payload: unknown): boolean {
  if (!isRecord(payload)) return false;
  if (knownSchemaId(payload) !== undefined) return true;
  if (payload.schemaId !== undefined) return false;
  return looksLikeLogSearchV1(payload) || looksLikeLogSearchV1(payload.data);
}

function toIncidents(payload: AzureMonitorPayload, context: NormalizeContext): Incident[] {
  switch (payload.format) {
    case 'common':
      return [commonIncident(payload.alert, context)];
    case 'cost':
      return [costIncident(payload.alert)];
    case 'budget':
      return [budgetNotificationIncident(payload.alert, context)];
    case 'metric-legacy':
      return [legacyMetricIncident(payload.alert)];
    case 'activity-log-legacy':
      return [legacyActivityLogIncident(payload.alert)];
    case 'log-search-v1':
      return [logSearchV1Incident(payload.alert, context)];
  }
}

export const azureMonitor = defineSource<AzureMonitorPayload>({
  kind: 'azure-monitor',
  detect,
  schema: azureMonitorSchema,
  toIncidents,
});
