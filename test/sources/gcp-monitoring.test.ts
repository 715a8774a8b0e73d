// Cloud Monitoring webhook / Pub/Sub notifications → incidents. The fixtures follow the
// documented notification schema 1.2 and the channel's test notification; the log-based alert
// fixtures carry no metric, observed or threshold value (their exact shape is not documented).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PayloadRejectedError } from '../../shared/errors.ts';
import type { SourceRejection } from '../../shared/errors.ts';
import { fingerprintOf, labelSetPart } from '../../shared/fingerprint.ts';
import { TEST_LABEL, incidentSchema } from '../../shared/incident.ts';
import type { Incident } from '../../shared/incident.ts';
import { gcpMonitoring } from '../../shared/sources/gcp-monitoring.ts';

/**
 * The documented parts, written as `resource.label.k=v` / `metric.label.k=v` for reading: each
 * group becomes one label-set part after `resource.type=…`, as the source hashes it.
 */
function gcpFingerprint(parts: string[]): string {
  const group = (prefix: string) =>
    Object.fromEntries(parts.filter((part) => part.startsWith(prefix)).map((part) => [part.slice(prefix.length, part.indexOf('=')), part.slice(part.indexOf('=') + 1)]));
  const plain = parts.filter((part) => !part.startsWith('resource.label.') && !part.startsWith('metric.label.'));
  if (!plain.some((part) => part.startsWith('resource.type='))) return fingerprintOf('gcp-monitoring', plain);
  return fingerprintOf('gcp-monitoring', [
    ...plain,
    `resource.labels=${labelSetPart(group('resource.label.'))}`,
    `metric.labels=${labelSetPart(group('metric.label.'))}`,
  ]);
}

const receivedAt = new Date('2026-11-25T07:00:00.000Z');

interface Notification {
  version: string;
  incident: Record<string, unknown>;
}

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/gcp-monitoring/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

function notification(name: string): Notification {
  return fixture(name) as unknown as Notification;
}

/** A notification with incident fields replaced (or removed, with `undefined`). */
function withIncident(name: string, changes: Record<string, unknown>): Notification {
  const payload = notification(name);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) Reflect.deleteProperty(payload.incident, key);
    else payload.incident[key] = value;
  }
  return payload;
}

function pubSubPush(data: string): Record<string, unknown> {
  return {
    message: { attributes: {}, data, messageId: '1', publishTime: '2026-11-25T06:20:03.512Z' },
    subscription: 'projects/acme-prod/subscriptions/tocsin',
  };
}

function base64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64');
}

function incidentsOf(payload: unknown): Incident[] {
  const incidents = gcpMonitoring.normalize(payload, { receivedAt });
  for (const incident of incidents) expect(incidentSchema.safeParse(incident).error).toBeUndefined();
  return incidents;
}

function incidentOf(payload: unknown): Incident {
  const incidents = incidentsOf(payload);
  expect(incidents).toHaveLength(1);
  return incidents[0]!;
}

function rejectionOf(payload: unknown): SourceRejection {
  try {
    gcpMonitoring.normalize(payload, { receivedAt });
  } catch (error) {
    expect(error).toBeInstanceOf(PayloadRejectedError);
    const rejections = (error as PayloadRejectedError).rejections;
    expect(rejections).toHaveLength(1);
    expect(rejections[0]?.source).toBe('gcp-monitoring');
    return rejections[0]!;
  }
  throw new Error('payload was not rejected');
}

const CPU_POLICY = 'projects/acme-prod/alertPolicies/14386012345678901234';
const CPU_CONDITION = `${CPU_POLICY}/conditions/14386012345678905678`;
const CPU_DOCUMENTATION = 'CPU on a web VM has been above 80% for 5 minutes.\n\nCheck the autoscaler before adding capacity.';

const CPU_HOSTS = {
  'web-1': { instanceId: '7045123981234567890', zone: 'europe-west1-b', incidentId: '0.n8q2r4t6v8x0', startsAt: '2026-11-25T06:20:00.000Z' },
  'web-2': { instanceId: '7045123981234567891', zone: 'europe-west1-c', incidentId: '0.p1r3t5v7x9z1', startsAt: '2026-11-25T06:22:00.000Z' },
} as const;

