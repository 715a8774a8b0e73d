// The older, non-common payloads users still send: metric alerts (`AzureMonitorMetricAlert`),
// activity-log alerts (`Microsoft.Insights/activityLogs`) and log search v1 (flat, no schemaId,
// or wrapped in `data` by Application Insights).
import type { Incident, Severity, Status } from '../incident.ts';
import { DEFAULT_SEVERITY } from '../incident.ts';
import type { AlertDetails } from './azure-monitor-details.ts';
import {
  activityDetails,
  logV1Details,
  metricDetails,
  resourceHealthDetails,
  serviceHealthDetails,
} from './azure-monitor-details.ts';
import type { LegacyActivityLogAlert, LegacyMetricAlert, LogSearchV1 } from './azure-monitor-schemas.ts';
import {
  SEVERITY_BY_AZURE,
  accountOf,
  azureFingerprint,
  joinSummary,
  labelsFrom,
  linksFrom,
  parseResourceId,
  portalResourceLink,
  recordLabels,
  resourceFrom,
  severityFromLevel,
  subscriptionOf,
  titleFor,
  withOptionalParts,
} from './azure-monitor-util.ts';
import type { NormalizeContext } from './source.ts';
import { nonEmpty } from './source.ts';

// ---------------------------------------------------------------------------------------------
// AzureMonitorMetricAlert
// ---------------------------------------------------------------------------------------------

export function legacyMetricIncident(alert: LegacyMetricAlert): Incident {
  const { status: azureStatus, context, properties } = alert.data;
  const rule = context.name;
  const resourceId = nonEmpty(context.resourceId);
  const parsed = resourceId ? parseResourceId(resourceId) : {};
  const resource = resourceFrom(resourceId, nonEmpty(context.resourceName));
  if (resource && nonEmpty(context.resourceType)) resource.type = nonEmpty(context.resourceType);
  const account = accountOf(context.subscriptionId) ?? subscriptionOf(resourceId) ?? subscriptionOf(context.id);
  const details = metricDetails(context.condition, context.conditionType);
  const status: Status = azureStatus === 'Resolved' ? 'resolved' : 'firing';
  const incident: Incident = {
    schemaVersion: 1,
    // Same parts as a common-schema metric alert of this rule and resource, so switching the
    // action group to the common schema keeps open incidents open.
    fingerprint: azureFingerprint({ signal: 'metric', account, rule, targets: [resourceId], identity: details.identity }),
    status,
    severity: context.severity ? SEVERITY_BY_AZURE[context.severity] : DEFAULT_SEVERITY,
    title: titleFor(rule, resource?.name),
    source: { kind: 'azure-monitor', cloud: 'azure', rule },
    // The payload has one time: when the state changed.
    startsAt: context.timestamp,
    labels: labelsFrom(details.labels, recordLabels(properties), [
      ['signalType', 'Metric'],
      ['monitorCondition', azureStatus],
      ['azureSeverity', context.severity],
      ['resourceGroup', nonEmpty(context.resourceGroupName) ?? parsed.resourceGroup],
    ]),
    // One resource link: the one built from resourceId (Microsoft's own sample sends a portalLink
    // with `#resource//subscriptions`, which would otherwise be a second link of the same title).
    links: linksFrom([{ title: 'Resource in Azure portal', url: portalResourceLink(resourceId) ?? context.portalLink }]),
  };
  return withOptionalParts(incident, {
    summary: joinSummary([context.description]),
    account,
    region: nonEmpty(context.resourceRegion),
    ruleId: nonEmpty(context.id),
    resource,
    endsAt: status === 'resolved' ? context.timestamp : undefined,
    metric: details.metric,
  });
}

// ---------------------------------------------------------------------------------------------
// Microsoft.Insights/activityLogs
// ---------------------------------------------------------------------------------------------

