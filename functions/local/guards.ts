// Who may talk to the local server, decided from the request line and headers alone, before a
// byte of the body is read:
//
// - the request target must be a path (`/v1/...`); anything else is a 400, with a log line;
// - bound to a loopback address, the server answers only to Host names that are loopback too
//   (localhost, 127.x.x.x, [::1]): a web page whose own name resolves to 127.0.0.1 (DNS
//   rebinding) sends its own name as Host and is refused, so it cannot read /v1/incidents;
// - a browser's cross-site request is refused: `Origin` must be this server's own origin
//   (or absent, as with curl, Alertmanager and Grafana) and `Sec-Fetch-Site`, when sent, must be
//   same-origin or none. That stops any web page from POSTing alerts (a `text/plain` form or
//   `fetch` needs no CORS preflight) or reading answers;
// - with a token configured, every path but PUBLIC_PATHS needs it: ingest and read endpoints
//   alike, and any endpoint added later, by this one rule (deny by default). The incidents page
//   signs a browser in once (`/?token=…` or its sign-in form) with a session cookie: an HMAC of
//   the token (never the token itself), HttpOnly and SameSite=Strict. A request that carries
//   only the cookie and changes something must also carry an `Origin` that is this server:
//   browsers always send it on such requests, so a request without it did not come from the page.
//
// startLocal refuses a non-loopback bind without a token (NoTokenOnNetworkError) unless the
// operator opts out explicitly (`--insecure-open-ingest`).
import { createHmac } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { isIP } from 'node:net';
import { isAuthorized, secretsEqual } from '../../shared/ingest/auth.ts';
import { hasToken, UNAUTHORIZED_MESSAGE } from '../../shared/ingest/ingest.ts';
import { NoTokenOnNetworkError } from './network-error.ts';

export { NoTokenOnNetworkError };

/** Paths anyone may GET without the token: liveness and the page's own style and script (no incident data). */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/healthz', '/page.css', '/page.js']);

export type RefusalReason = 'malformed-target' | 'missing-host' | 'foreign-host' | 'cross-site' | 'unauthorized';

export interface GuardSettings {
  readonly token: string | undefined;
  /** The server listens on a loopback address only: refuse Host names that are not loopback. */
  readonly loopbackOnly: boolean;
}

/** The page's session cookie. */
export const SESSION_COOKIE = 'tocsin_session';

/** The session cookie's value for a token: an HMAC, so the cookie never holds the token. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('tocsin incidents page session v1').digest('base64url');
}

function cookieValue(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

export type GuardVerdict =
  | {
      readonly ok: true;
      /** The query string's parameters (empty for a plain path). */
      readonly query: URLSearchParams;
      readonly path: string;
      /** How the caller showed the token: none needed, the token itself, or the page's cookie. */
      readonly via: 'open' | 'token' | 'cookie';
    }
  | {
      readonly ok: false;
      readonly status: 400 | 401 | 403;
      readonly reason: RefusalReason;
      readonly body: { readonly error: RefusalReason; readonly message: string };
      /** The path, when the target was one (for counting refusals by endpoint). */
      readonly path?: string | undefined;
      /** Worth a log line (the target or Host as sent, JSON-escaped and cut); absent for 401s. */
      readonly log?: string | undefined;
    };

function refused(status: 400 | 401 | 403, reason: RefusalReason, message: string, extra: { path?: string; log?: string } = {}): GuardVerdict {
  return { ok: false, status, reason, body: { error: reason, message }, ...extra };
}

