// What each kind of Azure alert adds beyond the essentials: summary lines, labels, the metric,
// links, extra identity parts for the fingerprint, and whether the event itself says "over".
// Shared by the common schema (alertContext) and the older schemas, which carry the same
// condition and activity-log objects.
import type { IncidentMetric, IncidentResource } from '../incident.ts';
import type { ActivityLogEvent, AlertContext, Criterion } from './azure-monitor-schemas.ts';
import type { LabelEntry, LinkCandidate } from './azure-monitor-util.ts';
import {
  activityChannelsName,
  activityLevelName,
  finiteNumber,
  resourceFrom,
  stripHtml,
  toIsoTimestamp,
} from './azure-monitor-util.ts';
import { isRecord, nonEmpty, pruned } from './source.ts';

export interface AlertDetails {
  readonly summary: readonly (string | undefined)[];
  readonly labels: readonly LabelEntry[];
  /** Identity parts beyond rule and resource (dimension pairs, operation, tracking id). */
  readonly identity: readonly string[];
  readonly metric?: IncidentMetric | undefined;
  readonly links: readonly LinkCandidate[];
  readonly region?: string | undefined;
  /** The event itself says the problem is over (service health, resource health). */
  readonly resolved?: boolean;
  /** Replaces "<rule> on <resource>" (service health names an incident, not a resource). */
  readonly title?: string | undefined;
  /** What is alerting, when the alert says so better than its target (log search dimensions). */
  readonly resource?: IncidentResource | undefined;
}

export const NO_DETAILS: AlertDetails = { summary: [], labels: [], identity: [], links: [] };

/** The metric without its absent fields, or undefined when nothing is known. */
function compactMetric(metric: IncidentMetric): IncidentMetric | undefined {
  const known = pruned(metric);
  return Object.keys(known).length > 0 ? known : undefined;
}

// ---------------------------------------------------------------------------------------------
// Dimensions
// ---------------------------------------------------------------------------------------------

type Dimension = { name?: string | null | undefined; value?: string | null | undefined } | null;

/** Dimension pairs as labels, and as sorted identity parts (one alert per combination). */
export function dimensionDetails(dimensions: readonly Dimension[]): Pick<AlertDetails, 'labels' | 'identity'> {
  const pairs = new Map<string, string>();
  for (const dimension of dimensions) {
    const name = nonEmpty(dimension?.name);
    if (name) pairs.set(name, dimension?.value?.trim() ?? '');
  }
  const labels = [...pairs].map(([name, value]): LabelEntry => [name, value]);
  // JSON, not `name=value`: a `=` in a name or value must not make two dimension sets alike.
  const identity = [...pairs].map(([name, value]) => `dimension:${JSON.stringify([name.toLowerCase(), value])}`).sort();
  return { labels, identity };
}

/**
 * Dimensions Azure itself takes the affected resource from (configurationItems: "_ResourceId,
 * ResourceId, Resource, Computer", in this priority), compared case-insensitively.
 */
const RESOURCE_DIMENSIONS = ['_resourceid', 'resourceid', 'resource', 'computer'];

/**
 * The resource a log search alert is about: the dimension Azure names it by, else the first
 * dimension (one alert per dimension combination, so it is what tells two alerts of one rule
 * apart). An ARM ID gives id, name and type; any other value is the name, with the dimension's
 * name as its type. Undefined without dimensions: the alert target (the workspace) stands.
 */
