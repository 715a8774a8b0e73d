// Property tests for the Cloud Monitoring source: generated valid notifications always give one
// schema-valid incident, the same one through a Pub/Sub push, and one fingerprint for open and
// closed; mutated fixtures and arbitrary JSON are either mapped or refused with a
// PayloadRejectedError, never anything else.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TEST_LABEL } from '../../shared/incident.ts';
import type { Incident } from '../../shared/incident.ts';
import { gcpMonitoring } from '../../shared/sources/gcp-monitoring.ts';
import {
  applyChanges,
  assertDetectNeverThrows,
  assertJsonMappedOrRejected,
  fixture,
  fixtureChanges,
  jsonChanges,
  mappedOrRejectedBy,
  runs,
} from '../helpers/property.ts';

const receivedAt = new Date('2026-11-25T07:00:00.000Z');

const FIXTURES = [
  'metric-open',
  'metric-closed',
  'metric-open-second-resource',
  'metric-open-no-severity',
  'log-based-open',
  'log-based-closed',
  'test-notification',
  'pubsub-push-metric-open',
  'uptime-check-legacy',
  'promql-open',
];

const mapped = mappedOrRejectedBy(gcpMonitoring, { receivedAt });

/** Valid incidents (a notification carries exactly one), or one rejection that names this source. */
function mappedOrRejected(payload: unknown): Incident[] | undefined {
  const incidents = mapped(payload);
  if (incidents !== undefined) expect(incidents).toHaveLength(1);
  return incidents;
}

function pubSubPush(notification: unknown): Record<string, unknown> {
  return {
    message: { data: Buffer.from(JSON.stringify(notification)).toString('base64'), messageId: '1', publishTime: '2026-11-25T06:00:00Z' },
    subscription: 'projects/p/subscriptions/s',
  };
}

const text = fc.string({ maxLength: 24, unit: 'grapheme' });
const labelName = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/);
const labelMap = fc.dictionary(labelName, text, { maxKeys: 4 });
const url = fc.oneof(fc.webUrl(), fc.constantFrom('', 'javascript:alert(1)', 'not a url'));
const unixSeconds = fc.integer({ min: 0, max: 4_102_444_800 });
const decimal = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  text,
);
const path = fc.stringMatching(/^[a-z0-9-]{1,12}$/);

const incidentArbitrary = fc.record(
  {
    incident_id: text,
    scoping_project_id: text,
    scoping_project_number: fc.nat(),
    url,
    severity: fc.oneof(fc.constantFrom('CRITICAL', 'ERROR', 'WARNING', 'No severity', 'critical'), text),
    started_at: unixSeconds,
    ended_at: fc.option(unixSeconds, { nil: null }),
    state: fc.constantFrom('open', 'closed', 'OPEN', 'Closed'),
    summary: text,
    apigee_url: url,
    observed_value: decimal,
    threshold_value: decimal,
    resource: fc.record({ type: text, labels: labelMap }, { requiredKeys: [] }),
    resource_id: text,
    resource_display_name: text,
    resource_name: text,
    metric: fc.record({ type: text, displayName: text, labels: labelMap }, { requiredKeys: [] }),
    metadata: fc.record({ system_labels: fc.jsonValue({ maxDepth: 1 }), user_labels: labelMap }, { requiredKeys: [] }),
    policy_name: fc.string({ minLength: 1, maxLength: 24 }).filter((name) => name.trim() !== ''),
    policy_user_labels: labelMap,
    documentation: fc.oneof(
      text,
      fc.record(
        {
          content: text,
          mime_type: fc.constant('text/markdown'),
          subject: text,
          links: fc.array(fc.record({ displayName: text, url }, { requiredKeys: [] }), { maxLength: 3 }),
        },
        { requiredKeys: [] },
      ),
    ),
    condition: fc.record(
      {
        name: fc.tuple(path, path, path).map(([project, policy, condition]) => `projects/${project}/alertPolicies/${policy}/conditions/${condition}`),
        displayName: text,
        conditionThreshold: fc.record({ comparison: fc.constantFrom('COMPARISON_GT', 'COMPARISON_LT') }),
      },
      { requiredKeys: [] },
    ),
    condition_name: text,
  },
  { requiredKeys: ['started_at', 'state', 'policy_name'] },
);

const notificationArbitrary = fc.record({
  version: fc.constantFrom('1.2', '1.1', 'test'),
  incident: incidentArbitrary,
});

