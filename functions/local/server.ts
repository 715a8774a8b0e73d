// The local HTTP front door: every ingest endpoint of the contract, health, metrics, incidents
// with their history, dead letters and rejected payloads, on node:http (no framework: a dozen
// routes do not need one). Ingest goes through the same shared `ingest` step as the cloud
// handlers; an accepted request is answered 202 only once its incidents are committed to the
// local database, and a refused one only once its bytes are; when that commit fails (a full
// disk) the answer is 503, so the sender retries and nothing it sent is lost. Who may talk to
// it (Host, Origin, the token for everything but /healthz) is decided in guards.ts before the
// body is read, and the limits there bound slow clients and open connections.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isAuthorized } from '../../shared/ingest/auth.ts';
import { DEFAULT_MAX_BODY_BYTES, ingest, type IngestEndpoint, type IngestOutcome, type SnsSettings } from '../../shared/ingest/ingest.ts';
import { ingestEndpointFor, INGEST_ROUTES } from '../../shared/ingest/routes.ts';
import { isDiskFull } from '../../shared/local/database.ts';
import type { LocalPipeline } from '../../shared/local/pipeline.ts';
import { STATUSES, type Status } from '../../shared/incident.ts';
import { LocalSilences } from '../../shared/local/silences.ts';
import { makeSilence, newSilenceSchema } from '../../shared/silences/silence.ts';
import { formatIssues } from '../../shared/zod-issues.ts';
import * as z from 'zod';
import { PAGE_CSS, PAGE_HEADERS, PAGE_JS, renderPage, renderSignIn } from './page.ts';
import {
  checkRequest,
  SESSION_COOKIE,
  sessionValue,
  DEFAULT_SERVER_LIMITS,
  enforceLimits,
  httpServerOptions,
  ThrottledLog,
  type GuardVerdict,
  type ServerLimits,
} from './guards.ts';

export interface LocalServerOptions {
  readonly pipeline: LocalPipeline;
  readonly token?: string | undefined;
  readonly maxBodyBytes?: number | undefined;
  readonly sns?: SnsSettings | undefined;
  /** Bound to a loopback address: refuse Host names that are not loopback (DNS rebinding). */
  readonly loopbackOnly?: boolean | undefined;
  readonly limits?: Partial<ServerLimits> | undefined;
  /** Where refusals worth a look (foreign Host, cross-site, malformed, timeouts) are written. */
  readonly log?: ((line: string) => void) | undefined;
}

interface Body {
  readonly bytes: Buffer;
  readonly tooLarge: boolean;
  /** The connection closed before the body was complete (a timeout, or the client went away). */
  readonly aborted?: boolean;
}

/** What one ingest (a request or a replay) comes to. */
interface IngestAnswer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
  readonly headers?: Readonly<Record<string, string>>;
}

// node:http taken as CommonJS: an ESM `import ... from 'node:http'` builds the module's ESM
// facade, which reads every export, and its lazy WebSocket, CloseEvent and MessageEvent getters
// load undici (about 3.5 MiB of resident memory at start, and start time) for a server that
// needs none of them.
const { createServer } = process.getBuiltinModule('node:http');

const DEFAULT_LIST_LIMIT = 1_000;
const MAX_LIST_LIMIT = 10_000;
const RETRY_AFTER_SECONDS = '5';
/** Silences and acknowledgements are small JSON documents. */
const MAX_ACTION_BODY_BYTES = 64 * 1024;

const ackSchema = z.strictObject({ by: z.string().trim().min(1, 'say who acknowledges (by)').max(200) });

type JsonBody = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly status: number; readonly message: string };

/** Reads a small JSON request body; what is wrong with it is a 4xx that says so. */
async function readJson(request: IncomingMessage): Promise<JsonBody | undefined> {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') return { ok: false, status: 415, message: 'send the body as application/json' };
  const body = await readBody(request, MAX_ACTION_BODY_BYTES);
  if (body.aborted === true) return undefined;
  if (body.tooLarge) return { ok: false, status: 413, message: `the body is larger than ${String(MAX_ACTION_BODY_BYTES)} bytes` };
  try {
    return { ok: true, value: JSON.parse(body.bytes.toString('utf8')) as unknown };
  } catch {
    return { ok: false, status: 400, message: 'the body is not valid JSON' };
  }
}

