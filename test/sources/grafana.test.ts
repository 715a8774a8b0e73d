// Grafana unified alerting webhook (version 1) → incidents. `docs-example.json` is the example
// body from Grafana's webhook notifier documentation; the other fixtures follow the same shape
// as Grafana 11 writes it (rule UID in `/alerting/grafana/<uid>/view`, `values`, `silenceURL`).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PayloadRejectedError } from '../../shared/errors.ts';
import type { SourceRejection } from '../../shared/errors.ts';
import { fingerprintOf, labelSetPart } from '../../shared/fingerprint.ts';
import { incidentSchema } from '../../shared/incident.ts';
import type { Incident } from '../../shared/incident.ts';
import { alertmanager } from '../../shared/sources/alertmanager.ts';
import { grafana } from '../../shared/sources/grafana.ts';

/** `['orgId=1', 'k=v', …]` as the source hashes it: the org, then the label set as one part. */
function grafanaFingerprint([org, ...pairs]: string[]): string {
  const labels = Object.fromEntries(pairs.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
  return fingerprintOf('grafana', [org ?? '', labelSetPart(labels)]);
}

const receivedAt = new Date('2026-11-25T07:00:00.000Z');

function fixture(name: string, source = 'grafana'): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/${source}/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

function incidentsOf(payload: unknown): Incident[] {
  const incidents = grafana.normalize(payload, { receivedAt });
  for (const incident of incidents) expect(incidentSchema.safeParse(incident).error).toBeUndefined();
  return incidents;
}

function rejectionOf(payload: unknown): SourceRejection {
  try {
    grafana.normalize(payload, { receivedAt });
  } catch (error) {
    expect(error).toBeInstanceOf(PayloadRejectedError);
    const rejections = (error as PayloadRejectedError).rejections;
    expect(rejections).toHaveLength(1);
    return rejections[0]!;
  }
  throw new Error('payload was not rejected');
}

function payloadWith(alert: Record<string, unknown>, group: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    receiver: 'tocsin',
    status: 'firing',
    orgId: 1,
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'Edge', grafana_folder: 'Tests' },
        annotations: {},
        startsAt: '2026-11-25T06:00:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'https://grafana.example.com/alerting/grafana/edge01/view?orgId=1',
        fingerprint: 'ffffffffffffffff',
        silenceURL: '',
        dashboardURL: '',
        panelURL: '',
        values: { A: 1, B: 2 },
        valueString: '',
        ...alert,
      },
    ],
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'https://grafana.example.com/',
    version: '1',
    groupKey: '{}:{}',
    truncatedAlerts: 0,
    title: '[FIRING:1] Edge',
    state: 'alerting',
    message: '',
    ...group,
  };
}

const G = 'https://grafana.example.com';
const MEMORY_DASHBOARD = `${G}/d/node-mem/node-memory?orgId=1`;
const MEMORY_PANEL = `${G}/d/node-mem/node-memory?orgId=1&viewPanel=4`;
const MEMORY_RUNBOOK = 'https://runbooks.example.com/node/high-memory';

function memoryLabels(host: string): Record<string, string> {
  return { alertname: 'High memory usage', grafana_folder: 'Infra', instance: host, severity: 'critical', team: 'platform' };
}

function memoryFingerprint(host: string): string {
  return grafanaFingerprint([
    'orgId=1',
    'alertname=High memory usage',
    'grafana_folder=Infra',
    `instance=${host}`,
    'severity=critical',
    'team=platform',
  ]);
}

function memorySilence(host: string): string {
  return `${G}/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DHigh+memory+usage&matcher=grafana_folder%3DInfra&matcher=instance%3D${host}&matcher=severity%3Dcritical&matcher=team%3Dplatform&orgId=1`;
}

function memoryIncident(host: 'web-1' | 'web-2', overrides: Partial<Incident> & { image?: boolean }): Incident {
  const { image = false, ...rest } = overrides;
  return {
    schemaVersion: 1,
    fingerprint: memoryFingerprint(host),
    status: 'firing',
    severity: 'critical',
    title: `High memory usage on ${host}`,
    source: { kind: 'grafana', cloud: 'other', rule: 'High memory usage', ruleId: 'ddx9mem01' },
    resource: { id: host, name: host, type: 'instance' },
    startsAt: host === 'web-1' ? '2026-11-25T06:40:10.123Z' : '2026-11-25T06:41:10.123Z',
    labels: memoryLabels(host),
    links: [
      { title: 'Alert rule', url: `${G}/alerting/grafana/ddx9mem01/view?orgId=1` },
      { title: 'Dashboard', url: MEMORY_DASHBOARD },
      { title: 'Panel', url: MEMORY_PANEL },
      { title: 'Runbook', url: MEMORY_RUNBOOK },
      ...(image ? [{ title: 'Image', url: `${G}/public/img/attachments/5d7f1c2e.png` }] : []),
      { title: 'Silence', url: memorySilence(host) },
    ],
    ...rest,
  };
}

