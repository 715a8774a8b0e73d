// Property tests for the azure-monitor source: generated common-schema alerts (metric, log search
// v2, activity log, service health) always map to schema-valid incidents with the expected state,
// severity, time and identity; mutated fixtures and arbitrary JSON never make it throw anything
// but a PayloadRejectedError that names the source and a reason.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Incident, Severity } from '../../shared/incident.ts';
import { azureMonitor } from '../../shared/sources/azure-monitor.ts';
import { jsonPaths } from '../helpers/fuzz.ts';
import {
  DELETE,
  anyText,
  assertDetectNeverThrows,
  envParameters,
  expectMappedOrRejected,
  expectSchemaValid,
  fixture,
  fixtureNames,
  splicedAt,
} from '../helpers/property.ts';

const context = { receivedAt: new Date('2026-11-25T18:00:00.000Z') };

type Json = Record<string, unknown>;
type Family = 'metric' | 'log' | 'activity' | 'service-health';
type AzureSeverity = 'Sev0' | 'Sev1' | 'Sev2' | 'Sev3' | 'Sev4';

const SEVERITY: Record<AzureSeverity, Severity> = { Sev0: 'critical', Sev1: 'error', Sev2: 'warning', Sev3: 'info', Sev4: 'info' };

interface GeneratedAlert {
  readonly family: Family;
  readonly rule: string;
  readonly severity: AzureSeverity;
  readonly signalType: string;
  readonly description: string | null | undefined;
  readonly originAlertId: string | null;
  readonly targets: readonly string[];
  readonly configurationItems: readonly string[] | null;
  readonly firedAt: Date;
  readonly resolvedAfterMs: number;
  readonly fractionDigits: 0 | 3 | 7;
  readonly extraDigits: string;
  readonly dimensions: readonly { name: string; value: string }[];
  readonly customProperties: Json | null;
  readonly metricValue: number | string | null;
  readonly threshold: string | number | null;
  readonly operator: string;
  readonly text: string;
  readonly numericVariants: boolean;
}

const resourceIdArb: fc.Arbitrary<string> = fc.oneof(
  fc
    .record({
      subscription: fc.uuid(),
      group: fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme-ascii' }),
      provider: fc.constantFrom('Microsoft.Compute/virtualMachines', 'microsoft.storage/storageaccounts', 'Microsoft.Sql/servers'),
      name: anyText(1, 30),
      upper: fc.boolean(),
    })
    .map(({ subscription, group, provider, name, upper }) => {
      const id = `/subscriptions/${subscription}/resourceGroups/${group}/providers/${provider}/${name}`;
      return upper ? id.toUpperCase() : id;
    }),
  fc.uuid().map((subscription) => `/subscriptions/${subscription}`),
  anyText(0, 40),
);

const alertArb: fc.Arbitrary<GeneratedAlert> = fc.record({
  family: fc.constantFrom<Family>('metric', 'log', 'activity', 'service-health'),
  rule: anyText(1, 60).filter((rule) => rule.trim() !== ''),
  severity: fc.constantFrom<AzureSeverity>('Sev0', 'Sev1', 'Sev2', 'Sev3', 'Sev4'),
  signalType: fc.constantFrom('Metric', 'Log', 'Activity Log', 'ActivityLog'),
  description: fc.option(anyText(0, 80), { nil: undefined }).chain((value) => fc.constantFrom(value, null)),
  originAlertId: fc.option(anyText(0, 40), { nil: null }),
  targets: fc.array(resourceIdArb, { maxLength: 3 }),
  configurationItems: fc.option(fc.array(anyText(0, 20), { maxLength: 3 }), { nil: null }),
  firedAt: fc.date({ min: new Date('2000-01-01T00:00:00.000Z'), max: new Date('2099-12-31T23:59:59.999Z'), noInvalidDate: true }),
  resolvedAfterMs: fc.integer({ min: 0, max: 7 * 24 * 3600 * 1000 }),
  fractionDigits: fc.constantFrom<0 | 3 | 7>(0, 3, 7),
  extraDigits: fc.stringMatching(/^\d{4}$/),
  dimensions: fc.array(fc.record({ name: anyText(0, 20), value: anyText(0, 30) }), { maxLength: 4 }),
  customProperties: fc.option(fc.dictionary(anyText(0, 15), fc.oneof(anyText(0, 20), fc.integer(), fc.boolean(), fc.constant(null))), {
    nil: null,
  }),
  metricValue: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null), fc.constant('12.5'), anyText(0, 5)),
  threshold: fc.oneof(fc.integer().map(String), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null), anyText(0, 5)),
  operator: fc.constantFrom('GreaterThan', 'LessThan', 'GreaterOrLessThan', 'Greater Than'),
  text: anyText(0, 60),
  numericVariants: fc.boolean(),
});

