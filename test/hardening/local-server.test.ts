// The local server as an attacker meets it, over real sockets: DNS rebinding (foreign Host
// names), cross-site browser requests (Origin, Sec-Fetch-Site), read endpoints without the
// token, a token checked before the body is read, slow headers and slow bodies, a flood of
// connections, malformed request targets, HEAD, and a network bind without a token.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoTokenOnNetworkError, type ServerLimits } from '../../functions/local/guards.ts';
import { startLocal } from '../../functions/local/start.ts';
import { validateConfig } from '../../shared/config/index.ts';
import { startLocalHarness, type LocalHarness } from '../helpers/local-harness.ts';
import { fetchMetrics, metricSum, rawExchange, sleep, type RawExchange } from './support.ts';

const ALERT = JSON.stringify({
  version: '4',
  status: 'firing',
  groupLabels: {},
  commonLabels: {},
  commonAnnotations: {},
  alerts: [{ status: 'firing', labels: { alertname: 'CrossSiteProbe', instance: 'web-1' }, annotations: {}, startsAt: '2026-11-25T10:00:00Z' }],
});

const portOf = (url: string): number => Number(new URL(url).port);
const json = (exchange: RawExchange): Record<string, unknown> => JSON.parse(exchange.body) as Record<string, unknown>;

