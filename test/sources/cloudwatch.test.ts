// The cloudwatch source, fixture by fixture: every mapped field asserted explicitly, the three SNS
// envelopes plus EventBridge, fingerprints across states, alarms and accounts, and rejections that
// name the path where the problem is.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PayloadRejectedError } from '../../shared/errors.ts';
import { fingerprintOf } from '../../shared/fingerprint.ts';
import { incidentSchema, type Incident } from '../../shared/incident.ts';
import {
  alarmArnOf,
  consoleAlarmUrl,
  parseAlarmArn,
  partitionOfRegion,
} from '../../shared/sources/cloudwatch-arn.ts';
import { cloudwatch, datapointOfReason, resourceNameOf, severityToken, toIsoTimestamp } from '../../shared/sources/cloudwatch.ts';

const FIXTURES = new URL('../fixtures/cloudwatch/', import.meta.url);
const context = { receivedAt: new Date('2026-11-25T12:00:00.000Z') };
const ACCOUNT = '210987654321';
const OTHER_ACCOUNT = '345678901234';

type Json = Record<string, unknown>;

function fixture(name: string): Json {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Json;
}

function incidentsOf(payload: unknown): Incident[] {
  const incidents = cloudwatch.normalize(payload, context);
  for (const incident of incidents) expect(incidentSchema.safeParse(incident).success).toBe(true);
  return incidents;
}

function onlyIncident(name: string): Incident {
  const incidents = incidentsOf(fixture(name));
  expect(incidents).toHaveLength(1);
  return incidents[0]!;
}

function rejectionOf(payload: unknown): PayloadRejectedError {
  try {
    cloudwatch.normalize(payload, context);
  } catch (error) {
    if (error instanceof PayloadRejectedError) return error;
    throw error;
  }
  throw new Error('expected the payload to be rejected');
}

/** The alarm JSON inside a Lambda SNS fixture's first record. */
function innerAlarm(name: string): Json {
  const records = fixture(name).Records as { Sns: { Message: string } }[];
  return JSON.parse(records[0]!.Sns.Message) as Json;
}

/** A Lambda SNS event around `alarm`, copied from a fixture's envelope. */
function lambdaEventWith(alarm: unknown, envelopeOf = 'lambda-sns-single-metric-alarm.json'): Json {
  const event = fixture(envelopeOf) as { Records: { Sns: { Message: string } }[] };
  event.Records[0]!.Sns.Message = JSON.stringify(alarm);
  return event;
}

function consoleUrl(region: string, name: string): string {
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#alarmsV2:alarm/${name}`;
}

const CPU_ARN = `arn:aws:cloudwatch:eu-central-1:${ACCOUNT}:alarm:prod-web-cpu-high`;
const CPU_DESCRIPTION = 'CPU above 80% on the checkout web tier. Runbook: https://runbooks.example.com/ec2-cpu';
const COMPOSITE_ARN = `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:checkout-degraded`;

describe('cloudwatch: detection', () => {
  it.each([
    'lambda-sns-single-metric-alarm.json',
    'sns-http-metric-math-alarm.json',
    'bare-anomaly-detection-alarm.json',
    'eventbridge-alarm-state-change.json',
    'eventbridge-anomaly-detection-alarm.json',
    'lambda-action-metric-alarm.json',
    'lambda-action-composite-alarm.json',
    // SNS envelopes are ours whatever they carry: they are rejected here with a reason, not passed on.
    'rejected-lambda-sns-not-an-alarm.json',
    'rejected-sns-http-subscription-confirmation.json',
    'rejected-eventbridge-configuration-change.json',
  ])('claims %s', (name) => {
    expect(cloudwatch.detect(fixture(name))).toBe(true);
  });

  it('does not claim other sources or junk, and never throws', () => {
    for (const name of readdirSync(new URL('../fixtures/alertmanager/', import.meta.url))) {
      const payload: unknown = JSON.parse(readFileSync(new URL(`../fixtures/alertmanager/${name}`, import.meta.url), 'utf8'));
      expect(cloudwatch.detect(payload)).toBe(false);
    }
    const azure = { schemaId: 'azureMonitorCommonAlertSchema', data: { essentials: { alertRule: 'cpu' } } };
    const gcp = { version: '1.2', incident: { incident_id: '0.abc', state: 'open' } };
    const junk: unknown[] = [null, undefined, 42, 'AlarmName', [], [{ AlarmName: 'x' }], { Records: 'x' }, { Records: [] }, { Records: [null] }, { source: 'aws.ec2', 'detail-type': 'x' }, { AlarmName: 'only a name' }];
    for (const payload of [azure, gcp, ...junk]) expect(cloudwatch.detect(payload)).toBe(false);
  });
});

describe('cloudwatch: single-metric alarm (Lambda SNS event, EU (Frankfurt))', () => {
  it('maps the ALARM notice field by field', () => {
    expect(onlyIncident('lambda-sns-single-metric-alarm.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: fingerprintOf('cloudwatch', [CPU_ARN]),
      status: 'firing',
      severity: 'error',
      title: 'prod-web-cpu-high on i-0a1b2c3d4e5f67890',
      summary: `Threshold Crossed: 2 out of the last 3 datapoints [91.42 (25/11/26 01:55:00), 88.7 (25/11/26 01:50:00)] was greater than the threshold (80.0) (minimum 2 datapoints for OK -> ALARM transition).\n\n${CPU_DESCRIPTION}`,
      source: { kind: 'cloudwatch', cloud: 'aws', account: ACCOUNT, region: 'eu-central-1', rule: 'prod-web-cpu-high', ruleId: CPU_ARN },
      resource: { id: 'InstanceId=i-0a1b2c3d4e5f67890', name: 'i-0a1b2c3d4e5f67890', type: 'AWS/EC2' },
      startsAt: '2026-11-25T01:56:10.517Z',
      labels: {
        alarm_type: 'metric',
        alarm_state: 'ALARM',
        previous_state: 'OK',
        namespace: 'AWS/EC2',
        metric: 'CPUUtilization',
        statistic: 'AVERAGE',
        sns_topic_arn: `arn:aws:sns:eu-central-1:${ACCOUNT}:tocsin-alarms`,
        dimension_InstanceId: 'i-0a1b2c3d4e5f67890',
      },
      links: [{ title: 'CloudWatch alarm', url: consoleUrl('eu-central-1', 'prod-web-cpu-high') }],
      metric: { name: 'CPUUtilization', namespace: 'AWS/EC2', value: 91.42, threshold: 80, operator: 'GreaterThanThreshold' },
    });
  });

  it('maps the OK notice of the same alarm as resolved, same fingerprint, start = end = state change', () => {
    const firing = onlyIncident('lambda-sns-single-metric-alarm.json');
    const resolved = onlyIncident('lambda-sns-single-metric-ok.json');
    expect(resolved.fingerprint).toBe(firing.fingerprint);
    expect(resolved).toStrictEqual({
      schemaVersion: 1,
      fingerprint: fingerprintOf('cloudwatch', [CPU_ARN]),
      status: 'resolved',
      severity: 'error',
      title: 'prod-web-cpu-high on i-0a1b2c3d4e5f67890',
      summary: `Threshold Crossed: 3 out of the last 3 datapoints [41.3 (25/11/26 02:25:00), 44.05 (25/11/26 02:20:00), 52.9 (25/11/26 02:15:00)] was not greater than the threshold (80.0) (minimum 1 datapoint for ALARM -> OK transition).\n\n${CPU_DESCRIPTION}`,
      source: { kind: 'cloudwatch', cloud: 'aws', account: ACCOUNT, region: 'eu-central-1', rule: 'prod-web-cpu-high', ruleId: CPU_ARN },
      resource: { id: 'InstanceId=i-0a1b2c3d4e5f67890', name: 'i-0a1b2c3d4e5f67890', type: 'AWS/EC2' },
      startsAt: '2026-11-25T02:26:10.129Z',
      endsAt: '2026-11-25T02:26:10.129Z',
      labels: {
        alarm_type: 'metric',
        alarm_state: 'OK',
        previous_state: 'ALARM',
        namespace: 'AWS/EC2',
        metric: 'CPUUtilization',
        statistic: 'AVERAGE',
        sns_topic_arn: `arn:aws:sns:eu-central-1:${ACCOUNT}:tocsin-alarms`,
        dimension_InstanceId: 'i-0a1b2c3d4e5f67890',
      },
      links: [{ title: 'CloudWatch alarm', url: consoleUrl('eu-central-1', 'prod-web-cpu-high') }],
      metric: { name: 'CPUUtilization', namespace: 'AWS/EC2', value: 41.3, threshold: 80, operator: 'GreaterThanThreshold' },
    });
  });

  it('gives the same alarm the same fingerprint as a bare alarm and as an SNS HTTP notification', () => {
    const alarm = innerAlarm('lambda-sns-single-metric-alarm.json');
    const http = { ...fixture('sns-http-metric-math-alarm.json'), Message: JSON.stringify(alarm) };
    const fingerprints = [alarm, http].map((payload) => incidentsOf(payload)[0]!.fingerprint);
    expect(fingerprints).toEqual([fingerprintOf('cloudwatch', [CPU_ARN]), fingerprintOf('cloudwatch', [CPU_ARN])]);
  });
});

