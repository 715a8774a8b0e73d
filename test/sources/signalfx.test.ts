// Splunk Observability Cloud (SignalFx) webhook notifications → incidents. Two fixtures are
// Splunk's documented request examples (docs-*: realm and ids filled in, the first one's
// duplicated `description` key kept as published: the later value wins); the default-payload-*
// fixtures carry every field of the integration's default payload.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PayloadRejectedError } from '../../shared/errors.ts';
import type { SourceRejection } from '../../shared/errors.ts';
import { fingerprintOf, labelSetPart } from '../../shared/fingerprint.ts';
import { incidentSchema } from '../../shared/incident.ts';
import type { Incident } from '../../shared/incident.ts';
import { ingestEndpointFor } from '../../shared/ingest/routes.ts';
import { signalFx } from '../../shared/sources/signalfx.ts';

const receivedAt = new Date('2026-11-25T22:00:00.000Z');

type Json = Record<string, unknown>;

function fixture(name: string): Json {
  return JSON.parse(readFileSync(new URL(`../fixtures/signalfx/${name}.json`, import.meta.url), 'utf8')) as Json;
}

function incidentsOf(payload: unknown): Incident[] {
  const incidents = signalFx.normalize(payload, { receivedAt });
  for (const incident of incidents) expect(incidentSchema.safeParse(incident).error).toBeUndefined();
  return incidents;
}

function only(payload: unknown): Incident {
  const incidents = incidentsOf(payload);
  expect(incidents).toHaveLength(1);
  return incidents[0]!;
}

function rejectionOf(payload: unknown): SourceRejection {
  try {
    signalFx.normalize(payload, { receivedAt });
  } catch (error) {
    expect(error).toBeInstanceOf(PayloadRejectedError);
    const rejections = (error as PayloadRejectedError).rejections;
    expect(rejections).toHaveLength(1);
    return rejections[0]!;
  }
  throw new Error('payload was not rejected');
}

const CPU_FINGERPRINT = fingerprintOf('signalfx', [
  'detector=FJ2x4W7a1BY',
  'rule=CPU above 85% for 5 minutes',
  labelSetPart({ environment: 'prod', host: 'checkout-3', 'service.name': 'checkout' }),
]);

function cpuIncident(changes: Partial<Incident>): Incident {
  return {
    schemaVersion: 1,
    fingerprint: CPU_FINGERPRINT,
    status: 'firing',
    severity: 'error',
    title: 'Checkout hosts CPU: CPU above 85% for 5 minutes on checkout-3',
    summary:
      'The mean of cpu.utilization over 5m is above 85.\n\nRule "CPU above 85% for 5 minutes" in detector "Checkout hosts CPU" triggered at Wed, 25 Nov 2026 08:21:00 UTC.\n\nTriggering condition: The mean of cpu.utilization over 5m is above 85.\n\nSignal value for cpu.utilization - Mean(5m): 91.37\n\nSignal details:\n{environment=prod, host=checkout-3, service.name=checkout}\n\nTip: Check the last deploy of checkout before scaling out.',
    source: { kind: 'signalfx', cloud: 'other', account: 'FZ8a7B6c5D4', rule: 'Checkout hosts CPU', ruleId: 'FJ2x4W7a1BY' },
    resource: { id: 'environment=prod,host=checkout-3,service.name=checkout', name: 'checkout-3', type: 'host' },
    startsAt: '2026-11-25T08:21:00.000Z',
    labels: {
      environment: 'prod',
      host: 'checkout-3',
      'service.name': 'checkout',
      detector_rule: 'CPU above 85% for 5 minutes',
      signalfx_severity: 'Major',
      signalfx_status: 'anomalous',
      incident_id: 'FK3y5X8b2CZ',
    },
    links: [
      { title: 'Detector', url: 'https://app.us1.signalfx.com/#/detector/v2/FJ2x4W7a1BY?incidentId=FK3y5X8b2CZ' },
      { title: 'Runbook', url: 'https://runbooks.example.com/checkout/cpu' },
      { title: 'Alert preview', url: 'https://org.us1.signalfx.com/#/chart/FJ2x4W7a1BZ' },
    ],
    metric: { name: 'cpu.utilization', value: 91.37 },
    ...changes,
  };
}

