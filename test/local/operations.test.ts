// Operating the local pipeline, on the real `tocsin` command: one instance per database, a
// corrupt database refused without being touched, private files, a full disk (the database size
// cap) answered with a retryable 503 and nothing half-written, the one-time import of the old
// state file and spool folder, `tocsin replay` moving what it re-ingests, `tocsin history`
// and `tocsin dlq` against a running server and against the stopped database.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryIncidentStore } from '../../shared/dedup/memory-store.ts';
import { LocalDatabase } from '../../shared/local/database.ts';
import { RejectedPayloads } from '../../shared/local/rejected.ts';
import { normalize } from '../../shared/normalize.ts';
import {
  alertmanagerGroup,
  closedPortUrl,
  spawnCli,
  startCli,
  startCountingReceiver,
  waitFor,
  type CountingReceiver,
  type RunningCli,
} from '../helpers/cli-process.ts';

let dir: string;
let receiver: CountingReceiver;
let config: string;
const running = new Set<RunningCli>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tocsin-operations-'));
  receiver = await startCountingReceiver();
  config = join(dir, 'tocsin.yaml');
  await writeFile(
    config,
    ['channels:', `  hook: { type: webhook, url: "${receiver.url}/hook" }`, 'routes:', '  - channels: [hook]', 'defaults: { maxAttempts: 2, sendTimeout: 2s }', ''].join('\n'),
  );
});
afterEach(() => {
  for (const cli of running) cli.child.kill('SIGKILL');
  running.clear();
  receiver.mode = 'ok';
  receiver.requests.length = 0;
  receiver.arrivals = 0;
});
afterAll(async () => {
  await receiver.close();
  await rm(dir, { recursive: true, force: true });
});

let folders = 0;
const freshData = (): string => {
  folders += 1;
  return join(dir, `data-${String(folders)}`);
};

async function start(dataDir: string, extra: readonly string[] = []): Promise<RunningCli> {
  const cli = await startCli(['--config', config, '--data', dataDir, ...extra]);
  running.add(cli);
  return cli;
}

async function stop(cli: RunningCli): Promise<void> {
  cli.child.kill('SIGTERM');
  expect(await cli.exited).toBe(0);
  running.delete(cli);
}

/** `tocsin ARGS`, to completion. */
async function run(args: readonly string[]): Promise<{ code: number | string; output: string }> {
  const cli = spawnCli(args);
  const code = await cli.exited;
  return { code, output: cli.output() };
}