describe('cloudwatch: metric math (SNS HTTP notification)', () => {
  it('maps the expression the alarm watches, with the dimensions of the metrics it reads', () => {
    const arn = `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:payments-api-5xx-rate`;
    expect(onlyIncident('sns-http-metric-math-alarm.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: fingerprintOf('cloudwatch', [arn]),
      status: 'firing',
      severity: 'error',
      // The resource name is already in the alarm name, so the title does not repeat it.
      title: 'payments-api-5xx-rate',
      summary:
        'Threshold Crossed: 1 out of the last 1 datapoints [7.25 (25/11/26 03:10:00)] was greater than or equal to the threshold (5.0) (minimum 1 datapoint for OK -> ALARM transition).',
      source: { kind: 'cloudwatch', cloud: 'aws', account: ACCOUNT, region: 'us-east-1', rule: 'payments-api-5xx-rate', ruleId: arn },
      resource: { id: 'ApiName=payments-api,Stage=prod', name: 'payments-api', type: 'AWS/ApiGateway' },
      startsAt: '2026-11-25T03:11:02.880Z',
      labels: {
        alarm_type: 'metric-math',
        alarm_state: 'ALARM',
        previous_state: 'OK',
        namespace: 'AWS/ApiGateway',
        metric: '5xx rate (%)',
        metric_expression: '100 * errors / requests',
        sns_topic_arn: `arn:aws:sns:us-east-1:${ACCOUNT}:tocsin-alarms`,
        dimension_ApiName: 'payments-api',
        dimension_Stage: 'prod',
      },
      links: [{ title: 'CloudWatch alarm', url: consoleUrl('us-east-1', 'payments-api-5xx-rate') }],
      metric: { name: '5xx rate (%)', namespace: 'AWS/ApiGateway', value: 7.25, threshold: 5, operator: 'GreaterThanOrEqualToThreshold' },
    });
  });
});

describe('cloudwatch: anomaly detection (bare alarm JSON)', () => {
  it('watches the metric, not the band, and sets no fixed threshold', () => {
    const arn = `arn:aws:cloudwatch:ap-southeast-2:${ACCOUNT}:alarm:orders-db-cpu-anomaly`;
    expect(onlyIncident('bare-anomaly-detection-alarm.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: fingerprintOf('cloudwatch', [arn]),
      status: 'firing',
      severity: 'error',
      title: 'orders-db-cpu-anomaly on orders-db-1',
      summary:
        'Thresholds Crossed: 1 out of the last 3 datapoints [63.08 (25/11/26 04:40:00)] was greater than the upper thresholds [48.91] (minimum 1 datapoint for OK -> ALARM transition).\n\nOrders DB CPU outside its usual band',
      source: { kind: 'cloudwatch', cloud: 'aws', account: ACCOUNT, region: 'ap-southeast-2', rule: 'orders-db-cpu-anomaly', ruleId: arn },
      resource: { id: 'DBInstanceIdentifier=orders-db-1', name: 'orders-db-1', type: 'AWS/RDS' },
      startsAt: '2026-11-25T04:41:37.002Z',
      labels: {
        alarm_type: 'anomaly-detection',
        alarm_state: 'ALARM',
        previous_state: 'OK',
        namespace: 'AWS/RDS',
        metric: 'CPUUtilization',
        statistic: 'Average',
        anomaly_band: 'ANOMALY_DETECTION_BAND(m1, 2)',
        dimension_DBInstanceIdentifier: 'orders-db-1',
      },
      links: [{ title: 'CloudWatch alarm', url: consoleUrl('ap-southeast-2', 'orders-db-cpu-anomaly') }],
      metric: { name: 'CPUUtilization', namespace: 'AWS/RDS', value: 63.08, operator: 'LessThanLowerOrGreaterThanUpperThreshold' },
    });
  });
});

