// The load generator of the server benchmark, in its own process (`node bench/load.ts SPEC`), so
// that neither the server measured nor the bench's receiver shares its event loop. SPEC is JSON
// (LoadSpec); the autocannon summary is printed on stdout as JSON (LoadResult).
import autocannon from 'autocannon';
import { alertmanagerBody, alertmanagerV2Body } from './alert-body.ts';

export interface LoadSpec {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly connections: number;
  readonly durationSeconds: number;
  /** Requests per second over all connections; flat out without. */
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
const result = await autocannon({
  url: spec.url,
  method: 'POST',
  headers: { 'content-type': 'application/json', ...spec.headers },
  connections: spec.connections,
  duration: spec.durationSeconds,
  ...(spec.overallRate === undefined ? {} : { overallRate: spec.overallRate }),
  requests: [
    {
      setupRequest: (request) => {
        if (spec.body !== 'unique') return { ...request, body: fixed };
        counter += 1;
        return { ...request, body: alertmanagerBody(`${spec.name}-${String(counter)}`, Date.now()) };
      },
    },
  ],
});
const summary: LoadResult = {
  requestsPerSecond: result.requests.average,
  total: result.requests.total,
  non2xx: result.non2xx,
  errors: result.errors,
  p50: result.latency.p50,
  p99: result.latency.p99,
};
process.stdout.write(`${JSON.stringify(summary)}\n`);
