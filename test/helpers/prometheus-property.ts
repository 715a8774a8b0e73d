// Arbitraries and checks shared by the property suites of the two Prometheus-shaped webhooks:
// Grafana's is Alertmanager's group of alerts plus fields, so each suite passes only what its
// source adds (extra alert and group fields, the version) and keeps its own seeds.
import fc from 'fast-check';
import { expect } from 'vitest';
import type { Incident } from '../../shared/incident.ts';
import type { RegisteredSource } from '../../shared/sources/source.ts';

/** Severity label (trimmed, lower-cased) to incident severity; anything else, or none, is `warning`. */
export const SEVERITY_TABLE: Readonly<Record<string, Incident['severity']>> = {
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
export const rfc3339 = fc
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

export const labelName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,11}$/);
export const labelValue = fc.string({ maxLength: 24, unit: 'grapheme' });
const severityLabel = fc.oneof(
  fc.constantFrom(...Object.keys(SEVERITY_TABLE), 'CRITICAL', 'Warning', 'P1', ''),
  fc.string({ maxLength: 8 }),
);
export const url = fc.oneof(fc.webUrl(), fc.constantFrom('', 'javascript:alert(1)', '/relative', 'not a url'));

const alertFields = {
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
  generatorURL: url,
  fingerprint: fc.stringMatching(/^[0-9a-f]{16}$/),
};

type Fields = Readonly<Record<string, fc.Arbitrary<unknown>>>;
type ValuesOf<F extends Fields> = { [K in keyof F]: F[K] extends fc.Arbitrary<infer V> ? V : never };
/** The base fields, with those a source replaces or adds. */
type Extended<Base extends Fields, Extra extends Fields> = Omit<ValuesOf<Base>, keyof Extra> & ValuesOf<Extra>;

export type PrometheusAlert = ValuesOf<typeof alertFields>;
export interface PrometheusGroup {
  readonly alerts: readonly PrometheusAlert[];
}

export interface GroupOptions<AlertExtra extends Fields, GroupExtra extends Fields> {
  /** The webhook's `version`: '4' for Alertmanager, '1' for Grafana. */
  readonly version: string;
  /** Alert fields the source adds, or replaces (a replaced field keeps its place). */
  readonly alert: AlertExtra;
  /** Group fields the source adds after Alertmanager's. */
  readonly group: GroupExtra;
}

/** A generated webhook group: Alertmanager's fields, with the source's. */
export type GeneratedGroup<AlertExtra extends Fields, GroupExtra extends Fields> = {
  receiver: string;
  status: 'firing' | 'resolved';
  alerts: Extended<typeof alertFields, AlertExtra>[];
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  version: string;
  groupKey: string;
  truncatedAlerts: number;
} & ValuesOf<GroupExtra>;

/**
 * A valid webhook group of up to five alerts. Fields are drawn in the order they are listed
 * (Alertmanager's, in the webhook's order, then the source's), so a seed gives the same payloads
 * it gave when each suite spelt its arbitraries out.
 */
export function groupArbitrary<AlertExtra extends Fields, GroupExtra extends Fields>(
  options: GroupOptions<AlertExtra, GroupExtra>,
): fc.Arbitrary<GeneratedGroup<AlertExtra, GroupExtra>> {
  // The spread of generic field sets is beyond fc.record's inference: the types above say what it draws.
  const alert = fc.record({ ...alertFields, ...options.alert }) as fc.Arbitrary<Extended<typeof alertFields, AlertExtra>>;
  return fc.record({
    receiver: fc.string(),
    status: fc.constantFrom('firing', 'resolved'),
    alerts: fc.array(alert, { maxLength: 5 }),
    groupLabels: fc.dictionary(labelName, labelValue, { maxKeys: 2 }),
    commonLabels: fc.dictionary(labelName, labelValue, { maxKeys: 2 }),
    commonAnnotations: fc.dictionary(labelName, labelValue, { maxKeys: 2 }),
    externalURL: url,
    version: fc.constant(options.version),
    groupKey: fc.string(),
    truncatedAlerts: fc.nat(),
    ...options.group,
  }) as fc.Arbitrary<GeneratedGroup<AlertExtra, GroupExtra>>;
}

/**
 * A generated group is detected, and maps to one schema-valid incident per alert, in order: the
 * alert's status, an end time only when resolved, and the severity the table gives.
 */
export function expectOneIncidentPerAlert(
  source: RegisteredSource,
  mapped: (payload: unknown) => Incident[] | undefined,
  payload: PrometheusGroup,
): void {
  expect(source.detect(payload)).toBe(true);
  const incidents = mapped(payload);
  expect(incidents).toBeDefined();
  expect(incidents).toHaveLength(payload.alerts.length);
  incidents?.forEach((incident, index) => {
    const alert = payload.alerts[index]!;
    expect(incident.status).toBe(alert.status);
    expect(incident.source.kind).toBe(source.kind);
    expect(incident.endsAt !== undefined).toBe(alert.status === 'resolved');
    const severity = alert.labels.severity?.trim().toLowerCase();
    expect(incident.severity).toBe((severity === undefined ? undefined : SEVERITY_TABLE[severity]) ?? 'warning');
  });
}

/**
 * An alert's fingerprint survives a flipped status, other times and no annotations, and changes
 * when a label is added (`time` and `changed` come from `rfc3339` and `labelValue`).
 */
export function expectFingerprintFollowsLabels(
  mapped: (payload: unknown) => Incident[] | undefined,
  payload: PrometheusGroup,
  time: string,
  changed: string,
): void {
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
  const before = mapped(payload)?.map((incident) => incident.fingerprint);
  const after = mapped(flipped)?.map((incident) => incident.fingerprint);
  expect(after).toEqual(before);

  const relabelled = {
    ...payload,
    alerts: payload.alerts.map((alert) => ({ ...alert, labels: { ...alert.labels, zz_changed: `${changed}!` } })),
  };
  const others = mapped(relabelled)?.map((incident) => incident.fingerprint) ?? [];
  others.forEach((fingerprint, index) => {
    expect(fingerprint).not.toBe(before?.[index]);
  });
}
