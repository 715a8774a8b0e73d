// Alertmanager webhook (version 4) → incidents. The fixtures were captured from a real
// prometheus-alertmanager 0.25.0 posting to a webhook receiver on 127.0.0.1 (alerts injected
// through its /api/v2/alerts API, group_by alertname, send_resolved true).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PayloadRejectedError } from '../../shared/errors.ts';
import type { SourceRejection } from '../../shared/errors.ts';
import { fingerprintOf, labelSetPart } from '../../shared/fingerprint.ts';
import { incidentSchema } from '../../shared/incident.ts';
import type { Incident } from '../../shared/incident.ts';
import { alertmanager } from '../../shared/sources/alertmanager.ts';

/** `['k=v', …]` as the source hashes it: the label set as one part. */
function alertmanagerFingerprint(pairs: string[]): string {
  const labels = Object.fromEntries(pairs.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
  return fingerprintOf('alertmanager', [labelSetPart(labels)]);
}

const receivedAt = new Date('2026-11-25T07:00:00.000Z');

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/alertmanager/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

/** Normalizes and checks every incident against the contract's schema. */
function incidentsOf(payload: unknown): Incident[] {
  const incidents = alertmanager.normalize(payload, { receivedAt });
  for (const incident of incidents) expect(incidentSchema.safeParse(incident).error).toBeUndefined();
  return incidents;
}

function rejectionOf(payload: unknown): SourceRejection {
  try {
    alertmanager.normalize(payload, { receivedAt });
  } catch (error) {
    expect(error).toBeInstanceOf(PayloadRejectedError);
    const rejections = (error as PayloadRejectedError).rejections;
    expect(rejections).toHaveLength(1);
    return rejections[0]!;
  }
  throw new Error('payload was not rejected');
}

/** A minimal valid payload with one alert, for the edge cases. */
function payloadWith(alert: Record<string, unknown>, group: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    receiver: 'tocsin',
    status: 'firing',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'Edge', instance: 'edge-1:9100' },
        annotations: {},
        startsAt: '2026-11-25T06:00:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: '',
        fingerprint: 'ffffffffffffffff',
        ...alert,
      },
    ],
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.com:9093',
    version: '4',
    groupKey: '{}:{}',
    truncatedAlerts: 0,
    ...group,
  };
}

const CPU_GENERATOR =
  'http://prometheus.example.com:9090/graph?g0.expr=instance%3Anode_cpu_utilisation%3Arate5m+%3E+0.9&g0.tab=1';
const CPU_RUNBOOK = 'https://runbooks.example.com/node/high-cpu';

function silenceUrl(matchers: string): string {
  return `http://alertmanager.example.com:9093/#/silences/new?filter=${encodeURIComponent(matchers)}`;
}

const WEB1_LABELS = {
  alertname: 'HighCPUUsage',
  instance: 'web-1:9100',
  job: 'node',
  region: 'eu-west-1',
  severity: 'critical',
  team: 'platform',
};
const WEB2_LABELS = { ...WEB1_LABELS, instance: 'web-2:9100', severity: 'warning' };

const WEB1_FINGERPRINT = alertmanagerFingerprint([
  'alertname=HighCPUUsage',
  'instance=web-1:9100',
  'job=node',
  'region=eu-west-1',
  'severity=critical',
  'team=platform',
]);
const WEB2_FINGERPRINT = alertmanagerFingerprint([
  'alertname=HighCPUUsage',
  'instance=web-2:9100',
  'job=node',
  'region=eu-west-1',
  'severity=warning',
  'team=platform',
]);

function cpuIncident(host: 'web-1' | 'web-2', overrides: Partial<Incident>): Incident {
  const web1 = host === 'web-1';
  return {
    schemaVersion: 1,
    fingerprint: web1 ? WEB1_FINGERPRINT : WEB2_FINGERPRINT,
    status: 'firing',
    severity: web1 ? 'critical' : 'warning',
    title: `HighCPUUsage on ${host}:9100`,
    source: { kind: 'alertmanager', cloud: 'other', region: 'eu-west-1', rule: 'HighCPUUsage' },
    resource: { id: `${host}:9100`, name: `${host}:9100`, type: 'instance' },
    startsAt: web1 ? '2026-11-25T06:30:00.000Z' : '2026-11-25T06:31:00.000Z',
    labels: web1 ? WEB1_LABELS : WEB2_LABELS,
    links: [
      { title: 'Source', url: CPU_GENERATOR },
      { title: 'Runbook', url: CPU_RUNBOOK },
      {
        title: 'Silence',
        url: silenceUrl(
          `{alertname="HighCPUUsage",instance="${host}:9100",job="node",region="eu-west-1",severity="${web1 ? 'critical' : 'warning'}",team="platform"}`,
        ),
      },
    ],
    ...overrides,
  };
}

