// Silences in the local database (table `silences`): created, listed, expired. The ones not yet
// ended are kept compiled in memory for dispatch; every change here drops that copy (the process
// holds the database's lock, so nobody else writes meanwhile).
import { randomUUID } from 'node:crypto';
import { compileSilence, parseSilenceRecord, silenceState, type CompiledSilence, type Silence, type SilenceState } from '../silences/silence.ts';
import type { LocalDatabase } from './database.ts';

export type SilenceView = Silence & { readonly state: SilenceState };

export class LocalSilences {
  readonly #db: LocalDatabase;
  #current: { readonly compiled: readonly CompiledSilence[]; readonly earliestEndMs: number } | undefined;

  constructor(database: LocalDatabase) {
    this.#db = database;
    database.onRollback(() => {
      this.#current = undefined;
    });
  }

  static newId(): string {
    return randomUUID();
  }

  /** Stores a silence (synchronous: inside a transaction). */
  add(silence: Silence): void {
    this.#db.run('INSERT INTO silences (id, ends_at, silence) VALUES (?, ?, ?)', silence.id, Date.parse(silence.endsAt), JSON.stringify(silence));
    this.#current = undefined;
  }

  get(id: string): Silence | undefined {
    const row = this.#db.get<{ silence: string }>('SELECT silence FROM silences WHERE id = ?', id);
    return row === undefined ? undefined : parseSilenceRecord(row.silence, this.#db.file);
  }

  /** Ends a silence now; returns it as it is now, or undefined when there is no such silence. Already ended: unchanged. */
  expire(id: string, now: Date): Silence | undefined {
    const silence = this.get(id);
    if (silence === undefined || silenceState(silence, now.getTime()) === 'expired') return silence;
    const ended: Silence = { ...silence, endsAt: now.toISOString(), ...(Date.parse(silence.startsAt) > now.getTime() ? { startsAt: now.toISOString() } : {}) };
    this.#db.run('UPDATE silences SET ends_at = ?, silence = ? WHERE id = ?', now.getTime(), JSON.stringify(ended), id);
    this.#current = undefined;
    return ended;
  }

  /** Silences, those still in force or pending first (by end), then the ended ones (the most recent first). */
  list(nowMs: number, options: { readonly includeExpired: boolean; readonly limit: number }): SilenceView[] {
    const rows = this.#db.all<{ silence: string }>(
      `SELECT silence FROM silences WHERE ? OR ends_at > ?
       ORDER BY ends_at <= ?, CASE WHEN ends_at > ? THEN ends_at ELSE -ends_at END LIMIT ?`,
      options.includeExpired ? 1 : 0,
      nowMs,
      nowMs,
      nowMs,
      options.limit,
    );
    return rows.map((row) => {
      const silence = parseSilenceRecord(row.silence, this.#db.file);
      return { ...silence, state: silenceState(silence, nowMs) };
    });
  }

  /** The silences not yet ended, compiled (cached until one changes or ends). */
  current(nowMs: number): readonly CompiledSilence[] {
    if (this.#current === undefined || nowMs >= this.#current.earliestEndMs) {
      const compiled = this.#db
        .all<{ silence: string }>('SELECT silence FROM silences WHERE ends_at > ?', nowMs)
        .map((row) => compileSilence(parseSilenceRecord(row.silence, this.#db.file)));
      this.#current = { compiled, earliestEndMs: Math.min(...compiled.map((silence) => silence.endsMs)) };
    }
    return this.#current.compiled;
  }

  /** Deletes silences that ended before `beforeMs`; returns how many. */
  prune(beforeMs: number): number {
    return Number(this.#db.run('DELETE FROM silences WHERE ends_at < ?', beforeMs).changes);
  }
}