describe('cloudwatch: composite alarm', () => {
  const labels = (state: string, previous: string): Record<string, string> => ({
    alarm_type: 'composite',
    alarm_state: state,
    previous_state: previous,
    alarm_rule: 'ALARM("checkout-latency-p99") OR ALARM("checkout-5xx-rate")',
    triggering_alarms: 'checkout-latency-p99',
    sns_topic_arn: `arn:aws:sns:eu-west-1:${ACCOUNT}:tocsin-alarms`,
  });
  const source = { kind: 'cloudwatch', cloud: 'aws', account: ACCOUNT, region: 'eu-west-1', rule: 'checkout-degraded', ruleId: COMPOSITE_ARN };
  const links = [{ title: 'CloudWatch alarm', url: consoleUrl('eu-west-1', 'checkout-degraded') }];

  it('maps ALARM with no resource and no metric', () => {
    expect(onlyIncident('lambda-sns-composite-alarm.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: fingerprintOf('cloudwatch', [COMPOSITE_ARN]),
      status: 'firing',
      severity: 'error',
      title: 'checkout-degraded',
      summary: `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:checkout-latency-p99 transitioned to ALARM at Wednesday 25 November, 2026 05:01:44 UTC\n\nAny checkout signal degraded; see the checkout dashboard`,
      source,
      startsAt: '2026-11-25T05:01:44.918Z',
      labels: labels('ALARM', 'OK'),
      links,
    });
  });

  it('maps OK as resolved with the same fingerprint', () => {
    expect(onlyIncident('lambda-sns-composite-ok.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: fingerprintOf('cloudwatch', [COMPOSITE_ARN]),
      status: 'resolved',
      severity: 'error',
      title: 'checkout-degraded',
      summary: `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:checkout-latency-p99 transitioned to OK at Wednesday 25 November, 2026 05:31:12 UTC\n\nAny checkout signal degraded; see the checkout dashboard`,
      source,
      startsAt: '2026-11-25T05:31:12.406Z',
      endsAt: '2026-11-25T05:31:12.406Z',
      labels: labels('OK', 'ALARM'),
      links,
    });
  });
});

describe('cloudwatch: INSUFFICIENT_DATA (SNS HTTP notification)', () => {
  it('is firing with severity warning and no datapoint value', () => {
    const arn = `arn:aws:cloudwatch:us-west-2:${ACCOUNT}:alarm:ingest-queue-age`;
    expect(onlyIncident('sns-http-insufficient-data.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: fingerprintOf('cloudwatch', [arn]),
      status: 'firing',
      severity: 'warning',
      title: 'ingest-queue-age on ingest-events',
      summary: 'Insufficient Data: 3 datapoints were unknown.\n\nOldest ingest message waits too long',
      source: { kind: 'cloudwatch', cloud: 'aws', account: ACCOUNT, region: 'us-west-2', rule: 'ingest-queue-age', ruleId: arn },
      resource: { id: 'QueueName=ingest-events', name: 'ingest-events', type: 'AWS/SQS' },
      startsAt: '2026-11-25T06:03:55.250Z',
      labels: {
        alarm_type: 'metric',
        alarm_state: 'INSUFFICIENT_DATA',
        previous_state: 'OK',
        namespace: 'AWS/SQS',
        metric: 'ApproximateAgeOfOldestMessage',
        statistic: 'MAXIMUM',
        sns_topic_arn: `arn:aws:sns:us-west-2:${ACCOUNT}:tocsin-alarms`,
        dimension_QueueName: 'ingest-events',
      },
      links: [{ title: 'CloudWatch alarm', url: consoleUrl('us-west-2', 'ingest-queue-age') }],
      metric: { name: 'ApproximateAgeOfOldestMessage', namespace: 'AWS/SQS', threshold: 600, operator: 'GreaterThanThreshold', unit: 'Seconds' },
    });
  });
});

describe('cloudwatch: older alarms', () => {
  it('maps an alarm without the newer fields or a description; reads the older datapoint wording', () => {
    const arn = `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:legacy-elb-latency`;
    expect(onlyIncident('lambda-sns-legacy-alarm.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: fingerprintOf('cloudwatch', [arn]),
      status: 'firing',
      severity: 'error',
      title: 'legacy-elb-latency on shop-legacy-elb',
      summary: 'Threshold Crossed: 1 datapoint (2.7356) was greater than or equal to the threshold (2.0).',
      source: { kind: 'cloudwatch', cloud: 'aws', account: ACCOUNT, region: 'us-east-1', rule: 'legacy-elb-latency', ruleId: arn },
      resource: { id: 'LoadBalancerName=shop-legacy-elb', name: 'shop-legacy-elb', type: 'AWS/ELB' },
      startsAt: '2026-11-25T06:40:21.093Z',
      labels: {
        alarm_type: 'metric',
        alarm_state: 'ALARM',
        previous_state: 'OK',
        namespace: 'AWS/ELB',
        metric: 'Latency',
        statistic: 'AVERAGE',
        sns_topic_arn: `arn:aws:sns:us-east-1:${ACCOUNT}:ops-alarms`,
        dimension_LoadBalancerName: 'shop-legacy-elb',
      },
      links: [{ title: 'CloudWatch alarm', url: consoleUrl('us-east-1', 'legacy-elb-latency') }],
      metric: { name: 'Latency', namespace: 'AWS/ELB', value: 2.7356, threshold: 2, operator: 'GreaterThanOrEqualToThreshold' },
    });
  });

  it('falls back to account, Region display name and alarm name when there is no AlarmArn', () => {
    expect(onlyIncident('bare-legacy-no-arn-alarm.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: fingerprintOf('cloudwatch', [ACCOUNT, 'US - N. Virginia', 'queue-backlog']),
      status: 'firing',
      severity: 'error',
      title: 'queue-backlog on fault-handling',
      summary: 'Threshold Crossed: 1 datapoint (1523.0) was greater than or equal to the threshold (1000.0).',
      // No ARN: no region code (the display name is never parsed), no ruleId, no console link.
      source: { kind: 'cloudwatch', cloud: 'aws', account: ACCOUNT, rule: 'queue-backlog' },
      resource: { id: 'QueueName=fault-handling', name: 'fault-handling', type: 'AWS/SQS' },
      startsAt: '2026-11-25T06:12:03.774Z',
      labels: {
        alarm_type: 'metric',
        alarm_state: 'ALARM',
        previous_state: 'OK',
        namespace: 'AWS/SQS',
        metric: 'ApproximateNumberOfMessagesVisible',
        statistic: 'AVERAGE',
        dimension_QueueName: 'fault-handling',
      },
      links: [],
      metric: { name: 'ApproximateNumberOfMessagesVisible', namespace: 'AWS/SQS', value: 1523, threshold: 1000, operator: 'GreaterThanOrEqualToThreshold' },
    });
  });

  it('keeps same-named ARN-less alarms of one account in different regions apart', () => {
    const alarm = fixture('bare-legacy-no-arn-alarm.json');
    const ireland = incidentsOf({ ...alarm, Region: 'EU - Ireland' })[0]!;
    expect(ireland.fingerprint).toBe(fingerprintOf('cloudwatch', [ACCOUNT, 'EU - Ireland', 'queue-backlog']));
    expect(ireland.fingerprint).not.toBe(incidentsOf(alarm)[0]!.fingerprint);
  });
});