/** What a client sent, safe for a log line: JSON-escaped (no control characters) and cut. */
export function quoted(value: string | undefined): string {
  const text = value ?? '';
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

/** `127.0.0.1`, `127.1.2.3`, `::1`, `localhost` and `*.localhost` (RFC 6761): names that can only mean this machine. */
export function isLoopbackName(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(host);
  return false;
}

/** The hostname of a Host header value (`example.com:7070`, `[::1]:7070`), or undefined if it is not one. */
function hostnameOf(hostHeader: string): string | undefined {
  const url = URL.parse(`http://${hostHeader}/`);
  if (url === null || url.username !== '' || url.password !== '' || url.pathname !== '/') return undefined;
  return url.hostname;
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * A path of plain segments (letters, digits, `-`, `_`; trailing slashes allowed) and no query:
 * the WHATWG parser would give it back unchanged, so it is taken as it is. Anything else (dots,
 * escapes, a query, `//`) goes through the parser.
 */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9_-]+)*\/*$/;

/** A Host header that is a loopback name as it is, with a port if any: no parse needed to know. */
const PLAIN_LOOPBACK_HOST = /^(?:localhost|127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?$/;

function isPlainLoopbackHost(host: string): boolean {
  const match = PLAIN_LOOPBACK_HOST.exec(host);
  return match !== null && (match[1] === undefined || Number(match[1]) <= 65_535);
}

export function checkRequest(request: IncomingMessage, settings: GuardSettings): GuardVerdict {
  // 1. The target: origin-form only (`/path?query`); a proxy's absolute-form or garbage is 400.
  const target = request.url ?? '';
  let query: URLSearchParams;
  let pathname: string;
  if (target.startsWith('/') && !target.startsWith('//') && PLAIN_PATH.test(target)) {
    query = new URLSearchParams();
    pathname = target;
  } else {
    const url = target.startsWith('/') && !target.startsWith('//') ? URL.parse(target, 'http://tocsin.invalid') : null;
    if (url === null || url.host !== 'tocsin.invalid') {
      return refused(400, 'malformed-target', 'the request target must be a path such as /v1/ingest', { log: `malformed request target ${quoted(target)}` });
    }
    query = url.searchParams;
    pathname = url.pathname;
  }
  const path = pathname.replace(/\/+$/, '') || '/';

  // 2. Host (DNS rebinding): on a loopback bind, only loopback names.
  const host = headerValue(request, 'host');
  if (host === undefined || host === '') return refused(400, 'missing-host', 'a Host header is required', { path });
  if (settings.loopbackOnly && !isPlainLoopbackHost(host)) {
    const hostname = hostnameOf(host);
    if (hostname === undefined || !isLoopbackName(hostname)) {
      return refused(403, 'foreign-host', 'this server listens on loopback and answers only to localhost, 127.0.0.1 or [::1]', {
        path,
        log: `refused Host ${quoted(host)} (a loopback-bound server answers only to loopback names: DNS rebinding?)`,
      });
    }
  }

  // 3. Browsers' cross-site requests.
  const fetchSite = headerValue(request, 'sec-fetch-site');
  const origin = headerValue(request, 'origin');
  const crossSite =
    (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') ||
    (origin !== undefined && URL.parse(origin)?.host.toLowerCase() !== host.toLowerCase());
  if (crossSite) {
    return refused(403, 'cross-site', 'cross-site browser requests are refused (Origin is not this server)', {
      path,
      log: `refused a cross-site request from Origin ${quoted(origin)} (Sec-Fetch-Site ${quoted(fetchSite)}) to ${path}`,
    });
  }

  // 4. The token, before the body is read: for everything but PUBLIC_PATHS.
  if (!hasToken(settings.token) || PUBLIC_PATHS.has(path)) return { ok: true, query, path, via: 'open' };
  const queryToken = query.get('token');
  if (isAuthorized({ authorization: request.headers.authorization, queryToken }, settings.token)) return { ok: true, query, path, via: 'token' };
  const cookie = cookieValue(request, SESSION_COOKIE);
  if (cookie === undefined || !secretsEqual(cookie, sessionValue(settings.token))) return refused(401, 'unauthorized', UNAUTHORIZED_MESSAGE, { path });
  const safe = request.method === 'GET' || request.method === 'HEAD';
  if (!safe && origin === undefined) {
    return refused(403, 'cross-site', 'a request signed in by the page\'s cookie must come from the page (no Origin header)', {
      path,
      log: `refused a ${quoted(request.method)} to ${path} with the page's cookie but no Origin`,
    });
  }
  return { ok: true, query, path, via: 'cookie' };
}


/**
 * Refuses to serve `host` without a token unless it is loopback or the operator said so. The
 * message is one line that says how to set a token.
 */
export function assertTokenForHost(host: string, token: string | undefined, options: { configFile?: string | undefined; allowOpenNetwork?: boolean }): void {
  if (hasToken(token) || isLoopbackName(host) || options.allowOpenNetwork === true) return;
  const how =
    options.configFile === undefined
      ? 'set TOCSIN_INGEST_TOKEN to a long random secret'
      : `set ingest.token in ${options.configFile} (for example token: \${TOCSIN_INGEST_TOKEN})`;
  throw new NoTokenOnNetworkError(
    `refusing to listen on ${host} without an ingest token, since anyone who can reach it could post alerts and read incidents: ${how}, or listen on 127.0.0.1 (--insecure-open-ingest accepts the risk on a trusted network)`,
  );
}

/** At most one line per key per interval, with a count of what was held back. */
export class ThrottledLog {
  readonly #write: (line: string) => void;
  readonly #intervalMs: number;
  readonly #last = new Map<string, { at: number; held: number }>();

  constructor(write: (line: string) => void, intervalMs = 10_000) {
    this.#write = write;
    this.#intervalMs = intervalMs;
  }

  line(key: string, text: string): void {
    const now = Date.now();
    const last = this.#last.get(key);
    if (last !== undefined && now - last.at < this.#intervalMs) {
      last.held += 1;
      return;
    }
    const held = last?.held ?? 0;
    this.#last.set(key, { at: now, held: 0 });
    this.#write(held > 0 ? `${text} (and ${String(held)} more like it)` : text);
  }
}

/** Limits on connections and slow clients. */
export interface ServerLimits {
  /** To receive the request line and every header. */
  readonly headersTimeoutMs: number;
  /** To receive the body once the headers are in (the whole request gets both). */
  readonly bodyTimeoutMs: number;
  /** Open connections in all; past it a new connection gets 503 and is closed. */
  readonly maxConnections: number;
  /** Open connections from one address. */
  readonly maxConnectionsPerClient: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  maxConnections: 256,
  maxConnectionsPerClient: 64,
};

/** The node:http server options that carry the timeouts (they must be given at creation). */
export function httpServerOptions(limits: ServerLimits) {
  return {
    headersTimeout: limits.headersTimeoutMs,
    // Node's request timeout runs from the request's first byte: headers plus body.
    requestTimeout: limits.headersTimeoutMs + limits.bodyTimeoutMs,
    // How often Node looks for expired requests (its default, 30 s, would let a slow client
    // hold a connection long past its timeout).
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
    // checkRequest answers a missing Host with a JSON 400 of its own.
    requireHostHeader: false,
  };
}

export type ClientRefusal = 'connection-cap' | 'timeout' | 'headers-too-large' | 'malformed-request';

const STATUS_TEXT: Readonly<Record<number, string>> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large', 503: 'Service Unavailable' };

/** A complete JSON answer written straight to a socket (no ServerResponse exists for it). */
function rawAnswer(status: number, error: string, message: string, extraHeaders = ''): string {
  const body = `${JSON.stringify({ error, message })}\n`;
  return `HTTP/1.1 ${String(status)} ${STATUS_TEXT[status] ?? ''}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${String(Buffer.byteLength(body))}\r\nconnection: close\r\n${extraHeaders}\r\n${body}`;
}

/**
 * Caps connections (in all and per address) and answers what node:http reports as a client
 * error (a request too slow to arrive, headers too large, bytes that are not HTTP) with a JSON
 * status and a log line instead of a bare close. Returns the test a request handler uses to skip
 * requests on a connection already refused.
 */
export function enforceLimits(server: Server, limits: ServerLimits, report: (reason: ClientRefusal, line: string) => void): (socket: object) => boolean {
  const perClient = new Map<string, number>();
  const refusedSockets = new WeakSet<object>();
  let open = 0;

  // Answer, half-close, and let the client read it; a client that never closes its side is cut
  // off a second later.
  const closeWith = (socket: Socket, answer: string): void => {
    socket.end(answer);
    setTimeout(() => socket.destroy(), 1_000).unref();
  };

  server.on('connection', (socket: Socket) => {
    const client = socket.remoteAddress ?? 'unknown';
    const fromClient = perClient.get(client) ?? 0;
    if (open >= limits.maxConnections || fromClient >= limits.maxConnectionsPerClient) {
      refusedSockets.add(socket);
      const which = open >= limits.maxConnections ? `${String(limits.maxConnections)} connections in all` : `${String(limits.maxConnectionsPerClient)} connections from ${client}`;
      report('connection-cap', `refused a connection from ${client}: already ${which}`);
      closeWith(socket, rawAnswer(503, 'too-many-connections', `too many open connections (${which}); retry later`, 'retry-after: 5\r\n'));
      return;
    }
    open += 1;
    perClient.set(client, fromClient + 1);
    socket.once('close', () => {
      open -= 1;
      const left = (perClient.get(client) ?? 1) - 1;
      if (left <= 0) perClient.delete(client);
      else perClient.set(client, left);
    });
  });

  server.on('clientError', (error: Error & { code?: string }, socket: Socket) => {
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    const client = socket.remoteAddress ?? 'unknown';
    let answer: [number, ClientRefusal, string] | undefined;
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      answer = [408, 'timeout', `the request did not arrive within ${String(limits.headersTimeoutMs / 1000)} s (headers) + ${String(limits.bodyTimeoutMs / 1000)} s (body)`];
    } else if (error.code === 'HPE_HEADER_OVERFLOW') {
      answer = [431, 'headers-too-large', 'the request headers are too large'];
    } else if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') {
      answer = [400, 'malformed-request', 'the request is not valid HTTP'];
    }
    if (answer !== undefined) {
      const [status, reason, message] = answer;
      report(reason, `${String(status)} ${reason} from ${client}: ${error.code ?? error.message}`);
      // Only when no answer to this request has started: never corrupt a response in flight.
      if (socket.writable && inFlight?.headersSent !== true) {
        closeWith(socket, rawAnswer(status, reason, message));
        return;
      }
    }
    socket.destroy();
  });

  return (socket) => refusedSockets.has(socket);
}