describe('signalfx: Splunk’s documented examples', () => {
  it('maps the cleared memory alert (status ok): resolved, Minor is warning, the host names the resource', () => {
    expect(only(fixture('docs-memory-ok'))).toStrictEqual({
      schemaVersion: 1,
      fingerprint: fingerprintOf('signalfx', ['detector=Memory usage detector', 'rule=Running out of memory', labelSetPart({ host: 'i-346235qa', plugin: 'signalfx-metadata' })]),
      status: 'resolved',
      severity: 'warning',
      title: 'Memory usage detector: Running out of memory on i-346235qa',
      summary: 'Memory has reached 90% of maximum for 10 minutes',
      source: { kind: 'signalfx', cloud: 'other', rule: 'Memory usage detector', ruleId: 'ABCDEFGHIJK' },
      resource: { id: 'host=i-346235qa,plugin=signalfx-metadata', name: 'i-346235qa', type: 'host' },
      startsAt: '2026-11-25T19:43:30.000Z',
      endsAt: '2026-11-25T19:43:30.000Z',
      labels: {
        host: 'i-346235qa',
        plugin: 'signalfx-metadata',
        detector_rule: 'Running out of memory',
        signalfx_severity: 'Minor',
        signalfx_status: 'ok',
        incident_id: 'BCDEFGHIJKL',
      },
      links: [
        { title: 'Detector', url: 'https://app.us1.signalfx.com/#/detector/ABCDEFGHIJK/edit' },
        { title: 'Alert preview', url: 'https://org.us1.signalfx.com/#/chart/abCDefGHij' },
      ],
      metric: { name: 'memory.utilization', value: 96.235234634345 },
    });
  });

  it('maps the anomalous latency alert: Critical is critical; the dimensions of every input; the signal’s value, not the threshold', () => {
    expect(only(fixture('docs-latency-anomalous'))).toStrictEqual({
      schemaVersion: 1,
      fingerprint: fingerprintOf('signalfx', ['detector=My detector', 'rule=My detector rule', labelSetPart({ dc: 'us-west-1', host: 'myserver' })]),
      status: 'firing',
      severity: 'critical',
      title: 'My detector: My detector rule on myserver',
      summary: 'Latency of host myserver is 43.4, over a datacenter-wide latency of 42.9',
      source: { kind: 'signalfx', cloud: 'other', rule: 'My detector', ruleId: 'FA1b2C3d4E5' },
      resource: { id: 'dc=us-west-1,host=myserver', name: 'myserver', type: 'host' },
      startsAt: '2026-11-25T21:19:38.000Z',
      labels: {
        dc: 'us-west-1',
        host: 'myserver',
        detector_rule: 'My detector rule',
        signalfx_severity: 'Critical',
        signalfx_status: 'anomalous',
        incident_id: 'FB2c3D4e5F6',
      },
      links: [
        { title: 'Detector', url: 'https://app.us1.signalfx.com/#/detector/FA1b2C3d4E5/edit' },
        { title: 'Alert preview', url: 'https://org.us1.signalfx.com/#/chart/abCDefGHij' },
      ],
      metric: { name: 'latency', value: 43.4 },
    });
  });
});

