// The `cloudwatch` source: CloudWatch alarm state changes, one incident per alarm notice.
//
// Envelopes (picked by `envelopeOf`; `detect` claims the same shapes, `Records` only when SNS):
// - Lambda SNS event `{Records:[{EventSource:'aws:sns', Sns:{Type:'Notification', Message}}]}`: one
//   incident per record;
// - SNS HTTP(S) delivery body `{Type:'Notification', TopicArn, Message, SigningCertURL, ...}`;
// - the bare alarm JSON (SNS raw message delivery, or an alarm posted by hand);
// - EventBridge "CloudWatch Alarm State Change" events (`source: 'aws.cloudwatch'`, `detail-type`);
// - the alarm's own Lambda action event (`source: 'aws.cloudwatch'`, `alarmArn`, `alarmData`): the
//   EventBridge `detail` under another name, with `accountId` and `region` beside it.
// SNS `Message` is a JSON *string*; it is parsed inside the schema, so a rejection names the path
// inside it (`Records[0].Sns.Message.NewStateValue: ...`). An SNS envelope is ours whatever it carries
// (we are the SNS endpoint): a Message that is not an alarm is rejected, not passed to other sources.
// SubscriptionConfirmation / UnsubscribeConfirmation are rejected too: the HTTP handler answers them
// before normalizing, so reaching this source means they were misrouted.
//
// Fingerprint parts: [AlarmArn]. The ARN names partition, region, account and alarm, and an alarm's
// dimensions are fixed, so one alarm is one problem: its ALARM, INSUFFICIENT_DATA and OK notices share
// a fingerprint, whichever envelope brought them (EventBridge events give the ARN in `resources`, Lambda
// action events in `alarmArn`, else it is rebuilt from account, region and name). Very old alarm
// messages carry no AlarmArn: then the parts are [AWSAccountId, Region display name as sent, AlarmName]
// (the display name is not parsed; it only keeps same-named alarms of one account in different regions
// apart).
//
// Mapping decisions:
// - status: ALARM and INSUFFICIENT_DATA are firing, OK is resolved.
// - severity: a `severity=<level>` token in the description wins (critical; error/high/major;
//   warning/minor; info/low/none; case-insensitive; an unknown level is ignored and left in the
//   text). Otherwise ALARM is error and INSUFFICIENT_DATA is warning. An OK notice keeps the severity
//   the alarm had while firing: warning when it leaves INSUFFICIENT_DATA, else error.
// - startsAt is StateChangeTime. A resolved notice does not say when the problem began, so it carries
//   startsAt = endsAt = StateChangeTime; dedup keeps the firing record's start.
// - region is the code from the ARN (never the `Region` display name); an alarm without an ARN takes it
//   from the SNS topic's ARN, else from the host of the SNS signing certificate URL (an alarm can only
//   notify a topic in its own region), and its ARN is rebuilt for ruleId and the console link (not for
//   the fingerprint, which stays as above). account is AWSAccountId.
// - resource: composite alarms have none. Metric alarms: the watched metric's dimensions; id =
//   `Name=value` pairs joined by `,`, type = the namespace, name = the value of the dimension that names
//   the resource in that namespace (RESOURCE_DIMENSIONS: S3 BucketName, not StorageType; ALB LoadBalancer,
//   then TargetGroup; ECS `ServiceName in ClusterName`; ...), else the first dimension's. For metric math
//   whose watched series is an expression, the dimensions of the first metric it reads.
// - alarm type: a query whose expression is `ANOMALY_DETECTION_BAND(...)` is the anomaly band even when
//   no thresholdMetricId names it (EventBridge and Lambda action events carry none): anomaly-detection.
// - metric.value is the first datapoint quoted in NewStateReason (`[12.3 (25/11/26 01:55:00)]`, or the
//   older `1 datapoint (12.3)`); anomaly-detection alarms have no fixed threshold, so none is set.
import * as z from 'zod';
import { fingerprintOf } from '../fingerprint.ts';
import type { Incident, IncidentLink, IncidentMetric, IncidentResource, IncidentSource, Severity, Status } from '../incident.ts';
import { alarmArnOf, consoleAlarmUrl, isRegionCode, parseAlarmArn } from './cloudwatch-arn.ts';
import { defineSource, isRecord, pruned } from './source.ts';
import { severityFromWord } from './severity.ts';

const ALARM_STATES = ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const;
export type AlarmState = (typeof ALARM_STATES)[number];
export type AlarmType = 'metric' | 'metric-math' | 'anomaly-detection' | 'composite';

const STATE_CHANGE_DETAIL_TYPE = 'CloudWatch Alarm State Change';
const SNS_CONFIRMATIONS = new Set(['SubscriptionConfirmation', 'UnsubscribeConfirmation']);

