// The GCP function under the real functions-framework server on 127.0.0.1.
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { setForwarder } from '../../functions/gcp/index.ts';
import { normalizeBytes } from '../../shared/normalize.ts';
import { captureOutput, type OutputCapture } from '../aws/support.ts';
import { INCIDENTS_QUEUE_URL, REJECTED_QUEUE_URL, misconfiguredLogRecords, mockSqs, sentTo, stubForwarderSettingsWithoutToken, testForwarder } from '../helpers/sqs-forwarder.ts';

const TOKEN = 'gcp-basic-secret-42';
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'gcp-monitoring', 'metric-open.json');

describe('GCP monitoringIngest under functions-framework', () => {
  let server: Server;
  let url: string;
  let sqs: ReturnType<typeof mockSqs>;
  let fixture: Buffer;

  beforeAll(async () => {
    fixture = await readFile(FIXTURE);
    server = getTestServer('monitoringIngest');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  });
  afterAll(async () => {
    setForwarder(undefined);
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    sqs = mockSqs();
    setForwarder(testForwarder(TOKEN, 16 * 1024));
  });

  const basic = (password: string): string => `Basic ${Buffer.from(`tocsin:${password}`).toString('base64')}`;
  const post = (body: string | Buffer, headers: Record<string, string> = {}, path = '/'): Promise<Response> =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('accepts a Cloud Monitoring incident with basic auth and queues exactly its incident', async () => {
    const response = await post(fixture, { authorization: basic(TOKEN) });
    expect(response.status).toBe(202);
    const expected = normalizeBytes(fixture, { receivedAt: new Date(), source: 'gcp-monitoring' }).incidents;
    expect(await response.json()).toEqual({ accepted: 1, source: 'gcp-monitoring', fingerprints: [expected[0]!.fingerprint] });
    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.QueueUrl).toBe(INCIDENTS_QUEUE_URL);
    expect(input.Entries?.map((entry) => entry.Id)).toEqual(['0']);
    const message = JSON.parse(input.Entries?.[0]?.MessageBody ?? '{}') as { incident: unknown; receivedAt: string };
    expect(message.incident).toEqual(expected[0]);
    expect(Number.isNaN(Date.parse(message.receivedAt))).toBe(false);
  });

  it('accepts the token as a query parameter too (Cloud Monitoring cannot set headers)', async () => {
    const response = await post(fixture, {}, `/?token=${TOKEN}`);
    expect(response.status).toBe(202);
  });

  it('refuses a wrong or missing secret with a JSON 401 and queues nothing', async () => {
    for (const headers of [{}, { authorization: basic('nope') }] as Record<string, string>[]) {
      const response = await post(fixture, headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toContain('application/json');
      const body = (await response.json()) as { error: string };
      expect(body.error).toBe('unauthorized');
    }
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('answers malformed JSON with a JSON 400 (not the framework’s HTML page) and keeps the raw bytes', async () => {
    const raw = '{"version": "1.2", "incident": {"state": "open",';
    const response = await post(raw, { authorization: basic(TOKEN) });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/json');
    const text = await response.text();
    expect(text).not.toContain('<html');
    expect(text).not.toContain('at JSON.parse');
    expect(JSON.parse(text)).toMatchObject({ error: 'malformed', message: 'payload is not valid JSON', kept: true });
    const kept = sentTo(sqs, REJECTED_QUEUE_URL) as { bodyBase64: string; reason: string; endpoint: string; status: number }[];
    expect(kept).toHaveLength(1);
    expect(Buffer.from(kept[0]!.bodyBase64, 'base64').toString('utf8')).toBe(raw);
    expect(kept[0]).toMatchObject({ reason: 'malformed', endpoint: 'gcp-monitoring', status: 400 });
    expect(sentTo(sqs, INCIDENTS_QUEUE_URL)).toEqual([]);
  });

  it('says why a JSON body that is not a Cloud Monitoring incident was refused', async () => {
    const response = await post(JSON.stringify({ version: '1.2', incident: { state: 'sideways' } }), { authorization: basic(TOKEN) });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { rejections: { source: string; reason: string }[] };
    expect(body.rejections[0]!.source).toBe('gcp-monitoring');
    expect(body.rejections[0]!.reason).toContain('incident.state');
  });

  it('answers an oversized body with a JSON 413 and keeps its first part', async () => {
    const response = await post(JSON.stringify({ padding: 'x'.repeat(40 * 1024) }), { authorization: basic(TOKEN) });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: 'too-large', message: 'body exceeds the 16384-byte limit' });
    const kept = sentTo(sqs, REJECTED_QUEUE_URL) as { bodyBase64: string; truncated: boolean }[];
    expect(Buffer.from(kept[0]!.bodyBase64, 'base64').byteLength).toBe(16 * 1024);
  });

  it('answers 503 with Retry-After when the queue is unavailable (the sender retries)', async () => {
    sqs.on(SendMessageBatchCommand).rejects(new Error('ServiceUnavailable'));
    const response = await post(fixture, { authorization: basic(TOKEN) });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toEqual({ error: 'queue-unavailable', message: 'could not queue the payload; retry later' });
  });

  describe('without TOCSIN_INGEST_TOKEN (fail closed)', () => {
    let output: OutputCapture;
    beforeEach(() => {
      stubForwarderSettingsWithoutToken();
      // Built from these environment variables, as on Cloud Run.
      setForwarder(undefined);
      output = captureOutput();
    });
    afterEach(() => {
      output.restore();
      vi.unstubAllEnvs();
    });

    it.each([
      ['unset', undefined],
      ['empty', ''],
    ])('refuses every request when it is %s, with or without a password, and logs why once', async (_name, value) => {
      if (value !== undefined) vi.stubEnv('TOCSIN_INGEST_TOKEN', value);
      for (const headers of [{}, { authorization: basic('') }, { authorization: basic(TOKEN) }] as Record<string, string>[]) {
        const response = await post(fixture, headers);
        expect(response.status).toBe(503);
        expect(await response.json()).toEqual({ error: 'misconfigured', message: 'the function is not configured; see its logs' });
      }
      expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
      const lines = misconfiguredLogRecords(output.records());
      expect(lines).toHaveLength(1);
      expect(String(lines[0]!['reason'])).toContain('TOCSIN_INGEST_TOKEN');
    });
  });

  it('answers other methods with a JSON 405', async () => {
    const response = await fetch(url, { method: 'GET' });
    expect(response.status).toBe(405);
    expect(await response.json()).toMatchObject({ error: 'method-not-allowed' });
  });
});