describe('alertmanager fixtures', () => {
  it('maps a firing group to one incident per alert', () => {
    expect(incidentsOf(fixture('firing-group'))).toStrictEqual([
      cpuIncident('web-1', {
        summary: 'CPU usage above 90% on web-1:9100\n\nCPU usage has been 96.2% for 10 minutes.',
      }),
      cpuIncident('web-2', {
        summary: 'CPU usage above 90% on web-2:9100\n\nCPU usage has been 91.4% for 10 minutes.',
      }),
    ]);
  });

  it('maps each alert of a mixed group by its own status', () => {
    expect(incidentsOf(fixture('mixed-group'))).toStrictEqual([
      cpuIncident('web-1', {
        status: 'resolved',
        summary: 'CPU usage above 90% on web-1:9100\n\nCPU usage has been 96.2% for 10 minutes.',
        endsAt: '2026-11-25T06:37:33.000Z',
      }),
      cpuIncident('web-2', {
        summary: 'CPU usage above 90% on web-2:9100\n\nCPU usage has been 93.8% for 12 minutes.',
      }),
    ]);
  });

  it('maps a resolved group with each alert’s end time', () => {
    expect(incidentsOf(fixture('resolved-group'))).toStrictEqual([
      cpuIncident('web-1', {
        status: 'resolved',
        summary: 'CPU usage above 90% on web-1:9100\n\nCPU usage has been 96.2% for 10 minutes.',
        endsAt: '2026-11-25T06:37:33.000Z',
      }),
      cpuIncident('web-2', {
        status: 'resolved',
        summary: 'CPU usage above 90% on web-2:9100\n\nCPU usage has been 93.8% for 12 minutes.',
        endsAt: '2026-11-25T06:37:39.000Z',
      }),
    ]);
  });

  it('maps a repeated delivery with changed annotations to the same fingerprint', () => {
    const [first] = incidentsOf(fixture('repeated-delivery'));
    expect(first).toStrictEqual(
      cpuIncident('web-2', {
        summary: 'CPU usage above 90% on web-2:9100\n\nCPU usage has been 93.8% for 12 minutes.',
      }),
    );
    expect(first?.fingerprint).toBe(incidentsOf(fixture('firing-group'))[1]?.fingerprint);
  });

  it('gives the firing and resolved notices of one alert one fingerprint, and other targets another', () => {
    const firing = incidentsOf(fixture('firing-group'));
    const resolved = incidentsOf(fixture('resolved-group'));
    expect(resolved.map((incident) => incident.fingerprint)).toEqual(firing.map((incident) => incident.fingerprint));
    expect(firing[0]?.fingerprint).not.toBe(firing[1]?.fingerprint);
  });

  it('takes a Kubernetes pod as the resource before the exporter instance', () => {
    expect(incidentsOf(fixture('crashlooping-pod'))).toStrictEqual([
      {
        schemaVersion: 1,
        fingerprint: alertmanagerFingerprint([
          'alertname=KubePodCrashLooping',
          'cluster=prod-eu',
          'container=api',
          'instance=10.0.3.7:8080',
          'job=kube-state-metrics',
          'namespace=payments',
          'pod=api-7d9f8b6c5-x2x9k',
          'severity=high',
        ]),
        status: 'firing',
        severity: 'error',
        title: 'KubePodCrashLooping on api-7d9f8b6c5-x2x9k',
        summary:
          'Pod is crash looping.\n\nPod payments/api-7d9f8b6c5-x2x9k (api) is in waiting state (reason: "CrashLoopBackOff").',
        source: { kind: 'alertmanager', cloud: 'other', rule: 'KubePodCrashLooping' },
        resource: { id: 'payments/api-7d9f8b6c5-x2x9k', name: 'api-7d9f8b6c5-x2x9k', type: 'pod' },
        startsAt: '2026-11-25T06:20:00.000Z',
        labels: {
          alertname: 'KubePodCrashLooping',
          cluster: 'prod-eu',
          container: 'api',
          instance: '10.0.3.7:8080',
          job: 'kube-state-metrics',
          namespace: 'payments',
          pod: 'api-7d9f8b6c5-x2x9k',
          severity: 'high',
        },
        links: [
          {
            title: 'Source',
            url: 'http://prometheus.example.com:9090/graph?g0.expr=kube_pod_container_status_restarts_total&g0.tab=1',
          },
          {
            title: 'Runbook',
            url: 'https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping',
          },
          {
            title: 'Silence',
            url: silenceUrl(
              '{alertname="KubePodCrashLooping",cluster="prod-eu",container="api",instance="10.0.3.7:8080",job="kube-state-metrics",namespace="payments",pod="api-7d9f8b6c5-x2x9k",severity="high"}',
            ),
          },
        ],
      },
    ]);
  });

  it('defaults to warning without a severity label and links nothing for an empty generatorURL', () => {
    expect(incidentsOf(fixture('no-severity'))).toStrictEqual([
      {
        schemaVersion: 1,
        fingerprint: alertmanagerFingerprint(['alertname=BackupJobFailed', 'job=backup', 'service=billing-db']),
        status: 'firing',
        severity: 'warning',
        title: 'BackupJobFailed on billing-db',
        summary: 'The nightly backup of billing-db failed twice in a row.',
        source: { kind: 'alertmanager', cloud: 'other', rule: 'BackupJobFailed' },
        resource: { id: 'billing-db', name: 'billing-db', type: 'service' },
        startsAt: '2026-11-25T05:00:00.000Z',
        labels: { alertname: 'BackupJobFailed', job: 'backup', service: 'billing-db' },
        links: [
          {
            title: 'Silence',
            url: silenceUrl('{alertname="BackupJobFailed",job="backup",service="billing-db"}'),
          },
        ],
      },
    ]);
  });

  it('maps every severity label value of the table, case-insensitively, and unknown ones to warning', () => {
    const expected: readonly [label: string, severity: Incident['severity']][] = [
      ['error', 'error'],
      ['major', 'error'],
      ['minor', 'warning'],
      ['info', 'info'],
      ['low', 'info'],
      ['none', 'info'],
      ['CRITICAL', 'critical'],
      ['P1', 'warning'],
    ];
    const incidents = incidentsOf(fixture('severities'));
    expect(incidents).toStrictEqual(
      expected.map(([label, severity], index): Incident => {
        const instance = `db-${index + 1}:9100`;
        const labels = {
          alertname: 'DiskSpaceLow',
          instance,
          job: 'node',
          mountpoint: '/var/lib/data',
          severity: label,
        };
        return {
          schemaVersion: 1,
          fingerprint: alertmanagerFingerprint([
            'alertname=DiskSpaceLow',
            `instance=${instance}`,
            'job=node',
            'mountpoint=/var/lib/data',
            `severity=${label}`,
          ]),
          status: 'firing',
          severity,
          title: `DiskSpaceLow on ${instance}`,
          summary: `Disk /var/lib/data on ${instance} is ${80 + index}% full`,
          source: { kind: 'alertmanager', cloud: 'other', rule: 'DiskSpaceLow' },
          resource: { id: instance, name: instance, type: 'instance' },
          startsAt: '2026-11-25T06:10:00.000Z',
          labels,
          links: [
            {
              title: 'Source',
              url: 'http://prometheus.example.com:9090/graph?g0.expr=node_filesystem_avail_bytes&g0.tab=1',
            },
            {
              title: 'Silence',
              url: silenceUrl(
                `{alertname="DiskSpaceLow",instance="${instance}",job="node",mountpoint="/var/lib/data",severity="${label}"}`,
              ),
            },
          ],
        };
      }),
    );
  });
});

