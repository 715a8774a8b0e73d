import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookChannel } from '../../shared/channels/webhook.ts';
import { incidentSchema } from '../../shared/incident.ts';
import { describeHttpChannelKit } from '../helpers/channel-kit.ts';
import { startRecorder, type HttpRecorder } from '../helpers/http-recorder.ts';
import { firing, resolved, SOURCE_KINDS_UNDER_TEST } from '../fixtures/channels/incidents.ts';

const BEARER = 'bearer-SECRET-0123456789';
const HMAC_SECRET = 'hmac-SECRET-abcdef';
const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describeHttpChannelKit({
  channel: webhookChannel,
  targetFor: (url) => ({ type: 'webhook', url, bearerToken: BEARER, hmacSecret: HMAC_SECRET }),
  secrets: [BEARER, HMAC_SECRET],
  incident: firing('cloudwatch'),
});

/** What a receiver does: recompute the HMAC over `${timestamp}.${delivery id}.${raw body}` and compare in constant time. */
function verifySignature(secret: string, timestamp: string, body: string, header: string, deliveryId = 'test-delivery-id'): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${deliveryId}.${body}`).digest('hex')}`);
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

describe('webhook channel', () => {
  let recorder: HttpRecorder;
  beforeAll(async () => {
    recorder = await startRecorder();
  });
  afterAll(async () => {
    await recorder.close();
  });
  const send = async (target: Record<string, unknown>, event: 'opened' | 'resolved' | 'renotified' | 'flapping' = 'opened', incident = firing('alertmanager')) => {
    const before = recorder.requests.length;
    const config = { type: 'webhook', url: `${recorder.url}/hook`, ...target };
    const result = await webhookChannel.deliver(event, incident, config, { timeoutMs: 2_000, deliveryId: 'test-delivery-id' });
    return { result, request: recorder.requests[before]! };
  };

  it('POSTs exactly {"event", "incident"} as JSON', async () => {
    const incident = resolved('alertmanager');
    const { result, request } = await send({}, 'resolved', incident);
    expect(result).toEqual({ ok: true });
    expect(request.body).toBe(JSON.stringify({ event: 'resolved', incident }));
    const parsed = JSON.parse(request.body) as { event: string; incident: unknown };
    expect(Object.keys(parsed)).toEqual(['event', 'incident']);
    expect(parsed.event).toBe('resolved');
    expect(incidentSchema.parse(parsed.incident)).toEqual(incident);
  });

  it('sends the identifying headers and no auth or signature when none is configured', async () => {
    const incident = firing('alertmanager');
    const { request } = await send({}, 'opened', incident);
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/hook');
    expect(request.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(request.headers['user-agent']).toBe(`tocsin/${version}`);
    expect(request.headers['x-tocsin-event']).toBe('opened');
    expect(request.headers['x-tocsin-fingerprint']).toBe(incident.fingerprint);
    expect(request.headers['x-tocsin-delivery-id']).toBe('test-delivery-id');
    expect(request.headers.authorization).toBeUndefined();
    expect(request.headers['x-tocsin-signature']).toBeUndefined();
    expect(request.headers['x-tocsin-timestamp']).toBeUndefined();
  });

  it('sends the bearer token', async () => {
    const { request } = await send({ bearerToken: BEARER });
    expect(request.headers.authorization).toBe(`Bearer ${BEARER}`);
  });

  it('signs timestamp and exact body with HMAC-SHA256 that a receiver can verify', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { request } = await send({ hmacSecret: HMAC_SECRET }, 'flapping');
    const after = Math.floor(Date.now() / 1000);
    const timestamp = request.headers['x-tocsin-timestamp'];
    const signature = request.headers['x-tocsin-signature'];
    expect(typeof timestamp).toBe('string');
    expect(typeof signature).toBe('string');
    expect(Number(timestamp)).toBeGreaterThanOrEqual(before);
    expect(Number(timestamp)).toBeLessThanOrEqual(after);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature(HMAC_SECRET, timestamp as string, request.body, signature as string)).toBe(true);
    // The signature binds body and timestamp: change either and it no longer verifies.
    expect(verifySignature(HMAC_SECRET, timestamp as string, `${request.body} `, signature as string)).toBe(false);
    expect(verifySignature(HMAC_SECRET, String(Number(timestamp) + 1), request.body, signature as string)).toBe(false);
    // ... and the delivery id, so a receiver may trust it to drop copies.
    expect(request.headers['x-tocsin-delivery-id']).toBe('test-delivery-id');
    expect(verifySignature(HMAC_SECRET, timestamp as string, request.body, signature as string, 'another-delivery-id')).toBe(false);
    expect(verifySignature('other-secret', timestamp as string, request.body, signature as string)).toBe(false);
  });

  it('signs bodies with unicode byte-exactly', async () => {
    const incident = firing('grafana', { title: 'Überlast 🔥 <script>alert(1)</script>' });
    const { request } = await send({ hmacSecret: HMAC_SECRET }, 'opened', incident);
    expect(request.body).toBe(JSON.stringify({ event: 'opened', incident }));
    expect(
      verifySignature(HMAC_SECRET, request.headers['x-tocsin-timestamp'] as string, request.body, request.headers['x-tocsin-signature'] as string),
    ).toBe(true);
  });

  it('adds custom headers, lower-cased, without letting them replace its own', async () => {
    const { request } = await send({ headers: { 'X-Team': 'payments', 'X-Api-Key': 'k1' } });
    expect(request.headers['x-team']).toBe('payments');
    expect(request.headers['x-api-key']).toBe('k1');
    expect(request.headers['user-agent']).toBe(`tocsin/${version}`);
  });

  it.each(SOURCE_KINDS_UNDER_TEST)('carries %s incidents, firing and resolved, unchanged', async (kind) => {
    for (const [event, incident] of [
      ['opened', firing(kind)],
      ['resolved', resolved(kind)],
    ] as const) {
      const { result, request } = await send({}, event, incident);
      expect(result).toEqual({ ok: true });
      expect(JSON.parse(request.body)).toEqual({ event, incident });
    }
  });

  describe('config', () => {
    const parse = (config: Record<string, unknown>) => webhookChannel.configSchema.safeParse({ type: 'webhook', url: 'https://h.example/x', ...config });

    it('accepts http and https URLs only', () => {
      expect(parse({}).success).toBe(true);
      expect(parse({ url: 'http://127.0.0.1:9999/hook' }).success).toBe(true);
      expect(parse({ url: 'ftp://h.example/x' }).success).toBe(false);
      expect(parse({ url: 'not a url' }).success).toBe(false);
    });

    it('rejects headers that Tocsin sets, invalid names and values with CR/LF', () => {
      expect(parse({ headers: { 'User-Agent': 'x' } }).success).toBe(false);
      expect(parse({ headers: { 'X-Tocsin-Signature': 'x' } }).success).toBe(false);
    expect(parse({ headers: { 'X-Tocsin-Delivery-Id': 'x' } }).success).toBe(false);
      expect(parse({ headers: { 'bad name': 'x' } }).success).toBe(false);
      expect(parse({ headers: { 'X-Ok': 'a\r\nInjected: 1' } }).success).toBe(false);
      expect(parse({ headers: { Authorization: 'Basic abc' } }).success).toBe(true);
      expect(parse({ headers: { Authorization: 'Basic abc' }, bearerToken: 't' }).success).toBe(false);
    });

    it('rejects unknown keys and empty secrets', () => {
      expect(parse({ secret: 'x' }).success).toBe(false);
      expect(parse({ bearerToken: '' }).success).toBe(false);
      expect(parse({ hmacSecret: '' }).success).toBe(false);
    });
  });
});

