// The Azure function called with @azure/functions' own HttpRequest and InvocationContext.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { monitorIngest, setForwarder } from '../../functions/azure/monitor-ingest.ts';
import { normalizeBytes } from '../../shared/normalize.ts';
import { captureOutput, type OutputCapture } from '../aws/support.ts';
import { INCIDENTS_QUEUE_URL, REJECTED_QUEUE_URL, misconfiguredLogRecords, mockSqs, sentTo, stubForwarderSettingsWithoutToken, testForwarder } from '../helpers/sqs-forwarder.ts';

const TOKEN = 'azure-shared-secret-9';
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'azure-monitor');
const BASE = 'https://tocsin-fwd.azurewebsites.net/api/v1/ingest/azure/monitor';

function request(body: string | Buffer, query = `?code=function-key&token=${TOKEN}`, headers: Record<string, string> = {}): HttpRequest {
  return new HttpRequest({
    method: 'POST',
    url: `${BASE}${query}`,
    headers: { 'content-type': 'application/json', ...headers },
    body: { string: typeof body === 'string' ? body : body.toString('utf8') },
  });
}

const bodyText = (answer: HttpResponseInit): string => (typeof answer.body === 'string' ? answer.body : '');
const context = (): InvocationContext => new InvocationContext({ invocationId: 'c0ffee00-0000-4000-8000-000000000001', functionName: 'monitor-ingest' });

describe('Azure monitor-ingest', () => {
  let sqs: ReturnType<typeof mockSqs>;
  beforeEach(() => {
    sqs = mockSqs();
    setForwarder(testForwarder(TOKEN, 16 * 1024));
  });
  afterAll(() => {
    setForwarder(undefined);
  });

  it.each(['metric-static-fired.json', 'metric-static-resolved.json', 'log-search-v2.json', 'legacy-metric-activated.json'])(
    'accepts %s and queues exactly its incidents',
    async (file) => {
      const bytes = await readFile(join(FIXTURES, file));
      const answer = await monitorIngest(request(bytes), context());
      expect(answer.status).toBe(202);
      const expected = normalizeBytes(bytes, { receivedAt: new Date(), source: 'azure-monitor' }).incidents;
      expect(JSON.parse(bodyText(answer))).toEqual({ accepted: expected.length, source: 'azure-monitor', fingerprints: expected.map((incident) => incident.fingerprint) });
      const queued = sentTo(sqs, INCIDENTS_QUEUE_URL) as { incident: unknown }[];
      expect(queued.map((message) => message.incident)).toEqual(expected);
      const input = sqs.commandCalls(SendMessageBatchCommand)[0]!.args[0].input;
      expect(input.QueueUrl).toBe(INCIDENTS_QUEUE_URL);
    },
  );

  it('refuses a missing or wrong shared secret with a JSON 401', async () => {
    const bytes = await readFile(join(FIXTURES, 'metric-static-fired.json'));
    for (const query of ['?code=function-key', '?code=function-key&token=guess']) {
      const answer = await monitorIngest(request(bytes, query), context());
      expect(answer.status).toBe(401);
      expect(JSON.parse(bodyText(answer))).toMatchObject({ error: 'unauthorized' });
      expect(bodyText(answer)).not.toContain(TOKEN);
    }
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('answers a malformed body with a JSON 400 and keeps the raw bytes in the rejected queue', async () => {
    const raw = '{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertRule":';
    const answer = await monitorIngest(request(raw), context());
    expect(answer.status).toBe(400);
    expect(answer.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8' });
    expect(JSON.parse(bodyText(answer))).toMatchObject({ error: 'malformed', message: 'payload is not valid JSON', kept: true });
    const kept = sentTo(sqs, REJECTED_QUEUE_URL) as { bodyBase64: string; endpoint: string }[];
    expect(kept).toHaveLength(1);
    expect(Buffer.from(kept[0]!.bodyBase64, 'base64').toString('utf8')).toBe(raw);
    expect(kept[0]!.endpoint).toBe('azure-monitor');
  });

  it('names the field when a common-schema alert is invalid', async () => {
    const fixture = JSON.parse(await readFile(join(FIXTURES, 'metric-static-fired.json'), 'utf8')) as { data: { essentials: Record<string, unknown> } };
    fixture.data.essentials['severity'] = 'Sev9';
    const answer = await monitorIngest(request(JSON.stringify(fixture)), context());
    expect(answer.status).toBe(400);
    const body = JSON.parse(bodyText(answer)) as { rejections: { source: string; reason: string }[] };
    expect(body.rejections[0]!.source).toBe('azure-monitor');
    expect(body.rejections[0]!.reason).toContain('data.essentials.severity');
  });

  it('answers 503 (which action groups retry) only when the queue fails', async () => {
    sqs.on(SendMessageBatchCommand).rejects(new Error('throttled'));
    const bytes = await readFile(join(FIXTURES, 'metric-static-fired.json'));
    const answer = await monitorIngest(request(bytes), context());
    expect(answer.status).toBe(503);
    expect(answer.headers).toMatchObject({ 'retry-after': '5' });
  });
});

describe('Azure monitor-ingest without TOCSIN_INGEST_TOKEN (fail closed)', () => {
  let sqs: ReturnType<typeof mockSqs>;
  let output: OutputCapture;
  beforeEach(() => {
    sqs = mockSqs();
    stubForwarderSettingsWithoutToken();
    // Built from these app settings, as in Azure.
    setForwarder(undefined);
    output = captureOutput();
  });
  afterEach(() => {
    output.restore();
    vi.unstubAllEnvs();
    sqs.restore();
  });
  afterAll(() => {
    setForwarder(undefined);
  });

  it.each([
    ['unset', undefined],
    ['empty', ''],
    ['blank', '   '],
  ])('refuses every request when it is %s, whatever the caller sends, and logs why once', async (_name, value) => {
    if (value !== undefined) vi.stubEnv('TOCSIN_INGEST_TOKEN', value);
    const bytes = await readFile(join(FIXTURES, 'metric-static-fired.json'));
    for (const query of ['?code=function-key', '?code=function-key&token=', `?code=function-key&token=${TOKEN}`]) {
      const answer = await monitorIngest(request(bytes, query), context());
      expect(answer.status).toBe(503);
      expect(answer.jsonBody).toEqual({ error: 'misconfigured', message: 'the function is not configured; see its logs' });
    }
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    const lines = misconfiguredLogRecords(output.records());
    expect(lines).toHaveLength(1);
    expect(lines[0]!['reason']).toBe('missing setting(s): TOCSIN_INGEST_TOKEN; every request is refused until they are set');
  });
});
