// The queue port on SQS: items are JSON message bodies, sent with SendMessageBatch (10 per
// call, split further so a batch stays under SQS's 256 KiB request limit). Entries SQS fails
// on its side are resent a few times; entries it refuses (sender fault) fail the send at once.
// The SDK client already retries whole requests on throttling and 5xx.
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { TocsinError } from '../errors.ts';
import type { JobQueue, SendOptions } from './port.ts';

const MAX_BATCH_ENTRIES = 10;
/**
 * Characters JSON.stringify leaves as they are but SQS refuses (it accepts #x9 #xA #xD
 * #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF). Control characters and lone surrogates are
 * already escaped by JSON.stringify; the two noncharacters are all that is left.
 */
const SQS_REFUSED = /[\uFFFE\uFFFF]/g;

/**
 * A JSON message body SQS accepts for any value: characters SQS refuses are written as JSON
 * escapes (`\uffff`), which JSON.parse turns back into the same characters, so an alert that
 * carries one is kept and delivered exactly instead of being refused with InvalidMessageContents.
 */
export function sqsMessageBody(item: unknown): string {
  return JSON.stringify(item).replace(SQS_REFUSED, (character) => `\\u${character.charCodeAt(0).toString(16)}`);
}

/**
 * Free text (a message attribute such as a dead letter's reason) that SQS accepts: each
 * character outside its set (control characters, lone surrogates, U+FFFE, U+FFFF) becomes
 * U+FFFD. A reason can quote a receiver's answer, which may hold anything.
 */
export function sqsAttributeText(text: string): string {
  let out = '';
  for (const character of text) {
    const code = character.codePointAt(0) ?? 0;
    const allowed = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || code >= 0x10000;
    out += allowed ? character : '\uFFFD';
  }
  return out;
}
const MAX_BATCH_BYTES = 256 * 1024;
/** SQS's longest per-message delay. */
export const MAX_SQS_DELAY_SECONDS = 900;
const ROUNDS = 3;

export interface SqsJobQueueOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
}

export interface FailedEntry {
  readonly code: string;
  readonly senderFault: boolean;
}

/** Some messages were not accepted. Carries SQS's error codes, never the message bodies. */
export class QueueSendError extends TocsinError {
  override readonly name = 'QueueSendError';
  readonly failed: readonly FailedEntry[];

  constructor(queue: string, total: number, failed: readonly FailedEntry[]) {
    const codes = [...new Set(failed.map((entry) => entry.code))].join(', ');
    super(`SQS queue ${queue} did not accept ${failed.length} of ${total} messages (${codes})`);
    this.failed = failed;
  }
}

export class SqsJobQueue<T> implements JobQueue<T> {
  readonly #client: SQSClient;
  readonly #queueUrl: string;

  constructor(options: SqsJobQueueOptions) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
  }

  async send(items: readonly T[], options: SendOptions = {}): Promise<void> {
    const failed = (await this.sendEach(items, options)).filter((entry): entry is FailedEntry => entry !== undefined);
    if (failed.length > 0) throw new QueueSendError(queueName(this.#queueUrl), items.length, failed);
  }

  /** Sends every item; returns, per item, why SQS did not take it (undefined: taken). */
  async sendEach(items: readonly T[], options: SendOptions = {}): Promise<(FailedEntry | undefined)[]> {
    // SQS delays are whole seconds up to 15 minutes: round up so a Retry-After is never cut short.
    const delaySeconds = Math.min(MAX_SQS_DELAY_SECONDS, Math.ceil(Math.max(0, options.delayMs ?? 0) / 1000));
    const entries = items.map(
      (item, index): SendMessageBatchRequestEntry => ({
        Id: String(index),
        MessageBody: sqsMessageBody(item),
        ...(delaySeconds > 0 ? { DelaySeconds: delaySeconds } : {}),
      }),
    );
    const results: (FailedEntry | undefined)[] = items.map(() => undefined);
    for (const batch of batches(entries)) {
      for (const [id, failure] of await this.#sendBatch(batch)) results[Number(id)] = failure;
    }
    return results;
  }

  /** The queue's name, for errors. */
  get name(): string {
    return queueName(this.#queueUrl);
  }

  /** Sends one batch, resending what SQS failed on its side; returns what still failed, by entry id. */
  async #sendBatch(batch: readonly SendMessageBatchRequestEntry[]): Promise<Map<string, FailedEntry>> {
    const failed = new Map<string, FailedEntry>();
    let pending = batch;
    for (let round = 1; round <= ROUNDS && pending.length > 0; round += 1) {
      const response = await this.#client.send(new SendMessageBatchCommand({ QueueUrl: this.#queueUrl, Entries: [...pending] }));
      const again = new Set<string>();
      for (const failure of response.Failed ?? []) {
        const entry = { code: failure.Code ?? 'Unknown', senderFault: failure.SenderFault === true };
        // A sender fault will not go away by sending the same entry again.
        if (entry.senderFault || round === ROUNDS) failed.set(failure.Id ?? '', entry);
        else again.add(failure.Id ?? '');
      }
      pending = pending.filter((entry) => again.has(entry.Id ?? ''));
    }
    return failed;
  }
}

/**
 * The sends of several concurrent callers (the records of one Lambda batch) made together, so
 * their items share SendMessageBatch calls (10 entries, 256 KiB each) instead of one call per
 * caller. It sends once each of the `expected` callers has called send() or withdraw(); each
 * caller's send() settles with its own items' fate.
 */
export class SqsSendGroup<T> {
  readonly #queue: SqsJobQueue<T>;
  #waiting: number;
  readonly #parts: { readonly items: readonly T[]; resolve(): void; reject(error: Error): void }[] = [];

  constructor(queue: SqsJobQueue<T>, expected: number) {
    this.#queue = queue;
    this.#waiting = expected;
  }

  send(items: readonly T[]): Promise<void> {
    const sent = new Promise<void>((resolve, reject) => {
      this.#parts.push({ items, resolve, reject });
    });
    this.#arrived();
    return sent;
  }

  /** A caller that has nothing to send (or failed before it could). */
  withdraw(): void {
    this.#arrived();
  }

  #arrived(): void {
    this.#waiting -= 1;
    if (this.#waiting === 0) void this.#flush();
  }

  async #flush(): Promise<void> {
    const parts = this.#parts.filter((part) => part.items.length > 0);
    for (const part of this.#parts) if (part.items.length === 0) part.resolve();
    let results: (FailedEntry | undefined)[];
    try {
      results = await this.#queue.sendEach(parts.flatMap((part) => part.items));
    } catch (error) {
      for (const part of parts) part.reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    let offset = 0;
    for (const part of parts) {
      const failed = results.slice(offset, offset + part.items.length).filter((entry): entry is FailedEntry => entry !== undefined);
      offset += part.items.length;
      if (failed.length === 0) part.resolve();
      else part.reject(new QueueSendError(this.#queue.name, part.items.length, failed));
    }
  }
}

/** Groups of at most 10 entries and 256 KiB of bodies; an oversized entry travels alone. */
function batches(entries: readonly SendMessageBatchRequestEntry[]): SendMessageBatchRequestEntry[][] {
  const out: SendMessageBatchRequestEntry[][] = [];
  let current: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(entry.MessageBody ?? '', 'utf8');
    if (current.length > 0 && (current.length === MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

function queueName(queueUrl: string): string {
  return queueUrl.split('/').at(-1) ?? queueUrl;
}
