// The local HTTP front door: every ingest endpoint of the contract, /healthz, /metrics and
// /v1/incidents, on node:http (no framework: seven routes do not need one). Ingest goes through
// the same shared `ingest` step as the cloud handlers. Who may talk to it (Host, Origin, the
// token for everything but /healthz) is decided in guards.ts before the body is read, and the
// limits there bound slow clients and open connections.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DEFAULT_MAX_BODY_BYTES,
  ingest,
  type IngestEndpoint,
  type IngestOutcome,
  type SnsSettings,
} from '../../shared/ingest/ingest.ts';
import { ingestEndpointFor, INGEST_ROUTES } from '../../shared/ingest/routes.ts';
import {
  checkRequest,
  DEFAULT_SERVER_LIMITS,
  enforceLimits,
  httpServerOptions,
  ThrottledLog,
  type GuardVerdict,
  type ServerLimits,
} from './guards.ts';
import type { LocalPipeline } from './pipeline.ts';
import type { Spool } from './spool.ts';

export interface LocalServerOptions {
  readonly pipeline: LocalPipeline;
  readonly spool: Spool;
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

function sendJson(response: ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...extraHeaders,
  });
  response.end(text);
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

  /** Stops accepting connections; requests already in flight finish. */
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
    const { url, path } = verdict;
    const { pipeline } = this.#options;
    // HEAD is answered wherever GET is (node:http sends the headers without the body).
    const method = request.method === 'HEAD' ? 'GET' : request.method;

    if (method === 'GET' && path === '/healthz') {
      sendJson(response, this.#accepting ? 200 : 503, {
        status: this.#accepting ? 'ok' : 'shutting-down',
        queues: { incidents: pipeline.incidents.depth(), deliveries: pipeline.deliveries.depth() },
      });
      return;
    }
    if (method === 'GET' && path === '/metrics') {
      const text = await pipeline.metrics.registry.metrics();
      response.writeHead(200, { 'content-type': pipeline.metrics.registry.contentType });
      response.end(text);
      return;
    }
    if (method === 'GET' && path === '/v1/incidents') {
      sendJson(response, 200, { incidents: pipeline.listIncidents() });
      return;
    }
    const endpoint = ingestEndpointFor(path);
    if (endpoint === undefined) {
      sendJson(response, 404, { error: 'not-found', message: `no endpoint ${path}; ingest endpoints: ${Object.keys(INGEST_ROUTES).join(', ')}` });
      return;
    }
    if (request.method !== 'POST') {
      sendJson(response, 405, { error: 'method-not-allowed', message: `${path} accepts POST` }, { allow: 'POST' });
      return;
    }
    await this.#ingest(request, response, path, endpoint, url);
  }

  async #ingest(request: IncomingMessage, response: ServerResponse, path: string, endpoint: IngestEndpoint, url: URL): Promise<void> {
    const { pipeline, spool } = this.#options;
    const started = performance.now();
    const receivedAt = new Date();
    const limit = this.#options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    pipeline.metrics.received.inc({ endpoint: path });

    const body = await readBody(request, limit);
    // Timed out (already answered 408) or gone: nothing was accepted, nothing to answer.
    if (body.aborted === true) return;
    const outcome: IngestOutcome = await ingest(
      {
        endpoint,
        authorization: request.headers.authorization,
        queryToken: url.searchParams.get('token'),
        body: body.bytes,
        bodyTooLarge: body.tooLarge,
        receivedAt,
      },
      { token: this.#options.token, maxBodyBytes: limit, sns: this.#options.sns },
    );

    switch (outcome.kind) {
      case 'accepted':
        await pipeline.accept(outcome.incidents, receivedAt);
        outcome.onCommitted?.();
        sendJson(response, outcome.status, outcome.body);
        break;
      case 'acknowledged':
        sendJson(response, outcome.status, outcome.body);
        break;
      case 'rejected':
      case 'unavailable': {
        pipeline.metrics.rejected.inc({ endpoint: path, reason: outcome.reason });
        let spooled: string | undefined;
        if (outcome.keepRaw) {
          const entry = await spool.write(body.bytes, {
            receivedAt: receivedAt.toISOString(),
            path,
            status: outcome.status,
            reason: outcome.reason,
            message: outcome.body.message,
            rejections: outcome.body.rejections,
            contentType: request.headers['content-type'],
            truncated: body.tooLarge,
          });
          spooled = entry.id;
        }
        const headers: Record<string, string> = outcome.status === 401 ? { 'www-authenticate': 'Bearer realm="tocsin", Basic realm="tocsin"' } : {};
        if (outcome.kind === 'unavailable') headers['retry-after'] = String(outcome.retryAfterSeconds);
        // A too-large body was not read to the end: close rather than drain it.
        if (body.tooLarge) headers['connection'] = 'close';
        sendJson(response, outcome.status, spooled ? { ...outcome.body, spooled } : outcome.body, headers);
        if (body.tooLarge) response.on('finish', () => request.destroy());
        break;
      }
    }
    pipeline.metrics.ingestSeconds.observe((performance.now() - started) / 1000);
  }
}
