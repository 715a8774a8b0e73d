// postJson, the POST every HTTP channel shares: how it classifies answers is covered per channel
// by the HTTP kit; here, that a failure reason never carries a credential in any form a
// receiver may echo it, wherever it falls in the body.
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson } from '../../shared/channels/http.ts';
import { startRecorder, type HttpRecorder } from '../helpers/http-recorder.ts';

// A Slack-like path (the path is the credential) and a Teams-like `sig` query value.
const PATH_TOKEN = 'xoxbPathToken0123456789';
const ENCODED_SEGMENT = 'team%2Fops%3Dpager-2026x';
const SIG = 'sigValue/with+plus=0123456789';
const BEARER = 'extra-bearer-secret-9876543210';

describe('postJson failure reasons', () => {
  let recorder: HttpRecorder;
  let echoed = '';
  beforeAll(async () => {
    recorder = await startRecorder(() => ({ status: 400, body: echoed }));
  });
  afterAll(async () => {
    await recorder.close();
  });

  const url = (): string => `${recorder.url}/services/${PATH_TOKEN}/${ENCODED_SEGMENT}?sig=${encodeURIComponent(SIG)}&api-version=1`;

  async function reasonFor(body: string, secrets: readonly string[] = []): Promise<string> {
    echoed = body;
    const result = await postJson(url(), '{}', { timeoutMs: 2_000, secrets });
    expect(result.ok).toBe(false);
    return result.ok ? '' : result.reason;
  }

  it('removes the URL, its path, its query and each token-length piece, raw, decoded and encoded', async () => {
    const forms = [
      url(),
      new URL(url()).pathname,
      new URL(url()).search,
      PATH_TOKEN,
      ENCODED_SEGMENT,
      decodeURIComponent(ENCODED_SEGMENT),
      SIG,
      encodeURIComponent(SIG),
    ];
    for (const form of forms) {
      const reason = await reasonFor(`bad request for ${form} (see docs)`);
      expect(reason).toBe('HTTP 400: bad request for [redacted] (see docs)');
    }
  });

  it('keeps short, common pieces such as the api-version, which are no secret', async () => {
    expect(await reasonFor('unsupported api-version=1 for services')).toBe('HTTP 400: unsupported api-version=1 for services');
  });

  it('removes the caller’s other secrets too', async () => {
    expect(await reasonFor(`token ${BEARER} is revoked`, [BEARER])).toBe('HTTP 400: token [redacted] is revoked');
  });

  it('redacts before cutting to 200 characters, so no prefix of a secret is left at the cut', async () => {
    for (let padding = 180; padding < 200; padding += 1) {
      const reason = await reasonFor(`${'x'.repeat(padding)}${SIG}`);
      expect(reason.startsWith('HTTP 400: x')).toBe(true);
      expect(reason).not.toContain(SIG.slice(0, 4));
      expect(reason.length).toBeLessThanOrEqual('HTTP 400: '.length + 200);
    }
  });
});

// The receiver runs in a worker thread so it answers while this thread's event loop is held, as a
// long fsync or a starved core holds the server's: when the loop runs again, the send's deadline
// has passed and its answer is waiting on the socket. The answer wins: the receiver took the
// notice, and calling it a timeout would send it again.
describe('postJson after the event loop was held past the deadline', () => {
  const RECEIVER = `
    const { createServer } = require('node:http');
    const { parentPort } = require('node:worker_threads');
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        parentPort.postMessage('arrived');
        setTimeout(() => { response.writeHead(200, { 'content-type': 'text/plain' }).end('taken'); }, 20);
      });
    });
    server.listen(0, '127.0.0.1', () => { parentPort.postMessage(server.address().port); });
  `;
  let receiver: Worker;
  let url = '';
  beforeAll(async () => {
    receiver = new Worker(RECEIVER, { eval: true });
    const port = await new Promise<number>((resolve) => {
      receiver.once('message', (message: number) => {
        resolve(message);
      });
    });
    url = `http://127.0.0.1:${String(port)}/hook`;
  });
  afterAll(async () => {
    await receiver.terminate();
  });

  it.each(['node-http', 'fetch'] as const)('counts an answer that arrived while the loop was held as delivered (%s)', async (transport) => {
    const holdLoop = (): void => {
      // The receiver answers 20 ms after the request arrived; the deadline is 200 ms after the send began.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400);
    };
    receiver.once('message', holdLoop);
    const result = await postJson(url, '{}', { timeoutMs: 200, transport });
    expect(result).toEqual({ ok: true });
  });
});
