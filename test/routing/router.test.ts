import { describe, expect, it } from 'vitest';
import type { RouteConfig } from '../../shared/config/index.ts';
import type { Incident } from '../../shared/incident.ts';
import { createRouter, route } from '../../shared/routing/index.ts';

function incident(overrides: Partial<Incident> = {}): Incident {
  return {
    schemaVersion: 1,
    fingerprint: 'fp-1',
    status: 'firing',
    severity: 'warning',
    title: 'HighLatency on api',
    source: { kind: 'alertmanager', cloud: 'other', rule: 'HighLatency' },
    startsAt: '2026-11-25T10:00:00Z',
    labels: { team: 'payments', env: 'prod' },
    links: [],
    ...overrides,
  };
}

const routeTo = (channels: string[], extra: Partial<RouteConfig> = {}): RouteConfig => ({ channels, continue: false, ...extra });

describe('createRouter', () => {
  it('sends everything to a route without match (catch-all)', () => {
    const router = createRouter({ routes: [routeTo(['audit'])] });
    expect(router.route(incident())).toEqual({ severity: 'warning', channels: ['audit'] });
  });

  it('returns no channels and the original severity when no route matches', () => {
    const router = createRouter({ routes: [routeTo(['pager'], { match: { severity: ['critical'] }, severity: 'info' })] });
    expect(router.route(incident())).toEqual({ severity: 'warning', channels: [] });
  });

  it('stops at the first match unless the route says continue', () => {
    const routes = [
      routeTo(['first'], { match: { source: ['alertmanager'] } }),
      routeTo(['second']),
    ];
    expect(route(incident(), { routes })).toEqual({ severity: 'warning', channels: ['first'] });
    const continuing = [routeTo(['first'], { match: { source: ['alertmanager'] }, continue: true }), routeTo(['second'])];
    expect(route(incident(), { routes: continuing })).toEqual({ severity: 'warning', channels: ['first', 'second'] });
  });

  it('skips routes that do not match and keeps walking to the next', () => {
    const routes = [routeTo(['azure'], { match: { cloud: ['azure'] } }), routeTo(['fallback'])];
    expect(route(incident(), { routes }).channels).toEqual(['fallback']);
  });

  it('lists each channel once, in the order routes named them', () => {
    const routes = [
      routeTo(['chat', 'mail'], { continue: true }),
      routeTo(['sms', 'chat'], { continue: true }),
      routeTo(['mail', 'audit']),
    ];
    expect(route(incident(), { routes }).channels).toEqual(['chat', 'mail', 'sms', 'audit']);
  });

  it('takes the severity override of the first matching route that sets one', () => {
    const routes = [
      routeTo(['a'], { continue: true }),
      routeTo(['b'], { severity: 'critical', continue: true }),
      routeTo(['c'], { severity: 'info' }),
    ];
    expect(route(incident(), { routes })).toEqual({ severity: 'critical', channels: ['a', 'b', 'c'] });
  });

  it('matches later routes on the original severity, not on an earlier override', () => {
    const routes = [
      routeTo(['raise'], { severity: 'critical', continue: true }),
      routeTo(['pager'], { match: { severity: ['critical'] } }),
      routeTo(['warnings'], { match: { severity: ['warning'] } }),
    ];
    expect(route(incident(), { routes })).toEqual({ severity: 'critical', channels: ['raise', 'warnings'] });
  });
});

describe('matchers', () => {
  const matching = (match: RouteConfig['match'], target: Incident): boolean =>
    route(target, { routes: [routeTo(['hit'], { match })] }).channels.length === 1;

  it('severity: any of the listed severities', () => {
    expect(matching({ severity: ['critical', 'warning'] }, incident({ severity: 'warning' }))).toBe(true);
    expect(matching({ severity: ['critical', 'warning'] }, incident({ severity: 'error' }))).toBe(false);
  });

  it('source: the source kind', () => {
    const azure = incident({ source: { kind: 'azure-monitor', cloud: 'azure', rule: 'cpu' } });
    expect(matching({ source: ['azure-monitor', 'grafana'] }, azure)).toBe(true);
    expect(matching({ source: ['cloudwatch'] }, azure)).toBe(false);
  });

  it('cloud: the cloud', () => {
    const gcp = incident({ source: { kind: 'gcp-monitoring', cloud: 'gcp', rule: 'uptime' } });
    expect(matching({ cloud: ['gcp'] }, gcp)).toBe(true);
    expect(matching({ cloud: ['aws', 'azure'] }, gcp)).toBe(false);
  });

  it('account: the account id, and never an incident without one', () => {
    const aws = incident({ source: { kind: 'cloudwatch', cloud: 'aws', account: '123456789012', rule: 'cpu' } });
    expect(matching({ account: ['123456789012'] }, aws)).toBe(true);
    expect(matching({ account: ['999999999999'] }, aws)).toBe(false);
    expect(matching({ account: ['123456789012'] }, incident())).toBe(false);
  });

  it('labels: every listed label equal', () => {
    expect(matching({ labels: { team: 'payments', env: 'prod' } }, incident())).toBe(true);
    expect(matching({ labels: { team: 'payments', env: 'staging' } }, incident())).toBe(false);
    expect(matching({ labels: { region: 'eu' } }, incident())).toBe(false);
  });

  it('labels: a missing label equals "" as in Alertmanager, and inherited names are not labels', () => {
    expect(matching({ labels: { region: '' } }, incident())).toBe(true);
    expect(matching({ labels: { constructor: '' } }, incident())).toBe(true);
    expect(matching({ labelsRegex: { toString: /.+/ } }, incident())).toBe(false);
  });

  it('labelsRegex: anchored full match', () => {
    const prodOrStaging = /^(?:prod|staging)$/;
    expect(matching({ labelsRegex: { env: prodOrStaging } }, incident({ labels: { env: 'prod' } }))).toBe(true);
    expect(matching({ labelsRegex: { env: prodOrStaging } }, incident({ labels: { env: 'preprod' } }))).toBe(false);
    expect(matching({ labelsRegex: { env: /^(?:.*)$/ } }, incident({ labels: {} }))).toBe(true);
  });

  it('all matchers of a route must hold together', () => {
    const match = { severity: ['warning' as const], labels: { team: 'payments' }, source: ['grafana' as const] };
    expect(matching(match, incident())).toBe(false);
    expect(matching(match, incident({ source: { kind: 'grafana', cloud: 'other', rule: 'r' } }))).toBe(true);
  });
});
