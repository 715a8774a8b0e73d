// Local footprint: `tocsin start` as `npm start` runs it (the local bundle, built here into a
// temporary folder; the embedded default config: every event to the console) in its own process, the load from another (bench/load.ts), figures read from /proc. Measured: start to
// /healthz answering; resident memory idle after start, after a flat-out minute of ingest, and
// with 1,000,000 incidents stored (seeded into the database before the start) with the ingest
// rate there; a bare Node process as the floor, and Debian's prometheus-alertmanager (null
// receiver) idle and after the same minute on /api/v2/alerts, when it is installed.
// TOCSIN_BENCH_LOAD_SECONDS and TOCSIN_BENCH_INCIDENTS shorten a run (60 and 1,000,000 by default).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATABASE_FILE_NAME } from '../functions/local/start.ts';
import { LOCAL_BUNDLE, packageAll } from '../functions/package.ts';
import { SqliteIncidentStore } from '../shared/dedup/sqlite-store.ts';
import { LocalDatabase } from '../shared/local/database.ts';
import { normalizeBytes } from '../shared/normalize.ts';
import { ALERTMANAGER_BIN, freePort, startAlertmanager } from '../test/helpers/alertmanager.ts';
import { CLI } from '../test/helpers/cli-process.ts';
import { alertmanagerBody } from './alert-body.ts';
import type { BenchResult } from './harness.ts';
import type { LoadResult, LoadSpec } from './load.ts';

const TOKEN = 'bench-ingest-token-0123456789abcdef';
const LOAD_SECONDS = Number(process.env['TOCSIN_BENCH_LOAD_SECONDS'] ?? 60);
const INCIDENTS = Number(process.env['TOCSIN_BENCH_INCIDENTS'] ?? 1_000_000);
const STARTS = 3;
const SETTLE_MS = 3_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (kib: number): number => Math.round((kib / 1024) * 10) / 10;

