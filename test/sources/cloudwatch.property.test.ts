// Property tests for the cloudwatch source: generated alarms in every envelope always map to
// schema-valid incidents with the expected identity; mutated fixtures and arbitrary JSON never make
// it throw anything but a PayloadRejectedError that names a source and a reason.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PayloadRejectedError } from '../../shared/errors.ts';
import { fingerprintOf } from '../../shared/fingerprint.ts';
import { incidentSchema, type Incident } from '../../shared/incident.ts';
import { cloudwatch } from '../../shared/sources/cloudwatch.ts';

// Deterministic by default; FC_SEED / FC_RUNS explore further (a failure prints its seed).
const RUNS = Number(process.env.FC_RUNS ?? 200);
const SEED = Number(process.env.FC_SEED ?? 20261125);
const context = { receivedAt: new Date('2026-11-25T12:00:00.000Z') };
const FIXTURES = new URL('../fixtures/cloudwatch/', import.meta.url);

type Json = Record<string, unknown>;
type State = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
type Variant = 'metric' | 'metric-math' | 'anomaly-detection' | 'composite';

interface GeneratedAlarm {
  readonly name: string;
  readonly description: string | null;
  readonly account: string;
  readonly region: string;
  readonly state: State;
  readonly previous: State;
  readonly changedAt: Date;
  readonly variant: Variant;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly { name: string; value: string }[];
  readonly threshold: number;
  readonly datapoint: number;
}

