// The rejected sink of the cloud ingest functions: each RejectedPayload goes to the rejected
// queue, and one whose message would not fit in a queue message (a large body, base64-encoded,
// is a third larger) has its bytes stored whole in the rejected-payloads bucket
// (REJECTED_BUCKET_NAME) with a pointer in the message instead. Without a bucket the bytes are
// cut to fit and marked truncated: a payload that cannot be kept whole is still kept in part,
// never refused by SQS again and again (which answered the sender 503 for ever).
import { createHash, randomUUID } from 'node:crypto';
import type { RejectedBodyObject, RejectedPayload, Sink } from '../ingest/forward.ts';
import { sqsMessageBody } from '../queue/sqs.ts';
import { s3Client } from './clients.ts';

/**
 * Largest rejected message sent inline. SQS's classic limit is 256 KiB (262,144 bytes); the
 * margin leaves room for SQS's own accounting, so a message this size is never refused.
 */
export const MAX_INLINE_MESSAGE_BYTES = 250 * 1024;
/** Objects go under this prefix; the ingest functions may write nowhere else in the bucket. */
export const REJECTED_OBJECT_PREFIX = 'rejected/';

export interface RejectedSinkOptions {
  readonly queue: Sink<RejectedPayload>;
  /** The rejected-payloads bucket; undefined: oversized bodies are truncated to fit. */
  readonly bucket: string | undefined;
  /** Stores one object; S3 PutObject by default. */
  readonly putObject?: (bucket: string, key: string, body: Buffer, metadata: Record<string, string>) => Promise<void>;
}

const putWithS3 = async (bucket: string, key: string, body: Buffer, metadata: Record<string, string>): Promise<void> => {
  const [client, { PutObjectCommand }] = await Promise.all([s3Client(), import('@aws-sdk/client-s3')]);
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/octet-stream', Metadata: metadata }));
};

const messageBytes = (payload: RejectedPayload): number => Buffer.byteLength(sqsMessageBody(payload), 'utf8');

/** `rejected/2026/12/02/<uuid>`: by day, so the bucket's lifecycle and a person browsing both find them. */
function objectKey(receivedAt: string): string {
  const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(receivedAt);
  const folder = day === null ? 'undated' : `${day[1] ?? ''}/${day[2] ?? ''}/${day[3] ?? ''}`;
  return `${REJECTED_OBJECT_PREFIX}${folder}/${randomUUID()}`;
}

export class RejectedSink implements Sink<RejectedPayload> {
  readonly #options: RejectedSinkOptions;

  constructor(options: RejectedSinkOptions) {
    this.#options = options;
  }

  async send(items: readonly RejectedPayload[]): Promise<void> {
    const fitted = await Promise.all(items.map((item) => (messageBytes(item) <= MAX_INLINE_MESSAGE_BYTES ? Promise.resolve(item) : this.#fit(item))));
    await this.#options.queue.send(fitted);
  }

  async #fit(item: RejectedPayload): Promise<RejectedPayload> {
    const bytes = Buffer.from(item.bodyBase64, 'base64');
    const { bucket } = this.#options;
    if (bucket !== undefined) {
      const key = objectKey(item.receivedAt);
      // Metadata says what the object is without opening it; never the body or a token.
      await (this.#options.putObject ?? putWithS3)(bucket, key, bytes, { endpoint: item.endpoint, reason: item.reason, status: String(item.status), truncated: String(item.truncated) });
      const bodyObject: RejectedBodyObject = { bucket, key, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
      return { ...item, bodyBase64: '', bodyObject };
    }
    // No bucket: as many bytes as fit (base64 takes 4 characters per 3 bytes).
    const room = MAX_INLINE_MESSAGE_BYTES - messageBytes({ ...item, bodyBase64: '', truncated: true });
    const keep = Math.max(0, Math.floor(room / 4) * 3);
    return { ...item, truncated: true, bodyBase64: bytes.subarray(0, keep).toString('base64') };
  }
}
