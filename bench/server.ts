// The local server as users run it — `tocsin start` in its own process, durable SQLite store on —
// with the load from a second process (bench/load.ts: autocannon flat out, evenly paced at a fixed
// rate) and the webhook receiver in
// this one, so no two of them share an event loop. Measured: ingest requests/s flat out (one
// repeated alert: the whole ingest + dedup path, no delivery), side by side with Debian's
// prometheus-alertmanager taking the same alert on /api/v2/alerts in alternating rounds; latency
// at a fixed 1,000 requests/s; ingest → webhook delivered at 500 new alerts/s; the write
// amplification (rows written and transactions committed per alert, from SQLite, read off
// /metrics); and flat out again with `--sync full` (an fsync per group commit).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAlertmanager, type RunningAlertmanager } from '../test/helpers/alertmanager.ts';
import { startCli, type RunningCli } from '../test/helpers/cli-process.ts';
import type { BenchResult } from './harness.ts';
import type { LoadResult, LoadSpec } from './load.ts';

const TOKEN = 'bench-ingest-token-0123456789abcdef';
const ROUNDS = 3;
const ROUND_SECONDS = 5;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * CPU time a process has used so far (user + system, all threads), in ms, from /proc: unlike
 * requests/s it hardly moves when other work shares the machine, so it compares runs made on a
 * busy machine too.
 */
async function cpuMs(pid: number | undefined): Promise<number> {
  if (pid === undefined) return Number.NaN;
  const stat = await readFile(`/proc/${String(pid)}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Runs bench/load.ts in a child process and returns its summary. */
async function load(spec: LoadSpec): Promise<LoadResult> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'load.ts'), JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`bench/load.ts exited ${String(code)}`);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as LoadResult;
}

/** A webhook receiver that records each new alert's ingest → delivered latency (send time in a label). */
async function startReceiver(): Promise<{ url: string; latencies: number[]; server: Server }> {
  const latencies: number[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      const labels = (JSON.parse(body) as { incident?: { labels?: Record<string, string> } }).incident?.labels ?? {};
      const sent = Number(labels['sent_at_ms']);
      if (Number.isFinite(sent) && labels['alertname']?.startsWith('bench-e2e-') === true) latencies.push(Date.now() - sent);
      response.writeHead(200).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/hook`, latencies, server };
}

interface Tocsin {
  readonly cli: RunningCli;
  readonly dir: string;
  metric(name: string): Promise<number>;
  /** Waits until nothing is queued (dispatched and delivered). */
  drained(): Promise<void>;
  stop(): Promise<void>;
}