// ---------------------------------------------------------------------------------------------
// Timestamps: CloudWatch writes `2026-11-25T01:56:10.517+0000` (no colon in the offset), which is
// not ISO 8601 as the incident schema reads it. UTC offsets become `Z` with the digits kept as sent;
// other offsets are converted to UTC.

// zod's own ISO date-time pattern (the one the incident schema checks), tested directly: a
// safeParse per timestamp costs several times the regex.
const ISO_DATE_TIME = z.regexes.datetime({ offset: true });
const AWS_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:?\d{2})$/u;
const ZERO_OFFSET = /^(?:Z|[+-]00:?00)$/u;

/** An ISO 8601 UTC timestamp for a CloudWatch one, or undefined when `text` is not a valid timestamp. */
export function toIsoTimestamp(text: string): string | undefined {
  const match = AWS_TIMESTAMP.exec(text);
  const local = match?.[1];
  const offset = match?.[2];
  if (local === undefined || offset === undefined) return undefined;
  const asUtc = `${local}Z`;
  if (!ISO_DATE_TIME.test(asUtc)) return undefined;
  if (ZERO_OFFSET.test(offset)) return asUtc;
  const instant = new Date(`${local}${offset.slice(0, 3)}:${offset.slice(-2)}`);
  if (Number.isNaN(instant.getTime())) return undefined;
  const iso = instant.toISOString();
  return ISO_DATE_TIME.test(iso) ? iso : undefined;
}

// ---------------------------------------------------------------------------------------------
// Schemas. Objects are loose: AWS adds fields over the years and we read only what we map.

const optionalText = z.string().nullish();

function custom(message: string): { code: 'custom'; message: string } {
  return { code: 'custom', message };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `a ${typeof value}`;
}

const awsTimestamp = z.string().transform((text, ctx) => {
  const iso = toIsoTimestamp(text);
  if (iso !== undefined) return iso;
  ctx.addIssue(custom(`expected a timestamp like 2026-11-25T01:56:10.517+0000, received ${describe(text)}`));
  return z.NEVER;
});

const alarmState = z.enum(ALARM_STATES);

const dimensionSchema = z.looseObject({ name: z.string(), value: z.string() });

const snsMetricQuerySchema = z.looseObject({
  Id: z.string(),
  Expression: optionalText,
  Label: optionalText,
  ReturnData: z.boolean().nullish(),
  MetricStat: z
    .looseObject({
      Metric: z.looseObject({
        Namespace: optionalText,
        MetricName: optionalText,
        Dimensions: z.array(dimensionSchema).nullish(),
      }),
      Stat: optionalText,
      Unit: optionalText,
    })
    .nullish(),
});

const snsTriggerSchema = z.looseObject({
  MetricName: optionalText,
  Namespace: optionalText,
  Statistic: optionalText,
  ExtendedStatistic: optionalText,
  Unit: optionalText,
  Dimensions: z.array(dimensionSchema).nullish(),
  ComparisonOperator: optionalText,
  Threshold: z.number().nullish(),
  ThresholdMetricId: optionalText,
  Metrics: z.array(snsMetricQuerySchema).nullish(),
});

/** The alarm JSON CloudWatch publishes to SNS (the `Message` of a notification). */
export const snsAlarmSchema = z.looseObject({
  AlarmName: z.string().min(1),
  AlarmDescription: optionalText,
  AWSAccountId: z.string().min(1),
  NewStateValue: alarmState,
  OldStateValue: alarmState.nullish(),
  NewStateReason: optionalText,
  StateChangeTime: awsTimestamp,
  Region: optionalText,
  AlarmArn: optionalText,
  Trigger: snsTriggerSchema.nullish(),
  AlarmRule: optionalText,
  TriggeringChildren: z.array(z.looseObject({ Arn: z.string() })).nullish(),
});

// JSON inside JSON: parse the string here so a bad Message is reported at its own path.
const alarmMessageSchema = z
  .string()
  .transform((text, ctx): Record<string, unknown> => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const why = error instanceof Error ? error.message : 'unparseable';
      ctx.addIssue(custom(`not a CloudWatch alarm: Message is not JSON (${why})`));
      return z.NEVER;
    }
    if (!isRecord(value)) {
      ctx.addIssue(custom(`not a CloudWatch alarm: expected a JSON object, received ${describe(value)}`));
      return z.NEVER;
    }
    if (!('AlarmName' in value)) {
      ctx.addIssue(custom('not a CloudWatch alarm: missing AlarmName'));
      return z.NEVER;
    }
    return value;
  })
  .pipe(snsAlarmSchema);