export function affectedResourceOf(dimensions: readonly Dimension[]): IncidentResource | undefined {
  const named: { name: string; value: string }[] = [];
  for (const dimension of dimensions) {
    const name = nonEmpty(dimension?.name);
    const value = nonEmpty(dimension?.value);
    if (name !== undefined && value !== undefined) named.push({ name, value });
  }
  const rank = (name: string): number => {
    const index = RESOURCE_DIMENSIONS.indexOf(name.toLowerCase());
    return index < 0 ? RESOURCE_DIMENSIONS.length : index;
  };
  let chosen = named[0];
  for (const candidate of named) if (chosen !== undefined && rank(candidate.name) < rank(chosen.name)) chosen = candidate;
  if (chosen === undefined) return undefined;
  if (/^\/subscriptions\/[^/]+\//i.test(chosen.value)) return resourceFrom(chosen.value);
  return { id: chosen.value, name: chosen.value, type: chosen.name };
}

// ---------------------------------------------------------------------------------------------
// Metric alerts (common schema and AzureMonitorMetricAlert)
// ---------------------------------------------------------------------------------------------

interface ConditionLike {
  readonly windowSize?: string | null | undefined;
  readonly allOf?: readonly (Criterion | null)[] | null | undefined;
}

function criteriaOf(condition: ConditionLike | null | undefined): Criterion[] {
  return (condition?.allOf ?? []).filter((criterion): criterion is Criterion => criterion !== null);
}

export function metricDetails(
  condition: ConditionLike | null | undefined,
  conditionType: string | null | undefined,
): AlertDetails {
  const criteria = criteriaOf(condition);
  const first = criteria[0];
  const dimensions = dimensionDetails(criteria.flatMap((criterion) => criterion.dimensions ?? []));
  return {
    summary: [],
    labels: [
      ...dimensions.labels,
      ['conditionType', conditionType],
      ['windowSize', condition?.windowSize],
      ['timeAggregation', first?.timeAggregation],
      ['alertSensitivity', first?.alertSensitivity],
      ['webTestName', first?.webTestName],
    ],
    identity: dimensions.identity,
    metric: first
      ? compactMetric({
          name: nonEmpty(first.metricName),
          namespace: nonEmpty(first.metricNamespace),
          value: finiteNumber(first.metricValue),
          // Dynamic thresholds may carry the computed value or none at all.
          threshold: finiteNumber(first.threshold),
          operator: nonEmpty(first.operator),
        })
      : undefined,
    links: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Log search alerts
// ---------------------------------------------------------------------------------------------

/** Log search v2 (`conditionType: LogQueryCriteria`, monitoringService "Log Alerts V2"). */
export function logV2Details(context: AlertContext): AlertDetails {
  const criteria = criteriaOf(context.condition);
  const first = criteria[0];
  const dimensions = dimensionDetails(criteria.flatMap((criterion) => criterion.dimensions ?? []));
  const query = nonEmpty(first?.searchQuery);
  return {
    summary: [query && `Query: ${query}`],
    labels: [
      ...dimensions.labels,
      ['conditionType', context.conditionType],
      ['windowSize', context.condition?.windowSize],
      ['timeAggregation', first?.timeAggregation],
    ],
    identity: dimensions.identity,
    metric: first
      ? compactMetric({
          name: nonEmpty(first.metricMeasureColumn),
          value: finiteNumber(first.metricValue),
          threshold: finiteNumber(first.threshold),
          operator: nonEmpty(first.operator),
        })
      : undefined,
    links: [
      { title: 'Filtered search results', url: first?.linkToFilteredSearchResultsUI },
      { title: 'Search results', url: first?.linkToSearchResultsUI },
    ],
    resource: affectedResourceOf(criteria.flatMap((criterion) => criterion.dimensions ?? [])),
  };
}

export interface LogV1Fields {
  readonly searchQuery?: string | null | undefined;
  readonly resultCount?: number | string | null | undefined;
  readonly threshold?: number | string | null | undefined;
  readonly operator?: string | null | undefined;
  readonly alertType?: string | null | undefined;
  readonly workspaceId?: string | null | undefined;
  readonly applicationId?: string | null | undefined;
  readonly linkToSearchResults?: string | null | undefined;
  readonly linkToFilteredSearchResultsUI?: string | null | undefined;
  readonly dimensions?: readonly Dimension[] | null | undefined;
  readonly dataSources?: readonly ({ region?: string | null | undefined } | null)[] | null | undefined;
}

/** Log search v1: the flat webhook body and the common schema's Log Analytics/App Insights context. */
export function logV1Details(fields: LogV1Fields): AlertDetails {
  const dimensions = dimensionDetails(fields.dimensions ?? []);
  const query = nonEmpty(fields.searchQuery);
  const resultCount = finiteNumber(fields.resultCount);
  const region = (fields.dataSources ?? []).map((source) => nonEmpty(source?.region)).find(Boolean);
  return {
    summary: [query && `Query: ${query}`],
    labels: [
      ...dimensions.labels,
      ['alertType', fields.alertType],
      ['resultCount', resultCount === undefined ? undefined : String(resultCount)],
      ['workspaceId', fields.workspaceId],
      ['applicationId', fields.applicationId],
    ],
    identity: dimensions.identity,
    metric: compactMetric({
      // "Number of results" rules compare the result count; metric-measurement rules carry no value.
      value: /number\s*of\s*results/i.test(fields.alertType ?? '') ? resultCount : undefined,
      threshold: finiteNumber(fields.threshold),
      operator: nonEmpty(fields.operator),
    }),
    links: [
      { title: 'Filtered search results', url: fields.linkToFilteredSearchResultsUI },
      { title: 'Search results', url: fields.linkToSearchResults },
    ],
    region,
    resource: affectedResourceOf(fields.dimensions ?? []),
  };
}

export function logV1FieldsOfContext(context: AlertContext): LogV1Fields {
  return {
    searchQuery: context.SearchQuery,
    resultCount: context.ResultCount,
    threshold: context.Threshold,
    operator: context.Operator,
    alertType: context.AlertType,
    workspaceId: context.WorkspaceId,
    applicationId: context.ApplicationId,
    linkToSearchResults: context.LinkToSearchResults,
    linkToFilteredSearchResultsUI: context.LinkToFilteredSearchResultsUI,
    dimensions: context.Dimensions,
    dataSources: context.SearchResults?.dataSources,
  };
}

// ---------------------------------------------------------------------------------------------
// Activity log: administrative, policy, autoscale, security, recommendation ...
// ---------------------------------------------------------------------------------------------

/** The activity-log fields the common schema's alertContext and the legacy activityLog share. */
export type ActivityEventLike = Pick<
  ActivityLogEvent,
  | 'caller'
  | 'status'
  | 'subStatus'
  | 'level'
  | 'channels'
  | 'eventSource'
  | 'eventDataId'
  | 'correlationId'
  | 'authorization'
  | 'properties'
  | 'Activity Log Event Description'
> & { readonly operationName?: string | undefined; readonly description?: string | undefined };

function activityLabels(event: ActivityEventLike): LabelEntry[] {
  return [
    ['operationName', event.operationName],
    ['caller', event.caller],
    ['activityStatus', event.status],
    ['activitySubStatus', event.subStatus],
    ['eventSource', event.eventSource],
    ['level', activityLevelName(event.level)],
    ['channels', activityChannelsName(event.channels)],
    ['correlationId', event.correlationId],
    ['eventDataId', event.eventDataId],
  ];
}

export function activityDetails(event: ActivityEventLike): AlertDetails {
  const operation = nonEmpty(event.operationName);
  const caller = nonEmpty(event.caller);
  const status = nonEmpty(event.status);
  const properties = event.properties;
  const what = operation ? `${operation}${caller ? ` by ${caller}` : ''}${status ? `: ${status}` : ''}` : undefined;
  return {
    summary: [
      event['Activity Log Event Description'] ?? event.description,
      // Autoscale and security events describe themselves in properties.
      properties?.description,
      what,
    ],
    labels: [
      ...activityLabels(event),
      ['compromisedEntity', properties?.compromisedEntity],
      ['eventSeverity', properties?.severity],
    ],
    // One rule may watch several operations on a resource: each is its own problem.
    identity: operation ? [`operation:${operation.toLowerCase()}`] : [],
    links: [],
    region: nonEmpty(properties?.resourceLocation),
  };
}

// ---------------------------------------------------------------------------------------------
// Service health
// ---------------------------------------------------------------------------------------------

const SERVICE_HEALTH_OVER = new Set(['resolved', 'rca', 'complete', 'completed', 'canceled', 'cancelled']);

/** `impactedServices` arrives as a JSON string or as an array of `{ServiceName, ImpactedRegions}`. */
export function impactedServicesOf(value: string | readonly unknown[] | null | undefined): {
  services: string[];
  regions: string[];
} {
  let list: unknown = value;
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value) as unknown;
    } catch {
      return { services: [], regions: [] };
    }
  }
  const services = new Set<string>();
  const regions = new Set<string>();
  if (!Array.isArray(list)) return { services: [], regions: [] };
  for (const item of list as unknown[]) {
    if (!isRecord(item)) continue;
    const service = item.ServiceName ?? item.serviceName;
    if (typeof service === 'string' && service.trim()) services.add(service.trim());
    const impacted = item.ImpactedRegions ?? item.impactedRegions;
    if (!Array.isArray(impacted)) continue;
    for (const region of impacted as unknown[]) {
      const name = isRecord(region) ? (region.RegionName ?? region.regionName) : undefined;
      if (typeof name === 'string' && name.trim()) regions.add(name.trim());
    }
  }
  return { services: [...services], regions: [...regions] };
}

