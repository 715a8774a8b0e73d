// The common alert schema (`azureMonitorCommonAlertSchema`) → incident. Essentials give the
// rule, severity, state, times and targets; the alert context, picked by monitoringService,
// adds the details (see azure-monitor-details.ts).
import type { Incident, Status } from '../incident.ts';
import { DEFAULT_SEVERITY } from '../incident.ts';
import type { AlertDetails } from './azure-monitor-details.ts';
import {
  NO_DETAILS,
  activityDetails,
  logV1Details,
  logV1FieldsOfContext,
  logV2Details,
  metricDetails,
  prometheusDetails,
  resourceHealthDetails,
  serviceHealthDetails,
  smartDetectorDetails,
} from './azure-monitor-details.ts';
import type { AlertContext, BudgetNotification, CommonAlert, CommonEssentials, CostAlert } from './azure-monitor-schemas.ts';
import {
  SEVERITY_BY_AZURE,
  accountOf,
  azureFingerprint,
  joinSummary,
  labelsFrom,
  linksFrom,
  parseResourceId,
  portalAlertLink,
  portalResourceLink,
  recordLabels,
  resourceFrom,
  squash,
  subscriptionOf,
  titleFor,
  withOptionalParts,
} from './azure-monitor-util.ts';
import type { NormalizeContext } from './source.ts';
import { nonEmpty } from './source.ts';

export type AlertFamily =
  | 'metric'
  | 'log-v2'
  | 'log-v1'
  | 'activity'
  | 'service-health'
  | 'resource-health'
  | 'smart-detector'
  | 'prometheus'
  | 'other';

/** Which alert-context shape to read: monitoringService first, then signalType, then the fields. */
export function familyOf(essentials: CommonEssentials, context: AlertContext): AlertFamily {
  const service = squash(essentials.monitoringService);
  const operation = (context.operationName ?? '').toLowerCase();
  if (service === 'servicehealth' || operation.startsWith('microsoft.servicehealth/')) return 'service-health';
  if (service === 'resourcehealth' || operation.startsWith('microsoft.resourcehealth/')) return 'resource-health';
  if (service === 'smartdetector' || nonEmpty(context.SmartDetectorId)) return 'smart-detector';
  if (service === 'prometheus') return 'prometheus';
  const signal = squash(essentials.signalType);
  if (signal === 'activitylog' || service.startsWith('activitylog') || nonEmpty(context.operationName)) {
    return 'activity';
  }
  const criteria = context.condition?.allOf ?? [];
  if (context.conditionType === 'LogQueryCriteria' || criteria.some((criterion) => nonEmpty(criterion?.searchQuery))) {
    return 'log-v2';
  }
  if (nonEmpty(context.SearchQuery) || (signal === 'log' && nonEmpty(context.WorkspaceId ?? context.ApplicationId))) {
    return 'log-v1';
  }
  if (criteria.length > 0) return 'metric';
  return 'other';
}

function detailsFor(family: AlertFamily, context: AlertContext, rule: string): AlertDetails {
  switch (family) {
    case 'metric':
      return metricDetails(context.condition, context.conditionType);
    case 'log-v2':
      return logV2Details(context);
    case 'log-v1':
      return logV1Details(logV1FieldsOfContext(context));
    case 'activity':
      return activityDetails(context);
    case 'service-health':
      return serviceHealthDetails(context, rule);
    case 'resource-health':
      return resourceHealthDetails(context);
    case 'smart-detector':
      return smartDetectorDetails(context);
    case 'prometheus':
      return prometheusDetails(context);
    case 'other':
      return NO_DETAILS;
  }
}

/** A text field a loose object passed through undeclared; undefined unless it is a non-blank string. */
function textField(record: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' ? nonEmpty(value) : undefined;
}

/** Target IDs from `alertTargetIDs` (and the `alertTargetIds` spelling), each once whatever its casing. */
function targetsOf(essentials: CommonEssentials): string[] {
  const seen = new Set<string>();
  const targets: string[] = [];
  for (const target of [...(essentials.alertTargetIDs ?? []), ...(essentials.alertTargetIds ?? [])]) {
    const key = target.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    targets.push(target);
  }
  return targets;
}

