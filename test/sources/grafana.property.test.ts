// Property tests for the Grafana source: generated valid payloads always give schema-valid
// incidents with the right count, status, identity and metric; mutated fixtures and arbitrary
// JSON are either mapped or refused with a PayloadRejectedError, never anything else.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PayloadRejectedError } from '../../shared/errors.ts';
import { incidentSchema } from '../../shared/incident.ts';
import type { Incident } from '../../shared/incident.ts';
import { grafana } from '../../shared/sources/grafana.ts';

const receivedAt = new Date('2026-11-25T07:00:00.000Z');
// Fixed seeds keep the suite deterministic; bump one to explore other inputs.
const runs = (seed: number): fc.Parameters<unknown> => ({ numRuns: 200, seed });

const FIXTURES = ['docs-example', 'firing-group', 'resolved-group', 'mixed-group', 'repeated-delivery', 'severities', 'no-severity'];

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/grafana/${name}.json`, import.meta.url), 'utf8'));
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

/** The property every input must satisfy: valid incidents, or a rejection that names this source. */
function mappedOrRejected(payload: unknown): Incident[] | undefined {
  try {
    const incidents = grafana.normalize(payload, { receivedAt });
    for (const incident of incidents) expect(incidentSchema.safeParse(incident).error).toBeUndefined();
    return incidents;
  } catch (error) {
    if (!(error instanceof PayloadRejectedError)) throw error;
    expect(error.rejections).toHaveLength(1);
    expect(error.rejections[0]?.source).toBe('grafana');
    expect(error.rejections[0]?.reason.length).toBeGreaterThan(0);
    return undefined;
  }
}

const SEVERITY_TABLE: Readonly<Record<string, Incident['severity']>> = {
  critical: 'critical',
  error: 'error',
  high: 'error',
  major: 'error',
  warning: 'warning',
  minor: 'warning',
  info: 'info',
  low: 'info',
  none: 'info',
};

/** An RFC 3339 time as Go writes it: any offset, up to nanoseconds. */
const rfc3339 = fc
  .record({
    instant: fc.date({ min: new Date('1971-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }),
    offsetMinutes: fc.integer({ min: -12 * 60, max: 14 * 60 }),
    nanos: fc.option(fc.integer({ min: 0, max: 999_999_999 }), { nil: undefined }),
  })
  .map(({ instant, offsetMinutes, nanos }) => {
    const local = new Date(instant.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 19);
    const fraction = nanos === undefined ? '' : `.${String(nanos).padStart(9, '0')}`;
    const sign = offsetMinutes < 0 ? '-' : '+';
    const abs = Math.abs(offsetMinutes);
    const zone = offsetMinutes === 0 ? 'Z' : `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
    return `${local}${fraction}${zone}`;
  });

const labelName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,11}$/);
const labelValue = fc.string({ maxLength: 24, unit: 'grapheme' });
const severityLabel = fc.oneof(
  fc.constantFrom(...Object.keys(SEVERITY_TABLE), 'CRITICAL', 'Warning', 'P1', ''),
  fc.string({ maxLength: 8 }),
);
const url = fc.oneof(fc.webUrl(), fc.constantFrom('', 'javascript:alert(1)', '/relative', 'not a url'));

const alertArbitrary = fc.record({
  status: fc.constantFrom('firing', 'resolved'),
  labels: fc
    .record(
      {
        extra: fc.dictionary(labelName, labelValue, { maxKeys: 5 }),
        alertname: labelValue,
        severity: severityLabel,
        instance: labelValue,
      },
      { requiredKeys: ['extra'] },
    )
    .map(({ extra, ...known }) => ({ ...extra, ...known })),
  annotations: fc.record(
    { summary: labelValue, description: labelValue, runbook_url: url, dashboard_url: url },
    { requiredKeys: [] },
  ),
  startsAt: fc.oneof(rfc3339, fc.constant('0001-01-01T00:00:00Z')),
  endsAt: fc.oneof(rfc3339, fc.constant('0001-01-01T00:00:00Z')),
  generatorURL: fc.oneof(url, fc.stringMatching(/^[\w-]{1,14}$/).map((uid) => `https://grafana.example.com/alerting/grafana/${uid}/view?orgId=1`)),
  fingerprint: fc.stringMatching(/^[0-9a-f]{16}$/),
  silenceURL: url,
  dashboardURL: url,
  panelURL: url,
  imageURL: url,
  values: fc.option(fc.dictionary(fc.constantFrom('A', 'B', 'C', 'D'), fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }), { maxKeys: 3 }), { nil: null }),
  valueString: fc.string(),
});

