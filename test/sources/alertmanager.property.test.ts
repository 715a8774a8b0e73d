// Property tests for the Alertmanager source: generated valid payloads always give
// schema-valid incidents with the right count, status and identity; mutated fixtures and
// arbitrary JSON are either mapped or refused with a PayloadRejectedError, never anything else.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alertmanager } from '../../shared/sources/alertmanager.ts';
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
} from '../helpers/prometheus-property.ts';

const receivedAt = new Date('2026-11-25T07:00:00.000Z');

const FIXTURES = [
  'firing-group',
  'resolved-group',
  'mixed-group',
  'repeated-delivery',
  'severities',
  'no-severity',
  'crashlooping-pod',
  'version-3-group',
  'documented-no-alert-status',
];

/** Valid incidents, or one rejection that names this source. */
const mappedOrRejected = mappedOrRejectedBy(alertmanager, { receivedAt });

// Alertmanager's webhook is the base shape: nothing to add.
const payloadArbitrary = groupArbitrary({ version: '4', alert: {}, group: {} });

describe('alertmanager properties', () => {
  it('maps every generated valid payload to one schema-valid incident per alert', () => {
    fc.assert(
      fc.property(payloadArbitrary, (payload) => {
        expectOneIncidentPerAlert(alertmanager, mappedOrRejected, payload);
      }),
      runs(1101),
    );
  });

  it('keeps an alert’s fingerprint through status, times and annotations, and not through a label change', () => {
    fc.assert(
      fc.property(payloadArbitrary, rfc3339, labelValue, (payload, time, changed) => {
        expectFingerprintFollowsLabels(mappedOrRejected, payload, time, changed);
      }),
      runs(1102),
    );
  });

  it('maps or rejects mutated fixtures, never throwing anything else', () => {
    const payloads = FIXTURES.map((name) => fixture('alertmanager', name));
    fc.assert(
      fc.property(fixtureChanges(payloads), ({ payload, changes }) => {
        mappedOrRejected(applyChanges(payload, changes));
      }),
      runs(1103),
    );
  });

  it('maps or rejects arbitrary JSON, and detection never throws', () => {
    assertJsonMappedOrRejected(mappedOrRejected, runs(1104));
    assertDetectNeverThrows(alertmanager, runs(1105));
  });

  it('maps a version 3 webhook as version 4, and gives alerts without a status the group’s', () => {
    fc.assert(
      fc.property(payloadArbitrary, fc.constantFrom(undefined, null), (payload, missing) => {
        const incidents = mappedOrRejected(payload);
        expect(mappedOrRejected({ ...payload, version: '3' })).toStrictEqual(incidents);
        const statusless = { ...payload, alerts: payload.alerts.map((alert) => ({ ...alert, status: missing })) };
        const fromGroup = mappedOrRejected(statusless);
        expect(fromGroup?.map((incident) => incident.status)).toEqual(payload.alerts.map(() => payload.status));
        expect(fromGroup?.map((incident) => incident.fingerprint)).toEqual(incidents?.map((incident) => incident.fingerprint));
      }),
      runs(1106),
    );
  });
});