const post = (cli: RunningCli, body: string, path = '/v1/ingest/alertmanager'): Promise<Response> =>
  fetch(`${cli.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

const sha256 = async (file: string): Promise<string> => createHash('sha256').update(await readFile(file)).digest('hex');

describe('the database belongs to one running tocsin', () => {
  it('a second instance on the same data refuses to start, naming the file and the other process', async () => {
    const data = freshData();
    const first = await start(data);
    const second = await run(['start', '--port', '0', '--config', config, '--data', data]);
    expect(second.code).toBe(2);
    expect(second.output).toMatch(new RegExp(`tocsin: ${join(data, 'tocsin.db').replace(/[.]/g, '\\.')} is in use by another tocsin process \\(pid ${String(first.child.pid)}\\); stop it first, or give this one its own --data folder`));
    // The first one is unharmed.
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    await stop(first);
  }, 30_000);

  it('after kill -9 the lock is gone with the process: a new instance starts on the same data', async () => {
    const data = freshData();
    const first = await start(data);
    first.child.kill('SIGKILL');
    await first.exited;
    running.delete(first);
    const second = await start(data);
    expect((await fetch(`${second.url}/healthz`)).status).toBe(200);
    await stop(second);
  }, 30_000);

  it('a corrupt database: exit 2 naming the file, and the file is left exactly as it was', async () => {
    const data = freshData();
    await mkdir(data, { recursive: true });
    const file = join(data, 'tocsin.db');
    await writeFile(file, Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4080, 0x5a)]));
    const before = await sha256(file);
    const result = await run(['start', '--port', '0', '--config', config, '--data', data]);
    expect(result.code).toBe(2);
    expect(result.output).toContain(`tocsin: ${file} is not a readable Tocsin database (`);
    expect(result.output).toContain('it was left untouched');
    expect(result.output.trim().split('\n')).toHaveLength(1);
    expect(await sha256(file)).toBe(before);
  }, 30_000);

  it('keeps its files private: the folder 0700, the database and its log 0600', async () => {
    const data = freshData();
    const cli = await start(data);
    expect((await post(cli, alertmanagerGroup(['private'], 'firing', new Date().toISOString()))).status).toBe(202);
    expect((await stat(data)).mode & 0o777).toBe(0o700);
    for (const name of (await readdir(data)).filter((entry) => entry.startsWith('tocsin.db'))) {
      expect((await stat(join(data, name))).mode & 0o777, name).toBe(0o600);
    }
    expect(existsSync(join(data, 'tocsin.db-wal'))).toBe(true);
    await stop(cli);
  }, 30_000);
});

describe('a full disk', () => {
  it('answers 503 with Retry-After (nothing half-written), keeps what it had accepted, and delivers it once there is room', async () => {
    const data = freshData();
    const cli = await start(data, ['--max-db-size', '256KiB']);
    const accepted: string[] = [];
    let refused: Response | undefined;
    let refusedName = '';
    for (let index = 0; index < 2_000 && refused === undefined; index += 1) {
      const name = `disk-${String(index)}`;
      const response = await post(cli, alertmanagerGroup([name, `${name}-b`], 'firing', new Date().toISOString()));
      if (response.status === 202) accepted.push(...((await response.json()) as { fingerprints: string[] }).fingerprints);
      else {
        refused = response;
        refusedName = name;
      }
    }
    expect(refused?.status).toBe(503);
    expect(refused?.headers.get('retry-after')).toBe('5');
    expect(await refused?.json()).toEqual({
      error: 'unavailable',
      message: 'could not store the alerts: the disk (or the database size limit) is full; nothing was kept, retry later',
    });
    // A refused payload that cannot be kept is a 503 too, never a 4xx that would make the
    // sender drop it: each answer is a 400 that kept the bytes, until the 503s.
    const malformedStatuses: number[] = [];
    for (let index = 0; index < 20 && !malformedStatuses.includes(503); index += 1) {
      const malformed = await post(cli, `{"not json ${'x'.repeat(16 * 1024)}`, '/v1/ingest');
      const answer = (await malformed.json()) as { rejectedId?: number };
      if (malformed.status === 400) expect(answer.rejectedId).toBeTypeOf('number');
      malformedStatuses.push(malformed.status);
    }
    expect(malformedStatuses.at(-1)).toBe(503);
    expect(accepted.length).toBeGreaterThan(10);
    await stop(cli);

    // With room again, everything answered 202 is delivered (once), and the refused request left nothing behind.
    const roomy = await start(data);
    await waitFor(() => receiver.successes().size >= accepted.length, 60_000, 'every accepted alert delivered');
    const delivered = [...receiver.successes().values()].map((notices) => notices[0]?.fingerprint);
    expect(new Set(delivered)).toEqual(new Set(accepted));
    expect(delivered).toHaveLength(accepted.length);
    const incidents = (await (await fetch(`${roomy.url}/v1/incidents?limit=10000`)).json()) as { incidents: { incident: { labels: Record<string, string> } }[] };
    expect(incidents.incidents.some((record) => record.incident.labels['instance'] === refusedName)).toBe(false);
    await stop(roomy);
  }, 120_000);
});