const ABOVE_90 = 'Memory usage has been above 90% for 5 minutes.';

describe('grafana fixtures', () => {
  it('maps the documentation example, taking the rule UID from the legacy /edit URL', () => {
    const teamBlue = (alertname: string, zone: string): Record<string, string> => ({ alertname, team: 'blue', zone });
    expect(incidentsOf(fixture('docs-example'))).toStrictEqual([
      {
        schemaVersion: 1,
        fingerprint: grafanaFingerprint(['orgId=1', 'alertname=High memory usage', 'team=blue', 'zone=us-1']),
        status: 'firing',
        severity: 'warning',
        title: 'High memory usage',
        summary: 'This alert was triggered for zone us-1\n\nThe system has high memory usage\n\nValues: B=44.23943737541908, C=1',
        source: { kind: 'grafana', cloud: 'other', rule: 'High memory usage', ruleId: '1afz29v7z' },
        startsAt: '2021-10-12T07:51:03.157Z',
        labels: teamBlue('High memory usage', 'us-1'),
        links: [
          { title: 'Alert rule', url: 'https://play.grafana.org/alerting/1afz29v7z/edit' },
          { title: 'Runbook', url: 'https://myrunbook.com/runbook/1234' },
          {
            title: 'Silence',
            url: 'https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1',
          },
        ],
      },
      {
        schemaVersion: 1,
        fingerprint: grafanaFingerprint(['orgId=1', 'alertname=High CPU usage', 'team=blue', 'zone=eu-1']),
        status: 'firing',
        severity: 'warning',
        title: 'High CPU usage',
        summary: 'This alert was triggered for zone eu-1\n\nThe system has high CPU usage\n\nValues: B=44.23943737541908, C=1',
        source: { kind: 'grafana', cloud: 'other', rule: 'High CPU usage', ruleId: 'd1rdpdv7k' },
        startsAt: '2021-10-12T07:56:03.157Z',
        labels: teamBlue('High CPU usage', 'eu-1'),
        links: [
          { title: 'Alert rule', url: 'https://play.grafana.org/alerting/d1rdpdv7k/edit' },
          { title: 'Runbook', url: 'https://myrunbook.com/runbook/1234' },
          {
            title: 'Silence',
            url: 'https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT1%2Cteam%3Dblue%2Czone%3Deu-1',
          },
        ],
      },
    ]);
  });

  it('maps a firing group to one incident per alert, with a metric only for a single value', () => {
    expect(incidentsOf(fixture('firing-group'))).toStrictEqual([
      memoryIncident('web-1', { summary: `Memory usage on web-1 is 94.2%\n\n${ABOVE_90}\n\nValues: B=94.2, C=1`, image: true }),
      memoryIncident('web-2', { summary: `Memory usage on web-2 is 91.7%\n\n${ABOVE_90}\n\nValues: B=91.7, C=1` }),
      {
        schemaVersion: 1,
        fingerprint: grafanaFingerprint([
          'orgId=1',
          'alertname=Queue backlog',
          'grafana_folder=Payments',
          'service=checkout-worker',
          'severity=warning',
          'team=payments',
        ]),
        status: 'firing',
        severity: 'warning',
        title: 'Queue backlog on checkout-worker',
        summary: '1523 messages waiting in the checkout queue\n\nValues: A=1523',
        source: { kind: 'grafana', cloud: 'other', rule: 'Queue backlog', ruleId: 'fq7backlog' },
        resource: { id: 'checkout-worker', name: 'checkout-worker', type: 'service' },
        startsAt: '2026-11-25T06:35:00.000Z',
        labels: {
          alertname: 'Queue backlog',
          grafana_folder: 'Payments',
          service: 'checkout-worker',
          severity: 'warning',
          team: 'payments',
        },
        links: [
          { title: 'Alert rule', url: `${G}/alerting/grafana/fq7backlog/view?orgId=1` },
          {
            title: 'Silence',
            url: `${G}/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DQueue+backlog&matcher=grafana_folder%3DPayments&matcher=service%3Dcheckout-worker&matcher=severity%3Dwarning&matcher=team%3Dpayments&orgId=1`,
          },
        ],
        metric: { value: 1523 },
      },
    ]);
  });

  it('maps a resolved group with each alert’s end time', () => {
    expect(incidentsOf(fixture('resolved-group'))).toStrictEqual([
      memoryIncident('web-1', {
        status: 'resolved',
        summary: `Memory usage on web-1 is 61%\n\n${ABOVE_90}\n\nValues: B=61, C=0`,
        endsAt: '2026-11-25T06:55:00.000Z',
      }),
      memoryIncident('web-2', {
        status: 'resolved',
        summary: `Memory usage on web-2 is 58.3%\n\n${ABOVE_90}\n\nValues: B=58.3, C=0`,
        endsAt: '2026-11-25T06:56:00.000Z',
      }),
    ]);
  });

  it('maps each alert of a mixed group by its own status', () => {
    expect(incidentsOf(fixture('mixed-group'))).toStrictEqual([
      memoryIncident('web-1', {
        status: 'resolved',
        summary: `Memory usage on web-1 is 61%\n\n${ABOVE_90}\n\nValues: B=61, C=0`,
        endsAt: '2026-11-25T06:55:00.000Z',
      }),
      memoryIncident('web-2', { summary: `Memory usage on web-2 is 91.7%\n\n${ABOVE_90}\n\nValues: B=91.7, C=1` }),
    ]);
  });

  it('maps a repeated delivery with new values to the same fingerprint', () => {
    const repeated = incidentsOf(fixture('repeated-delivery'));
    expect(repeated).toStrictEqual([
      memoryIncident('web-1', { summary: `Memory usage on web-1 is 95%\n\n${ABOVE_90}\n\nValues: B=95, C=1`, image: true }),
    ]);
    expect(repeated[0]?.fingerprint).toBe(incidentsOf(fixture('firing-group'))[0]?.fingerprint);
  });

  it('gives firing and resolved notices one fingerprint, and other instances another', () => {
    const firing = incidentsOf(fixture('firing-group')).slice(0, 2);
    const resolved = incidentsOf(fixture('resolved-group'));
    expect(resolved.map((incident) => incident.fingerprint)).toEqual(firing.map((incident) => incident.fingerprint));
    expect(firing[0]?.fingerprint).not.toBe(firing[1]?.fingerprint);
  });

  it('defaults to warning without a severity label and accepts null values', () => {
    expect(incidentsOf(fixture('no-severity'))).toStrictEqual([
      {
        schemaVersion: 1,
        fingerprint: grafanaFingerprint([
          'orgId=1',
          'alertname=Certificate expiring',
          'grafana_folder=Edge',
          'host=lb-1.example.com',
        ]),
        status: 'firing',
        severity: 'warning',
        title: 'Certificate expiring on lb-1.example.com',
        summary: 'The TLS certificate on lb-1.example.com expires in 6 days.',
        source: { kind: 'grafana', cloud: 'other', rule: 'Certificate expiring', ruleId: 'cert-exp-1' },
        resource: { id: 'lb-1.example.com', name: 'lb-1.example.com', type: 'host' },
        startsAt: '2026-11-25T05:00:00.000Z',
        labels: { alertname: 'Certificate expiring', grafana_folder: 'Edge', host: 'lb-1.example.com' },
        links: [
          { title: 'Alert rule', url: `${G}/alerting/grafana/cert-exp-1/view?orgId=1` },
          {
            title: 'Silence',
            url: `${G}/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DCertificate+expiring&matcher=grafana_folder%3DEdge&matcher=host%3Dlb-1.example.com&orgId=1`,
          },
        ],
      },
    ]);
  });

  it('maps the severity labels of the table, case-insensitively, and unknown ones to warning', () => {
    const expected: readonly [label: string, severity: Incident['severity']][] = [
      ['error', 'error'],
      ['high', 'error'],
      ['minor', 'warning'],
      ['low', 'info'],
      ['none', 'info'],
      ['Warning', 'warning'],
      ['sev2', 'warning'],
    ];
    expect(incidentsOf(fixture('severities'))).toStrictEqual(
      expected.map(([label, severity], index): Incident => {
        const service = `api-${index + 1}`;
        return {
          schemaVersion: 1,
          fingerprint: grafanaFingerprint([
            'orgId=1',
            'alertname=Error rate',
            'grafana_folder=Api',
            `service=${service}`,
            `severity=${label}`,
          ]),
          status: 'firing',
          severity,
          title: `Error rate on ${service}`,
          summary: `5xx rate on ${service} is ${index + 2}%\n\nValues: B=${index + 2}, C=1`,
          source: { kind: 'grafana', cloud: 'other', rule: 'Error rate', ruleId: 'err-rate-7' },
          resource: { id: service, name: service, type: 'service' },
          startsAt: '2026-11-25T06:00:00.000Z',
          labels: { alertname: 'Error rate', grafana_folder: 'Api', service, severity: label },
          links: [
            { title: 'Alert rule', url: `${G}/alerting/grafana/err-rate-7/view?orgId=1` },
            {
              title: 'Silence',
              url: `${G}/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DError+rate&matcher=grafana_folder%3DApi&matcher=service%3D${service}&matcher=severity%3D${label}&orgId=1`,
            },
          ],
        };
      }),
    );
  });
});