const notificationType = z.literal('Notification', {
  error: (issue) =>
    typeof issue.input === 'string' && SNS_CONFIRMATIONS.has(issue.input)
      ? `${issue.input} is not an alarm notification (the HTTP endpoint answers subscription messages before normalizing)`
      : `expected "Notification", received ${describe(issue.input)}`,
});

// The Type is checked first (pipe stops there) so a confirmation is refused for that one reason,
// not also for its Message, which is prose.
const snsNotificationSchema = z.looseObject({ Type: notificationType }).pipe(
  z.looseObject({
    Type: z.literal('Notification'),
    TopicArn: optionalText,
    Message: alarmMessageSchema,
    // HTTP deliveries spell it SigningCertURL, Lambda events SigningCertUrl; only its host is read.
    SigningCertURL: z.unknown().optional(),
    SigningCertUrl: z.unknown().optional(),
  }),
);

const lambdaSnsEventSchema = z.looseObject({
  Records: z.array(z.looseObject({ EventSource: z.literal('aws:sns'), Sns: snsNotificationSchema })).min(1),
});

function textOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

const eventBridgeMetricQuerySchema = z.looseObject({
  id: z.string(),
  expression: optionalText,
  label: optionalText,
  returnData: z.boolean().nullish(),
  metricStat: z
    .looseObject({
      metric: z.looseObject({
        namespace: optionalText,
        name: optionalText,
        dimensions: z.record(z.string(), z.string()).nullish(),
      }),
      stat: optionalText,
      unit: optionalText,
    })
    .nullish(),
});

const eventBridgeStateSchema = z.looseObject({
  value: alarmState,
  reason: optionalText,
  reasonData: optionalText,
  timestamp: awsTimestamp.nullish(),
});

/** What EventBridge's `detail` and the Lambda action's `alarmData` both carry. */
const alarmDetailSchema = z.looseObject({
  alarmName: z.string().min(1),
  state: eventBridgeStateSchema,
  previousState: z.looseObject({ value: alarmState.nullish() }).nullish(),
  configuration: z
    .looseObject({
      description: optionalText,
      alarmRule: optionalText,
      // Not in AWS's published examples; read when present, like the SNS Trigger's field.
      thresholdMetricId: optionalText,
      metrics: z.array(eventBridgeMetricQuerySchema).nullish(),
    })
    .nullish(),
});

/** EventBridge "CloudWatch Alarm State Change" (other `aws.cloudwatch` detail types are refused). */
export const alarmStateChangeEventSchema = z
  .looseObject({
    'detail-type': z.literal(STATE_CHANGE_DETAIL_TYPE, {
      error: (issue) => `only "${STATE_CHANGE_DETAIL_TYPE}" events are alarm notices, received ${describe(issue.input)}`,
    }),
  })
  .pipe(
    z.looseObject({
      source: z.literal('aws.cloudwatch'),
      'detail-type': z.literal(STATE_CHANGE_DETAIL_TYPE),
      account: z.string().min(1),
      region: z.string().min(1),
      time: awsTimestamp,
      resources: z.array(z.string()).nullish(),
      detail: alarmDetailSchema,
    }),
  );

/** The event an alarm's Lambda action invokes the function with. */
export const lambdaActionEventSchema = z.looseObject({
  source: z.literal('aws.cloudwatch'),
  alarmArn: optionalText,
  accountId: z.string().min(1),
  time: awsTimestamp,
  region: z.string().min(1),
  alarmData: alarmDetailSchema,
});

export type SnsAlarm = z.output<typeof snsAlarmSchema>;
export type AlarmStateChangeEvent = z.output<typeof alarmStateChangeEventSchema>;
export type LambdaActionEvent = z.output<typeof lambdaActionEventSchema>;
type AlarmDetail = z.output<typeof alarmDetailSchema>;

/** Where an SNS notice came from: the topic and the signing certificate name the region. */
interface SnsOrigin {
  readonly topicArn?: string | undefined;
  readonly signingCertUrl?: string | undefined;
}

/** One alarm notice, as validated: what `toIncidents` maps. */
export type CloudWatchNotice =
  | ({ readonly format: 'sns'; readonly alarm: SnsAlarm } & SnsOrigin)
  | { readonly format: 'eventbridge'; readonly event: AlarmStateChangeEvent }
  | { readonly format: 'lambda-action'; readonly event: LambdaActionEvent };

type Envelope = 'lambda-sns' | 'sns-http' | 'eventbridge' | 'lambda-action' | 'bare-alarm';

