// Zod schemas for what Azure Monitor action groups POST. Strict where the mapping needs a value
// (rule name, severity, condition, time); lenient elsewhere, because Microsoft's own samples
// disagree on types (numbers or strings, JSON strings or arrays, null or absent): an optional
// detail of the wrong type becomes undefined instead of costing the alert.
import * as z from 'zod';
import type { Severity } from '../incident.ts';
import { AZURE_SEVERITIES, azureTimestamp } from './azure-monitor-util.ts';
import type { AzureSeverity } from './azure-monitor-util.ts';
import { isRecord } from './source.ts';

// ---------------------------------------------------------------------------------------------
// Lenient building blocks
// ---------------------------------------------------------------------------------------------

/** A scalar detail as text (`level: 3` and `level: "Warning"` both arrive); null is absent. */
const text = z
  .union([z.string(), z.number(), z.boolean(), z.null()])
  .transform((value) => (value === null ? undefined : String(value)))
  .optional()
  .catch(undefined);

/** A number that may arrive as a string (`"threshold": "25"`); converted by the mapping. */
const numeric = z
  .union([z.number(), z.string(), z.null()])
  .transform((value) => value ?? undefined)
  .optional()
  .catch(undefined);

/** A list of non-empty strings; other items are dropped. */
const stringList = z
  .array(z.unknown())
  .transform((items) =>
    items.filter((item): item is string => typeof item === 'string' && item.trim() !== '').map((item) => item.trim()),
  )
  .nullish()
  .catch(undefined);

const freeRecord = z.record(z.string(), z.unknown()).nullish().catch(undefined);

const dimensionSchema = z.looseObject({ name: text, value: text });
const dimensionList = z.array(dimensionSchema.nullable().catch(null)).nullish().catch(undefined);

/** One criterion of `condition.allOf` (metric alerts and log search v2 alerts). */
export const criterionSchema = z.looseObject({
  metricName: text,
  metricNamespace: text,
  operator: text,
  threshold: numeric,
  timeAggregation: text,
  dimensions: dimensionList,
  metricValue: numeric,
  webTestName: text,
  alertSensitivity: text,
  searchQuery: text,
  metricMeasureColumn: text,
  linkToSearchResultsUI: text,
  linkToFilteredSearchResultsUI: text,
});

const conditionSchema = z
  .looseObject({
    windowSize: text,
    allOf: z.array(criterionSchema.nullable().catch(null)).nullish().catch(undefined),
    windowStartTime: text,
    windowEndTime: text,
  })
  .nullish()
  .catch(undefined);

const searchResultsSchema = z
  .looseObject({
    dataSources: z
      .array(z.looseObject({ resourceId: text, region: text }).nullable().catch(null))
      .nullish()
      .catch(undefined),
  })
  .nullish()
  .catch(undefined);

/**
 * `properties` of an activity-log event: service health, resource health, policy, autoscale and
 * security put their details here (metric alerts put custom properties here too).
 */
const eventPropertiesSchema = z
  .looseObject({
    title: text,
    service: text,
    region: text,
    communication: text,
    defaultLanguageTitle: text,
    defaultLanguageContent: text,
    incidentType: text,
    trackingId: text,
    stage: text,
    impactStartTime: text,
    impactMitigationTime: text,
    // A JSON string in most samples, an array in some.
    impactedServices: z.union([z.string(), z.array(z.unknown())]).nullish().catch(undefined),
    currentHealthStatus: text,
    previousHealthStatus: text,
    cause: text,
    type: text,
    details: text,
    resourceLocation: text,
    description: text,
    compromisedEntity: text,
    severity: text,
  })
  .nullish()
  .catch(undefined);

/** Fields every activity-log event carries (common-schema alertContext and legacy activityLog). */
const activityEventShape = {
  operationName: text,
  caller: text,
  status: text,
  subStatus: text,
  level: text,
  channels: text,
  eventSource: text,
  eventTimestamp: text,
  eventDataId: text,
  correlationId: text,
  authorization: z.looseObject({ action: text, scope: text }).nullish().catch(undefined),
  properties: eventPropertiesSchema,
  'Activity Log Event Description': text,
};