describe('cloudwatch: EventBridge "CloudWatch Alarm State Change"', () => {
  const arn = `arn:aws:cloudwatch:eu-north-1:${ACCOUNT}:alarm:shop-alb-latency`;

  it('maps the event; the threshold comes from reasonData', () => {
    expect(onlyIncident('eventbridge-alarm-state-change.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: fingerprintOf('cloudwatch', [arn]),
      status: 'firing',
      severity: 'error',
      title: 'shop-alb-latency on app/shop-alb/5d2c9f1e8a7b6c43',
      summary:
        'Threshold Crossed: 1 out of the last 1 datapoints [2.314 (25/11/26 07:20:00)] was greater than the threshold (1.5) (minimum 1 datapoint for OK -> ALARM transition).\n\nShop ALB target response time above 1.5 s',
      source: { kind: 'cloudwatch', cloud: 'aws', account: ACCOUNT, region: 'eu-north-1', rule: 'shop-alb-latency', ruleId: arn },
      resource: { id: 'LoadBalancer=app/shop-alb/5d2c9f1e8a7b6c43', name: 'app/shop-alb/5d2c9f1e8a7b6c43', type: 'AWS/ApplicationELB' },
      startsAt: '2026-11-25T07:21:14.335Z',
      labels: {
        alarm_type: 'metric',
        alarm_state: 'ALARM',
        previous_state: 'OK',
        namespace: 'AWS/ApplicationELB',
        metric: 'TargetResponseTime',
        statistic: 'Average',
        dimension_LoadBalancer: 'app/shop-alb/5d2c9f1e8a7b6c43',
      },
      links: [{ title: 'CloudWatch alarm', url: consoleUrl('eu-north-1', 'shop-alb-latency') }],
      metric: { name: 'TargetResponseTime', namespace: 'AWS/ApplicationELB', value: 2.314, threshold: 1.5 },
    });
  });

  it('rebuilds the alarm ARN from account, region and name when resources is missing', () => {
    const event = fixture('eventbridge-alarm-state-change.json');
    delete event.resources;
    const incident = incidentsOf(event)[0]!;
    expect(incident.source.ruleId).toBe(arn);
    expect(incident.fingerprint).toBe(fingerprintOf('cloudwatch', [arn]));
  });

  it('maps an OK event as resolved and a composite event without resource', () => {
    const event = fixture('eventbridge-alarm-state-change.json') as { detail: Json & { state: Json; previousState: Json } };
    event.detail.state = { value: 'OK', reason: 'back to normal', timestamp: '2026-11-25T07:41:14.001+0000' };
    event.detail.previousState = { value: 'ALARM' };
    const resolved = incidentsOf(event)[0]!;
    expect([resolved.status, resolved.severity, resolved.startsAt, resolved.endsAt]).toEqual(['resolved', 'error', '2026-11-25T07:41:14.001Z', '2026-11-25T07:41:14.001Z']);

    event.detail.configuration = { alarmRule: 'ALARM(shop-alb-latency) AND ALARM(shop-5xx)' };
    event.detail.state = {
      value: 'ALARM',
      reason: 'child went to ALARM',
      reasonData: JSON.stringify({ triggeringAlarms: [{ arn: `arn:aws:cloudwatch:eu-north-1:${ACCOUNT}:alarm:shop-5xx`, state: { value: 'ALARM' } }] }),
      timestamp: '2026-11-25T07:50:00.000+0000',
    };
    const composite = incidentsOf(event)[0]!;
    expect(composite.resource).toBeUndefined();
    expect(composite.metric).toBeUndefined();
    expect(composite.labels).toStrictEqual({
      alarm_type: 'composite',
      alarm_state: 'ALARM',
      previous_state: 'ALARM',
      alarm_rule: 'ALARM(shop-alb-latency) AND ALARM(shop-5xx)',
      triggering_alarms: 'shop-5xx',
    });
  });
});

describe('cloudwatch: fingerprints across alarms and accounts', () => {
  it('differs for another alarm on another resource', () => {
    const first = onlyIncident('lambda-sns-single-metric-alarm.json');
    const second = onlyIncident('lambda-sns-second-resource-alarm.json');
    expect(second.fingerprint).toBe(fingerprintOf('cloudwatch', [`arn:aws:cloudwatch:eu-central-1:${ACCOUNT}:alarm:prod-worker-cpu-high`]));
    expect(second.fingerprint).not.toBe(first.fingerprint);
    expect(second.title).toBe('prod-worker-cpu-high on i-0f9e8d7c6b5a43210');
    expect(second.resource).toStrictEqual({ id: 'InstanceId=i-0f9e8d7c6b5a43210', name: 'i-0f9e8d7c6b5a43210', type: 'AWS/EC2' });
  });

  it('differs for the same alarm name in another account', () => {
    const alarm = innerAlarm('lambda-sns-single-metric-alarm.json');
    const otherArn = `arn:aws:cloudwatch:eu-central-1:${OTHER_ACCOUNT}:alarm:prod-web-cpu-high`;
    const other = incidentsOf({ ...alarm, AWSAccountId: OTHER_ACCOUNT, AlarmArn: otherArn })[0]!;
    expect(other.fingerprint).toBe(fingerprintOf('cloudwatch', [otherArn]));
    expect(other.fingerprint).not.toBe(fingerprintOf('cloudwatch', [CPU_ARN]));
    expect(other.source.account).toBe(OTHER_ACCOUNT);
  });

  it('maps every record of a Lambda event, in order', () => {
    const event = fixture('lambda-sns-single-metric-alarm.json') as { Records: unknown[] };
    const second = fixture('lambda-sns-severity-critical.json') as { Records: unknown[] };
    event.Records.push(...second.Records);
    expect(incidentsOf(event).map((incident) => [incident.source.rule, incident.severity])).toEqual([
      ['prod-web-cpu-high', 'error'],
      ['payments-webhook-errors', 'critical'],
    ]);
  });
});

