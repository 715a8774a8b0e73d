// POST helper shared by every HTTP channel: one place that classifies outcomes the way
// Alertmanager does (2xx ok, 5xx retry) plus what it misses (429 with Retry-After, 408, timeouts).
// Reasons never include the URL: for chat webhooks the URL *is* the secret.
//
// Two ways to send, classified alike: fetch (the default), and node:http(s) over keep-alive
// agents (`transport: 'node-http'`), which the generic webhook uses. A webhook is the channel
// that takes hundreds of notices a second (a receiver of your own, no rate limit by default),
// and fetch costs 2-2.5x the CPU per request of http.request over the same kept-alive sockets
// (WHATWG Request/Response/streams around undici; measured POSTing 3,000 notices, 32 at once).
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { SendResult } from './channel.ts';
import { deadlineSignal, sendDeadline, timeoutError } from './deadline.ts';

// Taken as CommonJS (as functions/local/server.ts does): an ESM `import … from 'node:http'` builds
// the module's ESM facade, which reads every export, the lazy `fetch`-era ones too, and so loads
// undici at start (~19% of `tocsin start`'s CPU to /healthz in a profile).
const { Agent: HttpAgent, request: httpRequest } = process.getBuiltinModule('node:http');
const { Agent: HttpsAgent, request: httpsRequest } = process.getBuiltinModule('node:https');

export interface PostOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Other credentials sent with the request (a bearer token, an API key): kept out of reasons too. */
  readonly secrets?: readonly string[];
  /** `node-http`: node:http(s) with keep-alive agents instead of fetch (same answers, less CPU). */
  readonly transport?: 'fetch' | 'node-http';
}

const BODY_SNIPPET_CHARS = 200;

export async function postJson(url: string, body: string, options: PostOptions): Promise<SendResult> {
  const answer = await postForAnswer(url, body, options);
  return answer.ok ? { ok: true } : answer;
}

/** A 2xx answer, with its body for channels that read it (Slack's `ts`, an API's own status). */
export interface HttpAnswer {
  readonly ok: true;
  readonly status: number;
  readonly body: string;
  readonly headers: Headers;
}

/** postJson, but a 2xx answer comes back with its status and body instead of a bare success. */
export async function postForAnswer(url: string, body: string, options: PostOptions): Promise<HttpAnswer | Extract<SendResult, { ok: false }>> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { ok: false, retryable: false, reason: 'invalid URL in channel config' };
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') {
    return { ok: false, retryable: false, reason: `unsupported URL scheme ${target.protocol}` };
  }

  let response: RawAnswer;
  try {
    response = options.transport === 'node-http' ? await postWithNodeHttp(target, body, options) : await postWithFetch(target, body, options);
  } catch (error) {
    return { ok: false, retryable: true, reason: describeFetchError(error, options.timeoutMs) };
  }

  const { text } = response;
  if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status, body: text, headers: response.headers };
  // fetch refuses redirects (`redirect: 'error'`: a retryable network error); so does node-http.
  if (REDIRECTS.has(response.status) && response.headers.has('location')) {
    return { ok: false, retryable: true, reason: `network error: redirect (HTTP ${String(response.status)}) not followed` };
  }

  const reason = `HTTP ${String(response.status)}${bodySnippet(text, url, options.secrets)}`;
  const status = response.status;
  if (status === 429 || status === 503) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now());
    const throttled = status === 429 ? { throttled: true } : {};
    return retryAfterMs === undefined
      ? { ok: false, retryable: true, reason, ...throttled }
      : { ok: false, retryable: true, reason, retryAfterMs, ...throttled };
  }
  if (status === 408 || status >= 500) return { ok: false, retryable: true, reason };
  return { ok: false, retryable: false, reason };
}

/** An answer's status, headers and body (empty when it could not be read in time). */
interface RawAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

async function postWithFetch(target: URL, body: string, options: PostOptions): Promise<RawAnswer> {
  const deadline = deadlineSignal(options.timeoutMs);
  try {
    const response = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...options.headers },
      body,
      signal: deadline.signal,
      redirect: 'error',
    });
    const text = await response.text().catch(() => '');
    return { status: response.status, headers: response.headers, text };
  } finally {
    deadline.cancel();
  }
}