const payloadArbitrary = fc.record({
  receiver: fc.string(),
  status: fc.constantFrom('firing', 'resolved'),
  alerts: fc.array(alertArbitrary, { maxLength: 5 }),
  groupLabels: fc.dictionary(labelName, labelValue, { maxKeys: 2 }),
  commonLabels: fc.dictionary(labelName, labelValue, { maxKeys: 2 }),
  commonAnnotations: fc.dictionary(labelName, labelValue, { maxKeys: 2 }),
  externalURL: url,
  version: fc.constant('1'),
  groupKey: fc.string(),
  truncatedAlerts: fc.nat(),
  orgId: fc.nat(),
  title: fc.string(),
  state: fc.constantFrom('alerting', 'ok'),
  message: fc.string(),
});

describe('grafana properties', () => {
  it('maps every generated valid payload to one schema-valid incident per alert', () => {
    fc.assert(
      fc.property(payloadArbitrary, (payload) => {
        expect(grafana.detect(payload)).toBe(true);
        const incidents = mappedOrRejected(payload);
        expect(incidents).toBeDefined();
        expect(incidents).toHaveLength(payload.alerts.length);
        incidents?.forEach((incident, index) => {
          const alert = payload.alerts[index]!;
          expect(incident.status).toBe(alert.status);
          expect(incident.source.kind).toBe('grafana');
          expect(incident.endsAt !== undefined).toBe(alert.status === 'resolved');
          const severity = alert.labels.severity?.trim().toLowerCase();
          expect(incident.severity).toBe((severity === undefined ? undefined : SEVERITY_TABLE[severity]) ?? 'warning');
        });
      }),
      runs(1201),
    );
  });

  it('keeps an alert’s fingerprint through status, times and annotations, and not through a label change', () => {
    fc.assert(
      fc.property(payloadArbitrary, rfc3339, labelValue, (payload, time, changed) => {
        const flipped = {
          ...payload,
          alerts: payload.alerts.map((alert) => ({
            ...alert,
            status: alert.status === 'firing' ? 'resolved' : 'firing',
            startsAt: time,
            endsAt: time,
            annotations: {},
          })),
        };
        const before = mappedOrRejected(payload)?.map((incident) => incident.fingerprint);
        const after = mappedOrRejected(flipped)?.map((incident) => incident.fingerprint);
        expect(after).toEqual(before);

        const relabelled = {
          ...payload,
          alerts: payload.alerts.map((alert) => ({ ...alert, labels: { ...alert.labels, zz_changed: `${changed}!` } })),
        };
        const others = mappedOrRejected(relabelled)?.map((incident) => incident.fingerprint) ?? [];
        others.forEach((fingerprint, index) => {
          expect(fingerprint).not.toBe(before?.[index]);
        });
      }),
      runs(1202),
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
        const changed = changes.reduce<Json>((current, { path, replacement }) => mutated(current, path, replacement), payload);
        mappedOrRejected(changed);
      }),
      runs(1203),
    );
  });

  it('maps or rejects arbitrary JSON, and detection never throws', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (payload) => {
        mappedOrRejected(payload);
      }),
      runs(1204),
    );
    fc.assert(
      fc.property(fc.anything(), (payload) => {
        expect(typeof grafana.detect(payload)).toBe('boolean');
      }),
      runs(1205),
    );
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