/** firedDateTime as Azure writes it: 0, 3 or 7 fractional digits. */
function azureTime(date: Date, digits: 0 | 3 | 7, extra: string): string {
  const iso = date.toISOString();
  const seconds = iso.slice(0, 19);
  if (digits === 0) return `${seconds}Z`;
  return `${seconds}.${iso.slice(20, 23)}${digits === 7 ? extra : ''}Z`;
}

/** What the incident should say for that time: UTC, milliseconds. */
function expectedTime(date: Date, digits: 0 | 3 | 7): string {
  const iso = date.toISOString();
  return digits === 0 ? `${iso.slice(0, 19)}.000Z` : iso;
}

function alertContextOf(alert: GeneratedAlert): Json {
  const dimensions = alert.dimensions.map(({ name, value }) => ({ name, value }));
  switch (alert.family) {
    case 'metric':
      return {
        properties: null,
        conditionType: 'SingleResourceMultipleMetricCriteria',
        condition: {
          windowSize: 'PT5M',
          allOf: [
            {
              metricName: alert.text,
              metricNamespace: 'Microsoft.Compute/virtualMachines',
              operator: alert.operator,
              threshold: alert.threshold,
              timeAggregation: 'Average',
              dimensions,
              metricValue: alert.metricValue,
            },
          ],
        },
      };
    case 'log':
      return {
        properties: null,
        conditionType: 'LogQueryCriteria',
        condition: {
          windowSize: 'PT10M',
          allOf: [
            {
              searchQuery: alert.text,
              operator: alert.operator,
              threshold: alert.threshold,
              timeAggregation: 'Count',
              dimensions,
              metricValue: alert.metricValue,
              linkToSearchResultsUI: `https://portal.azure.com#@tenant/blade/logs/q/${encodeURIComponent(alert.rule.replace(/[\uD800-\uDFFF]/g, ''))}`,
            },
          ],
        },
      };
    case 'activity':
      return {
        channels: alert.numericVariants ? 2 : 'Operation',
        caller: alert.text,
        eventSource: 'Administrative',
        eventTimestamp: alert.firedAt.toISOString(),
        level: alert.numericVariants ? 4 : 'Informational',
        operationName: 'Microsoft.Compute/virtualMachines/restart/action',
        status: 'Succeeded',
      };
    case 'service-health':
      return {
        channels: alert.numericVariants ? 1 : 'Admin',
        eventSource: alert.numericVariants ? 2 : 'ServiceHealth',
        level: alert.numericVariants ? 3 : 'Warning',
        operationName: 'Microsoft.ServiceHealth/incident/action',
        status: 'Active',
        properties: {
          title: alert.text,
          communication: `<p>${alert.text}</p>`,
          trackingId: 'ABC1-DEF',
          stage: 'Active',
          impactedServices: alert.numericVariants
            ? JSON.stringify([{ ServiceName: 'Storage', ImpactedRegions: [{ RegionName: 'West Europe' }] }])
            : [{ ServiceName: 'Storage', ImpactedRegions: [{ RegionName: 'West Europe' }] }],
        },
      };
  }
}

function payloadOf(alert: GeneratedAlert, condition: 'Fired' | 'Resolved'): Json {
  const essentials: Json = {
    alertId: `/subscriptions/00000000-0000-4000-8000-000000000000/providers/Microsoft.AlertsManagement/alerts/${String(alert.firedAt.getTime())}`,
    alertRule: alert.rule,
    severity: alert.severity,
    signalType: alert.family === 'activity' || alert.family === 'service-health' ? alert.signalType.replace(/^(Metric|Log)$/, 'Activity Log') : alert.signalType,
    monitorCondition: condition,
    monitoringService: alert.family === 'service-health' ? 'ServiceHealth' : 'Platform',
    alertTargetIDs: alert.targets,
    configurationItems: alert.configurationItems,
    originAlertId: alert.originAlertId,
    firedDateTime: azureTime(alert.firedAt, alert.fractionDigits, alert.extraDigits),
    essentialsVersion: '1.0',
    alertContextVersion: '1.0',
  };
  if (alert.description !== undefined) essentials.description = alert.description;
  if (condition === 'Resolved') {
    essentials.resolvedDateTime = new Date(alert.firedAt.getTime() + alert.resolvedAfterMs).toISOString().replace('Z', '1234Z');
  }
  return {
    schemaId: 'azureMonitorCommonAlertSchema',
    data: { essentials, alertContext: alertContextOf(alert), customProperties: alert.customProperties },
  };
}

/** A generated alert must map (no rejection), to schema-valid incidents. */
function incidentsOf(payload: unknown): Incident[] {
  return expectSchemaValid(azureMonitor.normalize(payload, context));
}

