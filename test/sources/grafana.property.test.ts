// Property tests for the Grafana source: generated valid payloads always give schema-valid
// incidents with the right count, status, identity and metric; mutated fixtures and arbitrary
// JSON are either mapped or refused with a PayloadRejectedError, never anything else.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { grafana } from '../../shared/sources/grafana.ts';
import {
  applyChanges,
  assertDetectNeverThrows,
  assertJsonMappedOrRejected,
  fixture,
  fixtureChanges,
  mappedOrRejectedBy,
  runs,
} from '../helpers/property.ts';
import {
  expectFingerprintFollowsLabels,
  expectOneIncidentPerAlert,
  groupArbitrary,
  labelValue,
  rfc3339,
  url,
} from '../helpers/prometheus-property.ts';

const receivedAt = new Date('2026-11-25T07:00:00.000Z');

const FIXTURES = ['docs-example', 'firing-group', 'resolved-group', 'mixed-group', 'repeated-delivery', 'severities', 'no-severity', 'grafana12-test-notification'];

/** Valid incidents, or one rejection that names this source. */
const mappedOrRejected = mappedOrRejectedBy(grafana, { receivedAt });

// Alertmanager's webhook plus what Grafana adds: links, values and the organisation.
const payloadArbitrary = groupArbitrary({
  version: '1',
  alert: {
    generatorURL: fc.oneof(url, fc.stringMatching(/^[\w-]{1,14}$/).map((uid) => `https://grafana.example.com/alerting/grafana/${uid}/view?orgId=1`)),
    silenceURL: url,
    dashboardURL: url,
    panelURL: url,
    imageURL: url,
    values: fc.option(fc.dictionary(fc.constantFrom('A', 'B', 'C', 'D'), fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }), { maxKeys: 3 }), { nil: null }),
    valueString: fc.string(),
  },
  group: {
    orgId: fc.nat(),
    title: fc.string(),
    state: fc.constantFrom('alerting', 'ok'),
    message: fc.string(),
  },
});

describe('grafana properties', () => {
  it('maps every generated valid payload to one schema-valid incident per alert', () => {
    fc.assert(
      fc.property(payloadArbitrary, (payload) => {
        expectOneIncidentPerAlert(grafana, mappedOrRejected, payload);
      }),
      runs(1201),
    );
  });

  it('keeps an alert’s fingerprint through status, times and annotations, and not through a label change', () => {
    fc.assert(
      fc.property(payloadArbitrary, rfc3339, labelValue, (payload, time, changed) => {
        expectFingerprintFollowsLabels(mappedOrRejected, payload, time, changed);
      }),
      runs(1202),
    );
  });

  it('maps or rejects mutated fixtures, never throwing anything else', () => {
    const payloads = FIXTURES.map((name) => fixture('grafana', name));
    fc.assert(
      fc.property(fixtureChanges(payloads), ({ payload, changes }) => {
        mappedOrRejected(applyChanges(payload, changes));
      }),
      runs(1203),
    );
  });

  it('maps or rejects arbitrary JSON, and detection never throws', () => {
    assertJsonMappedOrRejected(mappedOrRejected, runs(1204));
    assertDetectNeverThrows(grafana, runs(1205));
  });

  it('keeps the same alerts of two organisations apart', () => {
    fc.assert(
      fc.property(payloadArbitrary, fc.nat(), (payload, otherOrg) => {
        fc.pre(otherOrg !== payload.orgId);
        const here = mappedOrRejected(payload)?.map((incident) => incident.fingerprint) ?? [];
        const there = mappedOrRejected({ ...payload, orgId: otherOrg })?.map((incident) => incident.fingerprint) ?? [];
        here.forEach((fingerprint, index) => {
          expect(there[index]).not.toBe(fingerprint);
          expect(fingerprint).toMatch(/^grafana:[0-9a-f]{32}$/);
        });
      }),
      runs(1206),
    );
  });
});