/** Reads at most `limit` bytes; past that it keeps the first `limit` and stops listening. */
function readBody(request: IncomingMessage, limit: number): Promise<Body> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (tooLarge: boolean): void => {
      if (done) return;
      done = true;
      resolve({ bytes: Buffer.concat(chunks).subarray(0, limit), tooLarge });
    };
    request.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.byteLength;
      chunks.push(chunk);
      if (size > limit) {
        request.pause();
        finish(true);
      }
    });
    request.on('end', () => {
      finish(false);
    });
    request.on('close', () => {
      if (done) return;
      done = true;
      resolve({ bytes: Buffer.alloc(0), tooLarge: false, aborted: true });
    });
    request.on('error', (error) => {
      if (!done) reject(error);
    });
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown, extraHeaders?: Readonly<Record<string, string>>): void {
  const text = `${JSON.stringify(body)}\n`;
  const headers: Record<string, string | number> = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) };
  if (extraHeaders !== undefined) Object.assign(headers, extraHeaders);
  response.writeHead(status, headers);
  response.end(text);
}

function sendHtml(response: ServerResponse, status: number, html: string): void {
  response.writeHead(status, { ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
  response.end(html);
}

/** The answer when the database could not take a write: retryable, and it says why. */
function unavailable(error: unknown, what: string): IngestAnswer {
  const cause = isDiskFull(error) ? 'the disk (or the database size limit) is full' : 'the local database is unavailable';
  return {
    status: 503,
    body: { error: 'unavailable', message: `could not store ${what}: ${cause}; nothing was kept, retry later` },
    headers: { 'retry-after': RETRY_AFTER_SECONDS },
  };
}

function limitOf(query: URLSearchParams): number {
  const raw = query.get('limit');
  const limit = raw === null ? DEFAULT_LIST_LIMIT : Number(raw);
  return Number.isInteger(limit) && limit > 0 ? Math.min(limit, MAX_LIST_LIMIT) : DEFAULT_LIST_LIMIT;
}

export class LocalServer {
  readonly #options: LocalServerOptions;
  readonly #server: Server;
  readonly #log: ThrottledLog;
  readonly #refusedConnection: (socket: object) => boolean;
  #accepting = true;

  constructor(options: LocalServerOptions) {
    this.#options = options;
    const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
    this.#log = new ThrottledLog(options.log ?? ((line) => process.stderr.write(`tocsin: ${line}\n`)));
    this.#server = createServer(httpServerOptions(limits), (request, response) => {
      // Already answered 503 at connect time (connection cap).
      if (this.#refusedConnection(request.socket)) return;
      this.#handle(request, response).catch((error: unknown) => {
        // The client went away or timed out (answered 408 by the limits): nothing to answer.
        if (request.destroyed && !response.headersSent) return;
        // A bug, not the client's fault; the body never carries the error's details.
        this.#log.line('internal', `500 for ${request.method ?? '?'} ${request.url ?? ''}: ${error instanceof Error ? error.message : String(error)}`);
        if (!response.headersSent) sendJson(response, 500, { error: 'internal', message: 'internal error; see the server log' });
        else response.destroy();
      });
    });
    this.#server.keepAliveTimeout = 5_000;
    this.#refusedConnection = enforceLimits(this.#server, limits, (reason, line) => {
      options.pipeline.metrics.refused.inc({ reason });
      this.#log.line(reason, line);
    });
  }

  async listen(port: number, host: string): Promise<{ host: string; port: number; url: string }> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return { host: address.address, port: address.port, url: `http://${shownHost}:${String(address.port)}` };
  }

  /** From now on ingest and /healthz answer 503; the listener stays open. */
  stopAccepting(): void {
    this.#accepting = false;
  }

  /** Stops listening; requests already in flight finish. */
  async close(): Promise<void> {
    this.#accepting = false;
    const closed = new Promise<void>((resolve) => this.#server.close(() => { resolve(); }));
    this.#server.closeIdleConnections();
    await closed;
  }

  /** A request the guards refused: answered at once, counted, logged when worth it, connection closed if a body may follow. */
  #refuse(request: IncomingMessage, response: ServerResponse, verdict: Extract<GuardVerdict, { ok: false }>): void {
    const { pipeline } = this.#options;
    if (verdict.path !== undefined && ingestEndpointFor(verdict.path) !== undefined) {
      pipeline.metrics.received.inc({ endpoint: verdict.path });
      pipeline.metrics.rejected.inc({ endpoint: verdict.path, reason: verdict.reason });
    } else {
      pipeline.metrics.refused.inc({ reason: verdict.reason });
    }
    if (verdict.log !== undefined) this.#log.line(verdict.reason, `${String(verdict.status)} ${verdict.log} from ${request.socket.remoteAddress ?? 'unknown'}`);
    if (verdict.reason === 'unauthorized' && verdict.path === '/' && (request.method === 'GET' || request.method === 'HEAD')) {
      sendHtml(response, 401, renderSignIn());
      return;
    }
    const headers: Record<string, string> = verdict.status === 401 ? { 'www-authenticate': 'Bearer realm="tocsin", Basic realm="tocsin"' } : {};
    // The body (if any) is never read: close rather than drain it.
    const mayHaveBody = request.method !== 'GET' && request.method !== 'HEAD';
    if (mayHaveBody) {
      headers['connection'] = 'close';
      response.on('finish', () => request.destroy());
    }
    sendJson(response, verdict.status, verdict.body, headers);
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const verdict = checkRequest(request, { token: this.#options.token, loopbackOnly: this.#options.loopbackOnly === true });
    if (!verdict.ok) {
      this.#refuse(request, response, verdict);
      return;
    }
    const { query, path } = verdict;
    const { pipeline } = this.#options;
    // HEAD is answered wherever GET is (node:http sends the headers without the body).
    const method = request.method === 'HEAD' ? 'GET' : (request.method ?? 'GET');

    if (method === 'GET' && path === '/healthz') {
      sendJson(response, this.#accepting ? 200 : 503, {
        status: this.#accepting ? 'ok' : 'shutting-down',
        queues: pipeline.depths(),
        rejected: pipeline.rejected.count(),
      });
      return;
    }
    if (method === 'GET' && (path === '/' || path === '/page.css' || path === '/page.js')) {
      this.#page(response, path, verdict.via, query);
      return;
    }
    if (method === 'GET' && path === '/metrics') {
      const text = pipeline.metrics.registry.metrics();
      response.writeHead(200, { 'content-type': pipeline.metrics.registry.contentType });
      response.end(text);
      return;
    }
    const ack = /^\/v1\/incidents\/([^/]+)\/(ack|unack)$/.exec(path);
    if (ack) {
      await this.#acknowledge(request, response, decodeURIComponent(ack[1] ?? ''), ack[2] === 'ack');
      return;
    }
    if (path === '/v1/incidents' || path.startsWith('/v1/incidents/')) {
      this.#incidents(method, response, path, query);
      return;
    }
    if (path === '/v1/silences' || path.startsWith('/v1/silences/')) {
      await this.#silences(request, method, response, path, query);
      return;
    }
    if (path === '/v1/dead-letters' || path === '/v1/dead-letters/redrive') {
      await this.#deadLetters(request, method, response, path, query);
      return;
    }
    if (path === '/v1/rejected' || path.startsWith('/v1/rejected/')) {
      await this.#rejected(request, method, response, path, query);
      return;
    }
    const payloadMatch = /^\/v1\/payloads\/(\d+)$/.exec(path);
    if (payloadMatch && method === 'GET') {
      const payload = pipeline.history.payload(Number(payloadMatch[1]));
      if (!payload) {
        sendJson(response, 404, { error: 'not-found', message: `no stored payload ${payloadMatch[1] ?? ''} (payloads are kept for 14 days)` });
        return;
      }
      response.writeHead(200, { 'content-type': payload.contentType ?? 'application/octet-stream', 'content-length': payload.body.byteLength });
      response.end(payload.body);
      return;
    }
    const endpoint = ingestEndpointFor(path);
    if (endpoint === undefined) {
      sendJson(response, 404, { error: 'not-found', message: `no endpoint ${path}; ingest endpoints: ${Object.keys(INGEST_ROUTES).join(', ')}` });
      return;
    }
    if (method !== 'POST') {
      sendJson(response, 405, { error: 'method-not-allowed', message: `${path} accepts POST` }, { allow: 'POST' });
      return;
    }
    await this.#ingestRequest(request, response, path, endpoint, query, verdict.via === 'token');
  }

  #incidents(method: string, response: ServerResponse, path: string, query: URLSearchParams): void {
    const { pipeline } = this.#options;
    if (method !== 'GET') {
      sendJson(response, 405, { error: 'method-not-allowed', message: `${path} accepts GET` }, { allow: 'GET' });
      return;
    }
    if (path === '/v1/incidents') {
      const statusParam = query.get('status');
      if (statusParam !== null && !(STATUSES as readonly string[]).includes(statusParam)) {
        sendJson(response, 400, { error: 'bad-request', message: `status must be one of ${STATUSES.join(', ')}` });
        return;
      }
      sendJson(response, 200, { incidents: pipeline.listIncidents({ limit: limitOf(query), status: (statusParam ?? undefined) as Status | undefined }) });
      return;
    }
    const fingerprint = decodeURIComponent(path.slice('/v1/incidents/'.length));
    const found = pipeline.incident(fingerprint);
    if (!found) {
      sendJson(response, 404, { error: 'not-found', message: `no incident ${fingerprint}` });
      return;
    }
    sendJson(response, 200, { fingerprint, record: found.record ?? null, history: found.history });
  }

  /** The incidents page and its assets; `/?token=…` signs the browser in and drops the token from the address. */
  #page(response: ServerResponse, path: string, via: 'open' | 'token' | 'cookie', query: URLSearchParams): void {
    if (path === '/page.css' || path === '/page.js') {
      const text = path === '/page.css' ? PAGE_CSS : PAGE_JS;
      response.writeHead(200, {
        ...PAGE_HEADERS,
        'content-type': path === '/page.css' ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8',
        'content-length': Buffer.byteLength(text),
      });
      response.end(text);
      return;
    }
    const { token } = this.#options;
    if (via === 'token' && token !== undefined && query.has('token')) {
      response.writeHead(303, {
        ...PAGE_HEADERS,
        location: '/',
        'set-cookie': `${SESSION_COOKIE}=${sessionValue(token)}; HttpOnly; SameSite=Strict; Path=/`,
        'content-length': 0,
      });
      response.end();
      return;
    }
    const { pipeline } = this.#options;
    const nowMs = Date.now();
    const incidents = [...pipeline.listIncidents({ limit: 200, status: 'firing' }), ...pipeline.listIncidents({ limit: 50, status: 'resolved' })].map((record) => {
      // A told firing that a silence matches now shows it too (the record notes a hold at its next decision).
      const held = record.status === 'firing' ? (record.held ?? pipeline.holdOf(record.incident)) : undefined;
      return { record: { ...record, held }, history: pipeline.history.of(record.fingerprint, 100) };
    });
    sendHtml(response, 200, renderPage(incidents, pipeline.silences.list(nowMs, { includeExpired: false, limit: 200 }), nowMs));
  }

  /** POST /v1/incidents/{fingerprint}/ack with {"by": "…"}, or /unack. */
  async #acknowledge(request: IncomingMessage, response: ServerResponse, fingerprint: string, acknowledged: boolean): Promise<void> {
    if (request.method !== 'POST') {
      sendJson(response, 405, { error: 'method-not-allowed', message: 'acknowledge with POST' }, { allow: 'POST' });
      return;
    }
    let by: string | undefined;
    if (acknowledged) {
      const body = await readJson(request);
      if (body === undefined) return;
      if (!body.ok) {
        sendJson(response, body.status, { error: 'bad-request', message: body.message });
        return;
      }
      const parsed = ackSchema.safeParse(body.value);
      if (!parsed.success) {
        sendJson(response, 400, { error: 'bad-request', message: formatIssues(parsed.error) });
        return;
      }
      by = parsed.data.by;
    }
    try {
      const outcome = await this.#options.pipeline.acknowledge(fingerprint, by);
      switch (outcome.kind) {
        case 'not-found':
          sendJson(response, 404, { error: 'not-found', message: `no incident ${fingerprint}` });
          return;
        case 'not-firing':
          sendJson(response, 409, { error: 'conflict', message: `${fingerprint} is ${outcome.record.status}: only a firing incident can be acknowledged` });
          return;
        case 'acknowledged':
          sendJson(response, 200, { record: outcome.record });
          return;
      }
    } catch (error) {
      const answer = unavailable(error, 'the acknowledgement');
      sendJson(response, answer.status, answer.body, answer.headers);
    }
  }

  /** GET /v1/silences[?state=all], POST /v1/silences, POST /v1/silences/{id}/expire (or DELETE /v1/silences/{id}). */
  async #silences(request: IncomingMessage, method: string, response: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    const { pipeline } = this.#options;
    if (path === '/v1/silences') {
      if (method === 'GET') {
        const includeExpired = query.get('state') === 'all';
        sendJson(response, 200, { silences: pipeline.silences.list(Date.now(), { includeExpired, limit: limitOf(query) }) });
        return;
      }
      if (method !== 'POST') {
        sendJson(response, 405, { error: 'method-not-allowed', message: `${path} accepts GET and POST` }, { allow: 'GET, POST' });
        return;
      }
      const body = await readJson(request);
      if (body === undefined) return;
      if (!body.ok) {
        sendJson(response, body.status, { error: 'bad-request', message: body.message });
        return;
      }
      const parsed = newSilenceSchema.safeParse(body.value);
      if (!parsed.success) {
        sendJson(response, 400, { error: 'bad-request', message: formatIssues(parsed.error, 5) });
        return;
      }
      const silence = makeSilence(parsed.data, LocalSilences.newId(), new Date());
      if ('problem' in silence) {
        sendJson(response, 400, { error: 'bad-request', message: silence.problem });
        return;
      }
      try {
        await pipeline.addSilence(silence);
      } catch (error) {
        const answer = unavailable(error, 'the silence');
        sendJson(response, answer.status, answer.body, answer.headers);
        return;
      }
      sendJson(response, 201, { silence });
      return;
    }
    const expire = /^\/v1\/silences\/([^/]+)(\/expire)?$/.exec(path);
    const id = decodeURIComponent(expire?.[1] ?? '');
    if (expire && method === 'GET' && expire[2] === undefined) {
      const silence = pipeline.silences.get(id);
      if (silence) sendJson(response, 200, { silence });
      else sendJson(response, 404, { error: 'not-found', message: `no silence ${id}` });
      return;
    }
    if (!expire || !((request.method === 'POST' && expire[2] !== undefined) || (request.method === 'DELETE' && expire[2] === undefined))) {
      sendJson(response, 404, { error: 'not-found', message: `no endpoint ${request.method ?? ''} ${path}; see GET/POST /v1/silences and POST /v1/silences/{id}/expire` });
      return;
    }
    try {
      const silence = await pipeline.expireSilence(id);
      if (silence) sendJson(response, 200, { silence });
      else sendJson(response, 404, { error: 'not-found', message: `no silence ${id}` });
    } catch (error) {
      const answer = unavailable(error, 'the expiry');
      sendJson(response, answer.status, answer.body, answer.headers);
    }
  }

  async #deadLetters(request: IncomingMessage, method: string, response: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    const { pipeline } = this.#options;
    if (path === '/v1/dead-letters') {
      if (method !== 'GET') {
        sendJson(response, 405, { error: 'method-not-allowed', message: `${path} accepts GET` }, { allow: 'GET' });
        return;
      }
      sendJson(response, 200, { deadLetters: pipeline.deadLetters(limitOf(query)) });
      return;
    }
    if (request.method !== 'POST') {
      sendJson(response, 405, { error: 'method-not-allowed', message: `${path} accepts POST` }, { allow: 'POST' });
      return;
    }
    if (!this.#authorized(request, query, response)) return;
    try {
      sendJson(response, 200, { redriven: await pipeline.redrive() });
    } catch (error) {
      const answer = unavailable(error, 'the redrive');
      sendJson(response, answer.status, answer.body, answer.headers);
    }
  }

  async #rejected(request: IncomingMessage, method: string, response: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    const { pipeline } = this.#options;
    if (path === '/v1/rejected') {
      if (method !== 'GET') {
        sendJson(response, 405, { error: 'method-not-allowed', message: `${path} accepts GET` }, { allow: 'GET' });
        return;
      }
      sendJson(response, 200, { rejected: pipeline.rejected.list(limitOf(query)) });
      return;
    }
    const replay = /^\/v1\/rejected\/(\d+|all)\/replay$/.exec(path);
    const one = /^\/v1\/rejected\/(\d+)$/.exec(path);
    if (one && method === 'GET') {
      const entry = pipeline.rejected.get(Number(one[1]));
      if (!entry) {
        sendJson(response, 404, { error: 'not-found', message: `no rejected payload ${one[1] ?? ''}` });
        return;
      }
      const { body, ...meta } = entry;
      sendJson(response, 200, { ...meta, body: Buffer.from(body).toString('base64') });
      return;
    }
    if (!replay) {
      sendJson(response, 404, { error: 'not-found', message: `no endpoint ${path}; see GET /v1/rejected and POST /v1/rejected/{id|all}/replay` });
      return;
    }
    if (request.method !== 'POST') {
      sendJson(response, 405, { error: 'method-not-allowed', message: `${path} accepts POST` }, { allow: 'POST' });
      return;
    }
    if (!this.#authorized(request, query, response)) return;
    if (!this.#accepting) {
      sendJson(response, 503, { error: 'shutting-down', message: 'tocsin is shutting down; retry after it restarts' }, { 'retry-after': RETRY_AFTER_SECONDS });
      return;
    }
    const ids = replay[1] === 'all' ? pipeline.rejected.ids() : [Number(replay[1])];
    const results: Record<string, unknown>[] = [];
    for (const id of ids) {
      const entry = pipeline.rejected.get(id);
      if (!entry) {
        results.push({ id, status: 404, message: `no rejected payload ${String(id)}` });
        continue;
      }
      const endpoint = ingestEndpointFor(entry.path) ?? 'auto';
      const answer = await this.#ingest({
        path: entry.path,
        endpoint,
        bytes: Buffer.from(entry.body),
        tooLarge: entry.truncated,
        contentType: entry.contentType,
        replayOf: id,
      });
      results.push({ id, path: entry.path, status: answer.status, ...answer.body });
    }
    const moved = results.filter((result) => typeof result['status'] === 'number' && result['status'] < 300).length;
    sendJson(response, 200, { replayed: moved, stillRejected: results.length - moved, results });
  }

  /** For endpoints that change state: the ingest token, when one is set. */
  #authorized(request: IncomingMessage, query: URLSearchParams, response: ServerResponse): boolean {
    if (isAuthorized({ authorization: request.headers.authorization, queryToken: query.get('token') }, this.#options.token)) return true;
    sendJson(response, 401, { error: 'unauthorized', message: 'missing or wrong token' }, { 'www-authenticate': 'Bearer realm="tocsin", Basic realm="tocsin"' });
    return false;
  }

  /** `authorized`: the guards found the ingest token on this request (checkRequest), so it is not checked again. */
  async #ingestRequest(request: IncomingMessage, response: ServerResponse, path: string, endpoint: IngestEndpoint, query: URLSearchParams, authorized: boolean): Promise<void> {
    const { pipeline } = this.#options;
    const started = performance.now();
    pipeline.metrics.received.inc({ endpoint: path });
    if (!this.#accepting) {
      sendJson(response, 503, { error: 'shutting-down', message: 'tocsin is shutting down; retry in a few seconds' }, { 'retry-after': RETRY_AFTER_SECONDS, connection: 'close' });
      return;
    }
    const limit = this.#options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const body = await readBody(request, limit);
    // Timed out (already answered 408) or gone: nothing was accepted, nothing to answer.
    if (body.aborted === true) return;
    const answer = await this.#ingest({
      path,
      endpoint,
      bytes: body.bytes,
      tooLarge: body.tooLarge,
      contentType: request.headers['content-type'],
      authorization: request.headers.authorization,
      queryToken: query.get('token'),
      authorized,
    });
    // A too-large body was not read to the end: close rather than drain it.
    sendJson(response, answer.status, answer.body, body.tooLarge ? { ...answer.headers, connection: 'close' } : answer.headers);
    if (body.tooLarge) response.on('finish', () => request.destroy());
    pipeline.metrics.ingestSeconds.observe((performance.now() - started) / 1000);
  }

  /** Authenticates (unless replaying), normalizes and stores one request's bytes. */
  async #ingest(request: {
    readonly path: string;
    readonly endpoint: IngestEndpoint;
    readonly bytes: Buffer;
    readonly tooLarge: boolean;
    readonly contentType?: string | undefined;
    readonly authorization?: string | undefined;
    readonly queryToken?: string | null | undefined;
    /** A stored rejected payload being replayed (its caller was authenticated already). */
    readonly replayOf?: number | undefined;
    /** The guards already found the ingest token on the request. */
    readonly authorized?: boolean | undefined;
  }): Promise<IngestAnswer> {
    const { pipeline } = this.#options;
    const receivedAt = new Date();
    const limit = this.#options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const outcome: IngestOutcome = await ingest(
      { endpoint: request.endpoint, authorization: request.authorization, queryToken: request.queryToken, body: request.bytes, bodyTooLarge: request.tooLarge, receivedAt },
      { token: request.replayOf === undefined && request.authorized !== true ? this.#options.token : undefined, maxBodyBytes: limit, sns: this.#options.sns },
    );
    switch (outcome.kind) {
      case 'accepted':
        try {
          await pipeline.accept({
            incidents: outcome.incidents,
            receivedAt,
            path: request.path,
            contentType: request.contentType,
            body: request.bytes,
            replayOf: request.replayOf,
          });
        } catch (error) {
          return unavailable(error, 'the alerts');
        }
        outcome.onCommitted?.();
        return { status: outcome.status, body: outcome.body };
      case 'acknowledged':
        return { status: outcome.status, body: outcome.body };
      case 'rejected':
      case 'unavailable': {
        pipeline.metrics.rejected.inc({ endpoint: request.path, reason: outcome.reason });
        const headers: Record<string, string> = outcome.status === 401 ? { 'www-authenticate': 'Bearer realm="tocsin", Basic realm="tocsin"' } : {};
        // Not checkable now (an SNS certificate out of reach): 503, so the sender retries.
        if (outcome.kind === 'unavailable') headers['retry-after'] = String(outcome.retryAfterSeconds);
        if (!outcome.keepRaw) return { status: outcome.status, body: { ...outcome.body }, headers };
        if (request.replayOf !== undefined) {
          // Still refused: keep it where it is, with the new reason.
          try {
            await pipeline.database.commit(() => {
              pipeline.rejected.update(request.replayOf ?? 0, outcome.status, outcome.reason, outcome.body.message);
            });
          } catch (error) {
            return unavailable(error, 'the new reason');
          }
          return { status: outcome.status, body: { ...outcome.body, rejectedId: request.replayOf }, headers };
        }
        try {
          const entry = await pipeline.reject(
            {
              receivedAt: receivedAt.toISOString(),
              path: request.path,
              status: outcome.status,
              reason: outcome.reason,
              message: outcome.body.message,
              rejections: outcome.body.rejections,
              contentType: request.contentType,
              truncated: request.tooLarge,
            },
            request.bytes,
          );
          return { status: outcome.status, body: { ...outcome.body, rejectedId: entry.id }, headers };
        } catch (error) {
          // The bytes could not be kept: a 4xx now would make the sender drop them for good.
          return unavailable(error, 'the refused payload');
        }
      }
    }
  }
}