describe('gcp-monitoring properties', () => {
  it('maps every generated valid notification to one schema-valid incident', () => {
    fc.assert(
      fc.property(notificationArbitrary, (notification) => {
        expect(gcpMonitoring.detect(notification)).toBe(true);
        const [incident] = mappedOrRejected(notification) ?? [];
        expect(incident).toBeDefined();
        const closed = notification.incident.state.toLowerCase() === 'closed';
        expect(incident?.status).toBe(closed ? 'resolved' : 'firing');
        expect(incident?.endsAt !== undefined).toBe(closed);
        expect(incident?.source.kind).toBe('gcp-monitoring');
        expect(incident?.source.rule).toBe(notification.incident.policy_name.trim());
        expect(incident?.labels[TEST_LABEL]).toBe(notification.version === 'test' ? 'true' : undefined);
      }),
      runs(1301),
    );
  });

  it('maps a Pub/Sub push to the same incident as the notification inside it', () => {
    fc.assert(
      fc.property(notificationArbitrary, (notification) => {
        const envelope = pubSubPush(notification);
        expect(gcpMonitoring.detect(envelope)).toBe(true);
        // The envelope carries JSON text: compare with the notification as JSON would give it (-0 is 0).
        expect(mappedOrRejected(envelope)).toStrictEqual(mappedOrRejected(JSON.parse(JSON.stringify(notification))));
      }),
      runs(1302),
    );
  });

  it('gives the open and closed notices of one incident one fingerprint', () => {
    fc.assert(
      fc.property(notificationArbitrary, unixSeconds, text, (notification, endedAt, summary) => {
        const open = { ...notification, incident: { ...notification.incident, state: 'open', ended_at: null } };
        const closed = { ...notification, incident: { ...notification.incident, state: 'closed', ended_at: endedAt, summary } };
        const [opened] = mappedOrRejected(open) ?? [];
        const [resolved] = mappedOrRejected(closed) ?? [];
        expect(resolved?.fingerprint).toBe(opened?.fingerprint);
        expect(resolved?.status).toBe('resolved');
      }),
      runs(1303),
    );
  });

  it('never passes a __missing__ placeholder on as a label, resource name, region, account or metric', () => {
    fc.assert(
      fc.property(notificationArbitrary, fc.array(labelName, { minLength: 1, maxLength: 4 }), (notification, placeholders) => {
        const missing = Object.fromEntries(placeholders.map((key) => [key, '__missing__']));
        const { incident } = notification;
        const withPlaceholders = {
          ...notification,
          incident: {
            ...incident,
            resource: { ...incident.resource, labels: { ...incident.resource?.labels, ...missing, location: '__missing__' } },
            metric: { ...incident.metric, type: '__missing__', labels: { ...incident.metric?.labels, ...missing } },
            resource_display_name: '__missing__',
            scoping_project_id: '__missing__',
          },
        };
        const [mappedIncident] = mappedOrRejected(withPlaceholders) ?? [];
        expect(mappedIncident).toBeDefined();
        expect(Object.values(mappedIncident?.labels ?? {})).not.toContain('__missing__');
        for (const value of [mappedIncident?.resource?.name, mappedIncident?.source.region, mappedIncident?.source.account, mappedIncident?.metric?.name]) {
          expect(value).not.toBe('__missing__');
        }
      }),
      runs(1309),
    );
  });

  it('maps or rejects mutated fixtures, never throwing anything else', () => {
    const payloads = FIXTURES.map((name) => fixture('gcp-monitoring', name));
    fc.assert(
      fc.property(fixtureChanges(payloads), ({ payload, changes }) => {
        mappedOrRejected(applyChanges(payload, changes));
      }),
      runs(1304),
    );
  });

  it('maps or rejects mutated notifications inside a Pub/Sub push', () => {
    const inner = fixture('gcp-monitoring', 'metric-open');
    fc.assert(
      fc.property(jsonChanges(inner), (changes) => {
        mappedOrRejected(pubSubPush(applyChanges(inner, changes)));
      }),
      runs(1305),
    );
  });

  it('maps or rejects arbitrary JSON and arbitrary Pub/Sub data, and detection never throws', () => {
    assertJsonMappedOrRejected(mappedOrRejected, runs(1306));
    fc.assert(
      fc.property(fc.oneof(fc.base64String(), fc.string()), (data) => {
        const envelope = { message: { data }, subscription: 's' };
        expect(typeof gcpMonitoring.detect(envelope)).toBe('boolean');
        mappedOrRejected(envelope);
      }),
      runs(1307),
    );
    assertDetectNeverThrows(gcpMonitoring, runs(1308));
  });
});
