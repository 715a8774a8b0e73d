// Property tests for the Cloud Monitoring source: generated valid notifications always give one
// schema-valid incident, the same one through a Pub/Sub push, and one fingerprint for open and
// closed; mutated fixtures and arbitrary JSON are either mapped or refused with a
// PayloadRejectedError, never anything else.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PayloadRejectedError } from '../../shared/errors.ts';
import { TEST_LABEL, incidentSchema } from '../../shared/incident.ts';
import type { Incident } from '../../shared/incident.ts';
import { gcpMonitoring } from '../../shared/sources/gcp-monitoring.ts';

const receivedAt = new Date('2026-11-25T07:00:00.000Z');
// Fixed seeds keep the suite deterministic; bump one to explore other inputs.
const runs = (seed: number): fc.Parameters<unknown> => ({ numRuns: 200, seed });

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
];

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/gcp-monitoring/${name}.json`, import.meta.url), 'utf8'));
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = readonly (string | number)[];

function pathsOf(value: Json, prefix: Path = []): Path[] {
  const children =
    value !== null && typeof value === 'object'
      ? Object.entries(value).flatMap(([key, child]) => pathsOf(child, [...prefix, Array.isArray(value) ? Number(key) : key]))
      : [];
  return [prefix, ...children];
}

/** Replaces (or, with `undefined`, deletes) the value at `path` in a copy of `root`. */
function mutated(root: Json, path: Path, replacement: Json | undefined): Json {
  if (path.length === 0) return replacement ?? null;
  const copy = structuredClone(root);
  let parent: Json = copy;
  for (const key of path.slice(0, -1)) {
    if (parent === null || typeof parent !== 'object') return copy;
    parent = (parent as Record<string, Json>)[key] ?? null;
  }
  if (parent === null || typeof parent !== 'object') return copy;
  const last = path[path.length - 1]!;
  if (replacement === undefined) Reflect.deleteProperty(parent, last);
  else (parent as Record<string, Json>)[last] = replacement;
  return copy;
}

function mappedOrRejected(payload: unknown): Incident[] | undefined {
  try {
    const incidents = gcpMonitoring.normalize(payload, { receivedAt });
    expect(incidents).toHaveLength(1);
    for (const incident of incidents) expect(incidentSchema.safeParse(incident).error).toBeUndefined();
    return incidents;
  } catch (error) {
    if (!(error instanceof PayloadRejectedError)) throw error;
    expect(error.rejections).toHaveLength(1);
    expect(error.rejections[0]?.source).toBe('gcp-monitoring');
    expect(error.rejections[0]?.reason.length).toBeGreaterThan(0);
    return undefined;
  }
}

function pubSubPush(notification: unknown): Record<string, unknown> {
  return {
    message: { data: Buffer.from(JSON.stringify(notification)).toString('base64'), messageId: '1', publishTime: '2026-11-25T06:00:00Z' },
    subscription: 'projects/p/subscriptions/s',
  };
}

const text = fc.string({ maxLength: 24, unit: 'grapheme' });
const labelMap = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/), text, { maxKeys: 4 });
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

  it('maps or rejects mutated fixtures, never throwing anything else', () => {
    const payloads = FIXTURES.map((name) => fixture(name) as Json);
    const mutation = fc.nat({ max: payloads.length - 1 }).chain((index) => {
      const payload = payloads[index]!;
      return fc.record({
        payload: fc.constant(payload),
        changes: fc.array(
          fc.record({
            path: fc.constantFrom(...pathsOf(payload)),
            replacement: fc.option(fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>, { nil: undefined }),
          }),
          { minLength: 1, maxLength: 3 },
        ),
      });
    });
    fc.assert(
      fc.property(mutation, ({ payload, changes }) => {
        const changed = changes.reduce<Json>((current, { path: at, replacement }) => mutated(current, at, replacement), payload);
        mappedOrRejected(changed);
      }),
      runs(1304),
    );
  });

  it('maps or rejects mutated notifications inside a Pub/Sub push', () => {
    const inner = fixture('metric-open') as Json;
    const mutation = fc.array(
      fc.record({
        path: fc.constantFrom(...pathsOf(inner)),
        replacement: fc.option(fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>, { nil: undefined }),
      }),
      { minLength: 1, maxLength: 3 },
    );
    fc.assert(
      fc.property(mutation, (changes) => {
        const changed = changes.reduce<Json>((current, { path: at, replacement }) => mutated(current, at, replacement), inner);
        mappedOrRejected(pubSubPush(changed));
      }),
      runs(1305),
    );
  });

  it('maps or rejects arbitrary JSON and arbitrary Pub/Sub data, and detection never throws', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (payload) => {
        mappedOrRejected(payload);
      }),
      runs(1306),
    );
    fc.assert(
      fc.property(fc.oneof(fc.base64String(), fc.string()), (data) => {
        const envelope = { message: { data }, subscription: 's' };
        expect(typeof gcpMonitoring.detect(envelope)).toBe('boolean');
        mappedOrRejected(envelope);
      }),
      runs(1307),
    );
    fc.assert(
      fc.property(fc.anything(), (payload) => {
        expect(typeof gcpMonitoring.detect(payload)).toBe('boolean');
      }),
      runs(1308),
    );
  });
});
