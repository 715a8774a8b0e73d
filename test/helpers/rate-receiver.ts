// A webhook receiver on 127.0.0.1 that enforces a rate limit the way chat services do: a token
// bucket (`ratePerSecond` refilled per second, `burst` at most saved up); a request without a
// token is answered 429 with Retry-After (seconds), like Slack's incoming webhooks. Every
// request is recorded with when it arrived and how it was answered.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RateReceiverOptions {
  readonly ratePerSecond: number;
  readonly burst: number;
  /** What a 429 says in Retry-After (seconds). */
  readonly retryAfterSeconds: number;
}

export interface RateReceived {
  readonly atMs: number;
  readonly status: number;
  readonly deliveryId: string;
  readonly fingerprint: string;
}

export interface RateReceiver {
  readonly url: string;
  readonly requests: RateReceived[];
  /** Delivery ids answered 2xx, with how many times each. */
  accepted(): Map<string, number>;
  throttled(): RateReceived[];
  close(): Promise<void>;
}

export async function startRateReceiver(options: RateReceiverOptions): Promise<RateReceiver> {
  const requests: RateReceived[] = [];
  let tokens = options.burst;
  let refilledAt = performance.now();
  const server: Server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      const now = performance.now();
      tokens = Math.min(options.burst, tokens + ((now - refilledAt) / 1000) * options.ratePerSecond);
      refilledAt = now;
      const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { incident: { fingerprint: string } };
      const deliveryId = String(request.headers['x-tocsin-delivery-id'] ?? '');
      if (tokens >= 1) {
        tokens -= 1;
        requests.push({ atMs: now, status: 200, deliveryId, fingerprint: body.incident.fingerprint });
        response.writeHead(200).end('ok');
        return;
      }
      requests.push({ atMs: now, status: 429, deliveryId, fingerprint: body.incident.fingerprint });
      response.writeHead(429, { 'retry-after': String(options.retryAfterSeconds), 'content-type': 'text/plain' }).end('rate limited');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    requests,
    accepted() {
      const counts = new Map<string, number>();
      for (const request of requests) if (request.status === 200) counts.set(request.deliveryId, (counts.get(request.deliveryId) ?? 0) + 1);
      return counts;
    },
    throttled: () => requests.filter((request) => request.status === 429),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