describe('grafana: what on-call people need from real payloads', () => {
  it('maps Grafana 12’s contact-point test alert: the relative generatorURL joined to externalURL, the values shown', () => {
    expect(incidentsOf(fixture('grafana12-test-notification'))).toStrictEqual([
      {
        schemaVersion: 1,
        fingerprint: grafanaFingerprint(['orgId=1', 'alertname=TestAlert', 'grafana_folder=Test Folder', 'instance=Grafana']),
        status: 'firing',
        severity: 'warning',
        title: 'TestAlert on Grafana',
        summary: 'Notification test\n\nValues: B=22, C=1',
        source: { kind: 'grafana', cloud: 'other', rule: 'TestAlert' },
        resource: { id: 'Grafana', name: 'Grafana', type: 'instance' },
        startsAt: '2026-11-25T09:15:43.485Z',
        labels: { alertname: 'TestAlert', grafana_folder: 'Test Folder', instance: 'Grafana' },
        links: [
          { title: 'Alert rule', url: `${G}/?orgId=1` },
          { title: 'Dashboard', url: `${G}/d/dashboard_uid?from=1795598143485&orgId=1&to=1795601743486` },
          { title: 'Panel', url: `${G}/d/dashboard_uid?from=1795598143485&orgId=1&to=1795601743486&viewPanel=1` },
          {
            title: 'Silence',
            url: `${G}/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DTestAlert&matcher=grafana_folder%3DTest+Folder&matcher=instance%3DGrafana&orgId=1`,
          },
        ],
      },
    ]);
  });

  it('takes the group’s status for an alert that carries none', () => {
    const payload = payloadWith({ status: undefined }, { status: 'resolved' });
    const [incident] = incidentsOf(payload);
    expect([incident?.status, incident?.endsAt]).toEqual(['resolved', '2026-11-25T07:00:00.000Z']);
    expect(rejectionOf(payloadWith({ status: null }, { status: null })).reason).toBe(
      'alerts[0].status: expected "firing" or "resolved": the alert has no status and neither has the group',
    );
  });
});