describe('alertmanager edge cases', () => {
  it('uses the receive time for a resolved alert that carries no end time', () => {
    const [incident] = incidentsOf(payloadWith({ status: 'resolved', endsAt: '0001-01-01T00:00:00Z' }));
    expect(incident?.status).toBe('resolved');
    expect(incident?.startsAt).toBe('2026-11-25T06:00:00.000Z');
    expect(incident?.endsAt).toBe('2026-11-25T07:00:00.000Z');
  });

  it('uses the receive time when an alert starts at Go’s zero time, and ignores a firing alert’s end time', () => {
    const [incident] = incidentsOf(payloadWith({ startsAt: '0001-01-01T00:00:00Z', endsAt: '2026-11-25T06:05:00Z' }));
    expect(incident?.startsAt).toBe('2026-11-25T07:00:00.000Z');
    expect(incident).not.toHaveProperty('endsAt');
  });

  it('converts nanosecond timestamps with an offset to UTC', () => {
    const [incident] = incidentsOf(payloadWith({ startsAt: '2018-08-03T09:52:26.739266876+02:00' }));
    expect(incident?.startsAt).toBe('2018-08-03T07:52:26.739Z');
  });

  it('names an alert without alertname explicitly rather than rejecting it', () => {
    const [incident] = incidentsOf(payloadWith({ labels: { instance: 'edge-1:9100' } }));
    expect(incident?.source.rule).toBe('(unnamed alert)');
    expect(incident?.title).toBe('(unnamed alert) on edge-1:9100');
    expect(incident?.fingerprint).toBe(alertmanagerFingerprint(['instance=edge-1:9100']));
  });

  it('does not repeat the resource in the title when the alertname already names it', () => {
    const [incident] = incidentsOf(payloadWith({ labels: { alertname: 'edge-1:9100 down', instance: 'edge-1:9100' } }));
    expect(incident?.title).toBe('edge-1:9100 down');
  });

  it('leaves out labels reserved with a double underscore', () => {
    const [incident] = incidentsOf(payloadWith({ labels: { alertname: 'Edge', __private__: 'x', instance: 'edge-1:9100' } }));
    expect(incident?.labels).toStrictEqual({ alertname: 'Edge', instance: 'edge-1:9100' });
    expect(incident?.fingerprint).toBe(alertmanagerFingerprint(['alertname=Edge', 'instance=edge-1:9100']));
  });

  it('keeps only absolute http(s) links and drops the silence link without an external URL', () => {
    const [incident] = incidentsOf(
      payloadWith(
        {
          generatorURL: 'javascript:alert(1)',
          annotations: { runbook_url: '/relative/runbook', dashboard_url: 'https://grafana.example.com/d/abc' },
        },
        { externalURL: '' },
      ),
    );
    expect(incident?.links).toStrictEqual([{ title: 'Dashboard', url: 'https://grafana.example.com/d/abc' }]);
  });

  it('escapes quotes and backslashes in the silence filter', () => {
    const [incident] = incidentsOf(payloadWith({ labels: { alertname: 'Edge', path: 'C:\\ "x"' } }));
    expect(incident?.links).toStrictEqual([
      { title: 'Silence', url: silenceUrl('{alertname="Edge",path="C:\\\\ \\"x\\""}') },
    ]);
  });

  it('fingerprints by label set only: not label order, annotations, times or Alertmanager’s own fingerprint', () => {
    const [base] = incidentsOf(payloadWith({}));
    const [other] = incidentsOf(
      payloadWith({
        labels: { instance: 'edge-1:9100', alertname: 'Edge' },
        annotations: { summary: 'changed' },
        startsAt: '2026-11-25T06:59:00Z',
        fingerprint: '0000000000000000',
      }),
    );
    const [anotherTarget] = incidentsOf(payloadWith({ labels: { alertname: 'Edge', instance: 'edge-2:9100' } }));
    expect(other?.fingerprint).toBe(base?.fingerprint);
    expect(anotherTarget?.fingerprint).not.toBe(base?.fingerprint);
  });

  it('accepts null annotations and a group without optional fields', () => {
    const incidents = incidentsOf({
      version: '4',
      alerts: [{ status: 'firing', labels: { alertname: 'Bare' }, annotations: null, startsAt: '2026-11-25T06:00:00Z' }],
    });
    expect(incidents).toStrictEqual([
      {
        schemaVersion: 1,
        fingerprint: alertmanagerFingerprint(['alertname=Bare']),
        status: 'firing',
        severity: 'warning',
        title: 'Bare',
        source: { kind: 'alertmanager', cloud: 'other', rule: 'Bare' },
        startsAt: '2026-11-25T06:00:00.000Z',
        labels: { alertname: 'Bare' },
        links: [],
      },
    ]);
  });

  it('escapes quotes, backslashes and newlines in silence matchers, and skips the link for a lone surrogate', () => {
    const [quoted] = incidentsOf(payloadWith({ labels: { alertname: 'Edge', path: 'C:\\tmp "x"\nnext' } }));
    expect(quoted?.links).toStrictEqual([{ title: 'Silence', url: silenceUrl('{alertname="Edge",path="C:\\\\tmp \\"x\\"\\nnext"}') }]);
    // JSON can carry an unpaired surrogate (`"\ud800"`); encodeURIComponent throws on it.
    const [lone] = incidentsOf(payloadWith({ labels: { alertname: 'Edge', instance: 'edge-\ud800' } }));
    expect(lone?.title).toBe('Edge on edge-\ud800');
    expect(lone?.links).toStrictEqual([]);
  });

  it('builds the silence link on a normalised external URL, with or without a trailing slash or a path', () => {
    const [plain] = incidentsOf(payloadWith({}, { externalURL: '  http://alertmanager.example.com:9093/  ' }));
    expect(plain?.links).toStrictEqual([{ title: 'Silence', url: silenceUrl('{alertname="Edge",instance="edge-1:9100"}') }]);
    const [nested] = incidentsOf(payloadWith({}, { externalURL: 'https://ops.example.com/alertmanager//' }));
    expect(nested?.links[0]?.url).toBe(`https://ops.example.com/alertmanager/#/silences/new?filter=${encodeURIComponent('{alertname="Edge",instance="edge-1:9100"}')}`);
    const [notHttp] = incidentsOf(payloadWith({}, { externalURL: 'javascript:alert(1)' }));
    expect(notHttp?.links).toStrictEqual([]);
  });
});