describe('cloudwatch: severity', () => {
  it('takes severity=critical from the description and drops the token from the summary', () => {
    const arn = `arn:aws:cloudwatch:eu-central-1:${OTHER_ACCOUNT}:alarm:payments-webhook-errors`;
    expect(onlyIncident('lambda-sns-severity-critical.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: fingerprintOf('cloudwatch', [arn]),
      status: 'firing',
      severity: 'critical',
      title: 'payments-webhook-errors',
      summary:
        'Threshold Crossed: 1 out of the last 1 datapoints [4.0 (25/11/26 08:04:00)] was greater than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition).\n\nPayment webhook failing: customers cannot pay.',
      source: { kind: 'cloudwatch', cloud: 'aws', account: OTHER_ACCOUNT, region: 'eu-central-1', rule: 'payments-webhook-errors', ruleId: arn },
      resource: { id: 'FunctionName=payments-webhook', name: 'payments-webhook', type: 'AWS/Lambda' },
      startsAt: '2026-11-25T08:05:19.662Z',
      labels: {
        alarm_type: 'metric',
        alarm_state: 'ALARM',
        previous_state: 'OK',
        namespace: 'AWS/Lambda',
        metric: 'Errors',
        statistic: 'SUM',
        sns_topic_arn: `arn:aws:sns:eu-central-1:${OTHER_ACCOUNT}:payments-alarms`,
        dimension_FunctionName: 'payments-webhook',
      },
      links: [{ title: 'CloudWatch alarm', url: consoleUrl('eu-central-1', 'payments-webhook-errors') }],
      metric: { name: 'Errors', namespace: 'AWS/Lambda', value: 4, threshold: 0, operator: 'GreaterThanThreshold', unit: 'Count' },
    });
  });

  it.each([
    ['severity=critical', 'critical', ''],
    ['Disk almost full Severity=HIGH', 'error', 'Disk almost full'],
    ['[severity=major] queue stuck', 'error', '[] queue stuck'],
    ['severity = minor, look tomorrow', 'warning', ', look tomorrow'],
    ['noise only. severity=low', 'info', 'noise only.'],
    ['SEVERITY=None', 'info', ''],
    ['Warn us. severity=warning\nSecond line', 'warning', 'Warn us.\nSecond line'],
  ])('reads %j as %s', (description, severity, rest) => {
    expect(severityToken(description)).toEqual({ severity, rest });
  });

  it('ignores an unknown level and a token glued to another word, leaving the text as it was', () => {
    expect(severityToken('severity=banana please')).toEqual({ rest: 'severity=banana please' });
    expect(severityToken('lowseverity=critical')).toEqual({ rest: 'lowseverity=critical' });
  });

  it('applies the state rule without a token, and the token in every state', () => {
    const alarm = innerAlarm('lambda-sns-single-metric-alarm.json');
    const severityOf = (changes: Json): string => incidentsOf({ ...alarm, ...changes })[0]!.severity;
    expect(severityOf({ AlarmDescription: null, NewStateValue: 'ALARM' })).toBe('error');
    expect(severityOf({ AlarmDescription: null, NewStateValue: 'INSUFFICIENT_DATA' })).toBe('warning');
    // A resolved notice keeps the severity the alarm had while firing.
    expect(severityOf({ AlarmDescription: null, NewStateValue: 'OK', OldStateValue: 'ALARM' })).toBe('error');
    expect(severityOf({ AlarmDescription: null, NewStateValue: 'OK', OldStateValue: 'INSUFFICIENT_DATA' })).toBe('warning');
    expect(severityOf({ AlarmDescription: null, NewStateValue: 'OK', OldStateValue: null })).toBe('error');
    expect(severityOf({ AlarmDescription: 'severity=info', NewStateValue: 'ALARM' })).toBe('info');
    expect(severityOf({ AlarmDescription: 'severity=critical', NewStateValue: 'INSUFFICIENT_DATA' })).toBe('critical');
    expect(severityOf({ AlarmDescription: 'severity=critical', NewStateValue: 'OK', OldStateValue: 'ALARM' })).toBe('critical');
  });

  it('leaves the summary to the reason when the description is only the token, absent or empty', () => {
    const alarm = innerAlarm('lambda-sns-severity-critical.json');
    const reason = alarm.NewStateReason as string;
    for (const description of ['severity=critical', null, '']) {
      expect(incidentsOf({ ...alarm, AlarmDescription: description })[0]!.summary).toBe(reason);
    }
    const { AlarmDescription: _dropped, NewStateReason: _reason, ...bare } = alarm;
    expect(incidentsOf(bare)[0]!.summary).toBeUndefined();
  });
});

describe('cloudwatch: the alarm Lambda action event (source aws.cloudwatch, alarmData)', () => {
  const arn = `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:checkout-service-cpu`;

  it('maps a metric alarm; an ECS service is named in its cluster, not after the first dimension', () => {
    expect(onlyIncident('lambda-action-metric-alarm.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: fingerprintOf('cloudwatch', [arn]),
      status: 'firing',
      severity: 'error',
      title: 'checkout-service-cpu on checkout in shop-prod',
      summary:
        'Threshold Crossed: 1 out of the last 1 datapoints [93.61 (25/11/26 09:11:00)] was greater than the threshold (85.0) (minimum 1 datapoint for OK -> ALARM transition).\n\nCheckout service CPU above 85%',
      source: { kind: 'cloudwatch', cloud: 'aws', account: ACCOUNT, region: 'eu-west-1', rule: 'checkout-service-cpu', ruleId: arn },
      resource: { id: 'ClusterName=shop-prod,ServiceName=checkout', name: 'checkout in shop-prod', type: 'AWS/ECS' },
      startsAt: '2026-11-25T09:12:44.210Z',
      labels: {
        alarm_type: 'metric',
        alarm_state: 'ALARM',
        previous_state: 'OK',
        namespace: 'AWS/ECS',
        metric: 'CPUUtilization',
        statistic: 'Average',
        dimension_ClusterName: 'shop-prod',
        dimension_ServiceName: 'checkout',
      },
      links: [{ title: 'CloudWatch alarm', url: consoleUrl('eu-west-1', 'checkout-service-cpu') }],
      metric: { name: 'CPUUtilization', namespace: 'AWS/ECS', value: 93.61, threshold: 85, unit: 'Percent' },
    });
  });

  it('maps a composite alarm to the same fingerprint the same alarm has over SNS', () => {
    expect(onlyIncident('lambda-action-composite-alarm.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: fingerprintOf('cloudwatch', [COMPOSITE_ARN]),
      status: 'firing',
      severity: 'error',
      title: 'checkout-degraded',
      summary: `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:checkout-service-cpu transitioned to ALARM at Wednesday 25 November, 2026 09:12:44 UTC`,
      source: { kind: 'cloudwatch', cloud: 'aws', account: ACCOUNT, region: 'eu-west-1', rule: 'checkout-degraded', ruleId: COMPOSITE_ARN },
      startsAt: '2026-11-25T09:20:46.138Z',
      labels: {
        alarm_type: 'composite',
        alarm_state: 'ALARM',
        previous_state: 'ALARM',
        alarm_rule: 'ALARM(checkout-service-cpu) OR ALARM(checkout-5xx-rate)',
        triggering_alarms: 'checkout-service-cpu',
      },
      links: [{ title: 'CloudWatch alarm', url: consoleUrl('eu-west-1', 'checkout-degraded') }],
    });
    expect(onlyIncident('lambda-action-composite-alarm.json').fingerprint).toBe(onlyIncident('lambda-sns-composite-alarm.json').fingerprint);
  });

  it('maps OK as resolved, rebuilds an ARN it cannot read, and takes the event time without a state timestamp', () => {
    const event = fixture('lambda-action-metric-alarm.json') as Json & { alarmData: { state: Json } };
    event.alarmData.state = { value: 'OK', reason: 'back under 85%' };
    event.alarmArn = 'arn:aws:cloudwatch:eu-west-1: 210987654321:alarm:checkout-service-cpu';
    const incident = incidentsOf(event)[0]!;
    expect([incident.status, incident.startsAt, incident.endsAt, incident.source.ruleId, incident.fingerprint]).toEqual([
      'resolved',
      '2026-11-25T09:12:44.210Z',
      '2026-11-25T09:12:44.210Z',
      arn,
      fingerprintOf('cloudwatch', [arn]),
    ]);
  });

  it('names the path of what is wrong inside alarmData', () => {
    const event = fixture('lambda-action-metric-alarm.json') as Json & { alarmData: Json & { state: Json } };
    delete event.alarmData.alarmName;
    event.alarmData.state.value = 'ALARMING';
    expect(rejectionOf(event).rejections).toEqual([
      {
        source: 'cloudwatch',
        reason:
          'alarmData.alarmName: Invalid input: expected string, received undefined; alarmData.state.value: Invalid option: expected one of "OK"|"ALARM"|"INSUFFICIENT_DATA"',
      },
    ]);
  });
});