describe('grafana edge cases', () => {
  it('keeps two organisations with the same rule apart', () => {
    const [org1] = incidentsOf(payloadWith({}));
    const [org2] = incidentsOf(payloadWith({}, { orgId: 2 }));
    expect(org1?.fingerprint).toBe(grafanaFingerprint(['orgId=1', 'alertname=Edge', 'grafana_folder=Tests']));
    expect(org2?.fingerprint).toBe(grafanaFingerprint(['orgId=2', 'alertname=Edge', 'grafana_folder=Tests']));
  });

  it('takes no metric from several values and none from a single null', () => {
    expect(incidentsOf(payloadWith({ values: { B: 1.5, C: 1 } }))[0]).not.toHaveProperty('metric');
    expect(incidentsOf(payloadWith({ values: { A: null } }))[0]).not.toHaveProperty('metric');
    expect(incidentsOf(payloadWith({ values: { A: -0.25 } }))[0]?.metric).toStrictEqual({ value: -0.25 });
  });

  it('leaves the rule id out when the generator URL names no rule', () => {
    const [incident] = incidentsOf(payloadWith({ generatorURL: `${G}/alerting/list` }));
    expect(incident?.source).toStrictEqual({ kind: 'grafana', cloud: 'other', rule: 'Edge' });
  });

  it('takes the region from a region label', () => {
    const [incident] = incidentsOf(payloadWith({ labels: { alertname: 'Edge', region: 'eu-central-1' } }));
    expect(incident?.source.region).toBe('eu-central-1');
  });

  it('uses the receive time for a resolved alert that carries no end time', () => {
    const [incident] = incidentsOf(payloadWith({ status: 'resolved', endsAt: null }));
    expect(incident?.endsAt).toBe('2026-11-25T07:00:00.000Z');
  });

  it('drops links that are not http(s), and relative ones when there is no http(s) external URL', () => {
    const links = { generatorURL: 'data:text/html,hi', dashboardURL: '/d/x', panelURL: 'not a url', imageURL: 'ftp://x/y' };
    for (const externalURL of ['', 'javascript:alert(1)', null]) {
      expect(incidentsOf(payloadWith(links, { externalURL }))[0]?.links).toStrictEqual([]);
    }
  });

  it('joins relative alert URLs to the external URL, and never makes a link of another scheme', () => {
    const [incident] = incidentsOf(
      payloadWith({ generatorURL: '?orgId=1', dashboardURL: '/d/x?orgId=1', panelURL: 'data:text/html,hi', imageURL: '', silenceURL: null }),
    );
    expect(incident?.links).toStrictEqual([
      { title: 'Alert rule', url: `${G}/?orgId=1` },
      { title: 'Dashboard', url: `${G}/d/x?orgId=1` },
    ]);
    expect(incident?.source).toStrictEqual({ kind: 'grafana', cloud: 'other', rule: 'Edge' });
  });

  it('shows the values that fired: every entry of values, else valueString, else nothing', () => {
    const summaryOf = (alert: Record<string, unknown>): string | undefined => incidentsOf(payloadWith({ annotations: {}, ...alert }))[0]?.summary;
    expect(summaryOf({ values: { B: 44.24, C: 1 }, valueString: '[ var=\'B\' value=44.24 ]' })).toBe('Values: B=44.24, C=1');
    expect(summaryOf({ values: { A: null, B: -0.5 } })).toBe('Values: A=null, B=-0.5');
    expect(summaryOf({ values: null, valueString: "[ var='B' labels={} value=22 ]" })).toBe("Values: [ var='B' labels={} value=22 ]");
    expect(summaryOf({ values: {}, valueString: '  ' })).toBeUndefined();
    expect(incidentsOf(payloadWith({ annotations: { summary: 'Disk full' }, values: { B: 97 } }))[0]?.summary).toBe('Disk full\n\nValues: B=97');
  });
});