export function serviceHealthDetails(event: ActivityEventLike, rule: string): AlertDetails {
  const properties = event.properties;
  const incidentTitle = nonEmpty(properties?.title) ?? nonEmpty(properties?.defaultLanguageTitle);
  const communication = nonEmpty(properties?.communication) ?? nonEmpty(properties?.defaultLanguageContent);
  const impacted = impactedServicesOf(properties?.impactedServices);
  const trackingId = nonEmpty(properties?.trackingId);
  const stage = nonEmpty(properties?.stage)?.toLowerCase();
  const status = nonEmpty(event.status)?.toLowerCase();
  const timestamp = (value: string | null | undefined) => (value ? (toIsoTimestamp(value) ?? value) : undefined);
  return {
    summary: [communication && stripHtml(communication)],
    labels: [
      ...activityLabels(event),
      ['incidentType', properties?.incidentType],
      ['trackingId', trackingId],
      ['stage', properties?.stage],
      ['service', properties?.service],
      ['serviceHealthRegion', properties?.region],
      ['impactedServices', impacted.services.join(', ')],
      ['impactedRegions', impacted.regions.join(', ')],
      ['impactStartTime', timestamp(properties?.impactStartTime)],
      ['impactMitigationTime', timestamp(properties?.impactMitigationTime)],
    ],
    // Every communication about one service issue shares its tracking id.
    identity: [`tracking:${(trackingId ?? incidentTitle ?? '').toLowerCase()}`],
    links: [],
    resolved: (stage !== undefined && SERVICE_HEALTH_OVER.has(stage)) || status === 'resolved',
    title: incidentTitle ? `${rule}: ${incidentTitle}` : undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// Resource health
// ---------------------------------------------------------------------------------------------

export function resourceHealthDetails(event: ActivityEventLike): AlertDetails {
  const properties = event.properties;
  const current = nonEmpty(properties?.currentHealthStatus);
  const previous = nonEmpty(properties?.previousHealthStatus);
  const cause = nonEmpty(properties?.cause);
  const change = current ? `Health: ${previous ? `${previous} → ` : ''}${current}${cause ? ` (${cause})` : ''}` : undefined;
  return {
    summary: [properties?.title, properties?.details, change],
    labels: [
      ...activityLabels(event),
      ['currentHealthStatus', current],
      ['previousHealthStatus', previous],
      ['cause', cause],
      ['healthEventType', properties?.type],
    ],
    // Not the operation: Activated and Resolved events of one resource are one problem.
    identity: [],
    links: [],
    resolved:
      current?.toLowerCase() === 'available' ||
      nonEmpty(event.status)?.toLowerCase() === 'resolved' ||
      /\/resolved\/action$/i.test(event.operationName ?? ''),
  };
}

// ---------------------------------------------------------------------------------------------
// Smart detector and Prometheus (common schema only)
// ---------------------------------------------------------------------------------------------

export function smartDetectorDetails(context: AlertContext): AlertDetails {
  const detected = nonEmpty(context.DetectedValue);
  const normal = nonEmpty(context.NormalValue);
  return {
    summary: [
      context.DetectionSummary,
      detected && `Detected value: ${detected}${normal ? `; normal: ${normal}` : ''}`,
    ],
    labels: [
      ['smartDetectorId', context.SmartDetectorId],
      ['smartDetectorName', context.SmartDetectorName],
      ['detectedValue', detected],
      ['normalValue', normal],
    ],
    identity: [],
    links: [],
  };
}

export function prometheusDetails(context: AlertContext): AlertDetails {
  const labels: LabelEntry[] = [];
  for (const [key, value] of Object.entries(context.labels ?? {})) {
    if (typeof value === 'string') labels.push([key, value]);
  }
  const annotation = (key: string) => {
    const value = context.annotations?.[key];
    return typeof value === 'string' ? value : undefined;
  };
  return {
    summary: [annotation('summary'), annotation('description')],
    labels: [...labels, ['expression', context.expression], ['ruleGroup', context.ruleGroup]],
    // A Prometheus alert is its label set.
    identity: labels.map(([key, value]) => `label:${JSON.stringify([key, value ?? ''])}`).sort(),
    metric: compactMetric({ value: finiteNumber(context.expressionValue) }),
    links: [],
  };
}