describe('alertmanager: the shapes refused before', () => {
  it('maps a version 3 webhook (older Alertmanagers: a numeric groupKey, otherwise the same shape)', () => {
    const labels = { alertname: 'InstanceDown', instance: 'batch-3:9100', job: 'node', severity: 'critical' };
    expect(incidentsOf(fixture('version-3-group'))).toStrictEqual([
      {
        schemaVersion: 1,
        fingerprint: alertmanagerFingerprint(['alertname=InstanceDown', 'instance=batch-3:9100', 'job=node', 'severity=critical']),
        status: 'firing',
        severity: 'critical',
        title: 'InstanceDown on batch-3:9100',
        summary: 'Instance batch-3:9100 down\n\nbatch-3:9100 of job node has been down for more than 5 minutes.',
        source: { kind: 'alertmanager', cloud: 'other', rule: 'InstanceDown' },
        resource: { id: 'batch-3:9100', name: 'batch-3:9100', type: 'instance' },
        startsAt: '2026-11-25T02:40:07.803Z',
        labels,
        links: [
          { title: 'Source', url: 'http://prometheus.example.com:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=0' },
          { title: 'Silence', url: silenceUrl('{alertname="InstanceDown",instance="batch-3:9100",job="node",severity="critical"}') },
        ],
      },
    ]);
  });

  it('gives each alert without a status the group’s (the webhook as long documented: no per-alert status)', () => {
    expect(incidentsOf(fixture('documented-no-alert-status'))).toStrictEqual([
      {
        schemaVersion: 1,
        fingerprint: alertmanagerFingerprint([
          'alertname=DiskWillFillIn4Hours',
          'device=/dev/nvme0n1p1',
          'instance=db-1:9100',
          'job=node',
          'mountpoint=/var/lib/postgresql',
          'severity=warning',
        ]),
        status: 'resolved',
        severity: 'warning',
        title: 'DiskWillFillIn4Hours on db-1:9100',
        summary: 'Disk /var/lib/postgresql on db-1:9100 fills up within 4 hours',
        source: { kind: 'alertmanager', cloud: 'other', rule: 'DiskWillFillIn4Hours' },
        resource: { id: 'db-1:9100', name: 'db-1:9100', type: 'instance' },
        startsAt: '2026-11-25T04:12:00.000Z',
        endsAt: '2026-11-25T05:02:00.000Z',
        labels: {
          alertname: 'DiskWillFillIn4Hours',
          device: '/dev/nvme0n1p1',
          instance: 'db-1:9100',
          job: 'node',
          mountpoint: '/var/lib/postgresql',
          severity: 'warning',
        },
        links: [
          {
            title: 'Silence',
            url: silenceUrl('{alertname="DiskWillFillIn4Hours",device="/dev/nvme0n1p1",instance="db-1:9100",job="node",mountpoint="/var/lib/postgresql",severity="warning"}'),
          },
        ],
      },
    ]);
  });

  it('lets an alert’s own status win over the group’s', () => {
    const [incident] = incidentsOf(payloadWith({ status: 'resolved', endsAt: '2026-11-25T06:30:00Z' }, { status: 'firing' }));
    expect([incident?.status, incident?.endsAt]).toEqual(['resolved', '2026-11-25T06:30:00.000Z']);
  });
});

