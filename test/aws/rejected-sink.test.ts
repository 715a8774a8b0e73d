// The rejected sink of the cloud ingest functions: small payloads go inline, a payload too large
// for a queue message is stored whole as an object with a pointer, and without a bucket it is
// cut to fit (never refused by SQS, which made the sender retry for ever).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RejectedPayload } from '../../shared/ingest/forward.ts';
import { sqsMessageBody } from '../../shared/queue/sqs.ts';
import { MAX_INLINE_MESSAGE_BYTES, RejectedSink } from '../../shared/runtime/rejected.ts';

const payload = (bytes: Buffer): RejectedPayload => ({
  receivedAt: '2026-12-02T09:30:00.000Z',
  endpoint: 'alertmanager',
  status: 400,
  reason: 'malformed',
  message: 'body is not JSON',
  truncated: false,
  bodyBase64: bytes.toString('base64'),
});

function capture() {
  const sent: RejectedPayload[] = [];
  const objects = new Map<string, { body: Buffer; metadata: Record<string, string> }>();
  return {
    sent,
    objects,
    queue: { send: (items: readonly RejectedPayload[]) => Promise.resolve(void sent.push(...items)) },
    putObject: (bucket: string, key: string, body: Buffer, metadata: Record<string, string>) => Promise.resolve(void objects.set(`${bucket}/${key}`, { body, metadata })),
  };
}

describe('RejectedSink', () => {
  it('sends a payload that fits inline, untouched, and stores nothing', async () => {
    const sink = capture();
    const small = payload(Buffer.from('{"not": json'));
    await new RejectedSink({ queue: sink.queue, bucket: 'b', putObject: sink.putObject }).send([small]);
    expect(sink.sent).toEqual([small]);
    expect(sink.objects.size).toBe(0);
  });

  it('stores a body too large for a message whole in the bucket and sends a pointer', async () => {
    const sink = capture();
    const body = Buffer.alloc(300 * 1024, 'x');
    await new RejectedSink({ queue: sink.queue, bucket: 'rejected-bucket', putObject: sink.putObject }).send([payload(body)]);
    const [sent] = sink.sent;
    expect(sent).toMatchObject({ bodyBase64: '', truncated: false, bodyObject: { bucket: 'rejected-bucket', bytes: body.byteLength, sha256: createHash('sha256').update(body).digest('hex') } });
    const stored = sink.objects.get(`rejected-bucket/${sent!.bodyObject!.key}`);
    expect(stored?.body.equals(body)).toBe(true);
    expect(stored?.metadata).toEqual({ endpoint: 'alertmanager', reason: 'malformed', status: '400', truncated: 'false' });
  });

  it('without a bucket, keeps as much as fits and marks it truncated', async () => {
    const sink = capture();
    const body = Buffer.alloc(300 * 1024, 'y');
    await new RejectedSink({ queue: sink.queue, bucket: undefined }).send([payload(body)]);
    const [sent] = sink.sent;
    expect(sent?.truncated).toBe(true);
    expect(Buffer.byteLength(sqsMessageBody(sent), 'utf8')).toBeLessThanOrEqual(MAX_INLINE_MESSAGE_BYTES);
    const kept = Buffer.from(sent!.bodyBase64, 'base64');
    expect(kept.byteLength).toBeGreaterThan(180 * 1024);
    expect(body.subarray(0, kept.byteLength).equals(kept)).toBe(true);
  });
});