export function commonIncident(alert: CommonAlert, context: NormalizeContext): Incident {
  const { essentials, customProperties } = alert.data;
  const alertContext = alert.data.alertContext ?? {};
  const rule = essentials.alertRule;
  const targets = targetsOf(essentials);
  const target = targets[0];
  const configurationItems = essentials.configurationItems ?? [];
  const account = subscriptionOf(target) ?? subscriptionOf(essentials.alertId);
  const family = familyOf(essentials, alertContext);
  const details = detailsFor(family, alertContext, rule);
  // Log search alerts target a workspace; the dimension names the resource that alerted.
  const resource = details.resource ?? resourceFrom(target, configurationItems[0]);

  // Stateless activity-log alerts always say Fired; service and resource health say "over"
  // in the event itself.
  const status: Status = essentials.monitorCondition === 'Resolved' || details.resolved ? 'resolved' : 'firing';
  const endsAt =
    status !== 'resolved'
      ? undefined
      : essentials.monitorCondition === 'Resolved'
        ? (essentials.resolvedDateTime ?? context.receivedAt.toISOString())
        : // The notice's own firing time: later than any earlier notice of the same issue, so
          // dedup never takes the resolve for stale (impactMitigationTime can be earlier).
          essentials.firedDateTime;

  const incident: Incident = {
    schemaVersion: 1,
    fingerprint: azureFingerprint({
      signal: squash(essentials.signalType) || squash(essentials.monitoringService),
      account,
      rule,
      targets,
      identity: details.identity,
    }),
    status,
    severity: SEVERITY_BY_AZURE[essentials.severity],
    title: details.title ?? titleFor(rule, resource?.name),
    source: { kind: 'azure-monitor', cloud: 'azure', rule },
    startsAt: essentials.firedDateTime,
    labels: labelsFrom(details.labels, recordLabels(customProperties), [
      ['signalType', essentials.signalType],
      ['monitoringService', essentials.monitoringService],
      ['monitorCondition', essentials.monitorCondition],
      ['azureSeverity', essentials.severity],
      ['alertId', essentials.alertId],
      // Per alert instance for log and service-health alerts: a label, not the rule's id.
      ['originAlertId', essentials.originAlertId],
      ['resourceGroup', target ? parseResourceId(target).resourceGroup : undefined],
      ['configurationItems', configurationItems.join(', ')],
    ]),
    links: linksFrom([
      { title: 'Investigate in Azure portal', url: essentials.investigationLink },
      { title: 'Alert in Azure portal', url: portalAlertLink(essentials.alertId) },
      ...details.links,
      { title: 'Resource in Azure portal', url: portalResourceLink(details.resource?.id) ?? portalResourceLink(target) },
    ]),
  };
  return withOptionalParts(incident, {
    summary: joinSummary([essentials.description, ...details.summary]),
    account,
    region: details.region,
    // The rule's ARM ID (`alertRuleID` in payloads, `alertRuleId` in Microsoft's sample). Not
    // originAlertId: that names the alert instance, new per firing for log and service-health alerts.
    ruleId: textField(essentials, 'alertRuleID') ?? textField(essentials, 'alertRuleId'),
    resource,
    endsAt,
    metric: details.metric,
  });
}