/** The statuses fetch follows (or, told not to, fails on) when they carry a Location. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Kept-alive sockets per origin, as fetch's global dispatcher keeps them; idle ones do not hold the process. */
const HTTP_AGENT = new HttpAgent({ keepAlive: true });
const HTTPS_AGENT = new HttpsAgent({ keepAlive: true });

/**
 * POSTs with node:http(s), bounded by `timeoutMs` from the start to the end of the answer's
 * body: a body cut short by the bound reads as empty, as fetch's does. Rejects on a network
 * error or a timeout before the answer's headers.
 */
function postWithNodeHttp(target: URL, body: string, options: PostOptions): Promise<RawAnswer> {
  const bytes = Buffer.from(body, 'utf8');
  const secure = target.protocol === 'https:';
  return new Promise<RawAnswer>((resolve, reject) => {
    let answered = false;
    const request = (secure ? httpsRequest : httpRequest)(
      target,
      {
        method: 'POST',
        agent: secure ? HTTPS_AGENT : HTTP_AGENT,
        headers: { 'content-type': 'application/json; charset=utf-8', ...options.headers, 'content-length': String(bytes.byteLength) },
      },
      (response: IncomingMessage) => {
        answered = true;
        const chunks: Buffer[] = [];
        let ended = false;
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          ended = true;
        });
        response.on('error', () => undefined);
        response.on('close', () => {
          cancelDeadline();
          resolve({ status: response.statusCode ?? 0, headers: headersOf(response.headers), text: ended ? Buffer.concat(chunks).toString('utf8') : '' });
        });
      },
    );
    const cancelDeadline = sendDeadline(options.timeoutMs, () => {
      request.destroy(timeoutError());
    });
    request.on('error', (error) => {
      // After the answer's headers, its 'close' settles it (with an empty body if cut short).
      if (answered) return;
      cancelDeadline();
      reject(error);
    });
    request.end(bytes);
  });
}

function headersOf(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
}

/**
 * `: <what the server said>` for a failure reason, or nothing: the URL and the caller's secrets
 * redacted from the whole body first, then cut (cutting first could leave a secret's prefix behind).
 */
export function bodySnippet(text: string, url: string, secrets: readonly string[] = []): string {
  const snippet = redact(text, url, secrets).slice(0, BODY_SNIPPET_CHARS).replace(/\s+/g, ' ').trim();
  return snippet ? `: ${snippet}` : '';
}

/** Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  // Unbounded here (the delivery worker cuts it to rateLimits.maxWait); a number too long to be
  // one reads as "very long", never as NaN.
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, Number.MAX_SAFE_INTEGER);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
    const cause: unknown = error.cause;
    if (cause instanceof Error) {
      const code = (cause as Error & { code?: unknown }).code;
      return `network error: ${typeof code === 'string' ? code : cause.name}`;
    }
    // node:http's own errors carry their code (ECONNREFUSED, ECONNRESET).
    const code = (error as Error & { code?: unknown }).code;
    return `network error: ${typeof code === 'string' ? code : error.name}`;
  }
  return 'network error';
}

/**
 * Removes the URL and its secret-looking parts from text a server echoed back: the path and the
 * query (Slack's path, Teams' `sig`, Google Chat's `key` and `token` are the credentials), and
 * any path segment or query value long enough to be a token, raw or percent-encoded, and the
 * caller's other credentials.
 */
function redact(text: string, url: string, extraSecrets: readonly string[]): string {
  const parsed = URL.parse(url);
  const secrets = [url, ...extraSecrets.filter((secret) => secret !== '')];
  if (parsed !== null) {
    if (parsed.pathname.length > 1) secrets.push(parsed.pathname);
    if (parsed.search.length > 1) secrets.push(parsed.search);
    // Tokens are long; short pieces (`v1`, `services`, an api-version) are not secrets and too
    // common to hide. Each in the forms a server may echo it: as sent, decoded, re-encoded.
    const segments = parsed.pathname.split('/').flatMap((segment) => [segment, safeDecode(segment)]);
    for (const piece of [...segments, ...parsed.searchParams.values()]) {
      if (piece.length >= 12) secrets.push(piece, encodeURIComponent(piece));
    }
  }
  let out = text;
  // Longest first, so the whole URL goes before its parts.
  for (const secret of [...new Set(secrets)].sort((a, b) => b.length - a.length)) out = out.split(secret).join('[redacted]');
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
