// Property tests for the SignalFx source: generated valid notifications always give one
// schema-valid incident with the right status and severity; the fingerprint follows detector,
// rule and dimensions and nothing else; mutated fixtures and arbitrary JSON are either mapped or
// refused with a PayloadRejectedError, never anything else.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Incident } from '../../shared/incident.ts';
import { signalFx } from '../../shared/sources/signalfx.ts';
import {
  applyChanges,
  assertDetectNeverThrows,
  assertJsonMappedOrRejected,
  fixture,
  fixtureChanges,
  mappedOrRejectedBy,
  runs,
} from '../helpers/property.ts';

const receivedAt = new Date('2026-11-25T22:00:00.000Z');

const FIXTURES = ['docs-memory-ok', 'docs-latency-anomalous', 'default-payload-anomalous', 'default-payload-manually-resolved'];

const mapped = mappedOrRejectedBy(signalFx, { receivedAt });

/** Valid incidents (a notification carries exactly one), or one rejection that names this source. */
function mappedOrRejected(payload: unknown): Incident[] | undefined {
  const incidents = mapped(payload);
  if (incidents !== undefined) expect(incidents).toHaveLength(1);
  return incidents;
}

const STATUS: Readonly<Record<string, Incident['status']>> = {
  anomalous: 'firing',
  ok: 'resolved',
  'manually resolved': 'resolved',
  stopped: 'resolved',
};
const SEVERITY: Readonly<Record<string, Incident['severity']>> = {
  Critical: 'critical',
  Major: 'error',
  Minor: 'warning',
  Warning: 'warning',
  Info: 'info',
};

const text = fc.string({ maxLength: 24, unit: 'grapheme' });
const dimensionName = fc.stringMatching(/^[a-z][a-z0-9_.]{0,12}$/);
const dimensions = fc.dictionary(dimensionName, fc.string({ minLength: 1, maxLength: 16 }), { maxKeys: 4 });
const url = fc.oneof(fc.webUrl(), fc.constantFrom('', 'javascript:alert(1)', 'not a url'));
const isoTime = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
  .map((date) => date.toISOString().replace('.000Z', 'Z'));

const notificationArbitrary = fc.record(
  {
    sf_schema: fc.constant(2),
    detector: fc.string({ minLength: 1, maxLength: 24 }).filter((name) => name.trim() !== ''),
    detectorId: fc.stringMatching(/^[A-Za-z0-9]{11}$/),
    detectorUrl: url,
    rule: text,
    severity: fc.oneof(fc.constantFrom(...Object.keys(SEVERITY)), text),
    statusExtended: fc.constantFrom(...Object.keys(STATUS)),
    incidentId: fc.stringMatching(/^[A-Za-z0-9]{11}$/),
    eventType: text,
    timestamp: isoTime,
    description: text,
    messageTitle: text,
    messageBody: text,
    runbookUrl: url,
    tip: text,
    imageUrl: url,
    originatingMetric: text,
    orgId: text,
    dimensions,
    inputs: fc.dictionary(
      fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,4}$/),
      fc.record({ key: dimensions, value: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), text), fragment: text }, { requiredKeys: [] }),
      { maxKeys: 3 },
    ),
  },
  { requiredKeys: ['sf_schema', 'detector', 'statusExtended'] },
);

describe('signalfx properties', () => {
  it('maps every generated valid notification to one schema-valid incident', () => {
    fc.assert(
      fc.property(notificationArbitrary, (notification) => {
        expect(signalFx.detect(notification)).toBe(true);
        const [incident] = mappedOrRejected(notification) ?? [];
        expect(incident).toBeDefined();
        expect(incident?.status).toBe(STATUS[notification.statusExtended]);
        expect(incident?.endsAt !== undefined).toBe(incident?.status === 'resolved');
        expect(incident?.severity).toBe((notification.severity === undefined ? undefined : SEVERITY[notification.severity]) ?? 'warning');
        expect(incident?.source).toMatchObject({ kind: 'signalfx', rule: notification.detector.trim() });
        expect(incident?.title.startsWith(notification.detector.trim())).toBe(true);
      }),
      runs(1401),
    );
  });

  it('keeps the fingerprint through status, times, texts and incident id, and not through another dimension value', () => {
    fc.assert(
      fc.property(notificationArbitrary, isoTime, text, fc.string({ minLength: 1, maxLength: 8 }), (notification, time, words, changed) => {
        const [before] = mappedOrRejected(notification) ?? [];
        const [after] = mappedOrRejected({
          ...notification,
          statusExtended: notification.statusExtended === 'anomalous' ? 'ok' : 'anomalous',
          timestamp: time,
          description: words,
          messageBody: words,
          incidentId: 'FZZZZZZZZZZ',
          eventType: words,
        }) ?? [];
        expect(after?.fingerprint).toBe(before?.fingerprint);
        const [other] = mappedOrRejected({ ...notification, dimensions: { ...notification.dimensions, zz_changed: `${changed}!` } }) ?? [];
        expect(other?.fingerprint).not.toBe(before?.fingerprint);
        expect(before?.fingerprint).toMatch(/^signalfx:[0-9a-f]{32}$/);
      }),
      runs(1402),
    );
  });

  it('maps or rejects mutated fixtures, never throwing anything else', () => {
    const payloads = FIXTURES.map((name) => fixture('signalfx', name));
    fc.assert(
      fc.property(fixtureChanges(payloads), ({ payload, changes }) => {
        mappedOrRejected(applyChanges(payload, changes));
      }),
      runs(1403),
    );
  });

  it('maps or rejects arbitrary JSON, and detection never throws', () => {
    assertJsonMappedOrRejected(mappedOrRejected, runs(1404));
    assertDetectNeverThrows(signalFx, runs(1405));
  });
});
