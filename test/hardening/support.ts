// Shared by the hardening suites: a raw HTTP POST (exact bytes, any headers, optional chunked
// body, and an answer read even when the server replies before the body is sent), Prometheus
// text parsing for /metrics reconciliation, and the shapes of the local server's answers.
import { request } from 'node:http';

export interface RawResponse {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

export interface RawPostOptions {
  readonly headers?: Readonly<Record<string, string>>;
  /** Send the body in this many pieces with chunked transfer encoding (no content-length). */
  readonly chunks?: number;
}

export function rawPost(url: string, body: Uint8Array, options: RawPostOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunked = options.chunks !== undefined;
    const headers: Record<string, string> = { ...options.headers };
    if (!chunked) headers['content-length'] = String(body.byteLength);
    let answered = false;
    const outgoing = request(url, { method: 'POST', headers }, (response) => {
      answered = true;
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => {
        resolve({
          status: response.statusCode ?? 0,
          contentType: response.headers['content-type'] ?? '',
          text: Buffer.concat(parts).toString('utf8'),
        });
      });
      response.on('error', reject);
    });
    // A server may answer (413) and close before the whole body is written: the write then
    // fails, which is expected once the answer is in.
    outgoing.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (chunked) {
      const pieces = Math.max(1, options.chunks ?? 1);
      const size = Math.ceil(body.byteLength / pieces);
      for (let start = 0; start < body.byteLength; start += size) outgoing.write(body.subarray(start, start + size));
      outgoing.end();
    } else {
      outgoing.end(body);
    }
  });
}

export interface MetricSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of one metric in Prometheus text format (`name{a="b"} 3`). */
export function metricSamples(text: string, name: string): MetricSample[] {
  const samples: MetricSample[] = [];
  const line = new RegExp(`^${name}(?:\\{(.*)\\})? (\\S+)$`);
  for (const row of text.split('\n')) {
    const match = line.exec(row);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      if (key !== undefined && value !== undefined) labels[key] = value;
    }
    samples.push({ labels, value: Number(match[2]) });
  }
  return samples;
}

/** Sum of a metric's samples whose labels include every pair in `where`. */
export function metricSum(text: string, name: string, where: Readonly<Record<string, string>> = {}): number {
  return metricSamples(text, name)
    .filter((sample) => Object.entries(where).every(([key, value]) => sample.labels[key] === value))
    .reduce((total, sample) => total + sample.value, 0);
}

export async function fetchMetrics(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return response.text();
}

/** The local server's 4xx body. */
export interface ErrorAnswer {
  readonly error: unknown;
  readonly message: unknown;
  readonly rejectedId?: unknown;
}

/** The local server's 202 body. */
export interface AcceptedAnswer {
  readonly accepted: unknown;
  readonly source: unknown;
  readonly fingerprints: unknown;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds, polling; fails after `timeoutMs` naming what it waited for. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}`);
    await sleep(10);
  }
}