function cpuFingerprint(host: keyof typeof CPU_HOSTS): string {
  const { instanceId, zone } = CPU_HOSTS[host];
  return gcpFingerprint([
    `policy=${CPU_POLICY}`,
    `condition=${CPU_CONDITION}`,
    'resource.type=gce_instance',
    `resource.label.instance_id=${instanceId}`,
    'resource.label.project_id=acme-prod',
    `resource.label.zone=${zone}`,
    `metric.label.instance_name=${host}`,
  ]);
}

function cpuIncident(host: keyof typeof CPU_HOSTS, overrides: Partial<Incident>): Incident {
  const { instanceId, zone, incidentId, startsAt } = CPU_HOSTS[host];
  return {
    schemaVersion: 1,
    fingerprint: cpuFingerprint(host),
    status: 'firing',
    severity: 'critical',
    title: `VM CPU above 80% on ${host}`,
    summary: `CPU utilization for acme-prod ${host} with metric labels {instance_name=${host}} is above the threshold of 0.800 with a value of 0.934.\n\n${CPU_DOCUMENTATION}`,
    source: {
      kind: 'gcp-monitoring',
      cloud: 'gcp',
      account: 'acme-prod',
      region: 'europe-west1',
      rule: 'VM CPU above 80%',
      ruleId: CPU_POLICY,
    },
    resource: { id: instanceId, name: host, type: 'gce_instance' },
    startsAt,
    labels: {
      condition_name: 'VM Instance - CPU utilization',
      team: 'sre',
      tier: 'frontend',
      'metadata.user_label.team': 'platform',
      env: 'prod',
      instance_name: host,
      instance_id: instanceId,
      project_id: 'acme-prod',
      zone,
    },
    links: [
      {
        title: 'Incident',
        url: `https://console.cloud.google.com/monitoring/alerting/incidents/${incidentId}?project=acme-prod`,
      },
      { title: 'Playbook', url: 'https://runbooks.example.com/gce/high-cpu' },
      { title: 'Documentation', url: 'https://dashboards.example.com/d/gce' },
      { title: 'Apigee', url: 'https://apigee.google.com/platform/acme-prod/monitoring' },
    ],
    metric: {
      name: 'compute.googleapis.com/instance/cpu/utilization',
      value: 0.934,
      threshold: 0.8,
      operator: 'COMPARISON_GT',
    },
    ...overrides,
  };
}

const LOG_POLICY = 'projects/acme-prod/alertPolicies/5550001112223334445';
const LOG_RESOURCE_NAME =
  'acme-prod Kubernetes Container labels {cluster_name=prod-eu, container_name=api, location=europe-west1-b, namespace_name=payments, pod_name=api-7d9f8b6c5-x2x9k, project_id=acme-prod}';
const LOG_RESOURCE_LABELS = '{cluster_name=prod-eu, container_name=api, location=europe-west1-b, namespace_name=payments, pod_name=api-7d9f8b6c5-x2x9k, project_id=acme-prod}';

function logIncident(overrides: Partial<Incident>): Incident {
  return {
    schemaVersion: 1,
    fingerprint: gcpFingerprint([
      `policy=${LOG_POLICY}`,
      `condition=${LOG_POLICY}/conditions/5550001112223334999`,
      'resource.type=k8s_container',
      'resource.label.cluster_name=prod-eu',
      'resource.label.container_name=api',
      'resource.label.location=europe-west1-b',
      'resource.label.namespace_name=payments',
      'resource.label.pod_name=api-7d9f8b6c5-x2x9k',
      'resource.label.project_id=acme-prod',
    ]),
    status: 'firing',
    severity: 'error',
    // No display name: the most specific resource label, the pod, names it.
    title: 'Payment errors in logs on api-7d9f8b6c5-x2x9k',
    source: {
      kind: 'gcp-monitoring',
      cloud: 'gcp',
      account: 'acme-prod',
      region: 'europe-west1',
      rule: 'Payment errors in logs',
      ruleId: LOG_POLICY,
    },
    resource: { id: LOG_RESOURCE_NAME, name: 'api-7d9f8b6c5-x2x9k', type: 'k8s_container' },
    startsAt: '2026-11-25T06:05:00.000Z',
    labels: {
      condition_name: 'Log match: payment errors',
      team: 'payments',
      cluster_name: 'prod-eu',
      container_name: 'api',
      location: 'europe-west1-b',
      namespace_name: 'payments',
      pod_name: 'api-7d9f8b6c5-x2x9k',
      project_id: 'acme-prod',
    },
    links: [
      {
        title: 'Incident',
        url: 'https://console.cloud.google.com/monitoring/alerting/incidents/0.w4y6a8c0e2g4?project=acme-prod',
      },
    ],
    ...overrides,
  };
}

