// The load generator of the server benchmark, in its own process (`node bench/load.ts SPEC`), so
// that neither the server measured nor the bench's receiver shares its event loop. SPEC is JSON
// (LoadSpec); the summary is printed on stdout as JSON (LoadResult).
//
// Flat out it is autocannon. At a fixed rate it is a paced open loop of its own: autocannon's
// `overallRate` gives each connection its share per second and sends it back to back, so "500/s"
// became a burst of 500 at the start of every second, and a request waiting for a free
// connection was not counted as waiting. Paced, request i is due at start + i/rate, its latency
// (and the send time in its label) counts from then, whether a connection was free or not.
import { Agent, request } from 'node:http';
import autocannon from 'autocannon';
import { alertmanagerBody, alertmanagerV2Body } from './alert-body.ts';

export interface LoadSpec {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly connections: number;
  readonly durationSeconds: number;
  /** Requests per second over all connections, evenly spaced; flat out without. */
  readonly overallRate?: number;
  /**
   * `repeat`: one Alertmanager webhook body, the same alert every time (a duplicate after the
   * first); `unique`: a new alert per request with its send time in a label; `alertmanager-api`:
   * one alert in Alertmanager's own /api/v2/alerts shape (the peer's ingest).
   */
  readonly body: 'repeat' | 'unique' | 'alertmanager-api';
  readonly name: string;
}

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly total: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly p50: number;
  readonly p99: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
let counter = 0;
const fixed = spec.body === 'alertmanager-api' ? alertmanagerV2Body(spec.name) : alertmanagerBody(spec.name, Date.now());

function bodyAt(sentAtMs: number): string {
  if (spec.body !== 'unique') return fixed;
  counter += 1;
  return alertmanagerBody(`${spec.name}-${String(counter)}`, sentAtMs);
}

async function flatOut(): Promise<LoadResult> {
  const result = await autocannon({
    url: spec.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...spec.headers },
    connections: spec.connections,
    duration: spec.durationSeconds,
    requests: [{ setupRequest: (req) => ({ ...req, body: bodyAt(Date.now()) }) }],
  });
  return {
    requestsPerSecond: result.requests.average,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

async function paced(rate: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
  const url = new URL(spec.url);
  const count = Math.round(rate * spec.durationSeconds);
  const intervalMs = 1000 / rate;
  const clock = (): number => performance.timeOrigin + performance.now();
  const startMs = clock() + 20;
  const latencies: number[] = [];
  let issued = 0;
  let open = 0;
  let non2xx = 0;
  let errors = 0;
  await new Promise<void>((done) => {
    const finished = (): void => {
      open -= 1;
      if (issued >= count && open === 0) done();
    };
    const tick = (): void => {
      while (issued < count && startMs + issued * intervalMs <= clock()) {
        const dueMs = startMs + issued * intervalMs;
        issued += 1;
        open += 1;
        const body = bodyAt(Math.round(dueMs));
        const req = request(
          url,
          { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...spec.headers } },
          (res) => {
            res.resume();
            res.on('end', () => {
              if (res.statusCode === undefined || res.statusCode >= 300) non2xx += 1;
              latencies.push(clock() - dueMs);
              finished();
            });
          },
        );
        req.on('error', () => {
          errors += 1;
          finished();
        });
        req.end(body);
      }
      if (issued < count) setTimeout(tick, Math.max(0, Math.min(1, startMs + issued * intervalMs - clock())));
    };
    tick();
  });
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const percentile = (p: number): number => Math.round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN);
  return { requestsPerSecond: latencies.length / spec.durationSeconds, total: latencies.length, non2xx, errors, p50: percentile(50), p99: percentile(99) };
}

const summary = spec.overallRate === undefined ? await flatOut() : await paced(spec.overallRate);
process.stdout.write(`${JSON.stringify(summary)}\n`);