const envelopeSchemas: Record<Envelope, z.ZodType<CloudWatchNotice[]>> = {
  'lambda-sns': lambdaSnsEventSchema.transform((event) =>
    event.Records.map((record) => ({
      format: 'sns' as const,
      alarm: record.Sns.Message,
      topicArn: record.Sns.TopicArn ?? undefined,
      signingCertUrl: textOf(record.Sns.SigningCertUrl),
    })),
  ),
  'sns-http': snsNotificationSchema.transform((notification) => [
    {
      format: 'sns' as const,
      alarm: notification.Message,
      topicArn: notification.TopicArn ?? undefined,
      signingCertUrl: textOf(notification.SigningCertURL),
    },
  ]),
  eventbridge: alarmStateChangeEventSchema.transform((event) => [{ format: 'eventbridge' as const, event }]),
  'lambda-action': lambdaActionEventSchema.transform((event) => [{ format: 'lambda-action' as const, event }]),
  'bare-alarm': snsAlarmSchema.transform((alarm) => [{ format: 'sns' as const, alarm }]),
};

/** Which envelope a payload is shaped like; cheap, never throws. */
function envelopeOf(payload: unknown): Envelope | undefined {
  if (!isRecord(payload)) return undefined;
  if (Array.isArray(payload.Records)) return 'lambda-sns';
  if (typeof payload.Type === 'string' && typeof payload.TopicArn === 'string' && 'Message' in payload) return 'sns-http';
  if (payload.source === 'aws.cloudwatch') {
    if (typeof payload['detail-type'] === 'string') return 'eventbridge';
    if (isRecord(payload.alarmData)) return 'lambda-action';
  }
  if ('AlarmName' in payload && 'NewStateValue' in payload) return 'bare-alarm';
  return undefined;
}

/** Detection: any envelope above, but a `Records` batch only when it is an SNS one (S3, SQS... are not ours). */
function claims(payload: unknown): boolean {
  const envelope = envelopeOf(payload);
  if (envelope !== 'lambda-sns') return envelope !== undefined;
  const records: unknown = isRecord(payload) ? payload.Records : undefined;
  const first: unknown = Array.isArray(records) ? records[0] : undefined;
  return isRecord(first) && (first.EventSource === 'aws:sns' || isRecord(first.Sns));
}

// Dispatches on the envelope and re-reports its issues at their own paths (a plain union would only
// say "invalid input" at the root). An unrecognised shape is judged as a bare alarm, the closest.
const cloudWatchPayloadSchema: z.ZodType<CloudWatchNotice[]> = z.unknown().transform((payload, ctx) => {
  const parsed = envelopeSchemas[envelopeOf(payload) ?? 'bare-alarm'].safeParse(payload);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ ...custom(issue.message), path: issue.path });
  return z.NEVER;
});

// ---------------------------------------------------------------------------------------------
// Mapping: each format is first reduced to one view of the alarm, then mapped to an incident.

interface Dimension {
  readonly name: string;
  readonly value: string;
}

interface MetricQuery {
  readonly id: string;
  readonly expression?: string | undefined;
  readonly label?: string | undefined;
  readonly returnData?: boolean | undefined;
  readonly metric?:
    | {
        readonly namespace?: string | undefined;
        readonly name?: string | undefined;
        readonly dimensions: readonly Dimension[];
        readonly statistic?: string | undefined;
        readonly unit?: string | undefined;
      }
    | undefined;
}

interface WatchedMetric {
  readonly name?: string | undefined;
  readonly namespace?: string | undefined;
  readonly statistic?: string | undefined;
  readonly unit?: string | undefined;
  readonly expression?: string | undefined;
  readonly dimensions: readonly Dimension[];
  /** The namespace of the metric the dimensions belong to (for an expression, the metric they came from). */
  readonly dimensionsNamespace?: string | undefined;
}

interface AlarmView {
  readonly name: string;
  readonly description?: string | undefined;
  readonly account: string;
  /** The alarm ARN as sent (or rebuilt by an event that always names the region): the fingerprint's part. */
  readonly arn?: string | undefined;
  /** `arn`, or for an alarm sent without one, the ARN rebuilt from the SNS topic's region. */
  readonly ruleId?: string | undefined;
  readonly region?: string | undefined;
  /** The `Region` display name as sent; only used for the fingerprint of ARN-less alarms. */
  readonly regionLabel?: string | undefined;
  readonly state: AlarmState;
  readonly previousState?: AlarmState | undefined;
  readonly reason?: string | undefined;
  readonly changedAt: string;
  readonly type: AlarmType;
  readonly metric?: WatchedMetric | undefined;
  readonly threshold?: number | undefined;
  readonly operator?: string | undefined;
  readonly anomalyBand?: string | undefined;
  readonly alarmRule?: string | undefined;
  readonly triggeringAlarms: readonly string[];
  readonly topicArn?: string | undefined;
}

function text(value: string | null | undefined): string | undefined {
  return value === null || value === undefined || value === '' ? undefined : value;
}

