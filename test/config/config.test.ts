import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  defaultConfig,
  loadConfigFile,
  loadConfigText,
  parseConfigText,
  resolveConfig,
  type ConfigProblem,
  type LoadOptions,
  type SecretResolver,
} from '../../shared/config/index.ts';

// Verbatim from ../shared/docs/design.md ("Config file").
const DESIGN_EXAMPLE =
  'ingest:\n  token: ${TOCSIN_INGEST_TOKEN}      # optional bearer/basic secret for HTTP ingest\nchannels:\n  ops-chat:   { type: slack, webhookUrl: ${SLACK_WEBHOOK_URL} }\n  oncall-sms: { type: sms, phoneNumbers: [\'+15555550100\'] }\n  team-mail:  { type: email, from: alerts@example.com, to: [team@example.com] }\n  audit:      { type: webhook, url: http://127.0.0.1:9999/hook }\nroutes:                              # first match wins unless `continue: true`\n  - match: { severity: [critical] }\n    channels: [ops-chat, oncall-sms]\n    continue: true\n  - match: { source: [azure-monitor], labels: { team: data } }\n    channels: [team-mail]\n  - channels: [audit]                # no match: catch-all\ndefaults: { renotifyAfter: 4h, flap: { changes: 4, window: 30m } }\n';

const SLACK_URL = 'https://hooks.slack.com/services/T000/B000/SECRETxyz123';
const env = { SLACK_WEBHOOK_URL: SLACK_URL };

const validYaml = `
channels:
  ops-chat:
    type: slack
    webhookUrl: \${SLACK_WEBHOOK_URL}
  audit:
    type: webhook
    url: http://127.0.0.1:9999/hook
routes:
  - match: { severity: [critical] }
    channels: [ops-chat]
    continue: true
  - channels: [audit]
`;