/** `data.alertContext` of the common schema: the union of the fields each alert type uses. */
const alertContextSchema = z
  .looseObject({
    ...activityEventShape,
    // Metric alerts and log search v2.
    conditionType: text,
    condition: conditionSchema,
    // Log search v1 (Log Analytics / Application Insights) in the common schema.
    SearchQuery: text,
    ResultCount: numeric,
    Threshold: numeric,
    Operator: text,
    LinkToSearchResults: text,
    LinkToFilteredSearchResultsUI: text,
    WorkspaceId: text,
    ApplicationId: text,
    AlertType: text,
    Dimensions: dimensionList,
    SearchResults: searchResultsSchema,
    // Smart detector.
    DetectionSummary: text,
    DetectedValue: text,
    NormalValue: text,
    SmartDetectorId: text,
    SmartDetectorName: text,
    // Prometheus rule groups.
    expression: text,
    expressionValue: numeric,
    labels: freeRecord,
    annotations: freeRecord,
    ruleGroup: text,
  })
  .nullish()
  .catch(undefined);

// ---------------------------------------------------------------------------------------------
// Common alert schema
// ---------------------------------------------------------------------------------------------

export const commonAlertSchema = z.looseObject({
  schemaId: z.string(),
  data: z.looseObject({
    essentials: z.looseObject({
      alertId: text,
      alertRule: z.string().trim().min(1),
      // alertRuleID (alertRuleId in one of Microsoft's samples) is read as it passes through this
      // loose object: declared here, its two lenient fields cost ~5% of common-schema validation.
      severity: z.enum(AZURE_SEVERITIES),
      signalType: text,
      monitorCondition: z.enum(['Fired', 'Resolved']),
      monitoringService: text,
      alertTargetIDs: stringList,
      // The field table spells it this way; payloads use alertTargetIDs.
      alertTargetIds: stringList,
      configurationItems: stringList,
      originAlertId: text,
      firedDateTime: azureTimestamp,
      resolvedDateTime: azureTimestamp.nullish().catch(undefined),
      description: text,
      investigationLink: text,
    }),
    alertContext: alertContextSchema,
    customProperties: freeRecord,
  }),
});
export type CommonAlert = z.infer<typeof commonAlertSchema>;
export type CommonEssentials = CommonAlert['data']['essentials'];
export type AlertContext = NonNullable<CommonAlert['data']['alertContext']>;
export type Criterion = z.infer<typeof criterionSchema>;

/**
 * Budget alerts arrive in the common schema with `monitoringService: "CostAlerts"` and a null
 * rule, severity and condition; the budget names the alert.
 */
export const costAlertSchema = z.looseObject({
  schemaId: z.string(),
  data: z.looseObject({
    essentials: z.looseObject({
      alertId: text,
      monitoringService: text,
      firedDateTime: azureTimestamp,
      description: text,
    }),
    alertContext: z.looseObject({
      AlertCategory: text,
      AlertData: z.looseObject({
        BudgetName: z.string().trim().min(1),
        BudgetId: text,
        Scope: text,
        ThresholdType: text,
        BudgetType: text,
        BudgetThreshold: text,
        NotificationThresholdAmount: text,
        SpentAmount: text,
        ForecastedTotalForPeriod: text,
        Unit: text,
      }),
    }),
  }),
});
export type CostAlert = z.infer<typeof costAlertSchema>;

/**
 * The budget notification an action group receives from a Cost Management budget without the
 * common schema (`schemaId: "AIP Budget Notification"`): flat fields under `data`, amounts as
 * text, no time, no budget ID.
 */
export const budgetNotificationSchema = z.looseObject({
  schemaId: z.string(),
  data: z.looseObject({
    BudgetName: z.string().trim().min(1),
    SubscriptionId: text,
    SubscriptionName: text,
    ResourceGroup: text,
    BudgetType: text,
    Budget: text,
    SpendingAmount: text,
    NotificationThresholdAmount: text,
    Unit: text,
    BudgetStartDate: text,
    BudgetCreator: text,
  }),
});
export type BudgetNotification = z.infer<typeof budgetNotificationSchema>;

// ---------------------------------------------------------------------------------------------
// Older, non-common schemas
// ---------------------------------------------------------------------------------------------

/** `"0"`–`"4"` (or 0–4) as Sev0–Sev4. */
const legacySeverity = z.union([z.string(), z.number()]).transform((value, ctx): AzureSeverity => {
  const severity = AZURE_SEVERITIES[Number(String(value).trim())];
  if (String(value).trim() === '' || severity === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a severity from "0" to "4"' });
    return z.NEVER;
  }
  return severity;
});

