// The message-refs port: where a channel that edits its messages in place (Slack in bot mode)
// keeps the reference of the message it posted for one incident on one channel (Slack's channel
// id and `ts`), so the resolve can update that message and reminders can reply in its thread.
// Adapters: in-process (below), SQLite (./sqlite.ts, the local pipeline) and DynamoDB
// (./dynamodb.ts, the state table). A ref expires after a while (30 days by default): an
// incident older than that gets a fresh message, which is all a missing ref ever costs.
export interface MessageRefKey {
  readonly fingerprint: string;
  /** The channel's name in the config file (`ops-chat`). */
  readonly channel: string;
}

export interface MessageRefs {
  /** The live ref for the key, if any. */
  get(key: MessageRefKey): Promise<string | undefined>;
  /** Sets (or replaces) the ref for the key and restarts its expiry. */
  put(key: MessageRefKey, ref: string): Promise<void>;
}

export const DEFAULT_MESSAGE_REF_TTL_SECONDS = 30 * 24 * 3600;

export interface MessageRefsOptions {
  readonly now?: () => Date;
  /** How long a ref is kept after its last put; DEFAULT_MESSAGE_REF_TTL_SECONDS by default. */
  readonly ttlSeconds?: number;
}

/** The id of a ref (the DynamoDB item's `pk`, the SQLite row's key); fingerprints never start with `message#`. */
export function messageRefId(key: MessageRefKey): string {
  return `message#${key.fingerprint}#${key.channel}`;
}

export function epochSecondsOf(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/** In-process adapter (tests, and anything that needs no durability). */
export class MemoryMessageRefs implements MessageRefs {
  readonly #refs = new Map<string, { readonly ref: string; readonly expiresAt: number }>();
  readonly #now: () => Date;
  readonly #ttlSeconds: number;

  constructor(options: MessageRefsOptions = {}) {
    this.#now = options.now ?? (() => new Date());
    this.#ttlSeconds = options.ttlSeconds ?? DEFAULT_MESSAGE_REF_TTL_SECONDS;
  }

  get(key: MessageRefKey): Promise<string | undefined> {
    const entry = this.#refs.get(messageRefId(key));
    return Promise.resolve(entry !== undefined && entry.expiresAt > epochSecondsOf(this.#now()) ? entry.ref : undefined);
  }

  put(key: MessageRefKey, ref: string): Promise<void> {
    this.#refs.set(messageRefId(key), { ref, expiresAt: epochSecondsOf(this.#now()) + this.#ttlSeconds });
    return Promise.resolve();
  }
}