describe('grafana detection', () => {
  it('claims Grafana payloads by orgId or version 1', () => {
    expect(grafana.detect(fixture('firing-group'))).toBe(true);
    expect(grafana.detect(fixture('docs-example'))).toBe(true);
    const withoutOrg = fixture('firing-group');
    delete withoutOrg.orgId;
    expect(grafana.detect(withoutOrg)).toBe(true);
    expect(alertmanager.detect(fixture('firing-group'))).toBe(false);
  });

  it('does not claim Alertmanager payloads or non-objects', () => {
    expect(grafana.detect(fixture('firing-group', 'alertmanager'))).toBe(false);
    expect(grafana.detect({ orgId: 1 })).toBe(false);
    expect(grafana.detect(undefined)).toBe(false);
    expect(grafana.detect(42)).toBe(false);
  });

  it('is what normalize() picks for a Grafana payload, ahead of Alertmanager', async () => {
    // Imported here: normalize.ts imports every source, some of them written concurrently.
    const { normalize } = await import('../../shared/normalize.ts');
    const normalized = normalize(fixture('firing-group'), { receivedAt });
    expect(normalized.source).toBe('grafana');
    expect(normalized.incidents).toHaveLength(3);
    expect(normalized.incidents[0]?.fingerprint).toBe(memoryFingerprint('web-1'));
  });
});

describe('grafana rejections', () => {
  it('names a missing orgId', () => {
    const payload = fixture('firing-group');
    delete payload.orgId;
    expect(rejectionOf(payload)).toMatchObject({ source: 'grafana', reason: expect.stringMatching(/^orgId: /) as unknown });
  });

  it('names the version when it is not 1', () => {
    expect(rejectionOf({ ...fixture('firing-group'), version: '4' }).reason).toMatch(/^version: /);
  });

  it('names a value that is not a number', () => {
    expect(rejectionOf(payloadWith({ values: { B: '42' } })).reason).toMatch(/^alerts\[0\]\.values\.B: /);
  });

  it('names an alert status Grafana does not send', () => {
    expect(rejectionOf(payloadWith({ status: 'alerting' })).reason).toMatch(/^alerts\[0\]\.status: /);
  });
});