export const legacyMetricAlertSchema = z.looseObject({
  schemaId: z.string(),
  data: z.looseObject({
    version: text,
    status: z.enum(['Activated', 'Resolved']),
    context: z.looseObject({
      timestamp: azureTimestamp,
      id: text,
      name: z.string().trim().min(1),
      description: text,
      conditionType: text,
      severity: legacySeverity.nullish(),
      condition: conditionSchema,
      subscriptionId: text,
      resourceGroupName: text,
      resourceName: text,
      resourceType: text,
      resourceId: text,
      resourceRegion: text,
      portalLink: text,
    }),
    properties: freeRecord,
  }),
});
export type LegacyMetricAlert = z.infer<typeof legacyMetricAlertSchema>;

export const activityLogEventSchema = z.looseObject({
  ...activityEventShape,
  operationName: z.string().trim().min(1),
  eventTimestamp: azureTimestamp,
  description: text,
  resourceId: text,
  resourceGroupName: text,
  resourceType: text,
  subscriptionId: text,
});
export type ActivityLogEvent = z.infer<typeof activityLogEventSchema>;

export const legacyActivityLogAlertSchema = z.looseObject({
  schemaId: z.string(),
  data: z.looseObject({
    status: text,
    context: z.looseObject({
      activityLog: activityLogEventSchema,
      // Older payloads name the rule here; current ones do not.
      name: text,
      id: text,
    }),
    properties: freeRecord,
  }),
});
export type LegacyActivityLogAlert = z.infer<typeof legacyActivityLogAlertSchema>;

// A Map, not an object: a Severity of `constructor` must be refused, not found on Object.
const V1_SEVERITIES: ReadonlyMap<string, Severity> = new Map([
  ['critical', 'critical'],
  ['error', 'error'],
  ['warning', 'warning'],
  ['informational', 'info'],
  ['info', 'info'],
]);

/** Log search v1 `Severity`: "0"–"4" (scheduledQueryRules API) or a name (legacy API). */
const v1Severity = z.union([z.string(), z.number()]).transform((value, ctx): Severity => {
  const key = String(value).trim();
  const azure = key === '' ? undefined : AZURE_SEVERITIES[Number(key)];
  if (azure) return azure === 'Sev0' ? 'critical' : azure === 'Sev1' ? 'error' : azure === 'Sev2' ? 'warning' : 'info';
  const named = V1_SEVERITIES.get(key.toLowerCase());
  if (named) return named;
  ctx.addIssue({ code: 'custom', message: 'expected "0"–"4", Critical, Error, Warning or Informational' });
  return z.NEVER;
});

export const logSearchV1Schema = z.looseObject({
  AlertRuleName: z.string().trim().min(1),
  SearchQuery: text,
  SearchIntervalStartTimeUtc: azureTimestamp.nullish(),
  // Microsoft spells it both ways.
  SearchIntervalEndtimeUtc: azureTimestamp.nullish(),
  SearchIntervalEndTimeUtc: azureTimestamp.nullish(),
  SearchIntervalInSeconds: numeric,
  AlertThresholdOperator: text,
  AlertThresholdValue: numeric,
  ResultCount: numeric,
  LinkToSearchResults: text,
  LinkToFilteredSearchResultsUI: text,
  Description: text,
  Severity: v1Severity.nullish(),
  WorkspaceId: text,
  ApplicationId: text,
  ResourceId: text,
  SubscriptionId: text,
  AlertType: text,
  Dimensions: dimensionList,
  SearchResult: searchResultsSchema,
  SearchResults: searchResultsSchema,
  AffectedConfigurationItems: stringList,
});
export type LogSearchV1 = z.infer<typeof logSearchV1Schema>;

/** Application Insights wraps the v1 body: `{"schemaId": "Microsoft.Insights/LogAlert", "data": {...}}`. */
const wrappedLogSearchV1Schema = z.looseObject({ data: logSearchV1Schema });

// ---------------------------------------------------------------------------------------------
// Detection and dispatch
// ---------------------------------------------------------------------------------------------

export const SCHEMA_IDS = {
  common: 'azureMonitorCommonAlertSchema',
  metric: 'AzureMonitorMetricAlert',
  activityLog: 'Microsoft.Insights/activityLogs',
  logAlert: 'Microsoft.Insights/LogAlert',
  budget: 'AIP Budget Notification',
} as const;

const SCHEMA_ID_LIST = Object.values(SCHEMA_IDS);
const KNOWN_SCHEMA_IDS = new Set<string>(SCHEMA_ID_LIST.map((id) => id.toLowerCase()));

/** `schemaId` lower-cased when it is one this source reads (Azure's casing is not relied on). */
export function knownSchemaId(payload: Readonly<Record<string, unknown>>): string | undefined {
  const id = payload.schemaId;
  if (typeof id !== 'string') return undefined;
  const lower = id.trim().toLowerCase();
  return KNOWN_SCHEMA_IDS.has(lower) ? lower : undefined;
}