/** A complete HTTP/1.1 request, as bytes a browser or a script would send. */
function httpRequest(method: string, target: string, headers: Record<string, string>, body = ''): string {
  const lines = [`${method} ${target} HTTP/1.1`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  if (body !== '' || method === 'POST') lines.push(`content-length: ${String(Buffer.byteLength(body))}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

describe('a loopback server without a token: browsers and rebinding', () => {
  let harness: LocalHarness;
  let port: number;
  const logged: string[] = [];

  beforeAll(async () => {
    harness = await startLocalHarness({ dataPrefix: 'tocsin-browser-data-', log: (line) => logged.push(line) });
    port = portOf(harness.local.url);
  });
  afterAll(() => harness.stop());

  const exchange = (request: string) => rawExchange(port, [request], { timeoutMs: 5_000, stopAfterResponse: true });
  const accepted = async (): Promise<number> => metricSum(await fetchMetrics(harness.local.url), 'tocsin_incidents_total');

  it.each(['localhost', '127.0.0.1', '[::1]', 'app.localhost'])('serves Host %s (a loopback name)', async (name) => {
    const answer = await exchange(httpRequest('GET', '/v1/incidents', { host: `${name}:${String(port)}` }));
    expect(answer.status).toBe(200);
  });

  it.each(['attacker.example', 'attacker.example:80', '127.0.0.1.nip.io', 'localhost.attacker.example', '[::ffff:7f00:1].attacker.example'])(
    'refuses Host %s with 403, to reads and ingest alike (a DNS-rebinding page names its own host)',
    async (name) => {
      const before = await accepted();
      const read = await exchange(httpRequest('GET', '/v1/incidents', { host: `${name}:${String(port)}` }));
      expect(read.status).toBe(403);
      expect(json(read)).toEqual({ error: 'foreign-host', message: 'this server listens on loopback and answers only to localhost, 127.0.0.1 or [::1]' });
      expect(read.body).not.toContain('incidents');
      const post = await exchange(httpRequest('POST', '/v1/ingest/alertmanager', { host: `${name}:${String(port)}`, 'content-type': 'text/plain' }, ALERT));
      expect(post.status).toBe(403);
      expect(await accepted()).toBe(before);
    },
  );

  it('refuses a request without a Host header with 400', async () => {
    const answer = await exchange('GET /v1/incidents HTTP/1.0\r\n\r\n');
    expect(answer.status).toBe(400);
    expect(json(answer)).toMatchObject({ error: 'missing-host' });
  });

  it('refuses a cross-site POST (a web page posting text/plain, no preflight needed) with 403; nothing is accepted', async () => {
    const before = await accepted();
    const answer = await exchange(
      httpRequest('POST', '/v1/ingest/alertmanager', { host: `127.0.0.1:${String(port)}`, origin: 'https://attacker.example', 'content-type': 'text/plain;charset=UTF-8', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' }, ALERT),
    );
    expect(answer.status).toBe(403);
    expect(json(answer)).toEqual({ error: 'cross-site', message: 'cross-site browser requests are refused (Origin is not this server)' });
    expect(answer.head).toMatch(/\r\nconnection: close/i);
    expect(await accepted()).toBe(before);
    expect(logged.some((line) => line.includes('refused a cross-site request from Origin "https://attacker.example"'))).toBe(true);
  });

  it.each([
    ['another origin', { origin: 'https://attacker.example' }],
    ['another port on localhost (same site, other origin)', { origin: 'http://localhost:3000' }],
    ['the opaque origin of a sandboxed frame or a file', { origin: 'null' }],
    ['Sec-Fetch-Site cross-site without Origin', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site same-site', { 'sec-fetch-site': 'same-site' }],
  ])('refuses a read from %s with 403', async (_name, headers) => {
    const answer = await exchange(httpRequest('GET', '/v1/incidents', { host: `127.0.0.1:${String(port)}`, ...headers }));
    expect(answer.status).toBe(403);
    expect(json(answer)).toMatchObject({ error: 'cross-site' });
  });

  it('accepts the same request from its own origin, and from tools that send no Origin', async () => {
    const before = await accepted();
    const own = await exchange(
      httpRequest('POST', '/v1/ingest/alertmanager', { host: `127.0.0.1:${String(port)}`, origin: `http://127.0.0.1:${String(port)}`, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' }, ALERT),
    );
    expect(own.status).toBe(202);
    const tool = await exchange(httpRequest('POST', '/v1/ingest/alertmanager', { host: `127.0.0.1:${String(port)}`, 'content-type': 'application/json' }, ALERT));
    expect(tool.status).toBe(202);
    expect(await accepted()).toBe(before + 2);
  });

  it('answers a malformed request target with a JSON 400 and a log line, and stays up', async () => {
    for (const target of ['http://[/v1/incidents', '//[', '*', 'http://127.0.0.1/v1/incidents']) {
      const answer = await exchange(httpRequest('GET', target, { host: `127.0.0.1:${String(port)}` }));
      expect(answer.status, target).toBe(400);
      expect(json(answer), target).toEqual({ error: 'malformed-target', message: 'the request target must be a path such as /v1/ingest' });
    }
    expect(logged.some((line) => line.includes('malformed request target "http://[/v1/incidents"'))).toBe(true);
    // Bytes node:http cannot parse at all (a TLS hello, a target without its slash) get a JSON 400 too.
    for (const garbage of ['\u0016\u0003\u0001 not http at all\r\n\r\n', `GET v1/incidents HTTP/1.1\r\nhost: 127.0.0.1:${String(port)}\r\n\r\n`]) {
      const answer = await rawExchange(port, [garbage], { timeoutMs: 5_000 });
      expect(answer.status).toBe(400);
      expect(json(answer)).toEqual({ error: 'malformed-request', message: 'the request is not valid HTTP' });
      expect(answer.closed).toBe(true);
    }
    expect((await fetch(`${harness.local.url}/healthz`)).status).toBe(200);
  });

  it('answers HEAD wherever it answers GET, with the headers and no body', async () => {
    for (const path of ['/healthz', '/metrics', '/v1/incidents']) {
      const response = await fetch(`${harness.local.url}${path}`, { method: 'HEAD' });
      expect(response.status, path).toBe(200);
      expect(await response.text(), path).toBe('');
    }
    const ingest = await fetch(`${harness.local.url}/v1/ingest`, { method: 'HEAD' });
    expect(ingest.status).toBe(405);
    expect(ingest.headers.get('allow')).toBe('POST');
  });
});