const PAYMENT_DOCUMENTATION = 'The payments API logged an ERROR with code PAYMENT_DECLINED_UPSTREAM.';

describe('gcp-monitoring fixtures', () => {
  it('maps an open metric incident', () => {
    expect(incidentOf(fixture('metric-open'))).toStrictEqual(cpuIncident('web-1', {}));
  });

  it('maps the closed notice of the same incident to resolved with the same fingerprint', () => {
    expect(incidentOf(fixture('metric-closed'))).toStrictEqual(
      cpuIncident('web-1', {
        status: 'resolved',
        summary: `CPU utilization for acme-prod web-1 with metric labels {instance_name=web-1} returned to normal with a value of 0.412.\n\n${CPU_DOCUMENTATION}`,
        endsAt: '2026-11-25T06:45:00.000Z',
        metric: {
          name: 'compute.googleapis.com/instance/cpu/utilization',
          value: 0.412,
          threshold: 0.8,
          operator: 'COMPARISON_GT',
        },
      }),
    );
  });

  it('gives the same policy on a second VM another fingerprint', () => {
    const second = incidentOf(fixture('metric-open-second-resource'));
    expect(second).toStrictEqual(
      cpuIncident('web-2', {
        summary: `CPU utilization for acme-prod web-2 with metric labels {instance_name=web-2} is above the threshold of 0.800 with a value of 0.934.\n\n${CPU_DOCUMENTATION}`,
      }),
    );
    expect(second.fingerprint).not.toBe(incidentOf(fixture('metric-open')).fingerprint);
  });

  it('maps "No severity" to the default and a location label to the region', () => {
    const policy = 'projects/acme-prod/alertPolicies/9876501234567890123';
    expect(incidentOf(fixture('metric-open-no-severity'))).toStrictEqual({
      schemaVersion: 1,
      fingerprint: gcpFingerprint([
        `policy=${policy}`,
        `condition=${policy}/conditions/9876501234567890456`,
        'resource.type=cloud_run_revision',
        'resource.label.configuration_name=checkout',
        'resource.label.location=europe-west1',
        'resource.label.project_id=acme-prod',
        'resource.label.revision_name=checkout-00042-xyz',
        'resource.label.service_name=checkout',
        'metric.label.response_code_class=2xx',
      ]),
      status: 'firing',
      severity: 'warning',
      title: 'Checkout latency p99 above 2s on checkout',
      summary:
        'Request Latencies for acme-prod checkout with metric labels {response_code_class=2xx} is above the threshold of 2000.000 with a value of 2740.500.',
      source: {
        kind: 'gcp-monitoring',
        cloud: 'gcp',
        account: 'acme-prod',
        region: 'europe-west1',
        rule: 'Checkout latency p99 above 2s',
        ruleId: policy,
      },
      resource: { id: 'acme-prod checkout', name: 'checkout', type: 'cloud_run_revision' },
      startsAt: '2026-11-25T05:10:00.000Z',
      labels: {
        condition_name: 'Cloud Run Revision - Request Latencies p99',
        response_code_class: '2xx',
        configuration_name: 'checkout',
        location: 'europe-west1',
        project_id: 'acme-prod',
        revision_name: 'checkout-00042-xyz',
        service_name: 'checkout',
      },
      links: [
        {
          title: 'Incident',
          url: 'https://console.cloud.google.com/monitoring/alerting/incidents/0.k2m4o6q8s0u2?project=acme-prod',
        },
      ],
      metric: { name: 'run.googleapis.com/request_latencies', value: 2740.5, threshold: 2000, operator: 'COMPARISON_GT' },
    });
  });

  it('maps a log-based alert, which has no metric, open and closed to one fingerprint', () => {
    const open = incidentOf(fixture('log-based-open'));
    const closed = incidentOf(fixture('log-based-closed'));
    expect(open).toStrictEqual(
      logIncident({
        summary: `Log match condition fired for Kubernetes Container with ${LOG_RESOURCE_LABELS}\n\n${PAYMENT_DOCUMENTATION}`,
      }),
    );
    expect(closed).toStrictEqual(
      logIncident({
        status: 'resolved',
        summary: `Log match condition for Kubernetes Container with ${LOG_RESOURCE_LABELS} closed.\n\n${PAYMENT_DOCUMENTATION}`,
        endsAt: '2026-11-25T06:35:00.000Z',
      }),
    );
  });

  it('marks the channel’s test notification and uses the receive time for its zero times', () => {
    expect(incidentOf(fixture('test-notification'))).toStrictEqual({
      schemaVersion: 1,
      fingerprint: gcpFingerprint([
        'policy=projects/12345/alertPolicies/12345',
        'condition=projects/12345/alertPolicies/12345/conditions/12345',
        'resource.type=example_resource',
        'resource.label.example=label',
        'metric.label.example=label',
      ]),
      status: 'firing',
      severity: 'warning',
      title: 'projects/12345/alertPolicies/12345 on Example Resource',
      summary: 'Test Incident\n\nTest documentation',
      source: {
        kind: 'gcp-monitoring',
        cloud: 'gcp',
        account: '12345',
        rule: 'projects/12345/alertPolicies/12345',
        ruleId: 'projects/12345/alertPolicies/12345',
      },
      resource: { id: '12345', name: 'Example Resource', type: 'example_resource' },
      startsAt: '2026-11-25T07:00:00.000Z',
      labels: { condition_name: 'Example condition', [TEST_LABEL]: 'true', example: 'label' },
      links: [{ title: 'Incident', url: 'http://www.example.com/' }],
      metric: { name: 'test.googleapis.com/metric', value: 1, threshold: 0.5, operator: 'COMPARISON_GT' },
    });
  });

  it('decodes a Pub/Sub push envelope to the same incident as the webhook', () => {
    expect(incidentOf(fixture('pubsub-push-metric-open'))).toStrictEqual(cpuIncident('web-1', {}));
  });

  it('falls back to display names for older payloads without a condition path', () => {
    expect(incidentOf(fixture('uptime-check-legacy'))).toStrictEqual({
      schemaVersion: 1,
      fingerprint: gcpFingerprint([
        'policy=api - noc - users',
        'condition=Uptime Health Check on api-noc-users',
        'resource.type=uptime_url',
        'resource.label.host=api.example.com',
      ]),
      status: 'firing',
      severity: 'warning',
      title: 'api - noc - users on api.example.com',
      summary: 'An uptime check on Uptime Check URL labels {host=api.example.com} is failing.',
      source: { kind: 'gcp-monitoring', cloud: 'gcp', rule: 'api - noc - users' },
      resource: { id: 'Uptime Check URL labels {host=api.example.com}', name: 'api.example.com', type: 'uptime_url' },
      startsAt: '2026-11-25T04:00:00.000Z',
      labels: { condition_name: 'Uptime Health Check on api-noc-users', host: 'api.example.com' },
      links: [{ title: 'Incident', url: 'https://app.google.stackdriver.com/incidents/0.ligwyr056k2l?project=acme-prod' }],
    });
  });
});