describe('alertmanager detection', () => {
  it('claims version 4 and version 3 payloads with alerts', () => {
    for (const name of ['firing-group', 'resolved-group', 'mixed-group', 'severities', 'no-severity', 'version-3-group', 'documented-no-alert-status']) {
      expect(alertmanager.detect(fixture(name))).toBe(true);
    }
  });

  it('does not claim Grafana payloads, other versions or non-objects', () => {
    expect(alertmanager.detect({ ...fixture('firing-group'), orgId: 1 })).toBe(false);
    expect(alertmanager.detect({ ...fixture('firing-group'), version: '1' })).toBe(false);
    expect(alertmanager.detect({ version: '4', alerts: {} })).toBe(false);
    expect(alertmanager.detect([fixture('firing-group')])).toBe(false);
    expect(alertmanager.detect(null)).toBe(false);
    expect(alertmanager.detect('{"version":"4","alerts":[]}')).toBe(false);
  });

  it('is what normalize() picks for an Alertmanager payload', async () => {
    // Imported here: normalize.ts imports every source, some of them written concurrently.
    const { normalize } = await import('../../shared/normalize.ts');
    const normalized = normalize(fixture('firing-group'), { receivedAt });
    expect(normalized.source).toBe('alertmanager');
    expect(normalized.incidents.map((incident) => incident.fingerprint)).toEqual([WEB1_FINGERPRINT, WEB2_FINGERPRINT]);
  });
});