describe('with a token: every endpoint but /healthz wants it, and it is checked before the body', () => {
  const TOKEN = 'read-guard-token-0c4f9a7d1e';
  let harness: LocalHarness;
  let openHarness: LocalHarness;

  beforeAll(async () => {
    harness = await startLocalHarness({ config: { ingest: { token: TOKEN } }, dataPrefix: 'tocsin-token-data-' });
    openHarness = await startLocalHarness({ config: { ingest: { token: TOKEN } }, host: '0.0.0.0', dataPrefix: 'tocsin-token-open-data-' });
  });
  afterAll(async () => {
    await harness.stop();
    await openHarness.stop();
  });

  it.each(['127.0.0.1', '0.0.0.0'])('on %s: /v1/incidents and /metrics answer 401 without the token, 200 with it; /healthz stays open', async (bind) => {
    const { url } = bind === '0.0.0.0' ? openHarness.local : harness.local;
    const base = bind === '0.0.0.0' ? `http://127.0.0.1:${String(portOf(url))}` : url;
    for (const path of ['/v1/incidents', '/metrics']) {
      for (const method of ['GET', 'HEAD']) {
        const refused = await fetch(`${base}${path}`, { method });
        expect(refused.status, `${method} ${path}`).toBe(401);
        expect(refused.headers.get('www-authenticate')).toContain('Bearer');
      }
      expect((await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      expect((await fetch(`${base}${path}?token=${TOKEN}`)).status).toBe(200);
      expect((await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    }
    const refusedBody = await (await fetch(`${base}/v1/incidents`)).text();
    expect(refusedBody).not.toContain('incidents"');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('refuses an unknown path with 401 too: new endpoints are behind the token by default', async () => {
    expect((await fetch(`${harness.local.url}/v1/not-yet-an-endpoint`)).status).toBe(401);
    expect((await fetch(`${harness.local.url}/v1/not-yet-an-endpoint`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
  });

  it('answers 401 at once to a POST whose body has not been sent, and closes the connection (raw socket)', async () => {
    const port = portOf(harness.local.url);
    const headers = ['POST /v1/ingest/alertmanager HTTP/1.1', `host: 127.0.0.1:${String(port)}`, 'content-type: application/json', 'content-length: 1000000', '', ''].join('\r\n');
    // The body would follow after 20 s; the answer must not wait for it.
    const answer = await rawExchange(port, [headers, { pauseMs: 20_000 }, 'x'.repeat(1_000_000)], { timeoutMs: 10_000 });
    expect(answer.status).toBe(401);
    expect(answer.firstByteMs).toBeLessThan(2_000);
    expect(answer.closed).toBe(true);
    expect(json(answer)).toMatchObject({ error: 'unauthorized' });
    expect(harness.local.pipeline.rejected.count()).toBe(0);
  });
});

/**
 * A server with a token and the given limits for the enclosing describe block (started in its
 * beforeAll, stopped in its afterAll); what it logs is collected in `logged`.
 */
function limitedServer(token: string, limits: ServerLimits): { readonly harness: LocalHarness; readonly port: number; readonly logged: string[] } {
  let started: LocalHarness | undefined;
  const logged: string[] = [];
  beforeAll(async () => {
    started = await startLocalHarness({ config: { ingest: { token } }, limits, dataPrefix: 'tocsin-limits-data-', log: (line) => logged.push(line) });
  });
  afterAll(() => started?.stop());
  return {
    get harness(): LocalHarness {
      if (started === undefined) throw new Error('the server is started in beforeAll');
      return started;
    },
    get port(): number {
      return portOf(this.harness.local.url);
    },
    logged,
  };
}

describe('slow clients and floods (raw sockets)', () => {
  const TOKEN = 'slow-client-token-5e2d';
  const LIMITS = { headersTimeoutMs: 600, bodyTimeoutMs: 1_200, maxConnections: 64, maxConnectionsPerClient: 8 };
  const server = limitedServer(TOKEN, LIMITS);
  let harness: LocalHarness;
  let port: number;
  const logged = server.logged;
  beforeAll(() => {
    ({ harness, port } = server);
  });

  const headersOf = (length: number): string =>
    ['POST /v1/ingest/alertmanager HTTP/1.1', `host: 127.0.0.1:${String(port)}`, `authorization: Bearer ${TOKEN}`, 'content-type: application/json', `content-length: ${String(length)}`, '', ''].join('\r\n');

  it('a body that trickles in is cut off with a JSON 408 after the body timeout, the connection closed, nothing accepted', async () => {
    const before = metricSum(await fetchMetrics(harness.local.url, TOKEN), 'tocsin_incidents_total');
    const steps = [headersOf(Buffer.byteLength(ALERT)), ALERT.slice(0, 10)];
    for (let index = 10; index < ALERT.length; index += 1) steps.push({ pauseMs: 400 } as never, ALERT[index] ?? '');
    const answer = await rawExchange(port, steps, { timeoutMs: 15_000 });
    expect(answer.status).toBe(408);
    expect(json(answer)).toMatchObject({ error: 'timeout' });
    expect(answer.closed).toBe(true);
    // Headers + body timeout (1.8 s) plus Node's check interval, far from the old 300 s.
    expect(answer.elapsedMs).toBeLessThan(5_000);
    expect(metricSum(await fetchMetrics(harness.local.url, TOKEN), 'tocsin_incidents_total')).toBe(before);
    expect(logged.some((line) => line.includes('408 timeout from 127.0.0.1'))).toBe(true);
  });

  it('headers that never finish get a 408 after the headers timeout', async () => {
    const answer = await rawExchange(port, ['POST /v1/ingest/alertmanager HTTP/1.1\r\nhost: 127.0.0.1\r\n', { pauseMs: 60_000 }], { timeoutMs: 10_000 });
    expect(answer.status).toBe(408);
    expect(answer.closed).toBe(true);
    expect(answer.elapsedMs).toBeLessThan(4_000);
  });
});

describe('a flood of slow connections (raw sockets)', () => {
  const TOKEN = 'flood-token-81b0c6';
  // Long enough that the accepted slow connections stay held for the whole flood.
  const LIMITS = { headersTimeoutMs: 8_000, bodyTimeoutMs: 8_000, maxConnections: 64, maxConnectionsPerClient: 8 };
  const FLOOD = 1_100;
  const server = limitedServer(TOKEN, LIMITS);
  let harness: LocalHarness;
  let port: number;
  const logged = server.logged;
  beforeAll(() => {
    ({ harness, port } = server);
  });

  it('1,100 slow connections from one client: past its cap each gets 503 and is closed; other clients are still served; the server recovers', async () => {
    const opened: Socket[] = [];
    const answers: string[] = [];
    try {
      // The flood comes from 127.0.0.2 (another loopback address: another client to the server).
      await Promise.all(
        Array.from(
          { length: FLOOD },
          () =>
            new Promise<void>((resolve) => {
              const socket = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
              opened.push(socket);
              let text = '';
              const done = (): void => {
                answers.push(text);
                resolve();
              };
              const timer = setTimeout(done, 3_000);
              socket.on('data', (chunk: Buffer) => {
                text += chunk.toString();
                if (text.includes('\r\n\r\n{')) {
                  clearTimeout(timer);
                  done();
                }
              });
              socket.on('error', () => undefined);
              // A slowloris: one line of a request, then nothing.
              socket.once('connect', () => socket.write('POST /v1/ingest HTTP/1.1\r\n'));
            }),
        ),
      );
      const refused = answers.filter((text) => text.startsWith('HTTP/1.1 503'));
      const held = answers.filter((text) => text === '');
      expect(held).toHaveLength(LIMITS.maxConnectionsPerClient);
      expect(refused).toHaveLength(FLOOD - LIMITS.maxConnectionsPerClient);
      expect(refused[0]).toMatch(/retry-after: 5/i);
      expect(refused[0]).toContain('{"error":"too-many-connections","message":"too many open connections (8 connections from 127.0.0.2); retry later"}');
      // Meanwhile another client is served at once.
      const health = await rawExchange(port, [`GET /healthz HTTP/1.1\r\nhost: 127.0.0.1:${String(port)}\r\n\r\n`], { timeoutMs: 3_000, stopAfterResponse: true });
      expect(health.status).toBe(200);
    } finally {
      for (const socket of opened) socket.destroy();
    }
    // Once its connections are gone, the flooding address is served again.
    await sleep(200);
    const again = await rawExchange(port, [`GET /healthz HTTP/1.1\r\nhost: 127.0.0.1:${String(port)}\r\n\r\n`], { timeoutMs: 3_000, stopAfterResponse: true, localAddress: '127.0.0.2' });
    expect(again.status).toBe(200);
    const metrics = await fetchMetrics(harness.local.url, TOKEN);
    expect(metricSum(metrics, 'tocsin_http_refused_total', { reason: 'connection-cap' })).toBe(FLOOD - LIMITS.maxConnectionsPerClient);
    // Refusals are logged, but not one line each.
    expect(logged.filter((line) => line.includes('refused a connection from 127.0.0.2')).length).toBeLessThan(5);
  }, 60_000);
});

describe('listening off loopback', () => {
  let dir: string;
  const ROOT = join(import.meta.dirname, '..', '..');
  // The package's bin, as a user runs it (it also silences node:sqlite's experimental warning).
  const CLI = join(ROOT, 'functions', 'local', 'tocsin.js');
  const envWithout = (): NodeJS.ProcessEnv => {
    const env = { ...process.env };
    delete env['TOCSIN_INGEST_TOKEN'];
    delete env['TOCSIN_CONFIG'];
    return env;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tocsin-bind-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('startLocal refuses 0.0.0.0 without a token, before listening', async () => {
    const config = validateConfig({ channels: { log: { type: 'console' } }, routes: [{ channels: ['log'] }] });
    const dataDir = join(dir, 'never-created');
    await expect(startLocal({ host: '0.0.0.0', port: 0, config, env: {}, dataDir, log: () => undefined })).rejects.toThrow(NoTokenOnNetworkError);
    // Refused before the database is opened: nothing was written.
    expect(existsSync(dataDir)).toBe(false);
  });

  it('tocsin start --host 0.0.0.0 without a token exits 2 with one line that says how to set one', () => {
    const result = spawnSync(process.execPath, [CLI, 'start', '--host', '0.0.0.0', '--port', '0', '--data', join(dir, 'data')], { cwd: ROOT, env: envWithout(), encoding: 'utf8', timeout: 15_000 });
    expect(result.status).toBe(2);
    expect(result.stdout).not.toContain('listening');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tocsin: refusing to listen on 0\.0\.0\.0 without an ingest token/);
    expect(lines[0]).toContain('set TOCSIN_INGEST_TOKEN');
    expect(lines[0]).toContain('--insecure-open-ingest');
  });

  it('names the config file to edit when one is given', () => {
    const config = join(dir, 'no-token.yaml');
    spawnSync('sh', ['-c', `printf 'channels:\\n  log: { type: console }\\nroutes:\\n  - channels: [log]\\n' > ${config}`]);
    const result = spawnSync(process.execPath, [CLI, 'start', '--host', '0.0.0.0', '--port', '0', '--config', config, '--data', join(dir, 'data')], { cwd: ROOT, env: envWithout(), encoding: 'utf8', timeout: 15_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`set ingest.token in ${config}`);
  });

  let runs = 0;
  const startAndStop = async (args: string[], env: NodeJS.ProcessEnv): Promise<string> => {
    const child = spawn(process.execPath, [CLI, 'start', '--port', '0', '--data', join(dir, `data-${String(runs++)}`), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no banner: ${out}`));
      }, 15_000);
      child.stdout.on('data', () => {
        if (out.includes('tocsin listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    return out;
  };

  it('starts on 0.0.0.0 with TOCSIN_INGEST_TOKEN set, and says the token is required', async () => {
    const out = await startAndStop(['--host', '0.0.0.0'], { ...envWithout(), TOCSIN_INGEST_TOKEN: 'bind-token-93f1c2' });
    expect(out).toContain('token required for everything but /healthz');
    expect(out).not.toContain('bind-token-93f1c2');
  }, 30_000);

  it('starts on 0.0.0.0 without a token only with --insecure-open-ingest, and says so loudly', async () => {
    const out = await startAndStop(['--host', '0.0.0.0', '--insecure-open-ingest'], envWithout());
    expect(out).toContain('!!! NO TOKEN, OPEN TO THE NETWORK (--insecure-open-ingest)');
  }, 30_000);

  it('npm start’s default (loopback, no token, no config) still starts', async () => {
    const out = await startAndStop([], envWithout());
    expect(out).toContain('no token: loopback only');
  }, 30_000);
});