describe('signalfx: the default payload', () => {
  it('maps every field: detector id, org, runbook, tip, dimensions, originating metric', () => {
    expect(only(fixture('default-payload-anomalous'))).toStrictEqual(cpuIncident({}));
  });

  it('maps a manually resolved alert as resolved with the same fingerprint', () => {
    expect(only(fixture('default-payload-manually-resolved'))).toStrictEqual(
      cpuIncident({
        status: 'resolved',
        summary:
          'The mean of cpu.utilization over 5m is above 85.\n\nRule "CPU above 85% for 5 minutes" in detector "Checkout hosts CPU" was manually resolved at Wed, 25 Nov 2026 08:47:12 UTC.\n\nTip: Check the last deploy of checkout before scaling out.',
        startsAt: '2026-11-25T08:47:12.000Z',
        endsAt: '2026-11-25T08:47:12.000Z',
        labels: { ...cpuIncident({}).labels, signalfx_status: 'manually resolved' },
        metric: { name: 'cpu.utilization', value: 88.02 },
      }),
    );
  });

  it.each([
    ['anomalous', 'firing'],
    ['ok', 'resolved'],
    ['manually resolved', 'resolved'],
    ['MANUALLY_RESOLVED', 'resolved'],
    ['stopped', 'resolved'],
    ['Stopped', 'resolved'],
  ])('reads statusExtended %j as %s', (statusExtended, status) => {
    const incident = only({ ...fixture('default-payload-anomalous'), statusExtended, status: 'whatever the old field says' });
    expect(incident.status).toBe(status);
    expect(incident.endsAt !== undefined).toBe(status === 'resolved');
    expect(incident.fingerprint).toBe(CPU_FINGERPRINT);
  });

  it('falls back to the older status field without statusExtended', () => {
    const { statusExtended: _extended, ...older } = fixture('default-payload-anomalous');
    expect(only({ ...older, status: 'ok' }).status).toBe('resolved');
    expect(only({ ...older, statusExtended: '', status: 'anomalous' }).status).toBe('firing');
  });

  it.each([
    ['Critical', 'critical'],
    ['Major', 'error'],
    ['Minor', 'warning'],
    ['Warning', 'warning'],
    ['Info', 'info'],
    ['critical', 'critical'],
    ['Sev1', 'warning'],
    ['', 'warning'],
    ['constructor', 'warning'],
  ])('maps severity %j to %s', (severity, expected) => {
    expect(only({ ...fixture('default-payload-anomalous'), severity }).severity).toBe(expected);
  });

  it('gives another host another fingerprint, and another incident id the same one', () => {
    const payload = fixture('default-payload-anomalous');
    const otherHost = only({ ...payload, dimensions: { ...(payload.dimensions as Json), host: 'checkout-4' } });
    expect(otherHost.fingerprint).not.toBe(CPU_FINGERPRINT);
    expect(otherHost.title).toBe('Checkout hosts CPU: CPU above 85% for 5 minutes on checkout-4');
    expect(only({ ...payload, incidentId: 'FZZZZZZZZZZ', eventType: 'edited', timestamp: '2026-11-26T00:00:00Z' }).fingerprint).toBe(CPU_FINGERPRINT);
    expect(only({ ...payload, rule: 'CPU above 95% for 5 minutes' }).fingerprint).not.toBe(CPU_FINGERPRINT);
  });

  it('reads absent values written as empty strings as absent, and takes the detector id from the URL', () => {
    const incident = only({
      ...fixture('default-payload-anomalous'),
      detectorId: '',
      runbookUrl: '',
      tip: '',
      imageUrl: '',
      orgId: '',
      originatingMetric: '',
      timestamp: '',
      messageBody: '',
      description: '',
    });
    expect(incident.source).toStrictEqual({ kind: 'signalfx', cloud: 'other', rule: 'Checkout hosts CPU', ruleId: 'FJ2x4W7a1BY' });
    expect(incident.links).toStrictEqual([{ title: 'Detector', url: 'https://app.us1.signalfx.com/#/detector/v2/FJ2x4W7a1BY?incidentId=FK3y5X8b2CZ' }]);
    expect(incident.startsAt).toBe(receivedAt.toISOString());
    expect(incident.summary).toBeUndefined();
    // The metric name from the signal's data('...') call.
    expect(incident.metric).toStrictEqual({ name: 'cpu.utilization', value: 91.37 });
  });

  it('titles by the detector alone when the rule is absent or the same, and names no resource without dimensions', () => {
    const { dimensions: _dimensions, inputs: _inputs, rule: _rule, ...bare } = fixture('default-payload-anomalous');
    const incident = only(bare);
    expect([incident.title, incident.resource, incident.metric]).toEqual(['Checkout hosts CPU', undefined, { name: 'cpu.utilization' }]);
    expect(incident.fingerprint).toBe(fingerprintOf('signalfx', ['detector=FJ2x4W7a1BY', 'rule=', '[]']));
    expect(only({ ...bare, rule: 'Checkout hosts CPU' }).title).toBe('Checkout hosts CPU');
  });

  it('names the resource by host, pod, container or service before any other dimension, and never by an sf_ one', () => {
    const nameOf = (dimensions: Json): string | undefined => only({ ...fixture('default-payload-anomalous'), dimensions }).resource?.name;
    expect(nameOf({ sf_metric: 'cpu.utilization', 'k8s.cluster.name': 'prod', 'k8s.pod.name': 'checkout-7d9f' })).toBe('checkout-7d9f');
    expect(nameOf({ 'service.name': 'checkout', 'container.name': 'app' })).toBe('app');
    expect(nameOf({ sf_metric: 'cpu.utilization', team: 'payments' })).toBe('payments');
    expect(nameOf({ sf_metric: 'cpu.utilization' })).toBeUndefined();
  });

  it('a dimension named __proto__ cannot change the labels’ prototype', () => {
    const incident = only({ ...fixture('default-payload-anomalous'), dimensions: JSON.parse('{"__proto__":"x","host":"h"}') as Json });
    expect(Object.getPrototypeOf(incident.labels)).toBe(Object.prototype);
    expect(incident.labels.host).toBe('h');
  });
});