/** The ConfigError a load throws (the test fails if it does not throw one). */
async function configError(text: string, options: LoadOptions = { env }): Promise<ConfigError> {
  try {
    await loadConfigText(text, options);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

async function problems(text: string, options?: LoadOptions): Promise<ConfigProblem[]> {
  return [...(await configError(text, options)).problems];
}

describe('loading a valid config', () => {
  it('resolves placeholders, validates channels and fills defaults', async () => {
    const config = await loadConfigText(validYaml, { env });
    expect(config.channels).toEqual({
      'ops-chat': { type: 'slack', webhookUrl: SLACK_URL, mentionOn: ['critical'] },
      audit: { type: 'webhook', url: 'http://127.0.0.1:9999/hook' },
    });
    expect(config.routes).toEqual([
      { match: { severity: ['critical'] }, channels: ['ops-chat'], continue: true },
      { channels: ['audit'], continue: false },
    ]);
    expect(config.ingest).toEqual({ maxBodyBytes: 262_144 });
    expect(config.dedup).toEqual({
      renotifyAfterMs: 4 * 3_600_000,
      flap: { changes: 4, windowMs: 30 * 60_000 },
      notifyUnknownResolve: false,
      resolvedTtlSeconds: 7 * 86_400,
    });
    expect(config.delivery).toEqual({ maxAttempts: 12, sendTimeoutMs: 10_000, backoff: { initialMs: 10_000, maxMs: 1_800_000 } });
  });

  it('turns every defaults duration into numbers, 0 included', async () => {
    const config = await loadConfigText(
      `${validYaml}defaults:
  renotifyAfter: 0
  flap: { changes: 6, window: 1h30m }
  notifyUnknownResolve: true
  resolvedTtl: 2d
  maxAttempts: 3
  sendTimeout: 2500ms
  backoff: { initial: 2s, max: 1h }
ingest:
  token: \${TOKEN}
  maxBodyBytes: 1024
`,
      { env: { ...env, TOKEN: 'tok-123' } },
    );
    expect(config.dedup).toEqual({
      renotifyAfterMs: 0,
      flap: { changes: 6, windowMs: 90 * 60_000 },
      notifyUnknownResolve: true,
      resolvedTtlSeconds: 2 * 86_400,
    });
    expect(config.delivery).toEqual({ maxAttempts: 3, sendTimeoutMs: 2_500, backoff: { initialMs: 2_000, maxMs: 3_600_000 } });
    expect(config.ingest).toEqual({ token: 'tok-123', maxBodyBytes: 1024 });
  });

  it('reads JSON when the file name ends in .json, and YAML otherwise', () => {
    const json = JSON.stringify({ channels: { out: { type: 'console' } }, routes: [{ channels: ['out'] }] });
    expect(parseConfigText(json, { sourceName: '/etc/tocsin.json' })).toEqual(JSON.parse(json));
    expect(parseConfigText('channels: {}\n', { sourceName: 'tocsin.yml' })).toEqual({ channels: {} });
    expect(() => parseConfigText('channels: {}\n', { sourceName: 'tocsin.json' })).toThrow(ConfigError);
  });

  it('compiles labelsRegex anchored, like Alertmanager', async () => {
    const config = await loadConfigText(
      `channels: { out: { type: console } }
routes:
  - match: { labelsRegex: { env: "prod|staging" } }
    channels: [out]
`,
    );
    const pattern = config.routes[0]!.match!.labelsRegex!.env!;
    expect(['prod', 'staging', 'preprod', 'prod-eu'].map((value) => pattern.test(value))).toEqual([true, true, false, false]);
  });

  it('keeps $${NAME} as a literal ${NAME}', async () => {
    const config = await loadConfigText(
      `channels: { out: { type: webhook, url: "http://127.0.0.1:1/hook", headers: { x-template: "$\${NOT_A_SECRET}" } } }
routes: [{ channels: [out] }]
`,
      { env: {} },
    );
    expect(config.channels.out).toEqual({ type: 'webhook', url: 'http://127.0.0.1:1/hook', headers: { 'x-template': '${NOT_A_SECRET}' } });
  });

  it('asks the resolver once per placeholder name', async () => {
    const asked: string[] = [];
    const resolver: SecretResolver = (name) => {
      asked.push(name);
      return Promise.resolve(name === 'HOST' ? '127.0.0.1' : undefined);
    };
    const raw = parseConfigText(`channels:
  a: { type: webhook, url: "http://\${HOST}:1/a" }
  b: { type: webhook, url: "http://\${HOST}:1/b" }
routes: [{ channels: [a, b] }]
`);
    const config = await resolveConfig(raw, resolver);
    expect(asked).toEqual(['HOST']);
    expect(config.channels.b).toEqual({ type: 'webhook', url: 'http://127.0.0.1:1/b' });
  });

  it('with isolateChannels, sets aside a channel whose placeholder cannot be filled and keeps the rest', async () => {
    const resolver: SecretResolver = Object.assign((name: string) => Promise.resolve(name === 'HOOK' ? 'http://127.0.0.1:1/a' : undefined), {
      describe: (name: string) => `key ${name} of the test secret`,
    });
    const raw = parseConfigText(`channels:
  a: { type: webhook, url: "\${HOOK}" }
  chat: { type: slack, webhookUrl: "\${SLACK_WEBHOOK_URL}" }
routes: [{ channels: [a, chat] }]
`);
    const config = await resolveConfig(raw, resolver, { isolateChannels: true });
    expect(Object.keys(config.channels)).toEqual(['a']);
    expect(config.unavailableChannels).toEqual({ chat: 'channels.chat.webhookUrl: key SLACK_WEBHOOK_URL of the test secret is not set' });
    // Without isolation (locally) the same document is an error; outside channels it still is.
    await expect(resolveConfig(raw, resolver)).rejects.toThrow(/SLACK_WEBHOOK_URL/);
    const token = parseConfigText(`ingest: { token: "\${TOKEN}" }
channels: { a: { type: webhook, url: "\${HOOK}" } }
routes: [{ channels: [a] }]
`);
    await expect(resolveConfig(token, resolver, { isolateChannels: true })).rejects.toThrow(/ingest\.token: key TOKEN/);
    // Every channel set aside still loads: ingest keeps working.
    const onlyChat = parseConfigText(`channels: { chat: { type: slack, webhookUrl: "\${SLACK_WEBHOOK_URL}" } }
routes: [{ channels: [chat] }]
`);
    expect((await resolveConfig(onlyChat, resolver, { isolateChannels: true })).unavailableChannels).toHaveProperty('chat');
  });

  it('defaultConfig sends every incident to the console', () => {
    const config = defaultConfig();
    expect(config.channels).toEqual({ console: { type: 'console', stream: 'stdout' } });
    expect(config.routes).toEqual([{ channels: ['console'], continue: false }]);
    expect(config.delivery.maxAttempts).toBe(12);
  });

  it('loads a file from disk, naming it in errors', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'tocsin-config-'));
    try {
      const good = join(folder, 'good.yaml');
      const bad = join(folder, 'bad.json');
      await writeFile(good, validYaml);
      await writeFile(bad, JSON.stringify({ channels: { out: { type: 'console' } }, routes: [{ channels: ['nope'] }] }));
      expect(Object.keys((await loadConfigFile(good, { env })).channels)).toEqual(['ops-chat', 'audit']);
      const error = await loadConfigFile(bad).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toBe(`invalid Tocsin config in ${bad} (1 problem):\n  routes[0].channels[0]: unknown channel "nope"`);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe('one error per kind of mistake, naming the path', () => {
  it('YAML syntax error: the line and column, without quoting the line', async () => {
    const text = 'channels:\n  ops: { type: slack\nroutes: []\n';
    const error = await configError(text);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]!.path).toBe('line 3, column 1');
    expect(error.problems[0]!.message).toBe('Flow map in block collection must be sufficiently indented and end with a }');
    expect(error.message).not.toContain('type: slack');
  });

  it('accepts an unquoted placeholder as a whole value inside { } (as the design example writes it)', async () => {
    const config = await loadConfigText('channels:\n  ops: { type: slack, webhookUrl: ${SLACK_WEBHOOK_URL} }\nroutes: [{ channels: [ops] }]\n', {
      env: { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/XXXX' },
    });
    expect(config.channels['ops']).toMatchObject({ type: 'slack', webhookUrl: 'https://hooks.slack.com/services/T000/B000/XXXX' });
  });

  it('loads the example config of the design contract as written', async () => {
    const config = await loadConfigText(DESIGN_EXAMPLE, { env: { TOCSIN_INGEST_TOKEN: 'ingest-token', SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T1/B1/abc' } });
    expect(Object.keys(config.channels)).toEqual(['ops-chat', 'oncall-sms', 'team-mail', 'audit']);
    expect(config.routes.map((route) => route.channels)).toEqual([['ops-chat', 'oncall-sms'], ['team-mail'], ['audit']]);
    expect(config.dedup).toMatchObject({ renotifyAfterMs: 4 * 3_600_000, flap: { changes: 4, windowMs: 30 * 60_000 } });
    expect(config.ingest.token).toBe('ingest-token');
  });

  it('a placeholder inside a larger unquoted flow value still fails, with the hint to quote it', async () => {
    const error = await configError('channels:\n  ops: { type: webhook, url: https://x.example/${PATH}/hook }\nroutes: []\n');
    expect(error.problems[0]!.message).toContain('(inside { } or [ ], quote placeholders: "${NAME}")');
  });

  it('JSON syntax error: line and column, without the text around it', async () => {
    const text = '{\n  "channels": {\n    "hook": "https://example.com/SECRET" oops\n  }\n}';
    const error = await configError(text, { env, sourceName: 'tocsin.json' });
    expect(error.problems).toEqual([{ path: 'line 3, column 42', message: "invalid JSON: Expected ',' or '}' after property value" }]);
    expect(error.message).not.toContain('SECRET');
  });

  it('a YAML alias bomb is refused before it expands', async () => {
    const text = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    ].join('\n');
    expect(await problems(text)).toEqual([
      { path: '(root)', message: 'Excessive alias count indicates a resource exhaustion attack' },
    ]);
  });

  it('an empty file', async () => {
    expect(await problems('# nothing yet\n')).toEqual([
      { path: '(root)', message: 'the config is empty (it needs at least channels and routes)' },
    ]);
  });

  it('unknown channel type', async () => {
    expect(await problems('channels: { ops: { type: slak } }\nroutes: [{ channels: [ops] }]\n')).toEqual([
      {
        path: 'channels.ops.type',
        message: 'unknown channel type "slak" (expected one of console, webhook, slack, teams, google-chat, sms, email, pagerduty, splunk-oncall, opsgenie)',
      },
    ]);
  });

  it('server.publicUrl: an http(s) base URL, read into the config; anything else named', async () => {
    const base = 'channels: { ops: { type: console } }\nroutes: [{ channels: [ops] }]\n';
    expect((await loadConfigText(`${base}server: { publicUrl: "https://tocsin.example.com" }\n`, { env })).publicUrl).toBe('https://tocsin.example.com');
    expect((await loadConfigText(base, { env })).publicUrl).toBeUndefined();
    expect(await problems(`${base}server: { publicUrl: "ftp://tocsin.example.com" }\n`)).toEqual([
      { path: 'server.publicUrl', message: 'a URL like https://tocsin.example.com (http or https) where people reach this server' },
    ]);
    expect(await problems(`${base}server: { publicUrl: "https://tocsin.example.com/?x=1" }\n`)).toEqual([
      { path: 'server.publicUrl', message: 'a base URL without ?query or #fragment' },
    ]);
  });

  it('unknown channel in a route', async () => {
    const text = `channels: { out: { type: console } }
routes:
  - { channels: [out], continue: true }
  - { channels: [out], continue: true }
  - { channels: [ops] }
`;
    expect(await problems(text)).toEqual([{ path: 'routes[2].channels[0]', message: 'unknown channel "ops"' }]);
  });

  it('bad regular expression', async () => {
    const text = `channels: { out: { type: console } }
routes:
  - match: { labelsRegex: { env: "prod|[a-", team: "a)|(b" } }
    channels: [out]
`;
    expect(await problems(text)).toEqual([
      { path: 'routes[0].match.labelsRegex.env', message: 'invalid regular expression (Unterminated character class)' },
      { path: 'routes[0].match.labelsRegex.team', message: "invalid regular expression (Unmatched ')')" },
    ]);
  });

  it('bad durations', async () => {
    const text = `channels: { out: { type: console } }
routes: [{ channels: [out] }]
defaults:
  renotifyAfter: 4 hours
  flap: { window: 0 }
  sendTimeout: 10
`;
    expect(await problems(text)).toEqual([
      { path: 'defaults.renotifyAfter', message: 'expected a duration such as 4h, 30m, 90s, 1h30m or 0' },
      { path: 'defaults.flap.window', message: 'must be longer than 0' },
      { path: 'defaults.sendTimeout', message: 'expected a duration such as 4h, 30m, 90s, 1h30m or 0' },
    ]);
  });

  it('missing environment variable: one problem, not a second one about the unresolved text', async () => {
    expect(await problems(validYaml, { env: {} })).toEqual([
      { path: 'channels.ops-chat.webhookUrl', message: 'environment variable SLACK_WEBHOOK_URL is not set' },
    ]);
    expect(await problems(validYaml, { env: { SLACK_WEBHOOK_URL: '' } })).toEqual([
      { path: 'channels.ops-chat.webhookUrl', message: 'environment variable SLACK_WEBHOOK_URL is empty' },
    ]);
  });

  it('a blank ingest token', async () => {
    expect(await problems('ingest: { token: "   " }\nchannels: { out: { type: console } }\nroutes: [{ channels: [out] }]\n')).toEqual([
      { path: 'ingest.token', message: 'is blank: set a secret, or leave ingest.token out' },
    ]);
  });

  it('invalid placeholder name', async () => {
    expect(await problems('ingest: { token: "${not-a-name}" }\nchannels: { out: { type: console } }\nroutes: [{ channels: [out] }]\n')).toEqual([
      { path: 'ingest.token', message: 'invalid placeholder ${not-a-name} (names use letters, digits and _)' },
    ]);
  });

  it('wrong field types', async () => {
    const text = `channels: { out: { type: console } }
routes:
  - channels: out
    continue: "yes"
defaults: { maxAttempts: many }
`;
    expect(await problems(text)).toEqual([
      { path: 'routes[0].channels', message: 'Invalid input: expected array, received string' },
      { path: 'routes[0].continue', message: 'Invalid input: expected boolean, received string' },
      { path: 'defaults.maxAttempts', message: 'Invalid input: expected number, received string' },
    ]);
  });

  it('unknown keys, at the top level and inside routes', async () => {
    const text = `channels: { out: { type: console } }
routs: []
routes:
  - mach: { severity: [critical] }
    channels: [out]
`;
    expect(await problems(text)).toEqual([
      { path: 'routes[0].mach', message: 'unknown key (expected one of match, channels, continue, severity, autoResolveAfter, groupBy, groupWait, groupInterval)' },
      { path: 'routs', message: 'unknown key (expected one of ingest, channels, routes, defaults, maintenance, rateLimits, server)' },
    ]);
  });

  it('unknown enum value in a matcher', async () => {
    const text = 'channels: { out: { type: console } }\nroutes: [{ match: { source: [cloudwatch, prometheus] }, channels: [out] }]\n';
    const [problem, ...rest] = await problems(text);
    expect(rest).toEqual([]);
    expect(problem!.path).toBe('routes[0].match.source[1]');
    expect(problem!.message).toContain('expected one of "cloudwatch"|"azure-monitor"|"gcp-monitoring"|"alertmanager"|"grafana"|"signalfx"');
  });

  it("invalid channel field, checked by the channel's own schema", async () => {
    const text = 'channels: { ops-chat: { type: slack, webhookUrl: "not a url" } }\nroutes: [{ channels: [ops-chat] }]\n';
    expect(await problems(text)).toEqual([
      { path: 'channels.ops-chat.webhookUrl', message: 'must be an https URL (plain http only for 127.0.0.1, [::1] or localhost)' },
    ]);
  });

  it('invalid channel name', async () => {
    expect(await problems('channels: { "ops chat": { type: console } }\nroutes: [{ channels: ["ops chat"] }]\n')).toEqual([
      { path: 'channels.ops chat', message: 'invalid channel name (use up to 64 letters, digits, - and _)' },
    ]);
  });

  it('missing channels and routes', async () => {
    expect(await problems('ingest: {}\n')).toEqual([
      { path: 'channels', message: 'Invalid input: expected record, received undefined' },
      { path: 'routes', message: 'Invalid input: expected array, received undefined' },
    ]);
  });

  it('lists every problem at once in the message', async () => {
    const text = `channels: { ops: { type: slak } }
routes: [{ channels: [missing] }]
defaults: { renotifyAfter: soon }
`;
    expect((await configError(text, { env, sourceName: 'tocsin.yaml' })).message).toBe(
      [
        'invalid Tocsin config in tocsin.yaml (3 problems):',
        '  defaults.renotifyAfter: expected a duration such as 4h, 30m, 90s, 1h30m or 0',
        '  channels.ops.type: unknown channel type "slak" (expected one of console, webhook, slack, teams, google-chat, sms, email, pagerduty, splunk-oncall, opsgenie)',
        '  routes[0].channels[0]: unknown channel "missing"',
      ].join('\n'),
    );
  });
});

describe('secrets never appear in errors', () => {
  it('a resolved value that fails validation is not echoed', async () => {
    const secret = 'ftp://hooks.example.com/T0/B0/SUPERSECRET';
    const error = await configError(validYaml, { env: { SLACK_WEBHOOK_URL: secret } });
    expect(error.problems.map((problem) => problem.path)).toEqual(['channels.ops-chat.webhookUrl']);
    expect(error.message).not.toContain('SUPERSECRET');
  });

  it('a value that came from a placeholder is shown as the placeholder', async () => {
    const text = 'channels: { ops: { type: "${CHANNEL_TYPE}" } }\nroutes: [{ channels: [ops] }]\n';
    const error = await configError(text, { env: { CHANNEL_TYPE: 'SECRET-TYPE' } });
    expect(error.problems).toEqual([
      {
        path: 'channels.ops.type',
        message:
          'unknown channel type "${CHANNEL_TYPE}" (resolved value not shown) (expected one of console, webhook, slack, teams, google-chat, sms, email, pagerduty, splunk-oncall, opsgenie)',
      },
    ]);
    expect(error.message).not.toContain('SECRET-TYPE');
  });

  it('a secret written straight into a file with a syntax error is not quoted', async () => {
    const error = await configError(`channels:\n  ops: { type: slack, webhookUrl: "${SLACK_URL}" ]\n`);
    expect(error.problems.length).toBeGreaterThan(0);
    expect(error.message).not.toContain('SECRETxyz123');
  });
});

describe('route grouping (groupBy, groupWait, groupInterval)', () => {
  const grouped = (route: string, channels = '  hook: { type: webhook, url: http://127.0.0.1:9999/hook }\n') => `channels:\n${channels}routes:\n  - channels: [hook]\n${route}`;

  it('keeps the keys in ms; absent groupBy, a route does not group', async () => {
    const config = await loadConfigText(grouped('    groupBy: [alertname, source]\n    groupWait: 2s\n    groupInterval: 1m\n'));
    expect(config.routes[0]).toMatchObject({ groupBy: ['alertname', 'source'], groupWait: 2_000, groupInterval: 60_000 });
    const plain = await loadConfigText(grouped(''));
    expect(plain.routes[0]?.groupBy).toBeUndefined();
  });

  it('says clearly what is wrong', async () => {
    expect(await problems(grouped('    groupWait: 2s\n'))).toEqual([{ path: 'routes[0].groupWait', message: 'only applies with groupBy: set groupBy too, or leave it out' }]);
    expect(await problems(grouped('    groupBy: []\n'))).toEqual([
      { path: 'routes[0].groupBy', message: 'list at least one incident field (source, cloud, account, region, resource, severity, rule) or label name, or leave groupBy out' },
    ]);
    expect(await problems(grouped('    groupBy: [a, a]\n'))).toEqual([{ path: 'routes[0].groupBy', message: 'lists a key twice' }]);
    expect(await problems(grouped('    groupBy: [a]\n    groupWait: 2h\n'))).toEqual([{ path: 'routes[0].groupWait', message: 'must be at most 1h (a first notice waits this long)' }]);
    expect(await problems(grouped('    groupBy: [a]\n    groupInterval: 0\n'))).toEqual([{ path: 'routes[0].groupInterval', message: 'must be longer than 0' }]);
    expect(await problems(grouped('    groupBy: [a]\n    groupInterval: soon\n'))).toEqual([
      { path: 'routes[0].groupInterval', message: 'expected a duration such as 4h, 30m, 90s, 1h30m or 0' },
    ]);
  });

  it('refuses to group onto a channel that takes no digests', async () => {
    const text = grouped('    groupBy: [alertname]\n', '  hook: { type: pagerduty, routingKey: abcdefabcdefabcdefabcdefabcdefab }\n');
    const found = await problems(text);
    expect(found).toHaveLength(1);
    expect(found[0]?.path).toBe('routes[0].channels[0]');
    expect(found[0]?.message).toMatch(/^channel "hook" is of type pagerduty, which takes no digests \(pagerduty, splunk-oncall, opsgenie group alerts by their own keys\)/);
  });
});

describe('rateLimits', () => {
  const base = [
    'channels:',
    '  chat: { type: slack, webhookUrl: "https://hooks.slack.com/services/T0/B0/x" }',
    '  pager: { type: sms, phoneNumbers: ["+15555550100"] }',
    '  hook: { type: webhook, url: "http://127.0.0.1:9999/hook" }',
    'routes:',
    '  - channels: [chat, pager, hook]',
  ].join('\n');

  it('defaults to the channel types\' own limits and a 15-minute maxWait', async () => {
    const config = await loadConfigText(`${base}\n`);
    expect(config.rateLimits).toEqual({ maxWaitMs: 15 * 60_000, channels: {} });
  });

  it('merges an override over its channel type\'s defaults, and takes "off"', async () => {
    const config = await loadConfigText(
      `${base}\nrateLimits:\n  maxWait: 2m\n  channels:\n    chat: { limit: 5, per: 1s, burst: 5 }\n    pager: { dailyCap: 10 }\n    hook: off\n`,
    );
    expect(config.rateLimits).toEqual({
      maxWaitMs: 120_000,
      channels: {
        chat: { rate: { limit: 5, perMs: 1_000, burst: 5 } },
        pager: { rate: { limit: 20, perMs: 3_600_000, burst: 5 }, dailyCap: 10 },
        hook: 'off',
      },
    });
  });

  it('names a channel that is not defined, and a limit without its period', async () => {
    expect(await problems(`${base}\nrateLimits:\n  channels:\n    chatt: { limit: 1, per: 1s }\n    chat: { limit: 1 }\n`)).toEqual([
      { path: 'rateLimits.channels.chat', message: 'set limit and per together (e.g. limit: 1, per: 1s)' },
      { path: 'rateLimits.channels.chatt', message: 'unknown channel "chatt"' },
    ]);
  });
});
