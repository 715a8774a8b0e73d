// Message refs on the local SQLite database (table `message_refs`, shared/local/schema.ts).
// Writes are group-committed with the rest of the turn, like the delivery markers; an expired
// ref reads as absent and sweep() deletes it.
import type { LocalDatabase } from '../local/database.ts';
import { DEFAULT_MESSAGE_REF_TTL_SECONDS, epochSecondsOf, messageRefId, type MessageRefKey, type MessageRefs, type MessageRefsOptions } from './port.ts';

export class SqliteMessageRefs implements MessageRefs {
  readonly #db: LocalDatabase;
  readonly #now: () => Date;
  readonly #ttlSeconds: number;

  constructor(database: LocalDatabase, options: MessageRefsOptions = {}) {
    this.#db = database;
    this.#now = options.now ?? (() => new Date());
    this.#ttlSeconds = options.ttlSeconds ?? DEFAULT_MESSAGE_REF_TTL_SECONDS;
  }

  get(key: MessageRefKey): Promise<string | undefined> {
    const row = this.#db.get<{ ref: string; expires_at: number }>('SELECT ref, expires_at FROM message_refs WHERE key = ?', messageRefId(key));
    return Promise.resolve(row !== undefined && row.expires_at > epochSecondsOf(this.#now()) ? row.ref : undefined);
  }

  put(key: MessageRefKey, ref: string): Promise<void> {
    const expiresAt = epochSecondsOf(this.#now()) + this.#ttlSeconds;
    return this.#db.commit(() => {
      this.#db.run(
        `INSERT INTO message_refs (key, ref, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET ref = excluded.ref, expires_at = excluded.expires_at`,
        messageRefId(key),
        ref,
        expiresAt,
      );
    });
  }

  /** Deletes expired refs; returns how many went. */
  sweep(): number {
    return Number(this.#db.run('DELETE FROM message_refs WHERE expires_at <= ?', epochSecondsOf(this.#now())).changes);
  }
}
