// The shared test kit every HTTP channel runs (after Alertmanager's notify tests): against a
// real recording server on 127.0.0.1 it checks success, 500, 429 with Retry-After, 4xx,
// timeout and connection refused, and that no URL or secret leaks into a failure reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegisteredChannel, SendResult } from '../../shared/channels/channel.ts';
import type { Incident } from '../../shared/incident.ts';
import { startRecorder, type HttpRecorder } from './http-recorder.ts';

export interface HttpChannelKitOptions {
  readonly channel: RegisteredChannel;
  /** Builds a valid channel config whose destination is `url` (the recorder, with a secret-looking path). */
  readonly targetFor: (url: string) => { type: string };
  /** Strings that must never appear in a failure reason (tokens, secrets) besides the URL. */
  readonly secrets?: readonly string[];
  readonly incident: Incident;
  /** Where the channel POSTs for a configured URL path (an API adds its own path); the path itself by default. */
  readonly requestPath?: (configuredPath: string) => string;
}

const SECRET_PATH = '/hooks/T0SECRET/B0SECRET/XXXXsecretTOKENxxxx';

export function describeHttpChannelKit(options: HttpChannelKitOptions): void {
  describe(`${options.channel.type} channel: HTTP behaviour kit`, () => {
    let recorder: HttpRecorder;
    beforeAll(async () => {
      recorder = await startRecorder();
    });
    afterAll(async () => {
      await recorder.close();
    });

    const url = (): string => `${recorder.url}${SECRET_PATH}`;
    const send = (timeoutMs = 2_000, target = options.targetFor(url())): Promise<SendResult> =>
      options.channel.deliver('opened', options.incident, target, { timeoutMs, deliveryId: 'test-delivery-id' });
    const expectNoLeak = (result: SendResult): void => {
      if (result.ok) return;
      expect(result.reason).not.toContain(url());
      expect(result.reason).not.toContain('secretTOKEN');
      for (const secret of options.secrets ?? []) expect(result.reason).not.toContain(secret);
    };

    it('POSTs JSON and reports success on 2xx', async () => {
      recorder.respondWith(() => ({ status: 200, body: 'ok' }));
      const before = recorder.requests.length;
      await expect(send()).resolves.toEqual({ ok: true });
      const request = recorder.requests[before]!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe(options.requestPath?.(SECRET_PATH) ?? SECRET_PATH);
      expect(request.headers['content-type']).toMatch(/^application\/json/);
      expect(() => JSON.parse(request.body) as unknown).not.toThrow();
    });

    it('marks 500 retryable', async () => {
      recorder.respondWith(() => ({ status: 500, body: `boom at ${SECRET_PATH}` }));
      const result = await send();
      expect(result).toMatchObject({ ok: false, retryable: true });
      expect(result.ok ? '' : result.reason).toContain('500');
      expectNoLeak(result);
    });

    it('marks 429 retryable and honours Retry-After', async () => {
      recorder.respondWith(() => ({ status: 429, headers: { 'retry-after': '7' }, body: 'rate_limited' }));
      const result = await send();
      expect(result).toMatchObject({ ok: false, retryable: true, retryAfterMs: 7_000 });
      expectNoLeak(result);
    });

    it('marks other 4xx permanent', async () => {
      recorder.respondWith(() => ({ status: 404, body: 'no_service' }));
      const result = await send();
      expect(result).toMatchObject({ ok: false, retryable: false });
      expect(result.ok ? '' : result.reason).toContain('404');
      expectNoLeak(result);
    });

    it('marks a timeout retryable', async () => {
      recorder.respondWith(() => ({ status: 200, delayMs: 1_000 }));
      const result = await send(100);
      expect(result).toMatchObject({ ok: false, retryable: true });
      expect(result.ok ? '' : result.reason).toMatch(/timed out/);
      expectNoLeak(result);
    });

    it('marks connection refused retryable without leaking the URL', async () => {
      const closed = await startRecorder();
      const deadUrl = `${closed.url}${SECRET_PATH}`;
      await closed.close();
      const result = await send(2_000, options.targetFor(deadUrl));
      expect(result).toMatchObject({ ok: false, retryable: true });
      if (!result.ok) {
        expect(result.reason).not.toContain(deadUrl);
        expect(result.reason).not.toContain('secretTOKEN');
      }
    });
  });
}