describe('cloudwatch: resource, region and alarm type from what the alarm really says', () => {
  it('names an S3 alarm after the bucket, not the storage class listed first', () => {
    const s3Arn = `arn:aws:cloudwatch:eu-central-1:${ACCOUNT}:alarm:assets-bucket-size`;
    expect(onlyIncident('lambda-sns-s3-bucket-size-alarm.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: fingerprintOf('cloudwatch', [s3Arn]),
      status: 'firing',
      severity: 'error',
      title: 'assets-bucket-size on shop-static-assets',
      summary:
        'Threshold Crossed: 1 out of the last 1 datapoints [5.73416318976E12 (24/11/26 00:00:00)] was greater than the threshold (5.0E12) (minimum 1 datapoint for OK -> ALARM transition).\n\nStatic assets bucket above 5 TB',
      source: { kind: 'cloudwatch', cloud: 'aws', account: ACCOUNT, region: 'eu-central-1', rule: 'assets-bucket-size', ruleId: s3Arn },
      resource: { id: 'StorageType=StandardStorage,BucketName=shop-static-assets', name: 'shop-static-assets', type: 'AWS/S3' },
      startsAt: '2026-11-25T03:44:21.902Z',
      labels: {
        alarm_type: 'metric',
        alarm_state: 'ALARM',
        previous_state: 'OK',
        namespace: 'AWS/S3',
        metric: 'BucketSizeBytes',
        statistic: 'AVERAGE',
        sns_topic_arn: `arn:aws:sns:eu-central-1:${ACCOUNT}:tocsin-alarms`,
        dimension_StorageType: 'StandardStorage',
        dimension_BucketName: 'shop-static-assets',
      },
      links: [{ title: 'CloudWatch alarm', url: consoleUrl('eu-central-1', 'assets-bucket-size') }],
      metric: { name: 'BucketSizeBytes', namespace: 'AWS/S3', value: 5_734_163_189_760, threshold: 5e12, operator: 'GreaterThanThreshold' },
    });
  });

  it.each([
    ['AWS/S3', [['StorageType', 'StandardStorage'], ['BucketName', 'assets']], 'assets'],
    ['AWS/ApplicationELB', [['TargetGroup', 'targetgroup/web/73e2d6bc24d8a067'], ['LoadBalancer', 'app/shop/50dc6c495c0c9188']], 'app/shop/50dc6c495c0c9188'],
    ['AWS/ApplicationELB', [['TargetGroup', 'targetgroup/web/73e2d6bc24d8a067'], ['AvailabilityZone', 'eu-west-1a']], 'targetgroup/web/73e2d6bc24d8a067'],
    ['AWS/NetworkELB', [['AvailabilityZone', 'eu-west-1a'], ['LoadBalancer', 'net/edge/8a7b6c5d4e3f2a1b']], 'net/edge/8a7b6c5d4e3f2a1b'],
    ['AWS/ECS', [['ClusterName', 'shop-prod'], ['ServiceName', 'checkout']], 'checkout in shop-prod'],
    ['AWS/ECS', [['ClusterName', 'shop-prod']], 'shop-prod'],
    ['ECS/ContainerInsights', [['ClusterName', 'shop-prod'], ['ServiceName', 'cart']], 'cart in shop-prod'],
    ['AWS/RDS', [['Role', 'WRITER'], ['DBClusterIdentifier', 'orders']], 'orders'],
    ['AWS/RDS', [['DBClusterIdentifier', 'orders'], ['DBInstanceIdentifier', 'orders-1']], 'orders-1'],
    ['AWS/Lambda', [['Resource', 'pay:live'], ['FunctionName', 'pay']], 'pay'],
    ['AWS/SQS', [['QueueName', 'orders-dlq']], 'orders-dlq'],
    ['AWS/DynamoDB', [['Operation', 'PutItem'], ['TableName', 'carts']], 'carts'],
    ['AWS/EC2', [['AutoScalingGroupName', 'web-asg']], 'web-asg'],
    ['Custom/Checkout', [['Stage', 'prod'], ['Service', 'api']], 'prod'],
    [undefined, [['Service', 'api']], 'api'],
    ['constructor', [['Service', 'api']], 'api'],
  ] as const)('names a %s resource with %j as %j', (namespace, pairs, name) => {
    expect(resourceNameOf(namespace, pairs.map(([dimension, value]) => ({ name: dimension, value })))).toBe(name);
  });

  it('takes the region of an alarm without AlarmArn from its SNS topic: console link and rule id, the same fingerprint as before', () => {
    const arn = `arn:aws:cloudwatch:us-west-2:${ACCOUNT}:alarm:orders-dlq-depth`;
    expect(onlyIncident('sns-http-no-alarm-arn.json')).toStrictEqual({
      schemaVersion: 1,
      // No AlarmArn: the parts stay account, Region display name and alarm name.
      fingerprint: fingerprintOf('cloudwatch', [ACCOUNT, 'US West (Oregon)', 'orders-dlq-depth']),
      status: 'firing',
      severity: 'error',
      title: 'orders-dlq-depth',
      summary: 'Threshold Crossed: 1 datapoint (12.0) was greater than or equal to the threshold (1.0).\n\nMessages in the orders dead-letter queue',
      source: { kind: 'cloudwatch', cloud: 'aws', account: ACCOUNT, region: 'us-west-2', rule: 'orders-dlq-depth', ruleId: arn },
      resource: { id: 'QueueName=orders-dlq', name: 'orders-dlq', type: 'AWS/SQS' },
      startsAt: '2026-11-25T07:02:11.415Z',
      labels: {
        alarm_type: 'metric',
        alarm_state: 'ALARM',
        previous_state: 'OK',
        namespace: 'AWS/SQS',
        metric: 'ApproximateNumberOfMessagesVisible',
        statistic: 'MAXIMUM',
        sns_topic_arn: `arn:aws:sns:us-west-2:${ACCOUNT}:tocsin-alarms`,
        dimension_QueueName: 'orders-dlq',
      },
      links: [{ title: 'CloudWatch alarm', url: consoleUrl('us-west-2', 'orders-dlq-depth') }],
      metric: { name: 'ApproximateNumberOfMessagesVisible', namespace: 'AWS/SQS', value: 12, threshold: 1, operator: 'GreaterThanOrEqualToThreshold' },
    });
  });

  it('falls back to the signing certificate host for the region, and to none without either', () => {
    const alarm = fixture('bare-legacy-no-arn-alarm.json');
    const event = lambdaEventWith(alarm) as { Records: { Sns: Json }[] };
    const sns = event.Records[0]!.Sns;
    sns.TopicArn = 'not-an-arn';
    sns.SigningCertUrl = 'https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-3250158c6b2b8dcdbb9c8d3ae4b3e1a3.pem';
    const china = incidentsOf(event)[0]!;
    expect([china.source.region, china.source.ruleId, china.links]).toEqual([
      'cn-north-1',
      `arn:aws-cn:cloudwatch:cn-north-1:${ACCOUNT}:alarm:queue-backlog`,
      [{ title: 'CloudWatch alarm', url: 'https://console.amazonaws.cn/cloudwatch/home?region=cn-north-1#alarmsV2:alarm/queue-backlog' }],
    ]);
    expect(china.fingerprint).toBe(fingerprintOf('cloudwatch', [ACCOUNT, 'US - N. Virginia', 'queue-backlog']));
    sns.SigningCertUrl = 'https://sns.example.com/cert.pem';
    const unknown = incidentsOf(event)[0]!;
    expect([unknown.source.region, unknown.source.ruleId, unknown.links]).toEqual([undefined, undefined, []]);
  });

  it('labels the EventBridge anomaly-detection sample anomaly-detection, though no thresholdMetricId names the band', () => {
    const arn = `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:EC2 CPU Utilization Anomaly`;
    expect(onlyIncident('eventbridge-anomaly-detection-alarm.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: fingerprintOf('cloudwatch', [arn]),
      status: 'firing',
      severity: 'error',
      title: 'EC2 CPU Utilization Anomaly on i-0c1d2e3f4a5b69870',
      summary:
        'Thresholds Crossed: 1 out of the last 1 datapoints [0.0 (25/11/26 09:58:00)] was less than the lower thresholds [0.020599444741798756] or greater than the upper thresholds [0.3006915352732461] (minimum 1 datapoint for OK -> ALARM transition).\n\nGoes into alarm if CPU Utilization is out of band',
      source: { kind: 'cloudwatch', cloud: 'aws', account: ACCOUNT, region: 'us-east-1', rule: 'EC2 CPU Utilization Anomaly', ruleId: arn },
      resource: { id: 'InstanceId=i-0c1d2e3f4a5b69870', name: 'i-0c1d2e3f4a5b69870', type: 'AWS/EC2' },
      startsAt: '2026-11-25T10:00:04.653Z',
      labels: {
        alarm_type: 'anomaly-detection',
        alarm_state: 'ALARM',
        previous_state: 'OK',
        namespace: 'AWS/EC2',
        metric: 'CPUUtilization',
        statistic: 'Average',
        anomaly_band: 'ANOMALY_DETECTION_BAND(m1, 0.8)',
        dimension_InstanceId: 'i-0c1d2e3f4a5b69870',
      },
      links: [{ title: 'CloudWatch alarm', url: consoleUrl('us-east-1', 'EC2%20CPU%20Utilization%20Anomaly') }],
      metric: { name: 'CPUUtilization', namespace: 'AWS/EC2', value: 0 },
    });
  });

  it('finds the band by its expression in an SNS alarm without ThresholdMetricId too', () => {
    const alarm = fixture('bare-anomaly-detection-alarm.json') as Json & { Trigger: Json };
    delete alarm.Trigger.ThresholdMetricId;
    const incident = incidentsOf(alarm)[0]!;
    expect([incident.labels.alarm_type, incident.labels.anomaly_band, incident.metric?.threshold]).toEqual([
      'anomaly-detection',
      'ANOMALY_DETECTION_BAND(m1, 2)',
      undefined,
    ]);
  });
});