const LOG_SEARCH_V1_KEYS = [
  'AlertRuleName',
  'SearchQuery',
  'SearchIntervalStartTimeUtc',
  'SearchIntervalEndtimeUtc',
  'SearchIntervalEndTimeUtc',
  'WorkspaceId',
  'ApplicationId',
  'LinkToSearchResults',
  'AlertThresholdOperator',
] as const;

/** The flat log search v1 body has no schemaId; two of its well-known keys identify it. */
export function looksLikeLogSearchV1(value: unknown): boolean {
  if (!isRecord(value)) return false;
  let found = 0;
  for (const key of LOG_SEARCH_V1_KEYS) {
    if (key in value && ++found >= 2) return true;
  }
  return false;
}

export type AzureMonitorPayload =
  | { readonly format: 'common'; readonly alert: CommonAlert }
  | { readonly format: 'cost'; readonly alert: CostAlert }
  | { readonly format: 'budget'; readonly alert: BudgetNotification }
  | { readonly format: 'metric-legacy'; readonly alert: LegacyMetricAlert }
  | { readonly format: 'activity-log-legacy'; readonly alert: LegacyActivityLogAlert }
  | { readonly format: 'log-search-v1'; readonly alert: LogSearchV1 };

type Context = z.core.$RefinementCtx;

/** Runs `schema`, forwarding its issues (with their full paths) to the outer context. */
function parseWith<T>(schema: z.ZodType<T>, value: unknown, ctx: Context): T | undefined {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.addIssue({ ...issue });
  return undefined;
}

function isCostAlert(payload: Readonly<Record<string, unknown>>): boolean {
  const data = payload.data;
  if (!isRecord(data) || !isRecord(data.essentials)) return false;
  const service = data.essentials.monitoringService;
  return typeof service === 'string' && service.trim().toLowerCase() === 'costalerts';
}

/**
 * Picks the format by `schemaId` (or, without one, by the log search v1 keys) and validates with
 * that format's schema, so a rejection names the real path (`data.essentials.severity: ...`)
 * rather than "matched none of five shapes".
 */
export const azureMonitorSchema = z.unknown().transform((value, ctx): AzureMonitorPayload => {
  if (!isRecord(value)) {
    ctx.addIssue({ code: 'custom', message: 'expected a JSON object' });
    return z.NEVER;
  }
  const schemaId = knownSchemaId(value);
  let parsed: AzureMonitorPayload | undefined;
  if (schemaId === SCHEMA_IDS.common.toLowerCase()) {
    if (isCostAlert(value)) {
      const alert = parseWith(costAlertSchema, value, ctx);
      parsed = alert && { format: 'cost', alert };
    } else {
      const alert = parseWith(commonAlertSchema, value, ctx);
      parsed = alert && { format: 'common', alert };
    }
  } else if (schemaId === SCHEMA_IDS.metric.toLowerCase()) {
    const alert = parseWith(legacyMetricAlertSchema, value, ctx);
    parsed = alert && { format: 'metric-legacy', alert };
  } else if (schemaId === SCHEMA_IDS.activityLog.toLowerCase()) {
    const alert = parseWith(legacyActivityLogAlertSchema, value, ctx);
    parsed = alert && { format: 'activity-log-legacy', alert };
  } else if (schemaId === SCHEMA_IDS.budget.toLowerCase()) {
    const alert = parseWith(budgetNotificationSchema, value, ctx);
    parsed = alert && { format: 'budget', alert };
  } else if (schemaId === SCHEMA_IDS.logAlert.toLowerCase()) {
    const wrapped = parseWith(wrappedLogSearchV1Schema, value, ctx);
    parsed = wrapped && { format: 'log-search-v1', alert: wrapped.data };
  } else if (value.schemaId === undefined && looksLikeLogSearchV1(value)) {
    const alert = parseWith(logSearchV1Schema, value, ctx);
    parsed = alert && { format: 'log-search-v1', alert };
  } else if (value.schemaId === undefined && looksLikeLogSearchV1(value.data)) {
    const wrapped = parseWith(wrappedLogSearchV1Schema, value, ctx);
    parsed = wrapped && { format: 'log-search-v1', alert: wrapped.data };
  } else {
    ctx.addIssue({
      code: 'custom',
      path: ['schemaId'],
      message: `expected one of ${SCHEMA_ID_LIST.join(', ')} (or a log search v1 body)`,
    });
  }
  return parsed ?? z.NEVER;
});