describe('azure-monitor: generated common-schema alerts', () => {
  it('always map to one schema-valid incident with the alert’s state, severity, rule and time', () => {
    fc.assert(
      fc.property(alertArb, fc.constantFrom<'Fired' | 'Resolved'>('Fired', 'Resolved'), (alert, condition) => {
        const incidents = incidentsOf(payloadOf(alert, condition));
        expect(incidents).toHaveLength(1);
        const incident = incidents[0]!;
        expect(incident.status).toBe(condition === 'Fired' ? 'firing' : 'resolved');
        expect(incident.severity).toBe(SEVERITY[alert.severity]);
        expect(incident.source).toMatchObject({ kind: 'azure-monitor', cloud: 'azure', rule: alert.rule.trim() });
        expect(incident.title).toContain(alert.rule.trim());
        expect(incident.startsAt).toBe(expectedTime(alert.firedAt, alert.fractionDigits));
        if (condition === 'Resolved') {
          expect(incident.endsAt).toBe(new Date(alert.firedAt.getTime() + alert.resolvedAfterMs).toISOString());
        } else {
          expect(incident.endsAt).toBeUndefined();
        }
      }),
      envParameters,
    );
  });

  it('give Fired and Resolved of one alert the same fingerprint, whatever the target casing', () => {
    // ARM IDs are ASCII: only ASCII letters change case (Unicode casing does not round-trip, ß → SS).
    const asciiUpper = (text: string) => text.replace(/[a-z]/g, (letter) => letter.toUpperCase());
    fc.assert(
      fc.property(alertArb, (alert) => {
        const fired = incidentsOf(payloadOf(alert, 'Fired'))[0]!;
        const upper = { ...alert, targets: alert.targets.map(asciiUpper) };
        const resolved = incidentsOf(payloadOf(upper, 'Resolved'))[0]!;
        expect(resolved.fingerprint).toBe(fired.fingerprint);
      }),
      envParameters,
    );
  });

  it('give another rule another fingerprint', () => {
    fc.assert(
      fc.property(alertArb, anyText(1, 40), (alert, otherRule) => {
        fc.pre(otherRule.trim() !== '' && otherRule.trim().toLowerCase() !== alert.rule.trim().toLowerCase());
        const first = incidentsOf(payloadOf(alert, 'Fired'))[0]!;
        const second = incidentsOf(payloadOf({ ...alert, rule: otherRule }, 'Fired'))[0]!;
        expect(second.fingerprint).not.toBe(first.fingerprint);
      }),
      envParameters,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Robustness: only ever a PayloadRejectedError naming this source
// ---------------------------------------------------------------------------------------------

type Mutation = { readonly pick: number; readonly replacement: unknown };

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.nat(),
  replacement: fc.oneof(
    fc.constant(DELETE),
    fc.constant(null),
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom('', 'Sev9', 'Resolved', 'Fired', '3/22/2019 1:36:31 PM', '2019-02-30T00:00:00Z', 12, -1, true, [], {}),
    anyText(0, 20),
  ),
});

/** Valid incidents, or rejections that all name this source, never anything else. */
function expectOnlyRejections(payload: unknown): void {
  expectMappedOrRejected(() => azureMonitor.normalize(payload, context), { source: 'azure-monitor' });
}

describe('azure-monitor: robustness', () => {
  const fixtures = fixtureNames('azure-monitor').map((name) => fixture('azure-monitor', name));

  it('maps or rejects mutated fixtures, never anything else', () => {
    fc.assert(
      fc.property(fc.nat({ max: fixtures.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (index, mutations) => {
        let payload: unknown = fixtures[index];
        for (const { pick, replacement } of mutations) {
          const paths = jsonPaths(payload);
          payload = splicedAt(payload, paths[pick % paths.length]!, replacement);
        }
        expectOnlyRejections(payload);
      }),
      envParameters,
    );
  });

  it('maps or rejects arbitrary JSON, with or without a known schemaId, never anything else', () => {
    const known = fc.constantFrom('azureMonitorCommonAlertSchema', 'AzureMonitorMetricAlert', 'Microsoft.Insights/activityLogs', 'Microsoft.Insights/LogAlert');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.record({ schemaId: known, data: fc.jsonValue({ maxDepth: 4 }) }),
          fc.record({ schemaId: known, data: fc.record({ essentials: fc.jsonValue({ maxDepth: 2 }), alertContext: fc.jsonValue({ maxDepth: 3 }) }) }),
          fc.record({ AlertRuleName: fc.jsonValue({ maxDepth: 1 }), SearchQuery: fc.jsonValue({ maxDepth: 1 }), Severity: fc.jsonValue({ maxDepth: 1 }) }),
        ),
        (payload) => {
          expectOnlyRejections(payload);
        },
      ),
      envParameters,
    );
  });

  it('detects without throwing, whatever it is given', () => {
    assertDetectNeverThrows(azureMonitor, envParameters);
  });
});