describe('gcp-monitoring mapping rules', () => {
  it('maps severities by name, case-insensitively, and anything else to warning', () => {
    const cases: readonly [string | undefined, Incident['severity']][] = [
      ['CRITICAL', 'critical'],
      ['Error', 'error'],
      ['warning', 'warning'],
      ['No severity', 'warning'],
      ['SEVERE', 'warning'],
      [undefined, 'warning'],
    ];
    for (const [severity, expected] of cases) {
      expect(incidentOf(withIncident('metric-open', { severity })).severity).toBe(expected);
    }
  });

  it('does not fingerprint the incident id, times, values or text', () => {
    const changed = withIncident('metric-open', {
      incident_id: '0.other',
      started_at: 1_764_000_000,
      observed_value: '0.99',
      summary: 'changed',
      severity: 'WARNING',
    });
    expect(incidentOf(changed).fingerprint).toBe(cpuFingerprint('web-1'));
  });

  it('fingerprints the metric labels of the series', () => {
    const payload = notification('metric-open');
    payload.incident.metric = { type: 'compute.googleapis.com/instance/cpu/utilization', labels: { instance_name: 'other' } };
    expect(incidentOf(payload).fingerprint).not.toBe(cpuFingerprint('web-1'));
  });

  it('fingerprints by resource name when there is no resource type or label', () => {
    const payload = withIncident('uptime-check-legacy', { resource: undefined });
    expect(incidentOf(payload).fingerprint).toBe(
      gcpFingerprint([
        'policy=api - noc - users',
        'condition=Uptime Health Check on api-noc-users',
        'resource_name=Uptime Check URL labels {host=api.example.com}',
      ]),
    );
  });

  it('keeps a label key for the first source holding it and renames later different values', () => {
    const payload = withIncident('metric-open', {
      policy_user_labels: { owner: 'policy', shared: 'same' },
      metadata: { user_labels: { owner: 'vm', shared: 'same' } },
      metric: { type: 'm', labels: { owner: 'metric' } },
      resource: { type: 'gce_instance', labels: { owner: 'resource', zone: 'europe-west1-b' } },
      condition: { name: CPU_CONDITION, displayName: 'CPU' },
    });
    expect(incidentOf(payload).labels).toStrictEqual({
      condition_name: 'CPU',
      owner: 'policy',
      shared: 'same',
      'metadata.user_label.owner': 'vm',
      'metric.label.owner': 'metric',
      'resource.label.owner': 'resource',
      zone: 'europe-west1-b',
    });
  });

  it('prefers a region label, then location, then the zone’s region', () => {
    const regionOf = (labels: Record<string, string>): string | undefined =>
      incidentOf(withIncident('metric-open', { resource: { type: 'gce_instance', labels } })).source.region;
    expect(regionOf({ region: 'us-east4', location: 'us-central1', zone: 'europe-west1-b' })).toBe('us-east4');
    expect(regionOf({ location: 'us-central1-f', zone: 'europe-west1-b' })).toBe('us-central1');
    expect(regionOf({ zone: 'asia-northeast1-a' })).toBe('asia-northeast1');
    expect(regionOf({ location: 'global' })).toBe('global');
    expect(regionOf({})).toBeUndefined();
  });

  it('maps a PromQL-based policy: __missing__ is no value, and the most specific real resource label names the resource', () => {
    const resourceName =
      'acme-prod Prometheus Target labels {cluster=prod-eu, instance=__missing__, job=__missing__, location=europe-west1, namespace=checkout, project_id=acme-prod}';
    expect(incidentOf(notification('promql-open'))).toStrictEqual({
      schemaVersion: 1,
      // The identity keeps the labels as sent, placeholders included.
      fingerprint: gcpFingerprint([
        'policy=projects/acme-prod/alertPolicies/7212345678901234567',
        'condition=projects/acme-prod/alertPolicies/7212345678901234567/conditions/7212345678901239876',
        'resource.type=prometheus_target',
        'resource.label.cluster=prod-eu',
        'resource.label.instance=__missing__',
        'resource.label.job=__missing__',
        'resource.label.location=europe-west1',
        'resource.label.namespace=checkout',
        'resource.label.project_id=acme-prod',
        'metric.label.name=__missing__',
      ]),
      status: 'firing',
      severity: 'error',
      title: 'Checkout 5xx ratio on checkout',
      summary: `PromQL query for ${resourceName} with metric labels {name=__missing__} is above the threshold of 0.050 with a value of 0.083.\n\nMore than 5% of checkout requests fail.`,
      source: {
        kind: 'gcp-monitoring',
        cloud: 'gcp',
        account: 'acme-prod',
        region: 'europe-west1',
        rule: 'Checkout 5xx ratio',
        ruleId: 'projects/acme-prod/alertPolicies/7212345678901234567',
      },
      resource: { id: resourceName, name: 'checkout', type: 'prometheus_target' },
      startsAt: '2026-11-25T07:00:00.000Z',
      labels: {
        condition_name: '5xx ratio above 5%',
        team: 'checkout',
        cluster: 'prod-eu',
        location: 'europe-west1',
        namespace: 'checkout',
        project_id: 'acme-prod',
      },
      links: [
        { title: 'Incident', url: 'https://console.cloud.google.com/monitoring/alerting/alerts/0.p3r5t7v9x1z3?project=acme-prod' },
        { title: 'Apigee', url: 'https://apigee.google.com/platform/acme-prod/monitoring' },
      ],
      metric: { value: 0.083, threshold: 0.05 },
    });
  });

  it('never takes a placeholder for a display name, region, project or resource id', () => {
    const incident = incidentOf(
      withIncident('promql-open', {
        scoping_project_id: '__missing__',
        resource_display_name: '__missing__',
        resource_name: '__missing__',
        resource: { type: 'prometheus_target', labels: { project_id: '__missing__', location: '__missing__', cluster: '__missing__', instance: '10.8.0.14:9090' } },
      }),
    );
    expect([incident.source.account, incident.source.region, incident.resource, incident.title]).toEqual([
      undefined,
      undefined,
      { name: '10.8.0.14:9090', type: 'prometheus_target' },
      'Checkout 5xx ratio on 10.8.0.14:9090',
    ]);
    expect(incident.labels).toStrictEqual({ condition_name: '5xx ratio above 5%', team: 'checkout', instance: '10.8.0.14:9090' });
  });

  it('takes the account from the resource project when there is no scoping project', () => {
    const incident = incidentOf(withIncident('metric-open', { scoping_project_id: undefined }));
    expect(incident.source.account).toBe('acme-prod');
  });

  it('uses the receive time for a closed incident without ended_at', () => {
    const incident = incidentOf(withIncident('metric-closed', { ended_at: null }));
    expect(incident.status).toBe('resolved');
    expect(incident.endsAt).toBe('2026-11-25T07:00:00.000Z');
  });

  it('accepts numeric observed and threshold values and ignores ones that are not numbers', () => {
    expect(incidentOf(withIncident('metric-open', { observed_value: 12, threshold_value: 'n/a' })).metric).toStrictEqual({
      name: 'compute.googleapis.com/instance/cpu/utilization',
      value: 12,
      operator: 'COMPARISON_GT',
    });
  });

  it('reads version 1.1 notifications the same way', () => {
    const payload = { ...notification('metric-open'), version: '1.1' };
    expect(incidentOf(payload)).toStrictEqual(cpuIncident('web-1', {}));
  });

  it('drops documentation links that are not http(s) and names untitled ones', () => {
    const payload = withIncident('metric-open', {
      documentation: {
        content: '',
        links: [
          { displayName: 'Bad', url: 'javascript:alert(1)' },
          { url: 'https://wiki.example.com/cpu' },
          { displayName: 'Missing' },
        ],
      },
      apigee_url: undefined,
    });
    const incident = incidentOf(payload);
    expect(incident.links).toStrictEqual([
      {
        title: 'Incident',
        url: 'https://console.cloud.google.com/monitoring/alerting/incidents/0.n8q2r4t6v8x0?project=acme-prod',
      },
      { title: 'Documentation', url: 'https://wiki.example.com/cpu' },
    ]);
    expect(incident.summary).toBe(
      'CPU utilization for acme-prod web-1 with metric labels {instance_name=web-1} is above the threshold of 0.800 with a value of 0.934.',
    );
  });
});