export function legacyActivityLogIncident(alert: LegacyActivityLogAlert): Incident {
  const { context, properties } = alert.data;
  const event = context.activityLog;
  const operation = event.operationName.toLowerCase();
  const source = (event.eventSource ?? '').toLowerCase();
  // These payloads rarely name the rule; the operation does instead.
  const rule = nonEmpty(context.name) ?? event.operationName;
  let details: AlertDetails;
  if (source === 'servicehealth' || operation.startsWith('microsoft.servicehealth/')) {
    details = serviceHealthDetails(event, rule);
  } else if (source === 'resourcehealth' || operation.startsWith('microsoft.resourcehealth/')) {
    details = resourceHealthDetails(event);
  } else {
    details = activityDetails(event);
  }
  const resourceId = nonEmpty(event.resourceId) ?? nonEmpty(event.authorization?.scope);
  const resource = resourceFrom(resourceId);
  if (resource && nonEmpty(event.resourceType)) resource.type = nonEmpty(event.resourceType);
  const account = accountOf(event.subscriptionId) ?? subscriptionOf(resourceId);
  // "Always set to activated": only the event itself can say it is over.
  const status: Status = details.resolved ? 'resolved' : 'firing';
  const severity: Severity = severityFromLevel(event.level) ?? DEFAULT_SEVERITY;
  const incident: Incident = {
    schemaVersion: 1,
    fingerprint: azureFingerprint({
      signal: 'activitylog',
      account,
      rule: nonEmpty(context.id) ?? nonEmpty(context.name) ?? '',
      targets: [resourceId],
      identity: details.identity,
    }),
    status,
    severity,
    title: details.title ?? titleFor(rule, resource?.name),
    source: { kind: 'azure-monitor', cloud: 'azure', rule },
    startsAt: event.eventTimestamp,
    labels: labelsFrom(details.labels, recordLabels(properties), [
      ['signalType', 'Activity Log'],
      ['monitorCondition', alert.data.status],
      ['resourceGroup', nonEmpty(event.resourceGroupName) ?? (resourceId ? parseResourceId(resourceId).resourceGroup : undefined)],
    ]),
    links: linksFrom([...details.links, { title: 'Resource in Azure portal', url: portalResourceLink(resourceId) }]),
  };
  return withOptionalParts(incident, {
    summary: joinSummary(details.summary),
    account,
    region: details.region,
    ruleId: nonEmpty(context.id),
    resource,
    endsAt: status === 'resolved' ? event.eventTimestamp : undefined,
  });
}

// ---------------------------------------------------------------------------------------------
// Log search v1 (flat, or wrapped in data)
// ---------------------------------------------------------------------------------------------

export function logSearchV1Incident(alert: LogSearchV1, context: NormalizeContext): Incident {
  const rule = alert.AlertRuleName;
  const dataSources = [...(alert.SearchResult?.dataSources ?? []), ...(alert.SearchResults?.dataSources ?? [])];
  const dataSourceId = dataSources.map((source) => nonEmpty(source?.resourceId)).find(Boolean);
  const resourceId = nonEmpty(alert.ResourceId) ?? dataSourceId;
  const account = accountOf(alert.SubscriptionId) ?? subscriptionOf(resourceId);
  const details = logV1Details({
    searchQuery: alert.SearchQuery,
    resultCount: alert.ResultCount,
    threshold: alert.AlertThresholdValue,
    operator: alert.AlertThresholdOperator,
    alertType: alert.AlertType,
    workspaceId: alert.WorkspaceId,
    applicationId: alert.ApplicationId,
    linkToSearchResults: alert.LinkToSearchResults,
    linkToFilteredSearchResultsUI: alert.LinkToFilteredSearchResultsUI,
    dimensions: alert.Dimensions,
    dataSources,
  });
  // The dimension names what alerted; the workspace or data source is only where it was found.
  const resource = details.resource ?? resourceFrom(resourceId);
  // The evaluation window is the only time this body carries, and the rule fired when it ended:
  // its start is up to a day earlier (a 24-hour window).
  const startsAt =
    alert.SearchIntervalEndtimeUtc ??
    alert.SearchIntervalEndTimeUtc ??
    alert.SearchIntervalStartTimeUtc ??
    context.receivedAt.toISOString();
  const incident: Incident = {
    schemaVersion: 1,
    fingerprint: azureFingerprint({
      signal: 'log',
      account,
      rule,
      targets: [nonEmpty(alert.ResourceId) ?? nonEmpty(alert.WorkspaceId) ?? nonEmpty(alert.ApplicationId)],
      identity: details.identity,
    }),
    // Log search v1 alerts only ever fire.
    status: 'firing',
    severity: alert.Severity ?? DEFAULT_SEVERITY,
    title: titleFor(rule, resource?.name),
    source: { kind: 'azure-monitor', cloud: 'azure', rule },
    startsAt,
    labels: labelsFrom(details.labels, [
      ['signalType', 'Log'],
      ['monitoringService', nonEmpty(alert.ApplicationId) ? 'Application Insights' : 'Log Analytics'],
      ['resourceGroup', resourceId ? parseResourceId(resourceId).resourceGroup : undefined],
      ['configurationItems', (alert.AffectedConfigurationItems ?? []).join(', ')],
    ]),
    links: linksFrom([
      ...details.links,
      { title: 'Resource in Azure portal', url: portalResourceLink(details.resource?.id) ?? portalResourceLink(resourceId) },
    ]),
  };
  return withOptionalParts(incident, {
    summary: joinSummary([alert.Description, ...details.summary]),
    account,
    region: details.region,
    resource,
    metric: details.metric,
  });
}