describe('cloudwatch: regions, partitions and console links', () => {
  it.each([
    ['arn:aws-cn:cloudwatch:cn-north-1:210987654321:alarm:cn-cpu', 'cn-north-1', 'https://console.amazonaws.cn/cloudwatch/home?region=cn-north-1#alarmsV2:alarm/cn-cpu'],
    ['arn:aws-us-gov:cloudwatch:us-gov-west-1:210987654321:alarm:gov cpu', 'us-gov-west-1', 'https://console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1#alarmsV2:alarm/gov%20cpu'],
    ['arn:aws:cloudwatch:eu-central-1:210987654321:alarm:Prüfung: CPU/Last', 'eu-central-1', 'https://eu-central-1.console.aws.amazon.com/cloudwatch/home?region=eu-central-1#alarmsV2:alarm/Pr%C3%BCfung%3A%20CPU%2FLast'],
  ])('takes the region code from %s', (arn, region, url) => {
    const name = arn.slice(arn.indexOf(':alarm:') + ':alarm:'.length);
    const alarm = { ...innerAlarm('lambda-sns-single-metric-alarm.json'), AlarmName: name, AlarmArn: arn };
    const incident = incidentsOf(alarm)[0]!;
    expect(incident.source.region).toBe(region);
    expect(incident.source.ruleId).toBe(arn);
    expect(incident.links).toEqual([{ title: 'CloudWatch alarm', url }]);
  });

  it('keeps an ARN it cannot read as the rule id and fingerprint, without region or link', () => {
    const arn = 'arn:aws:cloudwatch:REGION:ACCOUNT_NUMBER:alarm:EXAMPLE';
    const incident = incidentsOf({ ...innerAlarm('lambda-sns-single-metric-alarm.json'), AlarmArn: arn })[0]!;
    expect(incident.source.region).toBeUndefined();
    expect(incident.source.ruleId).toBe(arn);
    expect(incident.fingerprint).toBe(fingerprintOf('cloudwatch', [arn]));
    expect(incident.links).toEqual([]);
  });

  it('parses alarm ARNs and knows the partitions', () => {
    expect(parseAlarmArn('arn:aws:cloudwatch:eu-central-1:210987654321:alarm:a:b c')).toEqual({
      partition: 'aws',
      region: 'eu-central-1',
      account: '210987654321',
      alarmName: 'a:b c',
    });
    expect(parseAlarmArn('arn:aws:sns:eu-central-1:210987654321:tocsin-alarms')).toBeUndefined();
    expect(parseAlarmArn('arn:aws:cloudwatch:eu-central-1:2109:alarm:x')).toBeUndefined();
    expect(['us-east-1', 'cn-northwest-1', 'us-gov-east-1', 'us-iso-east-1', 'us-isob-east-1', 'eusc-de-east-1'].map(partitionOfRegion)).toEqual([
      'aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-eusc',
    ]);
    expect(alarmArnOf('cn-north-1', '210987654321', 'x')).toBe('arn:aws-cn:cloudwatch:cn-north-1:210987654321:alarm:x');
    expect(consoleAlarmUrl('us-iso-east-1', 'x')).toBeUndefined();
    expect(consoleAlarmUrl(undefined, 'x')).toBeUndefined();
    expect(consoleAlarmUrl('eu-west-1', 'bad\ud800half')).toBe(consoleUrl('eu-west-1', 'bad%EF%BF%BDhalf'));
  });
});