describe('moving on from files', () => {
  it('imports an old state.json and spool folder once, then renames them', async () => {
    const data = freshData();
    await mkdir(join(data, 'spool'), { recursive: true });
    const incident = normalize(JSON.parse(alertmanagerGroup(['legacy'], 'firing', '2026-11-25T10:00:00Z')) as unknown, { receivedAt: new Date() }).incidents[0]!;
    const old = new MemoryIncidentStore();
    await old.apply(incident, new Date());
    await writeFile(join(data, 'state.json'), JSON.stringify(old.toJSON()));
    await writeFile(join(data, 'spool', '2026-11-25T10-00-00-000Z-abcd1234.payload'), '{"truncated');
    await writeFile(
      join(data, 'spool', '2026-11-25T10-00-00-000Z-abcd1234.meta.json'),
      JSON.stringify({ id: '2026-11-25T10-00-00-000Z-abcd1234', receivedAt: '2026-11-25T10:00:00.000Z', path: '/v1/ingest', status: 400, reason: 'malformed', message: 'payload is not valid JSON', truncated: false, bytes: 11 }),
    );
    const cli = await start(data);
    expect(cli.output()).toContain(`tocsin: imported 1 incident(s) and 0 delivery marker(s) from ${join(data, 'state.json')} (now ${join(data, 'state.json')}.imported)`);
    expect(cli.output()).toContain(`tocsin: imported 1 rejected payload(s) from ${join(data, 'spool')}`);
    const listed = (await (await fetch(`${cli.url}/v1/incidents`)).json()) as { incidents: { fingerprint: string }[] };
    expect(listed.incidents.map((record) => record.fingerprint)).toEqual([incident.fingerprint]);
    const rejected = (await (await fetch(`${cli.url}/v1/rejected`)).json()) as { rejected: { path: string; reason: string; bytes: number }[] };
    expect(rejected.rejected).toEqual([expect.objectContaining({ path: '/v1/ingest', reason: 'malformed', bytes: 11 })]);
    // The repeat of the imported incident is a duplicate, not a new notice.
    expect((await post(cli, alertmanagerGroup(['legacy'], 'firing', '2026-11-25T10:00:00Z'))).status).toBe(202);
    await stop(cli);
    expect(receiver.requests.filter((request) => request.fingerprint === incident.fingerprint)).toEqual([]);
    expect(existsSync(join(data, 'state.json'))).toBe(false);
    expect(existsSync(join(data, 'state.json.imported'))).toBe(true);
    expect(existsSync(join(data, 'spool.imported'))).toBe(true);
    // Started again, nothing is imported twice.
    const again = await start(data);
    expect(again.output()).not.toContain('imported');
    await stop(again);
  }, 60_000);

  it('tocsin replay moves what the server now accepts, and keeps what it still refuses', async () => {
    const data = freshData();
    // As an older version would have left them: one payload it could not read, one truly broken.
    const first = await start(data);
    await stop(first);
    const database = LocalDatabase.open({ file: join(data, 'tocsin.db') });
    const rejected = new RejectedPayloads(database);
    const meta = { receivedAt: new Date().toISOString(), path: '/v1/ingest/alertmanager', status: 400, reason: 'malformed', message: 'not recognised', truncated: false };
    rejected.add(meta, Buffer.from(alertmanagerGroup(['replayed'], 'firing', new Date().toISOString())));
    rejected.add(meta, Buffer.from('{"still": "broken"}'));
    database.close();

    const cli = await start(data);
    const result = await run(['replay', '--url', cli.url]);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/^202 #1 \/v1\/ingest\/alertmanager/m);
    expect(result.output).toMatch(/^400 #2 \/v1\/ingest\/alertmanager/m);
    expect(result.output).toContain('replayed 1 rejected payload(s), 1 still rejected');
    const left = (await (await fetch(`${cli.url}/v1/rejected`)).json()) as { rejected: { id: number }[] };
    expect(left.rejected.map((entry) => entry.id)).toEqual([2]);
    await waitFor(() => receiver.requests.some((request) => request.status === 200), 10_000, 'the replayed alert delivered');
    // Replaying again sends nothing twice.
    const again = await run(['replay', '--url', cli.url]);
    expect(again.output).toContain('replayed 0 rejected payload(s), 1 still rejected');
    await stop(cli);
  }, 60_000);

  it('tocsin replay DIR moves old spool entries once accepted and never deletes fixtures', async () => {
    const data = freshData();
    const spool = join(dir, 'old-spool');
    await mkdir(spool, { recursive: true });
    await writeFile(join(spool, 'a.payload'), alertmanagerGroup(['from-spool'], 'firing', new Date().toISOString()));
    await writeFile(join(spool, 'a.meta.json'), JSON.stringify({ path: '/v1/ingest/alertmanager' }));
    const cli = await start(data);
    const result = await run(['replay', spool, '--url', cli.url]);
    expect(result.code).toBe(0);
    expect(await readdir(spool)).toEqual([]);
    const fixtures = join(import.meta.dirname, '..', 'fixtures', 'grafana');
    const before = await readdir(fixtures);
    expect((await run(['replay', fixtures, '--url', cli.url])).code).toBe(0);
    expect(await readdir(fixtures)).toEqual(before);
    await stop(cli);
  }, 60_000);
});

describe('looking into it', () => {
  it('tocsin history shows received → decided → each attempt, from the server and from the stopped database; tocsin dlq lists and redrives', async () => {
    const data = freshData();
    receiver.mode = 'fail';
    const cli = await start(data);
    const response = await post(cli, alertmanagerGroup(['history'], 'firing', new Date().toISOString()));
    const [fingerprint] = ((await response.json()) as { fingerprints: string[] }).fingerprints;
    await waitFor(async () => ((await (await fetch(`${cli.url}/v1/dead-letters`)).json()) as { deadLetters: unknown[] }).deadLetters.length === 1, 20_000, 'the dead letter');
    expect(cli.output()).toMatch(/tocsin: delivery given up: hook ← "DurabilityProbe on history" \(opened\): gave up after 2 attempts: HTTP 500: receiver down; kept as a dead letter/);

    const online = await run(['history', fingerprint!, '--url', cli.url]);
    expect(online.code).toBe(0);
    const lines = online.output.trim().split('\n');
    expect(lines[0]).toBe(`${fingerprint!}  DurabilityProbe on history`);
    expect(lines.slice(2).map((line) => line.split(/\s+/).slice(1, 3).join(' '))).toEqual([
      'received firing',
      'decided opened',
      'delivery hook',
      'delivery hook',
    ]);
    expect(online.output).toContain('delivery   hook opened: retry (attempt 1): HTTP 500: receiver down; next attempt');
    expect(online.output).toContain('delivery   hook opened: dead-letter (attempt 2): gave up after 2 attempts: HTTP 500: receiver down');

    const listed = await run(['dlq', 'list', '--url', cli.url]);
    expect(listed.output).toMatch(/^#1 \S+ hook opened "DurabilityProbe on history" \(.+\) after 2 attempt\(s\): gave up after 2 attempts: HTTP 500: receiver down$/m);
    receiver.mode = 'ok';
    expect((await run(['dlq', 'redrive', '--url', cli.url])).output).toContain('put 1 dead letter(s) back on their queue');
    await waitFor(() => receiver.successes().size === 1, 10_000, 'the redriven delivery');
    await stop(cli);

    // Stopped: the same commands read the database itself.
    const nobody = await closedPortUrl();
    const offline = await run(['history', fingerprint!, '--url', nobody, '--data', data]);
    expect(offline.code, offline.output).toBe(0);
    expect(offline.output).toContain('delivery   hook opened: delivered (attempt 1)');
    expect((await run(['dlq', 'list', '--url', nobody, '--data', data])).output.trim()).toBe('no dead letters');
    const unknown = await run(['history', 'alertmanager:nope', '--url', nobody, '--data', data]);
    expect(unknown).toEqual({ code: 2, output: 'tocsin: no incident alertmanager:nope\n' });
  }, 60_000);
});
