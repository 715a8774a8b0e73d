// End to end through the local server's HTTP endpoints with a webhook channel to a recording
// server: one notification per alert per change, duplicates suppressed, resolves delivered,
// rejects answered with JSON 4xx and kept, a failing receiver delays but never loses or
// doubles a notification.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLocal } from '../../functions/local/start.ts';
import type { HttpRecorder } from '../helpers/http-recorder.ts';
import { startLocalHarness, type LocalHarness } from '../helpers/local-harness.ts';

interface WebhookBody {
  readonly event: string;
  readonly incident: { readonly fingerprint: string; readonly status: string; readonly source: { kind: string } };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function cloudwatchAlarm(state: 'ALARM' | 'OK', time: string): unknown {
  const alarm = {
    AlarmName: 'orders-db-cpu-high',
    AlarmDescription: 'Orders DB CPU above 80%',
    AWSAccountId: '111122223333',
    NewStateValue: state,
    NewStateReason: `Threshold Crossed: 1 datapoint [${state === 'ALARM' ? '91.2' : '40.1'} (25/11/26 01:55:00)] was ${state === 'ALARM' ? 'greater' : 'not greater'} than the threshold (80.0).`,
    StateChangeTime: time,
    Region: 'EU (Ireland)',
    AlarmArn: 'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:orders-db-cpu-high',
    OldStateValue: state === 'ALARM' ? 'OK' : 'ALARM',
    Trigger: {
      MetricName: 'CPUUtilization',
      Namespace: 'AWS/RDS',
      StatisticType: 'Statistic',
      Statistic: 'AVERAGE',
      Unit: null,
      Dimensions: [{ value: 'orders-db', name: 'DBInstanceIdentifier' }],
      Period: 300,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 80,
      TreatMissingData: 'missing',
      EvaluateLowSampleCountPercentile: '',
    },
  };
  // What an SNS subscription with raw message delivery posts: the alarm itself. (A Lambda SNS
  // event is never accepted over HTTP; signed envelopes are tested in test/hardening.)
  return alarm;
}

function azureMetricAlert(condition: 'Fired' | 'Resolved'): unknown {
  const target = '/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-shop/providers/Microsoft.Compute/virtualMachines/vm-web-01';
  return {
    schemaId: 'azureMonitorCommonAlertSchema',
    data: {
      essentials: {
        alertId: '/subscriptions/00000000-1111-2222-3333-444444444444/providers/Microsoft.AlertsManagement/alerts/b9569717-bc32-442f-add5-83a997729330',
        alertRule: 'vm-web-cpu-high',
        severity: 'Sev1',
        signalType: 'Metric',
        monitorCondition: condition,
        monitoringService: 'Platform',
        alertTargetIDs: [target],
        configurationItems: ['vm-web-01'],
        originAlertId: '00000000-1111-2222-3333-444444444444_rg-shop_microsoft.insights_metricAlerts_vm-web-cpu-high_1234567890',
        firedDateTime: '2026-11-25T01:40:12.3345123Z',
        ...(condition === 'Resolved' ? { resolvedDateTime: '2026-11-25T02:05:40.1234567Z' } : {}),
        description: 'CPU above 85% on the web VM',
        essentialsVersion: '1.0',
        alertContextVersion: '1.0',
      },
      alertContext: {
        properties: null,
        conditionType: 'SingleResourceMultipleMetricCriteria',
        condition: {
          windowSize: 'PT5M',
          allOf: [
            {
              metricName: 'Percentage CPU',
              metricNamespace: 'Microsoft.Compute/virtualMachines',
              operator: 'GreaterThan',
              threshold: '85',
              timeAggregation: 'Average',
              dimensions: [{ name: 'ResourceId', value: target }],
              metricValue: condition === 'Fired' ? 93.4 : 41.2,
              webTestName: null,
            },
          ],
          windowStartTime: '2026-11-25T01:35:00.000Z',
          windowEndTime: '2026-11-25T01:40:00.000Z',
        },
      },
      customProperties: null,
    },
  };
}

function gcpIncident(state: 'open' | 'closed'): unknown {
  return {
    version: '1.2',
    incident: {
      incident_id: '0.opqiw61fsv7p',
      scoping_project_id: 'shop-prod',
      scoping_project_number: 12345678901,
      url: 'https://console.cloud.google.com/monitoring/alerting/incidents/0.opqiw61fsv7p?project=shop-prod',
      started_at: 1795571000,
      ended_at: state === 'closed' ? 1795572800 : null,
      state,
      summary: state === 'open' ? 'CPU utilization for shop-prod frontend-1 is above the threshold of 0.8 with a value of 0.934.' : 'CPU utilization for shop-prod frontend-1 returned to normal with a value of 0.412.',
      apigee_url: 'https://apigee.com/hybrid/incidents',
      observed_value: state === 'open' ? '0.934' : '0.412',
      resource: { type: 'gce_instance', labels: { instance_id: '1234567890123456789', project_id: 'shop-prod', zone: 'europe-west1-b' } },
      resource_type_display_name: 'VM Instance',
      resource_id: '1234567890123456789',
      resource_display_name: 'frontend-1',
      resource_name: 'projects/shop-prod/zones/europe-west1-b/instances/frontend-1',
      metric: { type: 'compute.googleapis.com/instance/cpu/utilization', displayName: 'CPU utilization', labels: { instance_name: 'frontend-1' } },
      metadata: { system_labels: {}, user_labels: { team: 'web' } },
      policy_name: 'frontend-cpu-high',
      policy_user_labels: { team: 'web' },
      documentation: { content: 'Scale the frontend pool.', mime_type: 'text/markdown', subject: 'CPU high on frontend', links: [] },
      condition: {
        name: 'projects/shop-prod/alertPolicies/3141592653589793238/conditions/2718281828459045235',
        displayName: 'VM Instance - CPU utilization',
        conditionThreshold: { filter: 'metric.type="compute.googleapis.com/instance/cpu/utilization"', comparison: 'COMPARISON_GT', thresholdValue: 0.8, duration: '60s' },
      },
      condition_name: 'VM Instance - CPU utilization',
      threshold_value: '0.8',
      severity: 'ERROR',
    },
  };
}

describe('local server end to end', () => {
  let harness: LocalHarness;
  let recorder: HttpRecorder;
  let local: RunningLocal;
  const token = 'e2e-ingest-token-7f3c';

  beforeAll(async () => {
    harness = await startLocalHarness({ config: { ingest: { token, maxBodyBytes: 64 * 1024 } }, dataPrefix: 'tocsin-e2e-data-' });
    ({ receiver: recorder, local } = harness);
  });

  afterAll(() => harness.stop());

  const post = (path: string, body: unknown, auth = `Bearer ${token}`): Promise<Response> =>
    fetch(`${local.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const events = (kind: string): string[] =>
    recorder.requests
      .map((request) => JSON.parse(request.body) as WebhookBody)
      .filter((body) => body.incident.source.kind === kind)
      .map((body) => `${body.event}:${body.incident.status}`);

  it.each([
    ['cloudwatch', '/v1/ingest/aws/sns', cloudwatchAlarm('ALARM', '2026-11-25T01:56:10.517+0000'), cloudwatchAlarm('OK', '2026-11-25T02:16:10.517+0000')],
    ['azure-monitor', '/v1/ingest/azure/monitor', azureMetricAlert('Fired'), azureMetricAlert('Resolved')],
    ['gcp-monitoring', '/v1/ingest/gcp/monitoring', gcpIncident('open'), gcpIncident('closed')],
  ])('%s: one opened despite duplicates, one resolved', async (kind, path, firing, resolved) => {
    for (let copy = 0; copy < 3; copy += 1) {
      const response = await post(path, firing);
      expect(response.status).toBe(202);
      expect(await response.json()).toMatchObject({ accepted: 1, source: kind });
    }
    await until(() => events(kind).length >= 1, 10_000, `${kind} opened`);
    expect((await post(path, resolved)).status).toBe(202);
    expect((await post(path, resolved)).status).toBe(202);
    await until(() => events(kind).length >= 2, 10_000, `${kind} resolved`);
    await local.pipeline.drain(5_000);
    expect(events(kind)).toEqual(['opened:firing', 'resolved:resolved']);
  });

  it('answers malformed, oversized and unauthorised requests with JSON 4xx, keeps the payloads in the database, counts them', async () => {
    const malformed = await post('/v1/ingest/azure/monitor', '{"schemaId": "azureMonitorCommonAlertSchema", "data": ');
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toContain('application/json');
    const malformedBody = (await malformed.json()) as { error: string; message: string; rejectedId?: number };
    expect(malformedBody).toMatchObject({ error: 'malformed', message: 'payload is not valid JSON' });

    const notAlert = await post('/v1/ingest', { hello: 'world' });
    expect(notAlert.status).toBe(400);
    const notAlertBody = (await notAlert.json()) as { rejections: { source: string; reason: string }[] };
    expect(notAlertBody.rejections.map((rejection) => rejection.source)).toEqual(['cloudwatch', 'azure-monitor', 'gcp-monitoring', 'grafana', 'alertmanager', 'signalfx']);

    const oversized = await post('/v1/ingest/grafana', JSON.stringify({ padding: 'x'.repeat(100 * 1024) }));
    expect(oversized.status).toBe(413);
    expect(await oversized.json()).toMatchObject({ error: 'too-large', message: 'body exceeds the 65536-byte limit' });

    const unauthorised = await post('/v1/ingest/alertmanager', { version: '4' }, 'Bearer wrong-token');
    expect(unauthorised.status).toBe(401);
    expect(unauthorised.headers.get('www-authenticate')).toContain('Bearer');
    const unauthorisedBody = JSON.stringify(await unauthorised.json());
    expect(unauthorisedBody).toContain('unauthorized');
    expect(unauthorisedBody).not.toContain(token);

    const kept = local.pipeline.rejected.list(100);
    expect(kept).toHaveLength(3);
    expect(kept.map((meta) => `${meta.reason} ${meta.path} ${String(meta.truncated)}`).sort()).toEqual([
      'malformed /v1/ingest false',
      'malformed /v1/ingest/azure/monitor false',
      'too-large /v1/ingest/grafana true',
    ]);
    const keptBytes = Buffer.from(local.pipeline.rejected.get(malformedBody.rejectedId ?? -1)?.body ?? []).toString('utf8');
    expect(keptBytes).toBe('{"schemaId": "azureMonitorCommonAlertSchema", "data": ');
    // And over HTTP, as `tocsin replay` and people see them.
    const listed = (await (await fetch(`${local.url}/v1/rejected`, { headers: { authorization: `Bearer ${token}` } })).json()) as { rejected: { id: number }[] };
    expect(listed.rejected.map((entry) => entry.id)).toContain(malformedBody.rejectedId);

    const metrics = await (await fetch(`${local.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    expect(metrics).toMatch(/tocsin_rejected_total\{endpoint="\/v1\/ingest\/azure\/monitor",reason="malformed"\} 1/);
    expect(metrics).toMatch(/tocsin_rejected_total\{endpoint="\/v1\/ingest\/grafana",reason="too-large"\} 1/);
    expect(metrics).toMatch(/tocsin_rejected_total\{endpoint="\/v1\/ingest\/alertmanager",reason="unauthorized"\} 1/);
  });

  it('a receiver failing with 500 for a while delays delivery but loses and doubles nothing', async () => {
    const before = recorder.requests.length;
    let failures = 0;
    recorder.respondWith(() => {
      if (failures < 3) {
        failures += 1;
        return { status: 500, body: 'upstream down' };
      }
      return { status: 200 };
    });
    const alerts = ['api-latency', 'queue-backlog', 'disk-full'].map((name) => ({
      version: '4',
      groupKey: `{}:{alertname="${name}"}`,
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'tocsin',
      groupLabels: { alertname: name },
      commonLabels: { alertname: name, severity: 'warning' },
      commonAnnotations: {},
      externalURL: 'http://alertmanager.example.com:9093',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: name, severity: 'warning', instance: 'node-7:9100' },
          annotations: { summary: `${name} on node-7` },
          startsAt: '2026-11-25T03:00:00.000Z',
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: 'http://prometheus.example.com/graph',
          fingerprint: `f${name.length}`,
        },
      ],
    }));
    for (const alert of alerts) expect((await post('/v1/ingest/alertmanager', alert)).status).toBe(202);
    await until(() => recorder.requests.length - before >= 3 + 3, 30_000, 'deliveries after the failures');
    await local.pipeline.drain(10_000);
    const delivered = recorder.requests.slice(before).map((request) => JSON.parse(request.body) as WebhookBody);
    // 3 failed attempts + exactly one success per alert.
    expect(delivered).toHaveLength(6);
    const succeeded = delivered.slice(3).map((body) => body.incident.fingerprint);
    expect(new Set(succeeded).size).toBe(3);
    const metrics = await (await fetch(`${local.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    expect(metrics).toMatch(/tocsin_delivery_failures_total\{channel="audit",outcome="retry"\} 3/);
    expect(metrics).not.toMatch(/tocsin_dead_lettered_total\{channel="audit"\} [1-9]/);
  }, 40_000);
});