describe('alertmanager rejections', () => {
  it('names the version when it is neither 3 nor 4', () => {
    const rejection = rejectionOf({ ...fixture('firing-group'), version: '5' });
    expect(rejection).toStrictEqual({ source: 'alertmanager', reason: 'version: Invalid option: expected one of "3"|"4"' });
  });

  it('names an alert that has no status when the group has none either', () => {
    const payload = fixture('documented-no-alert-status');
    delete payload.status;
    expect(rejectionOf(payload)).toStrictEqual({
      source: 'alertmanager',
      reason: 'alerts[0].status: expected "firing" or "resolved": the alert has no status and neither has the group',
    });
  });

  it('names the alert and field that is wrong', () => {
    const payload = fixture('firing-group');
    const alerts = payload.alerts as Record<string, unknown>[];
    alerts[1] = { ...alerts[1], status: 'pending' };
    expect(rejectionOf(payload)).toMatchObject({ source: 'alertmanager', reason: expect.stringMatching(/^alerts\[1\]\.status: /) as unknown });
  });

  it('names a label whose value is not a string', () => {
    const rejection = rejectionOf(payloadWith({ labels: { alertname: 'Edge', instance: 9100 } }));
    expect(rejection.reason).toMatch(/^alerts\[0\]\.labels\.instance: /);
  });

  it('names a start time that is not an RFC 3339 time', () => {
    const rejection = rejectionOf(payloadWith({ startsAt: 'yesterday' }));
    expect(rejection.reason).toMatch(/^alerts\[0\]\.startsAt: /);
  });

  it('names alerts when it is not an array', () => {
    const rejection = rejectionOf({ ...fixture('firing-group'), alerts: { 0: {} } });
    expect(rejection.reason).toMatch(/^alerts: /);
  });
});