function alarmNameOfArn(arn: string): string {
  return parseAlarmArn(arn)?.alarmName ?? arn;
}

/**
 * The series the alarm compares: the query that returns data and is not the anomaly band. For an
 * expression, namespace and dimensions come from the metrics it reads (the namespace only when they
 * all share one).
 */
function watchedOf(queries: readonly MetricQuery[], bandId: string | undefined): WatchedMetric | undefined {
  const candidates = queries.filter((query) => query.id !== bandId);
  const watched =
    candidates.find((query) => query.returnData === true) ??
    candidates.find((query) => query.returnData !== false) ??
    candidates[0];
  if (!watched) return undefined;
  if (watched.metric) {
    const { namespace, name, dimensions, statistic, unit } = watched.metric;
    return { name, namespace, statistic, unit, dimensions, dimensionsNamespace: namespace };
  }
  const read = candidates.flatMap((query) => (query.metric ? [query.metric] : []));
  const namespaces = new Set(read.map((metric) => metric.namespace));
  const [onlyNamespace] = namespaces.size === 1 ? [...namespaces] : [];
  const withDimensions = read.find((metric) => metric.dimensions.length > 0);
  return {
    name: watched.label ?? watched.expression ?? watched.id,
    namespace: onlyNamespace,
    expression: watched.expression,
    dimensions: withDimensions?.dimensions ?? [],
    dimensionsNamespace: withDimensions?.namespace,
  };
}