describe('cloudwatch: timestamps and datapoints', () => {
  it.each([
    ['2026-11-25T01:56:10.517+0000', '2026-11-25T01:56:10.517Z'],
    ['2026-11-25T01:56:10.517-00:00', '2026-11-25T01:56:10.517Z'],
    ['2026-11-25T01:56:10Z', '2026-11-25T01:56:10Z'],
    ['2026-11-25T03:56:10.517+0200', '2026-11-25T01:56:10.517Z'],
    ['2026-11-24T20:26:10.517-05:30', '2026-11-25T01:56:10.517Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(toIsoTimestamp(text)).toBe(iso);
  });

  it.each(['2026-13-01T00:00:00.000+0000', '2026-02-30T00:00:00.000+0000', '2026-11-25 01:56:10', 'yesterday', '2026-11-25T01:56:10.517+02', ''])(
    'refuses %j',
    (text) => {
      expect(toIsoTimestamp(text)).toBeUndefined();
    },
  );

  it.each([
    ['Threshold Crossed: 1 out of the last 1 datapoints [1234.5 (06/03/26 17:43:00)] was greater', 1234.5],
    ['Threshold Crossed: 2 out of the last 2 datapoints [-3.5e2 (06/03/26 17:43:00), 1.0 (06/03/26 17:42:00)] was less', -350],
    ['Threshold Crossed: 1 datapoint (10.0) was greater than or equal to the threshold (1.0).', 10],
    ['Thresholds Crossed: 1 out of the last 3 datapoints [40.6 (08/09/26 15:36:00)] was not greater than the upper thresholds [44.4]', 40.6],
  ])('reads the first datapoint of %j', (reason, value) => {
    expect(datapointOfReason(reason)).toBe(value);
  });

  it.each(['Insufficient Data: 1 datapoint was unknown.', 'upper thresholds [44.4]', 'forced by set-alarm-state', '[1e999 (06/03/26 17:43:00)]'])(
    'reads no datapoint from %j',
    (reason) => {
      expect(datapointOfReason(reason)).toBeUndefined();
    },
  );
});

describe('cloudwatch: rejections name the source and the path', () => {
  const reasons = (payload: unknown): readonly { source: string; reason: string }[] => rejectionOf(payload).rejections;

  it('refuses an SNS message that is not an alarm', () => {
    expect(reasons(fixture('rejected-lambda-sns-not-an-alarm.json'))).toEqual([
      { source: 'cloudwatch', reason: 'Records[0].Sns.Message: not a CloudWatch alarm: missing AlarmName' },
    ]);
  });

  it('refuses a Message that is not JSON, or JSON that is not an object', () => {
    expect(reasons(fixture('rejected-lambda-sns-bad-message-json.json'))).toEqual([
      {
        source: 'cloudwatch',
        reason: 'Records[0].Sns.Message: not a CloudWatch alarm: Message is not JSON (Unterminated string in JSON at position 120 (line 1 column 121))',
      },
    ]);
    expect(reasons(lambdaEventWith([1, 2]))).toEqual([
      { source: 'cloudwatch', reason: 'Records[0].Sns.Message: not a CloudWatch alarm: expected a JSON object, received an array' },
    ]);
  });

  it('refuses SubscriptionConfirmation and UnsubscribeConfirmation for their Type alone', () => {
    const confirmation = fixture('rejected-sns-http-subscription-confirmation.json');
    expect(reasons(confirmation)).toEqual([
      { source: 'cloudwatch', reason: 'Type: SubscriptionConfirmation is not an alarm notification (the HTTP endpoint answers subscription messages before normalizing)' },
    ]);
    expect(reasons({ ...confirmation, Type: 'UnsubscribeConfirmation' })).toEqual([
      { source: 'cloudwatch', reason: 'Type: UnsubscribeConfirmation is not an alarm notification (the HTTP endpoint answers subscription messages before normalizing)' },
    ]);
  });

  it('refuses other EventBridge detail types', () => {
    expect(reasons(fixture('rejected-eventbridge-configuration-change.json'))).toEqual([
      { source: 'cloudwatch', reason: 'detail-type: only "CloudWatch Alarm State Change" events are alarm notices, received the string "CloudWatch Alarm Configuration Change"' },
    ]);
  });

  it('names the field inside the Message, in every record', () => {
    const alarm = innerAlarm('lambda-sns-single-metric-alarm.json');
    const event = fixture('lambda-sns-single-metric-alarm.json') as { Records: { Sns: { Message: string } }[] };
    const broken = structuredClone(event.Records[0]!);
    broken.Sns.Message = JSON.stringify({ ...alarm, NewStateValue: 'ALARMING', StateChangeTime: '25/11/2026 01:56' });
    event.Records.push(broken);
    expect(reasons(event)).toEqual([
      {
        source: 'cloudwatch',
        reason:
          'Records[1].Sns.Message.NewStateValue: Invalid option: expected one of "OK"|"ALARM"|"INSUFFICIENT_DATA"; Records[1].Sns.Message.StateChangeTime: expected a timestamp like 2026-11-25T01:56:10.517+0000, received the string "25/11/2026 01:56"',
      },
    ]);
  });

  it('refuses an empty Lambda event and a bare payload without an alarm name', () => {
    expect(reasons({ Records: [] })).toEqual([{ source: 'cloudwatch', reason: 'Records: Too small: expected array to have >=1 items' }]);
    const { AlarmName: _name, ...nameless } = innerAlarm('lambda-sns-single-metric-alarm.json');
    expect(reasons(nameless)).toEqual([{ source: 'cloudwatch', reason: 'AlarmName: Invalid input: expected string, received undefined' }]);
  });

  it('says so in the error message too', () => {
    const error = rejectionOf(fixture('rejected-lambda-sns-not-an-alarm.json'));
    expect(error.message).toBe('payload rejected by source cloudwatch\n  cloudwatch: Records[0].Sns.Message: not a CloudWatch alarm: missing AlarmName');
  });
});

describe('cloudwatch: through the shared normalize()', () => {
  // Imported lazily: shared/normalize.ts imports every source, some of which other helpers are
  // still writing. This test passes once they exist.
  it('detects cloudwatch and maps the payload', async () => {
    const { normalize } = await import('../../shared/normalize.ts');
    for (const name of ['lambda-sns-single-metric-alarm.json', 'sns-http-metric-math-alarm.json', 'bare-anomaly-detection-alarm.json', 'eventbridge-alarm-state-change.json']) {
      const result = normalize(fixture(name), context);
      expect(result.source).toBe('cloudwatch');
      expect(result.incidents).toEqual(cloudwatch.normalize(fixture(name), context));
    }
    try {
      normalize(fixture('rejected-lambda-sns-not-an-alarm.json'), context);
      expect.unreachable('a non-alarm SNS message must be rejected');
    } catch (error) {
      expect(error).toBeInstanceOf(PayloadRejectedError);
      expect((error as PayloadRejectedError).rejections).toEqual([
        { source: 'cloudwatch', reason: 'Records[0].Sns.Message: not a CloudWatch alarm: missing AlarmName' },
      ]);
    }
  });
});