const stateArb = fc.constantFrom<State>('OK', 'ALARM', 'INSUFFICIENT_DATA');
// Names: any graphemes, plus raw code points (which include lone surrogates JSON can carry).
const textArb = (maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(fc.string({ minLength: 1, maxLength, unit: 'grapheme' }), fc.string({ minLength: 1, maxLength, unit: 'binary' }));

const alarmArb: fc.Arbitrary<GeneratedAlarm> = fc.record({
  name: textArb(60),
  description: fc.option(
    fc.oneof(fc.string({ maxLength: 80, unit: 'grapheme' }), fc.constantFrom('severity=critical', 'Disk full. Severity=LOW', 'severity=banana')),
    { nil: null },
  ),
  account: fc.stringMatching(/^\d{12}$/),
  region: fc.constantFrom('us-east-1', 'eu-central-1', 'ap-southeast-2', 'sa-east-1', 'cn-north-1', 'us-gov-west-1', 'us-iso-east-1'),
  state: stateArb,
  previous: stateArb,
  changedAt: fc.date({ min: new Date('2000-01-01T00:00:00.000Z'), max: new Date('2099-12-31T23:59:59.999Z'), noInvalidDate: true }),
  variant: fc.constantFrom<Variant>('metric', 'metric-math', 'anomaly-detection', 'composite'),
  namespace: fc.oneof(fc.constantFrom('AWS/EC2', 'AWS/RDS', 'AWS/Lambda', 'AWS/SQS'), textArb(30)),
  metricName: textArb(30),
  dimensions: fc.array(
    fc.record({ name: fc.string({ minLength: 0, maxLength: 20, unit: 'grapheme-ascii' }), value: fc.string({ maxLength: 40, unit: 'grapheme' }) }),
    { maxLength: 4 },
  ),
  threshold: fc.double({ noNaN: true, noDefaultInfinity: true }),
  datapoint: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
});

const arnOf = (alarm: GeneratedAlarm): string => {
  const partition = alarm.region.startsWith('cn-') ? 'aws-cn' : alarm.region.startsWith('us-gov-') ? 'aws-us-gov' : alarm.region.startsWith('us-iso-') ? 'aws-iso' : 'aws';
  return `arn:${partition}:cloudwatch:${alarm.region}:${alarm.account}:alarm:${alarm.name}`;
};
const cloudWatchTime = (date: Date): string => date.toISOString().replace('Z', '+0000');

/** The alarm JSON as CloudWatch publishes it to SNS. */
function snsAlarmOf(alarm: GeneratedAlarm): Json {
  const message: Json = {
    AlarmName: alarm.name,
    AlarmDescription: alarm.description,
    AWSAccountId: alarm.account,
    NewStateValue: alarm.state,
    NewStateReason: `Threshold Crossed: 1 out of the last 1 datapoints [${String(alarm.datapoint)} (25/11/26 01:55:00)] was greater than the threshold (${String(alarm.threshold)}).`,
    StateChangeTime: cloudWatchTime(alarm.changedAt),
    Region: 'Somewhere (Far)',
    AlarmArn: arnOf(alarm),
    OldStateValue: alarm.previous,
  };
  const metric = { Dimensions: alarm.dimensions, MetricName: alarm.metricName, Namespace: alarm.namespace };
  switch (alarm.variant) {
    case 'metric':
      message.Trigger = { ...metric, Statistic: 'AVERAGE', Unit: null, Period: 60, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanThreshold', Threshold: alarm.threshold };
      break;
    case 'metric-math':
      message.Trigger = {
        Period: 60, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanThreshold', Threshold: alarm.threshold,
        Metrics: [
          { Id: 'e1', Expression: 'm1 * 2', Label: alarm.metricName, ReturnData: true },
          { Id: 'm1', MetricStat: { Metric: metric, Period: 60, Stat: 'Sum' }, ReturnData: false },
        ],
      };
      break;
    case 'anomaly-detection':
      message.Trigger = {
        Period: 60, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanUpperThreshold', ThresholdMetricId: 'ad1',
        Metrics: [
          { Id: 'm1', MetricStat: { Metric: metric, Period: 60, Stat: 'Average' }, ReturnData: true },
          { Id: 'ad1', Expression: 'ANOMALY_DETECTION_BAND(m1, 2)', ReturnData: true },
        ],
      };
      break;
    case 'composite':
      message.AlarmRule = `ALARM("${alarm.metricName}")`;
      message.TriggeringChildren = [{ Arn: `arn:aws:cloudwatch:${alarm.region}:${alarm.account}:alarm:${alarm.metricName}`, State: { Value: 'ALARM', Timestamp: cloudWatchTime(alarm.changedAt) } }];
      break;
  }
  return message;
}

function lambdaEventOf(alarms: readonly GeneratedAlarm[]): Json {
  return {
    Records: alarms.map((alarm, index) => ({
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      EventSubscriptionArn: `arn:aws:sns:${alarm.region}:${alarm.account}:alarms:sub-${String(index)}`,
      Sns: {
        Type: 'Notification', MessageId: `m-${String(index)}`, TopicArn: `arn:aws:sns:${alarm.region}:${alarm.account}:alarms`, Subject: null,
        Message: JSON.stringify(snsAlarmOf(alarm)), Timestamp: alarm.changedAt.toISOString(), SignatureVersion: '1', Signature: 'x',
        SigningCertUrl: 'https://sns.us-east-1.amazonaws.com/x.pem', UnsubscribeUrl: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe', MessageAttributes: {},
      },
    })),
  };
}

function httpNotificationOf(alarm: GeneratedAlarm): Json {
  return {
    Type: 'Notification', MessageId: 'm-0', TopicArn: `arn:aws:sns:${alarm.region}:${alarm.account}:alarms`, Subject: 'ALARM',
    Message: JSON.stringify(snsAlarmOf(alarm)), Timestamp: alarm.changedAt.toISOString(), SignatureVersion: '2', Signature: 'x',
    SigningCertURL: 'https://sns.us-east-1.amazonaws.com/x.pem', UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
  };
}

function eventBridgeOf(alarm: GeneratedAlarm): Json {
  const metric = { namespace: alarm.namespace, name: alarm.metricName, dimensions: Object.fromEntries(alarm.dimensions.map((d) => [d.name, d.value])) };
  const configuration: Json =
    alarm.variant === 'composite'
      ? { alarmRule: `ALARM("${alarm.metricName}")`, description: alarm.description }
      : { description: alarm.description, metrics: [{ id: 'm1', metricStat: { metric, period: 60, stat: 'Average' }, returnData: true }] };
  return {
    version: '0', id: 'e-1', 'detail-type': 'CloudWatch Alarm State Change', source: 'aws.cloudwatch', account: alarm.account,
    time: alarm.changedAt.toISOString(), region: alarm.region, resources: [arnOf(alarm)],
    detail: {
      alarmName: alarm.name,
      state: { value: alarm.state, reason: 'generated', reasonData: JSON.stringify({ threshold: alarm.threshold }), timestamp: cloudWatchTime(alarm.changedAt) },
      previousState: { value: alarm.previous },
      configuration,
    },
  };
}

function expectValidFor(incident: Incident, alarm: GeneratedAlarm): void {
  const parsed = incidentSchema.safeParse(incident);
  expect(parsed.success, parsed.error?.message).toBe(true);
  expect(incident.status).toBe(alarm.state === 'OK' ? 'resolved' : 'firing');
  expect(incident.fingerprint).toBe(fingerprintOf('cloudwatch', [arnOf(alarm)]));
  expect(incident.source).toMatchObject({ kind: 'cloudwatch', account: alarm.account, region: alarm.region, rule: alarm.name, ruleId: arnOf(alarm) });
  expect(incident.startsAt).toBe(alarm.changedAt.toISOString());
  expect(incident.endsAt).toBe(alarm.state === 'OK' ? alarm.changedAt.toISOString() : undefined);
  expect(incident.title.startsWith(alarm.name)).toBe(true);
}

/** normalize, then: incidents that pass the schema, or a PayloadRejectedError with named reasons. */
function expectValidOrRejected(run: () => Incident[]): void {
  let incidents: Incident[];
  try {
    incidents = run();
  } catch (error) {
    expect(error).toBeInstanceOf(PayloadRejectedError);
    const { rejections } = error as PayloadRejectedError;
    expect(rejections.length).toBeGreaterThan(0);
    for (const rejection of rejections) {
      expect(rejection.source).not.toBe('');
      expect(rejection.reason.trim()).not.toBe('');
    }
    return;
  }
  for (const incident of incidents) {
    const parsed = incidentSchema.safeParse(incident);
    expect(parsed.success, parsed.error?.message).toBe(true);
  }
}

describe('cloudwatch properties: generated alarms', () => {
  it('map to schema-valid incidents in a Lambda SNS event, one per record', () => {
    fc.assert(
      fc.property(fc.array(alarmArb, { minLength: 1, maxLength: 3 }), (alarms) => {
        const incidents = cloudwatch.normalize(lambdaEventOf(alarms), context);
        expect(incidents).toHaveLength(alarms.length);
        incidents.forEach((incident, index) => {
          expectValidFor(incident, alarms[index]!);
        });
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('map to the same incident as an SNS HTTP notification and as a bare alarm', () => {
    fc.assert(
      fc.property(alarmArb, (alarm) => {
        const [viaHttp] = cloudwatch.normalize(httpNotificationOf(alarm), context);
        // Through JSON as a real delivery would be (JSON has no -0).
        const [bare] = cloudwatch.normalize(JSON.parse(JSON.stringify(snsAlarmOf(alarm))), context);
        expectValidFor(viaHttp!, alarm);
        expectValidFor(bare!, alarm);
        const { sns_topic_arn: topic, ...labelsViaHttp } = viaHttp!.labels;
        expect(topic).toBe(`arn:aws:sns:${alarm.region}:${alarm.account}:alarms`);
        expect({ ...viaHttp, labels: labelsViaHttp }).toStrictEqual(bare);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('share the fingerprint, status and severity rule between SNS and EventBridge', () => {
    fc.assert(
      fc.property(alarmArb, (alarm) => {
        const [viaEventBridge] = cloudwatch.normalize(eventBridgeOf(alarm), context);
        const [viaSns] = cloudwatch.normalize(snsAlarmOf(alarm), context);
        expectValidFor(viaEventBridge!, alarm);
        expect([viaEventBridge!.fingerprint, viaEventBridge!.status, viaEventBridge!.severity]).toEqual([viaSns!.fingerprint, viaSns!.status, viaSns!.severity]);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Mutation: drop or replace one value anywhere in a fixture, including inside the SNS Message.

const VALID_FIXTURES = [
  'lambda-sns-single-metric-alarm.json',
  'lambda-sns-composite-ok.json',
  'lambda-sns-legacy-alarm.json',
  'sns-http-metric-math-alarm.json',
  'sns-http-insufficient-data.json',
  'bare-anomaly-detection-alarm.json',
  'bare-legacy-no-arn-alarm.json',
  'eventbridge-alarm-state-change.json',
].map((name) => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as unknown);

type Path = readonly (string | number)[];

function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const here = prefix.length > 0 ? [prefix] : [];
  if (Array.isArray(value)) return [...here, ...value.flatMap((item, index) => pathsOf(item, [...prefix, index]))];
  if (typeof value === 'object' && value !== null) {
    return [...here, ...Object.entries(value).flatMap(([key, item]) => pathsOf(item, [...prefix, key]))];
  }
  return here;
}

function mutate(root: unknown, path: Path, replacement: { drop: true } | { value: unknown }): unknown {
  const copy = structuredClone(root);
  let parent: unknown = copy;
  for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[key];
  const last = path.at(-1)!;
  if (Array.isArray(parent) && typeof last === 'number') {
    if ('drop' in replacement) parent.splice(last, 1);
    else parent[last] = replacement.value;
  } else if ('drop' in replacement) {
    Reflect.deleteProperty(parent as object, last);
  } else {
    (parent as Record<string, unknown>)[last] = replacement.value;
  }
  return copy;
}

/** SNS fixtures with their Message parsed, so mutations reach the alarm; re-stringified afterwards. */
function openMessages(payload: unknown): unknown {
  const copy = structuredClone(payload) as Json;
  const open = (holder: Json): void => {
    if (typeof holder.Message === 'string') holder.Message = JSON.parse(holder.Message) as unknown;
  };
  if (Array.isArray(copy.Records)) for (const record of copy.Records as Json[]) open(record.Sns as Json);
  else open(copy);
  return copy;
}

function closeMessages(payload: unknown): unknown {
  if (typeof payload !== 'object' || payload === null) return payload;
  const close = (holder: unknown): void => {
    if (typeof holder === 'object' && holder !== null && 'Message' in holder && typeof holder.Message === 'object') {
      (holder as Json).Message = JSON.stringify(holder.Message);
    }
  };
  const records = (payload as Json).Records;
  if (Array.isArray(records)) for (const record of records) close(typeof record === 'object' && record !== null ? (record as Json).Sns : undefined);
  else close(payload);
  return payload;
}

const mutatedFixtureArb = fc
  .record({
    fixture: fc.constantFrom(...VALID_FIXTURES),
    inside: fc.boolean(),
    pick: fc.nat(),
    replacement: fc.oneof(fc.constant({ drop: true as const }), fc.jsonValue().map((value) => ({ value }))),
  })
  .map(({ fixture, inside, pick, replacement }) => {
    const tree = inside ? openMessages(fixture) : fixture;
    const paths = pathsOf(tree);
    const mutated = paths.length === 0 ? tree : mutate(tree, paths[pick % paths.length]!, replacement);
    return inside ? closeMessages(mutated) : mutated;
  });

describe('cloudwatch properties: hostile input', () => {
  it('detect never throws on anything', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(typeof cloudwatch.detect(value)).toBe('boolean');
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('mutated fixtures give valid incidents or a named rejection', () => {
    fc.assert(
      fc.property(mutatedFixtureArb, (payload) => {
        expectValidOrRejected(() => cloudwatch.normalize(payload, context));
      }),
      { numRuns: RUNS * 2, seed: SEED },
    );
  });

  it('arbitrary JSON gives valid incidents or a named rejection', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (payload) => {
        expectValidOrRejected(() => cloudwatch.normalize(payload, context));
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('the shared normalize() does the same with mutated fixtures and arbitrary JSON', async () => {
    // Imported lazily: shared/normalize.ts imports every source, written concurrently by others.
    const { normalize } = await import('../../shared/normalize.ts');
    fc.assert(
      fc.property(fc.oneof(mutatedFixtureArb, fc.jsonValue()), (payload) => {
        expectValidOrRejected(() => normalize(payload, context).incidents);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