const ANOMALY_BAND = /^\s*ANOMALY_DETECTION_BAND\s*\(/iu;

/**
 * The id of the anomaly band: thresholdMetricId when the alarm names it, else the query whose
 * expression is ANOMALY_DETECTION_BAND(...) (EventBridge and Lambda action events do not name it).
 */
function bandIdOf(queries: readonly MetricQuery[], thresholdMetricId: string | undefined): string | undefined {
  return thresholdMetricId ?? queries.find((query) => query.expression !== undefined && ANOMALY_BAND.test(query.expression))?.id;
}

function metricTypeOf(queries: readonly MetricQuery[], bandId: string | undefined): AlarmType {
  if (bandId !== undefined) return 'anomaly-detection';
  const [only, ...others] = queries;
  return only?.metric && others.length === 0 ? 'metric' : 'metric-math';
}

// `arn:aws:sns:us-west-2:210987654321:tocsin-alarms`
const SNS_TOPIC_ARN = /^arn:aws(?:-[a-z]+)*:sns:([a-z0-9-]+):\d{12}:/u;
// `https://sns.us-west-2.amazonaws.com/SimpleNotificationService-....pem` (.com.cn in China)
const SNS_CERT_HOST = /^sns\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/u;

/** The region an SNS notice came through: the topic ARN's, else the signing certificate host's. */
function snsRegionOf(origin: SnsOrigin): string | undefined {
  const fromTopic = origin.topicArn === undefined ? undefined : SNS_TOPIC_ARN.exec(origin.topicArn)?.[1];
  if (fromTopic !== undefined && isRegionCode(fromTopic)) return fromTopic;
  const host = origin.signingCertUrl === undefined ? undefined : URL.parse(origin.signingCertUrl)?.hostname;
  const fromCert = host === undefined ? undefined : SNS_CERT_HOST.exec(host)?.[1];
  return fromCert !== undefined && isRegionCode(fromCert) ? fromCert : undefined;
}

function viewOfSnsAlarm(alarm: SnsAlarm, origin: SnsOrigin): AlarmView {
  const arn = text(alarm.AlarmArn);
  const trigger = alarm.Trigger ?? undefined;
  // An alarm notifies topics in its own region only, so the topic's region is the alarm's.
  const region = arn === undefined ? snsRegionOf(origin) : parseAlarmArn(arn)?.region;
  const common = {
    name: alarm.AlarmName,
    description: text(alarm.AlarmDescription),
    account: alarm.AWSAccountId,
    arn,
    ruleId: arn ?? (region === undefined ? undefined : alarmArnOf(region, alarm.AWSAccountId, alarm.AlarmName)),
    region,
    regionLabel: text(alarm.Region),
    state: alarm.NewStateValue,
    previousState: alarm.OldStateValue ?? undefined,
    reason: text(alarm.NewStateReason),
    changedAt: alarm.StateChangeTime,
    topicArn: origin.topicArn,
    triggeringAlarms: (alarm.TriggeringChildren ?? []).map((child) => alarmNameOfArn(child.Arn)),
  };
  if (!trigger) {
    const composite = alarm.AlarmRule != null || alarm.TriggeringChildren != null;
    return { ...common, type: composite ? 'composite' : 'metric', alarmRule: text(alarm.AlarmRule) };
  }
  const operator = text(trigger.ComparisonOperator);
  const threshold = trigger.Threshold ?? undefined;
  const queries: MetricQuery[] = (trigger.Metrics ?? []).map((query) => ({
    id: query.Id,
    expression: text(query.Expression),
    label: text(query.Label),
    returnData: query.ReturnData ?? undefined,
    metric: query.MetricStat
      ? {
          namespace: text(query.MetricStat.Metric.Namespace),
          name: text(query.MetricStat.Metric.MetricName),
          dimensions: query.MetricStat.Metric.Dimensions ?? [],
          statistic: text(query.MetricStat.Stat),
          unit: text(query.MetricStat.Unit),
        }
      : undefined,
  }));
  if (queries.length === 0) {
    const metric: WatchedMetric = {
      name: text(trigger.MetricName),
      namespace: text(trigger.Namespace),
      statistic: text(trigger.Statistic) ?? text(trigger.ExtendedStatistic),
      unit: text(trigger.Unit),
      dimensions: trigger.Dimensions ?? [],
      dimensionsNamespace: text(trigger.Namespace),
    };
    return { ...common, type: 'metric', metric, threshold, operator };
  }
  const bandId = bandIdOf(queries, text(trigger.ThresholdMetricId));
  return {
    ...common,
    type: bandId === undefined ? 'metric-math' : 'anomaly-detection',
    metric: watchedOf(queries, bandId),
    threshold: bandId === undefined ? threshold : undefined,
    operator,
    anomalyBand: queries.find((query) => query.id === bandId)?.expression,
  };
}

// `reasonData` is a JSON string AWS documents loosely; read it leniently and never fail on it.
const reasonDataSchema = z.looseObject({
  threshold: z.number().optional().catch(undefined),
  triggeringAlarms: z
    .array(z.looseObject({ arn: z.string() }))
    .optional()
    .catch(undefined),
});

function readReasonData(reasonData: string | undefined): z.output<typeof reasonDataSchema> | undefined {
  if (reasonData === undefined) return undefined;
  try {
    const parsed = reasonDataSchema.safeParse(JSON.parse(reasonData));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Where an EventBridge or Lambda action event says the alarm lives. */
interface AlarmEventOrigin {
  readonly account: string;
  readonly region: string;
  readonly time: string;
  /** The alarm ARN the event names, if any (else it is rebuilt from account, region and name). */
  readonly arn?: string | undefined;
}

function viewOfStateChange(event: AlarmStateChangeEvent): AlarmView {
  const arn = (event.resources ?? []).find((resource) => parseAlarmArn(resource) !== undefined);
  return viewOfAlarmDetail(event.detail, { account: event.account, region: event.region, time: event.time, arn });
}

function viewOfLambdaAction(event: LambdaActionEvent): AlarmView {
  const sent = text(event.alarmArn);
  const arn = sent !== undefined && parseAlarmArn(sent) !== undefined ? sent : undefined;
  return viewOfAlarmDetail(event.alarmData, { account: event.accountId, region: event.region, time: event.time, arn });
}

function viewOfAlarmDetail(detail: AlarmDetail, origin: AlarmEventOrigin): AlarmView {
  const configuration = detail.configuration ?? undefined;
  const region = isRegionCode(origin.region) ? origin.region : undefined;
  const arn = origin.arn ?? alarmArnOf(origin.region, origin.account, detail.alarmName);
  const reasonData = readReasonData(text(detail.state.reasonData));
  const common = {
    name: detail.alarmName,
    description: text(configuration?.description),
    account: origin.account,
    arn,
    ruleId: arn,
    region: region ?? parseAlarmArn(arn)?.region,
    state: detail.state.value,
    previousState: detail.previousState?.value ?? undefined,
    reason: text(detail.state.reason),
    changedAt: detail.state.timestamp ?? origin.time,
    triggeringAlarms: (reasonData?.triggeringAlarms ?? []).map((child) => alarmNameOfArn(child.arn)),
  };
  const alarmRule = text(configuration?.alarmRule);
  if (alarmRule !== undefined) return { ...common, type: 'composite', alarmRule };
  const queries: MetricQuery[] = (configuration?.metrics ?? []).map((query) => ({
    id: query.id,
    expression: text(query.expression),
    label: text(query.label),
    returnData: query.returnData ?? undefined,
    metric: query.metricStat
      ? {
          namespace: text(query.metricStat.metric.namespace),
          name: text(query.metricStat.metric.name),
          dimensions: Object.entries(query.metricStat.metric.dimensions ?? {}).map(([name, value]) => ({ name, value })),
          statistic: text(query.metricStat.stat),
          unit: text(query.metricStat.unit),
        }
      : undefined,
  }));
  const bandId = bandIdOf(queries, text(configuration?.thresholdMetricId));
  return {
    ...common,
    type: metricTypeOf(queries, bandId),
    metric: watchedOf(queries, bandId),
    threshold: bandId === undefined ? reasonData?.threshold : undefined,
    anomalyBand: queries.find((query) => query.id === bandId)?.expression,
  };
}

const SEVERITY_TOKEN = /[ \t]*\bseverity\s*=\s*([a-z]+)\b/iu;

/** The severity a `severity=<level>` token names, and the description without that token. */
export function severityToken(description: string): { severity?: Severity; rest: string } {
  const match = SEVERITY_TOKEN.exec(description);
  const severity = match?.[1] === undefined ? undefined : severityFromWord(match[1]);
  if (!match || severity === undefined) return { rest: description };
  const rest = (description.slice(0, match.index) + description.slice(match.index + match[0].length)).trim();
  return { severity, rest };
}

function stateSeverity(state: AlarmState, previous: AlarmState | undefined): Severity {
  if (state === 'INSUFFICIENT_DATA') return 'warning';
  if (state === 'OK' && previous === 'INSUFFICIENT_DATA') return 'warning';
  return 'error';
}

const NUMBER = String.raw`(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)`;
// `... datapoints [12.3 (25/11/26 01:55:00), 11.0 (...)] was greater than ...`
const DATAPOINT_LIST = new RegExp(String.raw`\[\s*${NUMBER}\s*\(`, 'u');
// Older alarms: `Threshold Crossed: 1 datapoint (10.0) was greater than ...`
const LEGACY_DATAPOINT = new RegExp(String.raw`\bdatapoints?\s*\(\s*${NUMBER}`, 'u');

/** The first datapoint value a NewStateReason quotes, if any. */
export function datapointOfReason(reason: string): number | undefined {
  const found = DATAPOINT_LIST.exec(reason)?.[1] ?? LEGACY_DATAPOINT.exec(reason)?.[1];
  if (found === undefined) return undefined;
  const value = Number(found);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * The dimension that names the resource, per namespace, in order of preference; `within` qualifies
 * a name that is only unique inside another (an ECS service in its cluster). Namespaces not listed,
 * or alarms without any of these dimensions, take the first dimension. A Map: a namespace such as
 * `constructor` must find nothing.
 */
const RESOURCE_DIMENSIONS: ReadonlyMap<string, readonly { readonly name: string; readonly within?: string }[]> = new Map([
  ['AWS/EC2', [{ name: 'InstanceId' }, { name: 'AutoScalingGroupName' }]],
  ['AWS/EBS', [{ name: 'VolumeId' }]],
  ['AWS/S3', [{ name: 'BucketName' }]],
  ['AWS/ApplicationELB', [{ name: 'LoadBalancer' }, { name: 'TargetGroup' }]],
  ['AWS/NetworkELB', [{ name: 'LoadBalancer' }, { name: 'TargetGroup' }]],
  ['AWS/ELB', [{ name: 'LoadBalancerName' }]],
  ['AWS/ECS', [{ name: 'ServiceName', within: 'ClusterName' }, { name: 'ClusterName' }]],
  ['ECS/ContainerInsights', [{ name: 'ServiceName', within: 'ClusterName' }, { name: 'ClusterName' }]],
  ['AWS/RDS', [{ name: 'DBInstanceIdentifier' }, { name: 'DBClusterIdentifier' }]],
  ['AWS/DocDB', [{ name: 'DBInstanceIdentifier' }, { name: 'DBClusterIdentifier' }]],
  ['AWS/Lambda', [{ name: 'FunctionName' }]],
  ['AWS/SQS', [{ name: 'QueueName' }]],
  ['AWS/SNS', [{ name: 'TopicName' }]],
  ['AWS/DynamoDB', [{ name: 'TableName' }]],
  ['AWS/ApiGateway', [{ name: 'ApiName' }, { name: 'ApiId' }]],
  ['AWS/Kinesis', [{ name: 'StreamName' }]],
  ['AWS/Firehose', [{ name: 'DeliveryStreamName' }]],
  ['AWS/ElastiCache', [{ name: 'CacheClusterId' }, { name: 'ReplicationGroupId' }]],
  ['AWS/CloudFront', [{ name: 'DistributionId' }]],
  ['AWS/EFS', [{ name: 'FileSystemId' }]],
  ['AWS/AutoScaling', [{ name: 'AutoScalingGroupName' }]],
  ['AWS/States', [{ name: 'StateMachineArn' }]],
  ['AWS/Events', [{ name: 'RuleName' }]],
  ['AWS/NATGateway', [{ name: 'NatGatewayId' }]],
  ['AWS/Redshift', [{ name: 'ClusterIdentifier' }]],
  ['AWS/ES', [{ name: 'DomainName' }]],
  ['AWS/Route53', [{ name: 'HealthCheckId' }]],
  ['AWS/Logs', [{ name: 'LogGroupName' }]],
]);

/** The resource's name: the dimension its namespace is named by (RESOURCE_DIMENSIONS), else the first. */
export function resourceNameOf(namespace: string | undefined, dimensions: readonly Dimension[]): string | undefined {
  const valueOf = (name: string): string | undefined => dimensions.find((dimension) => dimension.name === name)?.value;
  for (const { name, within } of (namespace === undefined ? undefined : RESOURCE_DIMENSIONS.get(namespace)) ?? []) {
    const value = valueOf(name);
    if (value === undefined) continue;
    const scope = within === undefined ? undefined : valueOf(within);
    return scope === undefined ? value : `${value} in ${scope}`;
  }
  return dimensions[0]?.value;
}

function toIncident(view: AlarmView): Incident {
  const status: Status = view.state === 'OK' ? 'resolved' : 'firing';
  const token = view.description === undefined ? undefined : severityToken(view.description);
  const severity = token?.severity ?? stateSeverity(view.state, view.previousState);
  const description = text(token?.rest);

  const metric = view.type === 'composite' ? undefined : view.metric;
  const dimensions = (metric?.dimensions ?? []).filter((dimension) => dimension.name !== '' && dimension.value !== '');
  const resource: IncidentResource | undefined =
    dimensions.length > 0
      ? pruned<IncidentResource>({
          id: dimensions.map((dimension) => `${dimension.name}=${dimension.value}`).join(','),
          name: resourceNameOf(metric?.dimensionsNamespace, dimensions),
          type: metric?.namespace,
        })
      : undefined;

  const labels: Record<string, string> = {};
  const label = (key: string, value: string | undefined): void => {
    if (value !== undefined) labels[key] = value;
  };
  label('alarm_type', view.type);
  label('alarm_state', view.state);
  label('previous_state', view.previousState);
  label('namespace', metric?.namespace);
  label('metric', metric?.name);
  label('statistic', metric?.statistic);
  label('metric_expression', metric?.expression);
  label('anomaly_band', view.anomalyBand);
  label('alarm_rule', view.alarmRule);
  label('triggering_alarms', view.triggeringAlarms.length > 0 ? view.triggeringAlarms.join(',') : undefined);
  label('sns_topic_arn', view.topicArn);
  for (const dimension of dimensions) label(`dimension_${dimension.name}`, dimension.value);

  const value = view.type === 'composite' || view.reason === undefined ? undefined : datapointOfReason(view.reason);
  const metricFields = pruned<IncidentMetric>({
    name: metric?.name,
    namespace: metric?.namespace,
    value,
    threshold: view.threshold,
    operator: view.operator,
    unit: metric?.unit,
  });

  const consoleUrl = consoleAlarmUrl(view.region, view.name);
  const links: IncidentLink[] = consoleUrl === undefined ? [] : [{ title: 'CloudWatch alarm', url: consoleUrl }];

  const summary = [view.reason, description].filter((part) => part !== undefined).join('\n\n');
  const title =
    resource?.name !== undefined && !view.name.includes(resource.name) ? `${view.name} on ${resource.name}` : view.name;
  const fingerprint = fingerprintOf(
    'cloudwatch',
    view.arn !== undefined ? [view.arn] : [view.account, view.regionLabel ?? '', view.name],
  );

  return pruned<Incident>({
    schemaVersion: 1,
    fingerprint,
    status,
    severity,
    title,
    summary: summary === '' ? undefined : summary,
    source: pruned<IncidentSource>({
      kind: 'cloudwatch',
      cloud: 'aws',
      account: view.account,
      region: view.region,
      rule: view.name,
      ruleId: view.ruleId,
    }),
    resource,
    startsAt: view.changedAt,
    endsAt: status === 'resolved' ? view.changedAt : undefined,
    labels,
    links,
    metric: Object.keys(metricFields).length > 0 ? metricFields : undefined,
  });
}

export const cloudwatch = defineSource<CloudWatchNotice[]>({
  kind: 'cloudwatch',
  detect: claims,
  schema: cloudWatchPayloadSchema,
  toIncidents: (notices) => notices.map((notice) => toIncident(viewOf(notice))),
});

function viewOf(notice: CloudWatchNotice): AlarmView {
  switch (notice.format) {
    case 'sns':
      return viewOfSnsAlarm(notice.alarm, notice);
    case 'eventbridge':
      return viewOfStateChange(notice.event);
    case 'lambda-action':
      return viewOfLambdaAction(notice.event);
  }
}