describe('signalfx: detection and rejections', () => {
  it('claims Splunk’s payloads, and not the other sources’', () => {
    for (const name of ['docs-memory-ok', 'docs-latency-anomalous', 'default-payload-anomalous', 'default-payload-manually-resolved']) {
      expect(signalFx.detect(fixture(name))).toBe(true);
    }
    expect(signalFx.detect({ detector: 'd', incidentId: 'i', status: 'ok' })).toBe(true);
    for (const other of [null, 42, [], { detector: 'd' }, { sf_schema: 2, alerts: [] }, { version: '4', status: 'firing', alerts: [] }, { schemaId: 'azureMonitorCommonAlertSchema' }]) {
      expect(signalFx.detect(other)).toBe(false);
    }
  });

  it('is what normalize() picks for a SignalFx payload, and the /v1/ingest/signalfx route reads it as one', async () => {
    const { normalize } = await import('../../shared/normalize.ts');
    const normalized = normalize(fixture('default-payload-anomalous'), { receivedAt });
    expect(normalized.source).toBe('signalfx');
    expect(normalized.incidents.map((incident) => incident.fingerprint)).toEqual([CPU_FINGERPRINT]);
    expect(ingestEndpointFor('/v1/ingest/signalfx')).toBe('signalfx');
  });

  it('names a missing detector, an unknown status and a missing one', () => {
    const { detector: _detector, ...nameless } = fixture('docs-latency-anomalous');
    expect(rejectionOf(nameless)).toStrictEqual({ source: 'signalfx', reason: 'detector: Invalid input: expected string, received undefined' });
    expect(rejectionOf({ ...fixture('docs-latency-anomalous'), statusExtended: 'acknowledged' })).toStrictEqual({
      source: 'signalfx',
      reason: 'statusExtended: expected anomalous, ok, manually resolved or stopped, received "acknowledged"',
    });
    const { statusExtended: _unused, ...older } = fixture('docs-latency-anomalous');
    expect(rejectionOf({ ...older, status: 'firing' }).reason).toBe('status: expected anomalous, ok, manually resolved or stopped, received "firing"');
    const { status: _status, statusExtended: _extended, ...statusless } = fixture('docs-latency-anomalous');
    expect(rejectionOf(statusless)).toStrictEqual({
      source: 'signalfx',
      reason: 'statusExtended: expected anomalous, ok, manually resolved or stopped (statusExtended, or status)',
    });
  });

  it('names a timestamp that is not ISO 8601', () => {
    expect(rejectionOf({ ...fixture('docs-latency-anomalous'), timestamp: '25/11/2026 21:19' })).toStrictEqual({
      source: 'signalfx',
      reason: 'timestamp: expected an ISO 8601 date-time like 2026-11-25T19:43:30Z',
    });
  });
});
