// Rate state on the local database (table `rate_limits`, schema 5): one row per target or daily
// cap, the state as JSON. Updated synchronously in its own transaction (or the caller's), so a
// reservation is on disk before the job that holds it is rescheduled, and the limits and the
// day's SMS count survive a restart.
import type { LocalDatabase } from '../local/database.ts';
import type { RateLimitStore, RateState } from './rate-limit.ts';

export class SqliteRateLimitStore implements RateLimitStore {
  readonly #db: LocalDatabase;

  constructor(database: LocalDatabase) {
    this.#db = database;
  }

  update<T>(key: string, change: (state: RateState | undefined) => { readonly state: RateState; readonly result: T }, expiresAtMs: number): Promise<T> {
    try {
      return Promise.resolve(
        this.#db.transaction(() => {
          const row = this.#db.get<{ state: string }>('SELECT state FROM rate_limits WHERE key = ?', key);
          const { state, result } = change(row === undefined ? undefined : (JSON.parse(row.state) as RateState));
          this.#db.run(
            'INSERT INTO rate_limits (key, state, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET state = excluded.state, expires_at = excluded.expires_at',
            key,
            JSON.stringify(state),
            expiresAtMs,
          );
          return result;
        }),
      );
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Deletes state past its expiry; returns how many rows went. */
  sweep(nowMs: number): number {
    return Number(this.#db.run('DELETE FROM rate_limits WHERE expires_at <= ?', nowMs).changes);
  }
}