async function startTocsin(receiverUrl: string, sync: 'normal' | 'full'): Promise<Tocsin> {
  const dir = await mkdtemp(join(tmpdir(), 'tocsin-bench-'));
  const config = join(dir, 'tocsin.json');
  await writeFile(config, JSON.stringify({ channels: { hook: { type: 'webhook', url: receiverUrl } }, routes: [{ channels: ['hook'] }] }));
  const cli = await startCli(['--config', config, '--data', join(dir, 'data'), '--sync', sync], { TOCSIN_INGEST_TOKEN: TOKEN });
  const headers = { authorization: `Bearer ${TOKEN}` };
  return {
    cli,
    dir,
    async metric(name) {
      const text = await (await fetch(`${cli.url}/metrics`, { headers })).text();
      // Sums every series of the metric (e.g. received_total over endpoints).
      let sum = 0;
      for (const line of text.split('\n')) {
        if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return sum;
    },
    async drained() {
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        const health = (await (await fetch(`${cli.url}/healthz`)).json()) as { queues: Record<string, number> };
        if ((health.queues['incidents'] ?? 0) + (health.queues['deliveriesReady'] ?? 0) + (health.queues['deliveriesDelayed'] ?? 0) === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('tocsin did not drain within 120 s');
    },
    async stop() {
      cli.child.kill('SIGTERM');
      await cli.exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function writesPerAlert(tocsin: Tocsin, work: () => Promise<number>): Promise<{ rows: number; commits: number }> {
  const rowsBefore = await tocsin.metric('tocsin_database_rows_written');
  const commitsBefore = await tocsin.metric('tocsin_database_commits');
  const alerts = await work();
  await tocsin.drained();
  const rows = (await tocsin.metric('tocsin_database_rows_written')) - rowsBefore;
  const commits = (await tocsin.metric('tocsin_database_commits')) - commitsBefore;
  return { rows: round2(rows / Math.max(1, alerts)), commits: round2(commits / Math.max(1, alerts)) };
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const receiver = await startReceiver();
  let tocsin: Tocsin | undefined;
  let alertmanager: RunningAlertmanager | undefined;
  try {
    tocsin = await startTocsin(receiver.url, 'normal');
    alertmanager = await startAlertmanager();
    const tocsinUrl = `${tocsin.cli.url}/v1/ingest/alertmanager`;
    const headers = { authorization: `Bearer ${TOKEN}` };
    const flat = (body: LoadSpec['body'], url: string, extra: Record<string, string>): LoadSpec => ({
      url,
      headers: extra,
      connections: 10,
      durationSeconds: ROUND_SECONDS,
      body,
      name: 'bench-flat',
    });

    // 1. Flat out, alternating rounds with Alertmanager (the same alert, each server its own
    // process, the load in a third), so both see the same machine.
    const ours: LoadResult[] = [];
    const peers: LoadResult[] = [];
    const amUrl = `${alertmanager.url}/api/v2/alerts`;
    let oursCpu = 0;
    let peersCpu = 0;
    const flatWrites = await writesPerAlert(tocsin, async () => {
      let total = 0;
      for (let round = 0; round < ROUNDS; round += 1) {
        const oursBefore = await cpuMs(tocsin?.cli.child.pid);
        const result = await load(flat('repeat', tocsinUrl, headers));
        oursCpu += (await cpuMs(tocsin?.cli.child.pid)) - oursBefore;
        ours.push(result);
        total += result.total;
        const peerBefore = await cpuMs(alertmanager?.pid);
        peers.push(await load(flat('alertmanager-api', amUrl, {})));
        peersCpu += (await cpuMs(alertmanager?.pid)) - peerBefore;
      }
      return total;
    });
    const oursCpuPerAlert = (oursCpu * 1000) / Math.max(1, ours.reduce((n, r) => n + r.total, 0));
    const peersCpuPerAlert = (peersCpu * 1000) / Math.max(1, peers.reduce((n, r) => n + r.total, 0));
    const oursRps = median(ours.map((result) => result.requestsPerSecond));
    const peerRps = median(peers.map((result) => result.requestsPerSecond));
    const last = ours.at(-1)!;
    results.push(
      {
        group: 'server',
        name: 'ingest flat out (durable)',
        value: Math.round(oursRps),
        unit: 'req/s',
        note: `median of ${String(ROUNDS)} × ${String(ROUND_SECONDS)} s, 10 connections; p50 ${String(last.p50)} ms, p99 ${String(last.p99)} ms, non-2xx ${String(ours.reduce((n, r) => n + r.non2xx, 0))}; synchronous=normal`,
      },
      {
        group: 'server',
        name: 'alertmanager /api/v2/alerts flat out',
        value: Math.round(peerRps),
        unit: 'req/s',
        note: `Debian prometheus-alertmanager, same alert, alternating rounds; Tocsin/Alertmanager ${round2(oursRps / peerRps).toFixed(2)}x`,
      },
      {
        group: 'server',
        name: 'server CPU per alert, flat out',
        value: Math.round(oursCpuPerAlert),
        unit: 'µs',
        note: `Alertmanager ${String(Math.round(peersCpuPerAlert))} µs (all threads); user + system time from /proc, steadier than req/s on a busy machine`,
      },
      { group: 'server', name: 'database writes per repeated alert', value: flatWrites.rows, unit: 'rows', note: `${String(flatWrites.commits)} commits per alert (group commit)` },
    );
    await alertmanager.stop();
    alertmanager = undefined;

    // 2. A fixed rate, evenly paced: each request's latency counts from when it was due.
    const fixed = await load({ ...flat('repeat', tocsinUrl, headers), overallRate: 1000, name: 'bench-fixed' });
    results.push(
      { group: 'server', name: 'ingest p50 at 1000 req/s', value: fixed.p50, unit: 'ms' },
      { group: 'server', name: 'ingest p99 at 1000 req/s', value: fixed.p99, unit: 'ms', note: `achieved ${String(Math.round(fixed.requestsPerSecond))} req/s` },
    );

    // 3. Ingest → delivered at 500 alerts/s, evenly paced, every alert new (opened and delivered);
    // the receiver measures from each alert's due time, carried in a label.
    await tocsin.drained();
    let sent = 0;
    const e2eWrites = await writesPerAlert(tocsin, async () => {
      const result = await load({ ...flat('unique', tocsinUrl, headers), overallRate: 500, name: 'bench-e2e' });
      sent = result.total;
      return result.total;
    });
    const sorted = [...receiver.latencies].sort((a, b) => a - b);
    results.push(
      { group: 'server', name: 'ingest→delivered alerts at 500/s', value: sorted.length, unit: 'alerts', note: `${String(sent)} sent` },
      { group: 'server', name: 'database writes per new alert', value: e2eWrites.rows, unit: 'rows', note: `${String(e2eWrites.commits)} commits per alert: ingest, dispatch, delivery (one webhook)` },
      { group: 'server', name: 'ingest→delivered p50 at 500/s', value: percentile(sorted, 50), unit: 'ms' },
      { group: 'server', name: 'ingest→delivered p99 at 500/s', value: percentile(sorted, 99), unit: 'ms' },
    );
    await tocsin.stop();
    tocsin = undefined;

    // 4. Flat out with synchronous=full: committed alerts also survive power loss.
    tocsin = await startTocsin(receiver.url, 'full');
    const full = await load(flat('repeat', `${tocsin.cli.url}/v1/ingest/alertmanager`, headers));
    results.push({
      group: 'server',
      name: 'ingest flat out (durable, sync full)',
      value: Math.round(full.requestsPerSecond),
      unit: 'req/s',
      note: `p50 ${String(full.p50)} ms, p99 ${String(full.p99)} ms, non-2xx ${String(full.non2xx)}; an fsync per group commit`,
    });
  } finally {
    await tocsin?.stop();
    await alertmanager?.stop();
    receiver.server.close();
  }
  return results;
}