/** VmRSS (now) and VmHWM (the peak so far) of a process, in KiB. */
export async function residentKiB(pid: number | undefined): Promise<{ rss: number; peak: number }> {
  if (pid === undefined) return { rss: Number.NaN, peak: Number.NaN };
  const status = await readFile(`/proc/${String(pid)}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

async function load(spec: LoadSpec): Promise<LoadResult> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'load.ts'), JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`bench/load.ts exited ${String(code)}`);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as LoadResult;
}

interface StartedTocsin {
  readonly child: ChildProcess;
  readonly url: string;
  /** Spawn to the first 200 from /healthz. */
  readonly startMs: number;
  stop(): Promise<void>;
}

/** `tocsin start` from `cli` (this checkout's by default) on `dataDir`, output discarded. */
export async function startTocsin(dataDir: string, cli = CLI, nodeArgs: readonly string[] = []): Promise<StartedTocsin> {
  const port = await freePort();
  const url = `http://127.0.0.1:${String(port)}`;
  const started = performance.now();
  // Output discarded: a console channel printing into a pipe nobody reads would block it.
  const child = spawn(process.execPath, [...nodeArgs, cli, 'start', '--port', String(port), '--data', dataDir], {
    cwd: dataDir,
    stdio: ['ignore', 'ignore', 'ignore'],
    env: { PATH: process.env['PATH'] ?? '', TOCSIN_INGEST_TOKEN: TOKEN },
  });
  const exited = once(child, 'exit');
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tocsin exited ${String(child.exitCode)} before answering /healthz`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (performance.now() - started > 30_000) throw new Error('tocsin did not answer /healthz within 30 s');
    await sleep(5);
  }
  const startMs = performance.now() - started;
  return {
    child,
    url,
    startMs,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Writes `count` incident records into the database of `dataDir`, as if that many had been ingested. */
export function seedIncidents(dataDir: string, count: number): void {
  const database = LocalDatabase.open({ file: join(dataDir, DATABASE_FILE_NAME) });
  try {
    const store = new SqliteIncidentStore(database);
    const now = new Date();
    const [incident] = normalizeBytes(alertmanagerBody('bench-stored', now.getTime()), { receivedAt: now, source: 'alertmanager' }).incidents;
    if (incident === undefined) throw new Error('the bench alert made no incident');
    const template = store.applySync(incident, now).record;
    const batch = 50_000;
    for (let first = 0; first < count; first += batch) {
      const records = [];
      for (let index = first; index < Math.min(count, first + batch); index += 1) {
        const fingerprint = `bench-${String(index).padStart(8, '0')}`;
        records.push({ ...template, fingerprint, incident: { ...template.incident, fingerprint } });
      }
      store.importSnapshot(records, []);
    }
  } finally {
    database.close();
  }
}

export interface TocsinFootprint {
  readonly startMs: number;
  readonly idleMiB: number;
  readonly loadMiB: number;
  readonly loadPeakMiB: number;
  readonly loadRequestsPerSecond: number;
}

/** Start time (median of STARTS), idle RSS, and RSS after LOAD_SECONDS flat out, of one checkout's CLI. */
export async function measureTocsin(cli = CLI, loadSeconds = LOAD_SECONDS, nodeArgs: readonly string[] = []): Promise<TocsinFootprint> {
  const starts: number[] = [];
  for (let run = 0; run < STARTS; run += 1) {
    const dir = await mkdtemp(join(tmpdir(), 'tocsin-footprint-'));
    try {
      const tocsin = await startTocsin(dir, cli, nodeArgs);
      starts.push(tocsin.startMs);
      if (run === STARTS - 1) {
        await sleep(SETTLE_MS);
        const idle = (await residentKiB(tocsin.child.pid)).rss;
        if (loadSeconds <= 0) {
          await tocsin.stop();
          starts.sort((a, b) => a - b);
          return { startMs: starts[Math.floor(starts.length / 2)] ?? Number.NaN, idleMiB: mib(idle), loadMiB: Number.NaN, loadPeakMiB: Number.NaN, loadRequestsPerSecond: Number.NaN };
        }
        const result = await load({ url: `${tocsin.url}/v1/ingest/alertmanager`, headers: { authorization: `Bearer ${TOKEN}` }, connections: 10, durationSeconds: loadSeconds, body: 'repeat', name: 'bench-footprint' });
        const after = await residentKiB(tocsin.child.pid);
        await tocsin.stop();
        starts.sort((a, b) => a - b);
        return { startMs: starts[Math.floor(starts.length / 2)] ?? Number.NaN, idleMiB: mib(idle), loadMiB: mib(after.rss), loadPeakMiB: mib(after.peak), loadRequestsPerSecond: Math.round(result.requestsPerSecond) };
      }
      await tocsin.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  throw new Error('unreachable');
}

/** RSS idle and after a short flat-out load with `count` incidents stored. */
export async function measureWithIncidents(count: number, cli = CLI): Promise<{ idleMiB: number; loadMiB: number; requestsPerSecond: number; seedSeconds: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'tocsin-footprint-many-'));
  try {
    const seeded = performance.now();
    seedIncidents(join(dir, 'data'), count);
    const seedSeconds = (performance.now() - seeded) / 1000;
    const tocsin = await startTocsin(join(dir, 'data'), cli);
    try {
      await sleep(SETTLE_MS);
      const idle = await residentKiB(tocsin.child.pid);
      // New alerts, so the store reads and writes among the stored ones rather than one cached record.
      const result = await load({ url: `${tocsin.url}/v1/ingest/alertmanager`, headers: { authorization: `Bearer ${TOKEN}` }, connections: 10, durationSeconds: 10, body: 'unique', name: 'bench-stored' });
      const after = await residentKiB(tocsin.child.pid);
      return { idleMiB: mib(idle.rss), loadMiB: mib(after.rss), requestsPerSecond: Math.round(result.requestsPerSecond), seedSeconds };
    } finally {
      await tocsin.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A Node process that does nothing: the floor every Node server starts from. */
async function bareNodeMiB(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await sleep(SETTLE_MS);
  const { rss } = await residentKiB(child.pid);
  child.kill();
  await once(child, 'exit');
  return mib(rss);
}

function alertmanagerInstalled(): boolean {
  return spawnSync(ALERTMANAGER_BIN, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Builds what `npm start` runs (the local bundle) into a temporary folder; returns its entry. */
async function packageLocal(dir: string): Promise<string> {
  const [result] = await packageAll(dir, [LOCAL_BUNDLE]);
  if (result === undefined) throw new Error('the local bundle did not build');
  return result.file;
}

export async function run(): Promise<BenchResult[]> {
  const group = 'footprint';
  const out = await mkdtemp(join(tmpdir(), 'tocsin-footprint-bundle-'));
  try {
    return await measureAll(group, await packageLocal(out));
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

async function measureAll(group: string, bundle: string): Promise<BenchResult[]> {
  const tocsin = await measureTocsin(bundle);
  // The sources as `npm run tocsin -- start` runs them: no load, start and idle only.
  const fromSources = await measureTocsin(CLI, 0);
  const results: BenchResult[] = [
    { group, name: 'start to /healthz', value: Math.round(tocsin.startMs), unit: 'ms', note: `npm start's bundle; median of ${String(STARTS)}; goal ≤ 250 ms` },
    { group, name: 'RSS idle after start', value: tocsin.idleMiB, unit: 'MiB', note: 'console channel; goal ≤ 70 MiB' },
    { group, name: `RSS after ${String(LOAD_SECONDS)} s flat out`, value: tocsin.loadMiB, unit: 'MiB', note: `peak ${String(tocsin.loadPeakMiB)} MiB at ${String(tocsin.loadRequestsPerSecond)} requests/s; goal ≤ 90 MiB` },
    { group, name: 'start to /healthz, from the sources', value: Math.round(fromSources.startMs), unit: 'ms', note: 'npm run tocsin -- start (type stripping)' },
    { group, name: 'RSS idle, from the sources', value: fromSources.idleMiB, unit: 'MiB', note: 'npm run tocsin -- start' },
    { group, name: 'bare Node 22 RSS', value: await bareNodeMiB(), unit: 'MiB', note: 'the floor' },
  ];
  if (alertmanagerInstalled()) {
    const alertmanager = await startAlertmanager();
    try {
      await sleep(SETTLE_MS);
      const idle = await residentKiB(alertmanager.pid);
      const result = await load({ url: `${alertmanager.url}/api/v2/alerts`, headers: {}, connections: 10, durationSeconds: LOAD_SECONDS, body: 'alertmanager-api', name: 'bench-footprint' });
      const after = await residentKiB(alertmanager.pid);
      results.push(
        { group, name: 'alertmanager RSS idle', value: mib(idle.rss), unit: 'MiB', note: 'null receiver' },
        { group, name: `alertmanager RSS after ${String(LOAD_SECONDS)} s flat out`, value: mib(after.rss), unit: 'MiB', note: `peak ${String(mib(after.peak))} MiB at ${String(Math.round(result.requestsPerSecond))} requests/s` },
      );
    } finally {
      await alertmanager.stop();
    }
  }
  if (INCIDENTS > 0) {
    const many = await measureWithIncidents(INCIDENTS, bundle);
    const count = INCIDENTS.toLocaleString('en-US');
    results.push(
      { group, name: `RSS with ${count} incidents stored`, value: many.idleMiB, unit: 'MiB', note: `idle; seeded in ${many.seedSeconds.toFixed(0)} s; goal ≤ 200 MiB` },
      { group, name: `RSS with ${count} incidents, after 10 s flat out`, value: many.loadMiB, unit: 'MiB', note: 'goal ≤ 200 MiB' },
      { group, name: `ingest with ${count} incidents stored`, value: many.requestsPerSecond, unit: 'requests/s', note: '10 connections, a new alert per request' },
    );
  }
  return results;
}
