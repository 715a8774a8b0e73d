// Shared by the hardening suites: a raw HTTP POST (exact bytes, any headers, optional chunked
// body, and an answer read even when the server replies before the body is sent), Prometheus
// text parsing for /metrics reconciliation, and the shapes of the local server's answers.
import { request } from 'node:http';
import { connect } from 'node:net';

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

/** /metrics, with the ingest token when the server has one (read endpoints sit behind it). */
export async function fetchMetrics(baseUrl: string, token?: string): Promise<string> {
  const response = await fetch(`${baseUrl}/metrics`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
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

/** One step of a raw exchange: bytes to write, or a pause. */
export type RawStep = string | Buffer | { readonly pauseMs: number };

export interface RawExchange {
  /** The status of the first response, if one arrived. */
  readonly status: number | undefined;
  readonly head: string;
  readonly body: string;
  /** The server closed the connection. */
  readonly closed: boolean;
  /** From connecting to the first response byte (or to the end, without one). */
  readonly firstByteMs: number | undefined;
  readonly elapsedMs: number;
}

export interface RawExchangeOptions {
  /** Give up (and close) after this long. */
  readonly timeoutMs: number;
  /** Resolve as soon as one complete response (content-length body) is in. */
  readonly stopAfterResponse?: boolean;
  /** Connect from this local address (another loopback address looks like another client). */
  readonly localAddress?: string;
}

/**
 * A TCP conversation with exact bytes: writes the steps in order (pausing where told, and
 * stopping if the server answers or closes first), then reads until the server closes, one
 * response is complete (stopAfterResponse) or the timeout passes.
 */
export function rawExchange(port: number, steps: readonly RawStep[], options: RawExchangeOptions): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect({ port, host: '127.0.0.1', ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) });
    const received: Buffer[] = [];
    let firstByteMs: number | undefined;
    let closed = false;
    let settled = false;
    const result = (): RawExchange => {
      const text = Buffer.concat(received).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const head = split === -1 ? text : text.slice(0, split);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
      return { status: status === undefined ? undefined : Number(status), head, body: split === -1 ? '' : text.slice(split + 4), closed, firstByteMs, elapsedMs: Date.now() - started };
    };
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result());
    };
    const timer = setTimeout(finish, options.timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      firstByteMs ??= Date.now() - started;
      received.push(chunk);
      if (options.stopAfterResponse === true) {
        const { head, body } = result();
        const length = /\r\ncontent-length: (\d+)/i.exec(`\r\n${head}`)?.[1];
        if (length !== undefined && Buffer.byteLength(body) >= Number(length)) finish();
      }
    });
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the server answered (it closed while we were still writing) is expected.
      if (received.length > 0 || error.code === 'ECONNRESET' || error.code === 'EPIPE') return;
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(error);
      }
    });
    socket.once('connect', () => {
      void (async () => {
        for (const step of steps) {
          if (settled || closed || received.length > 0) return;
          if (typeof step === 'object' && !Buffer.isBuffer(step)) await sleep(step.pauseMs);
          else socket.write(step);
        }
      })();
    });
  });
}

/** Waits until `check` holds, polling; fails after `timeoutMs` naming what it waited for. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}`);
    await sleep(10);
  }
}
