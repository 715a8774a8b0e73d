// The documented example config must load, use every channel type and every matcher, and route
// the way its comments say.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHANNEL_TYPES } from '../../shared/channels/index.ts';
import { ConfigError, loadConfigFile, type RouteMatch } from '../../shared/config/index.ts';
import type { Incident } from '../../shared/incident.ts';
import { createRouter } from '../../shared/routing/index.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/tocsin.example.yaml', import.meta.url));
const env = {
  TOCSIN_INGEST_TOKEN: 'ingest-token-1',
  AUDIT_TOKEN: 'audit-token-1',
  AUDIT_HMAC_SECRET: 'audit-hmac-1',
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/xxxx',
  TEAMS_WEBHOOK_URL: 'https://prod-00.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=xyz',
  GOOGLE_CHAT_WEBHOOK_URL: 'https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=t',
  SMTP_USER: 'mailer',
  SMTP_PASSWORD: 'smtp-password-1',
  PAGERDUTY_ROUTING_KEY: '0123456789abcdef0123456789abcdef',
  SPLUNK_ONCALL_API_KEY: 'c0ffee00-5ec7-4e7a-9b1d-000000000001',
  OPSGENIE_API_KEY: 'eb243592-faa2-4ba2-a551-000000000001',
};

function incident(overrides: Partial<Incident>): Incident {
  return {
    schemaVersion: 1,
    fingerprint: 'fp',
    status: 'firing',
    severity: 'warning',
    title: 't',
    source: { kind: 'alertmanager', cloud: 'other', rule: 'r' },
    startsAt: '2026-11-25T10:00:00Z',
    labels: {},
    links: [],
    ...overrides,
  };
}

describe('examples/tocsin.example.yaml', () => {
  it('loads with its environment variables set', async () => {
    const config = await loadConfigFile(EXAMPLE, { env });
    expect(config.ingest).toEqual({ token: 'ingest-token-1', maxBodyBytes: 262_144 });
    expect(config.channels['ops-chat']).toMatchObject({ type: 'slack', webhookUrl: env.SLACK_WEBHOOK_URL });
    expect(config.channels['team-mail']).toMatchObject({ smtp: { user: 'mailer', pass: 'smtp-password-1' } });
    expect(config.dedup).toEqual({
      renotifyAfterMs: 14_400_000,
      flap: { changes: 4, windowMs: 1_800_000 },
      notifyUnknownResolve: false,
      resolvedTtlSeconds: 604_800,
    });
    expect(config.delivery).toEqual({ maxAttempts: 12, sendTimeoutMs: 10_000, backoff: { initialMs: 10_000, maxMs: 1_800_000 } });
  });

  it('uses every channel type and every matcher', async () => {
    const config = await loadConfigFile(EXAMPLE, { env });
    expect(new Set(Object.values(config.channels).map((channel) => channel.type))).toEqual(new Set(CHANNEL_TYPES));
    const matchers = new Set(config.routes.flatMap((route) => Object.keys(route.match ?? {})));
    const all: Array<keyof RouteMatch> = ['severity', 'source', 'cloud', 'account', 'labels', 'labelsRegex'];
    expect(matchers).toEqual(new Set(all));
    expect(config.routes.some((route) => route.match === undefined)).toBe(true);
  });

  it('routes the way its comments say', async () => {
    const router = createRouter(await loadConfigFile(EXAMPLE, { env }));
    const rds = incident({
      source: { kind: 'cloudwatch', cloud: 'aws', account: '123456789012', rule: 'CPU' },
      labels: { service: 'aurora-mysql' },
    });
    const routed = router.route(rds);
    expect(routed).toMatchObject({ severity: 'error', channels: ['ops-chat', 'teams-ops'] });
    // Grouped by alarm and region on both channels of the database route.
    expect(Object.keys(routed.groups ?? {})).toEqual(['ops-chat', 'teams-ops']);
    expect(routed.groups?.['ops-chat']).toMatchObject({ by: ['rule', 'region'], waitMs: 30_000, intervalMs: 300_000, groupLabels: [{ key: 'rule', value: 'CPU' }, { key: 'region', value: '' }] });
    const critical = router.route({ ...rds, severity: 'critical' });
    expect(critical).toMatchObject({ severity: 'error', channels: ['oncall-sms', 'ops-chat', 'teams-ops'] });
    // The first route (not grouped) already named ops-chat: a critical one is told there at once.
    expect(Object.keys(critical.groups ?? {})).toEqual(['teams-ops']);
    expect(router.route({ ...rds, labels: { service: 'my-rds' } })).toEqual({ severity: 'warning', channels: ['audit', 'console'] });
    const azureData = incident({ source: { kind: 'azure-monitor', cloud: 'azure', rule: 'r' }, labels: { team: 'data' } });
    expect(router.route(azureData).channels).toEqual(['data-space', 'team-mail']);
    expect(router.route(incident({ labels: { tocsin_test: 'true' } })).channels).toEqual(['console']);
    expect(router.route(incident({ labels: { team: 'payments' } })).channels).toEqual(['payments-pager', 'payments-oncall', 'payments-genie']);
  });

  it('names the variable a missing secret would come from', async () => {
    const { SLACK_WEBHOOK_URL: _unset, ...partial } = env;
    const error = await loadConfigFile(EXAMPLE, { env: partial }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      { path: 'channels.ops-chat.webhookUrl', message: 'environment variable SLACK_WEBHOOK_URL is not set' },
    ]);
  });
});