/** Budget alerts (monitoringService "CostAlerts"): no rule, severity or state; the budget names them. */
export function costIncident(alert: CostAlert): Incident {
  const { essentials } = alert.data;
  const budget = alert.data.alertContext.AlertData;
  const rule = budget.BudgetName;
  const amount = nonEmpty(budget.NotificationThresholdAmount);
  const thresholdType = nonEmpty(budget.ThresholdType);
  const account = subscriptionOf(budget.Scope) ?? subscriptionOf(essentials.alertId);
  const resource = resourceFrom(nonEmpty(budget.BudgetId));
  const incident: Incident = {
    schemaVersion: 1,
    fingerprint: azureFingerprint({
      signal: 'cost',
      account,
      rule,
      targets: [budget.BudgetId ?? budget.Scope],
      // Each threshold of a budget (actual 80 %, forecast 100 %, ...) is its own notice.
      identity: [`threshold:${(thresholdType ?? '').toLowerCase()}=${amount ?? ''}`],
    }),
    status: 'firing',
    severity: DEFAULT_SEVERITY,
    title: amount ? `${rule} over ${amount}${thresholdType ? ` (${thresholdType})` : ''}` : rule,
    source: { kind: 'azure-monitor', cloud: 'azure', rule },
    startsAt: essentials.firedDateTime,
    labels: labelsFrom([
      ['monitoringService', essentials.monitoringService],
      ['alertId', essentials.alertId],
      ['alertCategory', alert.data.alertContext.AlertCategory],
      ['budgetType', budget.BudgetType],
      ['thresholdType', thresholdType],
      ['budgetThreshold', budget.BudgetThreshold],
      ['notificationThresholdAmount', amount],
      ['spentAmount', budget.SpentAmount],
      ['forecastedTotalForPeriod', budget.ForecastedTotalForPeriod],
      ['unit', budget.Unit],
    ]),
    links: [],
  };
  return withOptionalParts(incident, {
    summary: joinSummary([essentials.description]),
    account,
    ruleId: nonEmpty(budget.BudgetId),
    resource,
  });
}

/**
 * `AIP Budget Notification`: a budget past one of its thresholds, without the common schema. It
 * carries no time (the receive time stands in) and no budget ID (rebuilt as Azure forms it).
 */
export function budgetNotificationIncident(alert: BudgetNotification, context: NormalizeContext): Incident {
  const budget = alert.data;
  const rule = budget.BudgetName;
  const account = accountOf(budget.SubscriptionId);
  const resourceGroup = nonEmpty(budget.ResourceGroup);
  const scope = account === undefined ? undefined : `/subscriptions/${account}${resourceGroup ? `/resourceGroups/${resourceGroup}` : ''}`;
  const budgetId = scope === undefined ? undefined : `${scope}/providers/Microsoft.Consumption/budgets/${rule}`;
  const unit = nonEmpty(budget.Unit);
  const amount = (value: string | undefined): string | undefined => {
    const text = nonEmpty(value);
    return text === undefined || unit === undefined ? text : `${text} ${unit}`;
  };
  const spent = amount(budget.SpendingAmount);
  const limit = amount(budget.Budget);
  const threshold = nonEmpty(budget.NotificationThresholdAmount);
  const incident: Incident = {
    schemaVersion: 1,
    fingerprint: azureFingerprint({
      signal: 'cost',
      account,
      rule,
      targets: [budgetId],
      identity: [`threshold:=${threshold ?? ''}`],
    }),
    status: 'firing',
    severity: DEFAULT_SEVERITY,
    title: spent && limit ? `${rule}: ${spent} spent of ${limit}` : rule,
    source: { kind: 'azure-monitor', cloud: 'azure', rule },
    startsAt: context.receivedAt.toISOString(),
    labels: labelsFrom([
      ['schemaId', alert.schemaId],
      ['subscriptionName', budget.SubscriptionName],
      ['resourceGroup', resourceGroup],
      ['budgetType', budget.BudgetType],
      ['budgetThreshold', budget.Budget],
      ['notificationThresholdAmount', threshold],
      ['spentAmount', budget.SpendingAmount],
      ['unit', unit],
      ['budgetStartDate', budget.BudgetStartDate],
      ['budgetCreator', budget.BudgetCreator],
    ]),
    links: [],
  };
  const subscription = nonEmpty(budget.SubscriptionName);
  return withOptionalParts(incident, {
    summary: joinSummary([
      `Budget ${rule}${subscription ? ` of subscription ${subscription}` : ''}: ${spent ?? 'an unknown amount'} spent of ${limit ?? 'an unknown budget'}${threshold ? ` (notification threshold ${threshold})` : ''}.`,
    ]),
    account,
    ruleId: budgetId,
    resource: resourceFrom(budgetId),
  });
}
