// The local server on loopback, driven by autocannon: ingest requests/s flat out and latency at
// a fixed rate, then ingest → webhook-delivered latency at 500 alerts/s (each alert unique, so
// each one is opened and delivered; the send time rides in a label). Every accepted alert is
// committed to the local SQLite database before its 202: the figures are with durability on,
// and the write amplification (rows written and transactions committed per alert) is counted
// from SQLite itself. The flat-out figure is also taken with `--sync full` (an fsync per commit).
import autocannon from 'autocannon';
import { startLocalHarness } from '../test/helpers/local-harness.ts';
import type { BenchResult } from './harness.ts';

function alertBody(name: string, sentAtMs: number): string {
  return JSON.stringify({
    version: '4',
    groupKey: `{}:{alertname="${name}"}`,
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'tocsin',
    groupLabels: { alertname: name },
    commonLabels: { alertname: name, severity: 'warning' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.com:9093',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: name, severity: 'warning', instance: 'bench:9100', sent_at_ms: String(sentAtMs) },
        annotations: { summary: 'bench' },
        startsAt: new Date(sentAtMs).toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.example.com/graph',
        fingerprint: 'bench',
      },
    ],
  });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function run(): Promise<BenchResult[]> {
  // The receiver measures each notification's latency as it arrives.
  const latencies: number[] = [];
  // The tests' set-up: local-harness.ts imports nothing from vitest.
  const harness = await startLocalHarness({
    responder: (request) => {
      const body = JSON.parse(request.body) as { incident: { labels: Record<string, string> } };
      const sent = Number(body.incident.labels['sent_at_ms']);
      if (Number.isFinite(sent) && body.incident.labels['alertname']?.startsWith('bench-e2e-') === true) latencies.push(Date.now() - sent);
      return { status: 200 };
    },
    config: (recorderUrl) => ({ channels: { hook: { type: 'webhook', url: `${recorderUrl}/hook` } }, routes: [{ channels: ['hook'] }] }),
    dataPrefix: 'tocsin-bench-data-',
  });
  const { local } = harness;
  const { database } = local.pipeline;
  const writes = (): { rows: number; commits: number } => ({ rows: database.rowWrites(), commits: database.commits });
  const url = `${local.url}/v1/ingest/alertmanager`;
  const results: BenchResult[] = [];
  try {
    // 1. Flat out, one repeated alert (after the first it is a suppressed duplicate: the full
    // ingest + dedup path without deliveries).
    const flatBefore = writes();
    const flat = await autocannon({ url, method: 'POST', body: alertBody('bench-flat', Date.now()), headers: { 'content-type': 'application/json' }, connections: 10, duration: 5 });
    await local.pipeline.drain(30_000);
    const flatWrites = writes();
    results.push(
      { group: 'server', name: 'ingest flat out (durable)', value: Math.round(flat.requests.average), unit: 'req/s', note: `p50 ${String(flat.latency.p50)} ms, p99 ${String(flat.latency.p99)} ms, non-2xx ${String(flat.non2xx)}; synchronous=normal` },
      {
        group: 'server',
        name: 'database writes per repeated alert',
        value: round2((flatWrites.rows - flatBefore.rows) / Math.max(1, flat.requests.total)),
        unit: 'rows',
        note: `${String(round2((flatWrites.commits - flatBefore.commits) / Math.max(1, flat.requests.total)))} commits per alert (group commit)`,
      },
    );

    // 2. Fixed rate: latency without queueing in the client.
    const fixed = await autocannon({ url, method: 'POST', body: alertBody('bench-fixed', Date.now()), headers: { 'content-type': 'application/json' }, connections: 10, overallRate: 1000, duration: 5 });
    results.push(
      { group: 'server', name: 'ingest p50 at 1000 req/s', value: fixed.latency.p50, unit: 'ms' },
      { group: 'server', name: 'ingest p99 at 1000 req/s', value: fixed.latency.p99, unit: 'ms', note: `achieved ${String(Math.round(fixed.requests.average))} req/s` },
    );

    // 3. Ingest → delivered at 500 alerts/s, every alert new.
    await local.pipeline.drain(30_000);
    const fixedWrites = writes();
    let counter = 0;
    await autocannon({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      connections: 10,
      overallRate: 500,
      duration: 5,
      requests: [
        {
          setupRequest: (request) => {
            counter += 1;
            return { ...request, body: alertBody(`bench-e2e-${String(counter)}`, Date.now()) };
          },
        },
      ],
    });
    await local.pipeline.drain(30_000);
    const e2eWrites = writes();
    const sorted = [...latencies].sort((a, b) => a - b);
    results.push(
      { group: 'server', name: 'ingest→delivered alerts at 500/s', value: sorted.length, unit: 'alerts', note: `${String(counter)} sent` },
      {
        group: 'server',
        name: 'database writes per new alert',
        value: round2((e2eWrites.rows - fixedWrites.rows) / Math.max(1, counter)),
        unit: 'rows',
        note: `${String(round2((e2eWrites.commits - fixedWrites.commits) / Math.max(1, counter)))} commits per alert: ingest, dispatch, delivery (one webhook)`,
      },
      { group: 'server', name: 'ingest→delivered p50 at 500/s', value: percentile(sorted, 50), unit: 'ms' },
      { group: 'server', name: 'ingest→delivered p99 at 500/s', value: percentile(sorted, 99), unit: 'ms' },
    );
  } finally {
    await harness.stop();
  }

  // 4. Flat out again with synchronous=full: committed alerts also survive power loss.
  const full = await startLocalHarness({
    config: (recorderUrl) => ({ channels: { hook: { type: 'webhook', url: `${recorderUrl}/hook` } }, routes: [{ channels: ['hook'] }] }),
    dataPrefix: 'tocsin-bench-full-',
    durability: 'full',
  });
  try {
    const fullUrl = `${full.local.url}/v1/ingest/alertmanager`;
    const flatFull = await autocannon({ url: fullUrl, method: 'POST', body: alertBody('bench-flat', Date.now()), headers: { 'content-type': 'application/json' }, connections: 10, duration: 5 });
    results.push({
      group: 'server',
      name: 'ingest flat out (durable, sync full)',
      value: Math.round(flatFull.requests.average),
      unit: 'req/s',
      note: `p50 ${String(flatFull.latency.p50)} ms, p99 ${String(flatFull.latency.p99)} ms, non-2xx ${String(flatFull.non2xx)}; an fsync per group commit`,
    });
  } finally {
    await full.stop();
  }
  return results;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