describe('gcp-monitoring detection', () => {
  it('claims webhook notifications, the test notification and Pub/Sub pushes of them', () => {
    for (const name of ['metric-open', 'metric-closed', 'log-based-open', 'test-notification', 'pubsub-push-metric-open', 'uptime-check-legacy']) {
      expect(gcpMonitoring.detect(fixture(name))).toBe(true);
    }
  });

  it('does not claim other Pub/Sub messages, broken envelopes or other payloads', () => {
    expect(gcpMonitoring.detect(pubSubPush(base64({ hello: 'world' })))).toBe(false);
    expect(gcpMonitoring.detect(pubSubPush('%%% not base64 %%%'))).toBe(false);
    expect(gcpMonitoring.detect({ message: 'hi', subscription: 's' })).toBe(false);
    expect(gcpMonitoring.detect({ message: { data: 42 } })).toBe(false);
    expect(gcpMonitoring.detect({ version: '4', alerts: [] })).toBe(false);
    expect(gcpMonitoring.detect({ version: '1.2', incident: 'x' })).toBe(false);
    expect(gcpMonitoring.detect(null)).toBe(false);
  });

  it('is what normalize() picks for a webhook and for a Pub/Sub push', async () => {
    // Imported here: normalize.ts imports every source, some of them written concurrently.
    const { normalize } = await import('../../shared/normalize.ts');
    for (const name of ['metric-open', 'pubsub-push-metric-open']) {
      const normalized = normalize(fixture(name), { receivedAt });
      expect(normalized.source).toBe('gcp-monitoring');
      expect(normalized.incidents.map((incident) => incident.fingerprint)).toEqual([cpuFingerprint('web-1')]);
    }
  });
});

