// Property tests for the cloudwatch source: generated alarms in every envelope always map to
// schema-valid incidents with the expected identity; mutated fixtures and arbitrary JSON never make
// it throw anything but a PayloadRejectedError that names a source and a reason.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../shared/fingerprint.ts';
import type { Incident } from '../../shared/incident.ts';
import { cloudwatch } from '../../shared/sources/cloudwatch.ts';
import { jsonPaths } from '../helpers/fuzz.ts';
import {
  DELETE,
  anyText,
  assertDetectNeverThrows,
  assertJsonMappedOrRejected,
  envParameters,
  expectMappedOrRejected,
  expectSchemaValid,
  fixture,
  splicedAt,
} from '../helpers/property.ts';

const context = { receivedAt: new Date('2026-11-25T12:00:00.000Z') };

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
// Names: never empty, and not only well-formed text.
const textArb = (maxLength: number): fc.Arbitrary<string> => anyText(1, maxLength);

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

/** The event the alarm's Lambda action sends: EventBridge's detail as `alarmData`. */
function lambdaActionOf(alarm: GeneratedAlarm): Json {
  const { detail, time } = eventBridgeOf(alarm);
  return { source: 'aws.cloudwatch', alarmArn: arnOf(alarm), accountId: alarm.account, time, region: alarm.region, alarmData: detail };
}

function expectValidFor(incident: Incident, alarm: GeneratedAlarm): void {
  expectSchemaValid([incident]);
  expect(incident.status).toBe(alarm.state === 'OK' ? 'resolved' : 'firing');
  expect(incident.fingerprint).toBe(fingerprintOf('cloudwatch', [arnOf(alarm)]));
  expect(incident.source).toMatchObject({ kind: 'cloudwatch', account: alarm.account, region: alarm.region, rule: alarm.name, ruleId: arnOf(alarm) });
  expect(incident.startsAt).toBe(alarm.changedAt.toISOString());
  expect(incident.endsAt).toBe(alarm.state === 'OK' ? alarm.changedAt.toISOString() : undefined);
  expect(incident.title.startsWith(alarm.name)).toBe(true);
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
      envParameters,
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
      envParameters,
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
      envParameters,
    );
  });
});

describe('cloudwatch properties: envelopes added for real payloads', () => {
  it('map a Lambda action event exactly like the EventBridge event of the same alarm', () => {
    fc.assert(
      fc.property(alarmArb, (alarm) => {
        const [viaLambdaAction] = cloudwatch.normalize(lambdaActionOf(alarm), context);
        expectValidFor(viaLambdaAction!, alarm);
        expect(viaLambdaAction).toStrictEqual(cloudwatch.normalize(eventBridgeOf(alarm), context)[0]);
      }),
      envParameters,
    );
  });

  it('give an alarm without AlarmArn its SNS topic’s region and the legacy fingerprint', () => {
    fc.assert(
      fc.property(alarmArb, (alarm) => {
        const notification = httpNotificationOf(alarm);
        const { AlarmArn: _arn, ...withoutArn } = snsAlarmOf(alarm);
        const [incident] = cloudwatch.normalize({ ...notification, Message: JSON.stringify(withoutArn) }, context);
        expectSchemaValid([incident!]);
        expect(incident!.fingerprint).toBe(fingerprintOf('cloudwatch', [alarm.account, 'Somewhere (Far)', alarm.name]));
        expect([incident!.source.region, incident!.source.ruleId]).toEqual([alarm.region, arnOf(alarm)]);
      }),
      envParameters,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Mutation: drop or replace one value anywhere in a fixture, including inside the SNS Message.

const VALID_FIXTURES = [
  'lambda-sns-single-metric-alarm',
  'lambda-sns-composite-ok',
  'lambda-sns-legacy-alarm',
  'sns-http-metric-math-alarm',
  'sns-http-insufficient-data',
  'bare-anomaly-detection-alarm',
  'bare-legacy-no-arn-alarm',
  'eventbridge-alarm-state-change',
  'eventbridge-anomaly-detection-alarm',
  'lambda-action-metric-alarm',
  'lambda-action-composite-alarm',
  'lambda-sns-s3-bucket-size-alarm',
  'sns-http-no-alarm-arn',
].map((name) => fixture('cloudwatch', name));

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
    replacement: fc.oneof(fc.constant(DELETE), fc.jsonValue()),
  })
  .map(({ fixture, inside, pick, replacement }) => {
    const tree = inside ? openMessages(fixture) : fixture;
    // Not the root: replacing the whole payload is the arbitrary-JSON property's job.
    const paths = jsonPaths(tree).slice(1);
    const mutated = paths.length === 0 ? tree : splicedAt(tree, paths[pick % paths.length]!, replacement);
    return inside ? closeMessages(mutated) : mutated;
  });

describe('cloudwatch properties: hostile input', () => {
  it('detect never throws on anything', () => {
    assertDetectNeverThrows(cloudwatch, envParameters);
  });

  it('mutated fixtures give valid incidents or a named rejection', () => {
    fc.assert(
      fc.property(mutatedFixtureArb, (payload) => {
        expectMappedOrRejected(() => cloudwatch.normalize(payload, context));
      }),
      { ...envParameters, numRuns: envParameters.numRuns * 2 },
    );
  });

  it('arbitrary JSON gives valid incidents or a named rejection', () => {
    assertJsonMappedOrRejected((payload) => expectMappedOrRejected(() => cloudwatch.normalize(payload, context)), envParameters);
  });

  it('the shared normalize() does the same with mutated fixtures and arbitrary JSON', async () => {
    // Imported lazily: shared/normalize.ts imports every source, written concurrently by others.
    const { normalize } = await import('../../shared/normalize.ts');
    fc.assert(
      fc.property(fc.oneof(mutatedFixtureArb, fc.jsonValue()), (payload) => {
        expectMappedOrRejected(() => normalize(payload, context).incidents);
      }),
      envParameters,
    );
  });
});