describe('webhook failure reasons', () => {
  it('never echo the URL’s path or query secrets back, even when the receiver quotes them', async () => {
    const recorder = await startRecorder((request) => ({
      status: 403,
      body: `forbidden: ${request.path} sig=${new URL(request.path, 'http://x').searchParams.get('sig') ?? ''}`,
    }));
    try {
      const url = `${recorder.url}/workflows/abcdef0123456789/triggers/manual?api-version=1&sig=S3cr3tSignatureValue42`;
      const result = await webhookChannel.deliver('opened', firing(), { type: 'webhook', url } as { type: string }, { timeoutMs: 2_000, deliveryId: 'test-delivery-id' });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.reason).toContain('HTTP 403');
      expect(result.reason).toContain('[redacted]');
      expect(result.reason).not.toContain('S3cr3tSignatureValue42');
      expect(result.reason).not.toContain('abcdef0123456789');
    } finally {
      await recorder.close();
    }
  });

  it('keep the bearer token out even when the 200-character cut would fall inside it', async () => {
    const token = 'BearerTokenValue-0123456789abcdefghijklmnop';
    // 190 characters of padding put the token across the cut: cutting before redacting would
    // leave its first characters in the reason.
    const recorder = await startRecorder(() => ({ status: 401, body: `${'x'.repeat(185)} got ${token}` }));
    try {
      const target = { type: 'webhook', url: `${recorder.url}/hook`, bearerToken: token } as { type: string };
      const result = await webhookChannel.deliver('opened', firing(), target, { timeoutMs: 2_000, deliveryId: 'test-delivery-id' });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.reason).toMatch(/^HTTP 401: x+ got \[redac/);
      expect(result.reason).not.toContain('BearerTok');
    } finally {
      await recorder.close();
    }
  });
});