describe('gcp-monitoring rejections', () => {
  it('names a state that is neither open nor closed', () => {
    expect(rejectionOf(withIncident('metric-open', { state: 'acknowledged' })).reason).toMatch(/^incident\.state: /);
  });

  it('names a start time that is not Unix seconds', () => {
    expect(rejectionOf(withIncident('metric-open', { started_at: '2026-11-25T06:20:00Z' })).reason).toMatch(
      /^incident\.started_at: /,
    );
    expect(rejectionOf(withIncident('metric-open', { started_at: 1e15 })).reason).toMatch(/^incident\.started_at: /);
  });

  it('names a missing or blank policy name', () => {
    expect(rejectionOf(withIncident('metric-open', { policy_name: undefined })).reason).toMatch(/^incident\.policy_name: /);
    expect(rejectionOf(withIncident('metric-open', { policy_name: '  ' })).reason).toMatch(/^incident\.policy_name: /);
  });

  it('names an unknown notification version', () => {
    expect(rejectionOf({ ...notification('metric-open'), version: '2.0' }).reason).toBe(
      'version: expected a notification schema version "1.x" or "test"',
    );
  });

  it('names a label value that is not a string', () => {
    const payload = withIncident('metric-open', { policy_user_labels: { team: 7 } });
    expect(rejectionOf(payload).reason).toMatch(/^incident\.policy_user_labels\.team: /);
  });

  it('names message.data when it is not base64', () => {
    expect(rejectionOf(pubSubPush('%%% not base64 %%%')).reason).toMatch(/^message\.data: /);
  });

  it('names message.data when it decodes to something that is not JSON', () => {
    expect(rejectionOf(pubSubPush(Buffer.from('not json').toString('base64'))).reason).toBe(
      'message.data: base64 decodes to text that is not JSON',
    );
  });

  it('names the path inside message.data where the decoded notification is wrong', () => {
    const inner = withIncident('metric-open', { state: 'acknowledged' });
    expect(rejectionOf(pubSubPush(base64(inner))).reason).toMatch(/^message\.data\.incident\.state: /);
  });

  it('names the missing incident of a direct notification', () => {
    expect(rejectionOf({ version: '1.2' }).reason).toMatch(/^incident: /);
  });
});
