// Fingerprints are the store's keys: a release that changes one re-opens (and re-pages) every
// open incident of that kind. These values are pinned; a change here is a breaking change to
// announce (README, "Fingerprints"), never a test to update in passing. After such a change,
// or a merge that adds fixtures, re-pin with `node test/helpers/fingerprint-golden.ts`.
import { describe, expect, it } from 'vitest';
import { fingerprintOf, labelSetPart } from '../../shared/fingerprint.ts';
import { SOURCE_KINDS } from '../../shared/incident.ts';
import { normalize } from '../../shared/normalize.ts';
import { fingerprintsOf, fixtureFiles, pinnedFingerprints } from '../helpers/fingerprint-golden.ts';

const pinned = pinnedFingerprints();
const receivedAt = new Date('2026-11-25T00:00:00Z');

describe('fingerprints are stable across releases', () => {
  it('the hash format itself: kind, then each part length-prefixed, SHA-256, 32 hex', () => {
    // Computed outside Node, with Python's hashlib:
    //   part = '[["alertname","Bare"]]'
    //   sha256(("alertmanager" + "\0" + str(len(part)) + ":" + part).encode()).hexdigest()[:32]
    expect(labelSetPart({ alertname: 'Bare' })).toBe('[["alertname","Bare"]]');
    expect(fingerprintOf('alertmanager', [labelSetPart({ alertname: 'Bare' })])).toBe('alertmanager:2f4638a341a15e2bc497cdac8dcbab50');
    // The same way: {"a=b":"c"} → 41a3b93c…, {"a":"b=c"} → d04f130e…
    expect(fingerprintOf('alertmanager', [labelSetPart({ 'a=b': 'c' })])).toBe('alertmanager:41a3b93c9c4a21ef6235a2bd1cd68dd6');
    expect(fingerprintOf('alertmanager', [labelSetPart({ a: 'b=c' })])).toBe('alertmanager:d04f130e3cf8dba01101f3b512f6cc9b');
  });

  for (const kind of SOURCE_KINDS) {
    it(`${kind}: every fixture gives its pinned fingerprints`, () => {
      let checked = 0;
      for (const file of fixtureFiles(kind)) {
        const actual = fingerprintsOf(kind, file);
        if (actual === undefined) continue;
        const key = `${kind}/${file}`;
        expect(pinned[key], `${key} is not pinned; run node test/helpers/fingerprint-golden.ts`).toBeDefined();
        expect(actual, key).toStrictEqual(pinned[key]);
        checked += 1;
      }
      expect(checked).toBeGreaterThan(0);
    });
  }
});

describe('the canonical encoding is unambiguous', () => {
  const alert = (labels: Record<string, string>) => ({ status: 'firing', labels, annotations: {}, startsAt: '2026-11-25T10:00:00Z' });
  const fingerprint = (payload: unknown): string[] =>
    normalize(payload, { receivedAt }).incidents.map((incident) => incident.fingerprint);
  // Pairs of label sets that read alike as joined `key=value` strings.
  const lookalikes: [string, Record<string, string>, Record<string, string>][] = [
    ['"=" moved between key and value', { 'a=b': 'c' }, { a: 'b=c' }],
    ['two labels or one with a comma', { a: 'b', c: 'd' }, { a: 'b,c=d' }],
    ['a quote in a value', { a: 'b","c' }, { a: 'b', c: '' }],
  ];

  it.each(lookalikes)('Alertmanager: %s gives two fingerprints', (_name, one, other) => {
    const payload = (labels: Record<string, string>) => ({ version: '4', status: 'firing', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, alerts: [alert(labels)] });
    expect(fingerprint(payload(one))).not.toEqual(fingerprint(payload(other)));
  });

  it.each(lookalikes)('Grafana: %s gives two fingerprints', (_name, one, other) => {
    const payload = (labels: Record<string, string>) => ({ version: '1', orgId: 1, status: 'firing', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, alerts: [alert(labels)] });
    expect(fingerprint(payload(one))).not.toEqual(fingerprint(payload(other)));
  });

  it('Cloud Monitoring: a label moved from the resource to the metric gives another fingerprint', () => {
    const payload = (resource: Record<string, string>, metric: Record<string, string>) => ({
      version: '1.2',
      incident: {
        incident_id: 'x',
        policy_name: 'projects/p/alertPolicies/1',
        condition: { name: 'projects/p/alertPolicies/1/conditions/2' },
        state: 'open',
        started_at: 1_764_000_000,
        resource: { type: 'gce_instance', labels: resource },
        metric: { type: 'compute.googleapis.com/instance/cpu/utilization', labels: metric },
        summary: 's',
      },
    });
    expect(fingerprint(payload({ zone: 'a' }, {}))).not.toEqual(fingerprint(payload({}, { zone: 'a' })));
    expect(fingerprint(payload({ 'a=b': 'c' }, {}))).not.toEqual(fingerprint(payload({ a: 'b=c' }, {})));
  });
});
