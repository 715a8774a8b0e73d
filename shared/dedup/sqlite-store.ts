// The store port on the local SQLite database (shared/local/database.ts): the same decide() as
// the other stores, applied synchronously (read, decide, one upsert), so it can run inside the
// local pipeline's dispatch transaction together with queueing the delivery jobs; `apply` is
// the port's asynchronous face for everything else.
//
// The process holds the database's exclusive lock, so no other writer exists: the last records
// written are cached (bounded) and read back without parsing. A rolled-back transaction clears
// the cache, so it never holds a record that is not on disk.
// Expired records behave as absent, as in the other stores; sweep() deletes them (and the
// delivery markers of schema 1, kept only until they expire).
import type { LocalDatabase } from '../local/database.ts';
import type { Incident, Status } from '../incident.ts';
import { decide, type DecideContext } from './decide.ts';
import { dueAtOf, epochSeconds, isExpired, parseIncidentRecord, type IncidentRecord } from './record.ts';
import { DEFAULT_DEDUP_SETTINGS, type DedupSettings } from './settings.ts';
import { type ApplyResult, type IncidentStore, type StoreClockOptions } from './store.ts';

const DEFAULT_CACHE_SIZE = 10_000;

export interface SqliteStoreOptions extends StoreClockOptions {
  readonly settings?: DedupSettings;
  /** Records kept parsed in memory (LRU); 10,000 by default. */
  readonly cacheSize?: number;
}

export interface RecordListOptions {
  readonly limit: number;
  /** Only this status. */
  readonly status?: Status | undefined;
}

export class SqliteIncidentStore implements IncidentStore {
  readonly #db: LocalDatabase;
  readonly #settings: DedupSettings;
  readonly #now: () => Date;
  readonly #cacheSize: number;
  readonly #cache = new Map<string, IncidentRecord>();
  /**
   * What the record_timers row of a cached record holds, as last written here (`due|held`, or
   * null for no row): a write that would change nothing is skipped (a repeat of a firing alert
   * keeps its reminder time). Entries go with their record's cache entry and on any rollback.
   */
  readonly #timerRows = new Map<string, string | null>();

  constructor(database: LocalDatabase, options: SqliteStoreOptions = {}) {
    this.#db = database;
    this.#settings = options.settings ?? DEFAULT_DEDUP_SETTINGS;
    this.#now = options.now ?? (() => new Date());
    this.#cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
    database.onRollback(() => {
      this.#cache.clear();
      this.#timerRows.clear();
    });
  }

  /** Decides and writes, synchronously: call it inside a transaction to make more writes atomic with it. */
  applySync(incident: Incident, now: Date, receivedAt: Date = now, context: DecideContext = {}): ApplyResult {
    const current = this.#read(incident.fingerprint);
    const result = decide(current, incident, now, this.#settings, receivedAt, context);
    if (result.write === 'none') {
      if (current === undefined) throw new Error('dedup: a stale decision without a record');
      return { decision: result.decision, record: current };
    }
    this.put(result.next);
    return { decision: result.decision, record: result.next };
  }

  /**
   * Writes a record as it is (a decision made elsewhere: the scheduler's, an acknowledgement),
   * with its timer; synchronous, for use inside a transaction.
   */
  put(next: IncidentRecord): void {
    this.#db.run(
      `INSERT INTO records (fingerprint, status, last_seen, expires_at, record) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (fingerprint) DO UPDATE SET status = excluded.status, last_seen = excluded.last_seen,
         expires_at = excluded.expires_at, record = excluded.record`,
      next.fingerprint,
      next.status,
      next.lastSeen,
      next.expiresAt ?? null,
      JSON.stringify(next),
    );
    const dueAt = dueAtOf(next);
    const heldBy = next.held ? `${next.held.kind}:${next.held.id}` : null;
    const row = dueAt === undefined ? null : `${String(dueAt)}|${heldBy ?? ''}`;
    if (this.#timerRows.get(next.fingerprint) !== row) {
      if (dueAt === undefined) this.#db.run('DELETE FROM record_timers WHERE fingerprint = ?', next.fingerprint);
      else {
        this.#db.run(
          `INSERT INTO record_timers (fingerprint, due_at, held_by) VALUES (?, ?, ?)
           ON CONFLICT (fingerprint) DO UPDATE SET due_at = excluded.due_at, held_by = excluded.held_by`,
          next.fingerprint,
          dueAt,
          heldBy,
        );
      }
    }
    this.#remember(next);
    this.#timerRows.set(next.fingerprint, row);
  }

  /** Fingerprints whose timer is due at `nowMs`, the earliest first. */
  dueFingerprints(nowMs: number, limit: number): string[] {
    return this.#db.all<{ fingerprint: string }>('SELECT fingerprint FROM record_timers WHERE due_at <= ? ORDER BY due_at LIMIT ?', nowMs, limit).map((row) => row.fingerprint);
  }

  /** When the next timer falls due (epoch ms), if any. */
  nextDueAtMs(): number | undefined {
    return this.#db.get<{ due: number | null }>('SELECT min(due_at) AS due FROM record_timers')?.due ?? undefined;
  }

  /** Makes the timers of the records `holder` holds due at `nowMs` (a silence expired early); returns how many. */
  wakeHeldBy(holder: { readonly kind: string; readonly id: string }, nowMs: number): number {
    this.#timerRows.clear();
    return Number(this.#db.run('UPDATE record_timers SET due_at = ? WHERE held_by = ? AND due_at > ?', nowMs, `${holder.kind}:${holder.id}`, nowMs).changes);
  }

  /** Moves a record's timer. */
  setTimer(fingerprint: string, dueAtMs: number): void {
    this.#timerRows.delete(fingerprint);
    this.#db.run('UPDATE record_timers SET due_at = ? WHERE fingerprint = ?', dueAtMs, fingerprint);
  }

  /** Drops a timer that points at no live firing record. */
  dropTimer(fingerprint: string): void {
    this.#timerRows.delete(fingerprint);
    this.#db.run('DELETE FROM record_timers WHERE fingerprint = ?', fingerprint);
  }

  apply(incident: Incident, now: Date, receivedAt: Date = now, context: DecideContext = {}): Promise<ApplyResult> {
    try {
      return Promise.resolve(this.applySync(incident, now, receivedAt, context));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** The live record of a fingerprint, if any. */
  get(fingerprint: string): IncidentRecord | undefined {
    const record = this.#read(fingerprint);
    return record && !isExpired(record, this.#now()) ? record : undefined;
  }

  /** Live records, the most recently seen first. */
  list(options: RecordListOptions): IncidentRecord[] {
    const nowSeconds = epochSeconds(this.#now());
    const rows = this.#db.all<{ fingerprint: string; record: string }>(
      `SELECT fingerprint, record FROM records
       WHERE (expires_at IS NULL OR expires_at > ?) AND (? IS NULL OR status = ?)
       ORDER BY last_seen DESC LIMIT ?`,
      nowSeconds,
      options.status ?? null,
      options.status ?? null,
      options.limit,
    );
    return rows.map((row) => this.#cache.get(row.fingerprint) ?? this.#parse(row.fingerprint, row.record));
  }

  /** Live records by status. */
  counts(): Record<Status, number> {
    const rows = this.#db.all<{ status: Status; n: number }>(
      'SELECT status, count(*) AS n FROM records WHERE expires_at IS NULL OR expires_at > ? GROUP BY status',
      epochSeconds(this.#now()),
    );
    const counts: Record<Status, number> = { firing: 0, resolved: 0 };
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }

  /** Deletes expired records and markers; returns how many rows went. */
  sweep(): number {
    const nowSeconds = epochSeconds(this.#now());
    const expired = this.#db.all<{ fingerprint: string }>('SELECT fingerprint FROM records WHERE expires_at <= ?', nowSeconds);
    for (const { fingerprint } of expired) {
      this.#cache.delete(fingerprint);
      this.#timerRows.delete(fingerprint);
    }
    const records = Number(this.#db.run('DELETE FROM records WHERE expires_at <= ?', nowSeconds).changes);
    const markers = Number(this.#db.run('DELETE FROM markers WHERE expires_at <= ?', nowSeconds).changes);
    return records + markers;
  }

  /** Writes records and markers as they are (the one-time import of an old JSON snapshot). */
  importSnapshot(records: readonly IncidentRecord[], markers: readonly (readonly [string, number])[]): void {
    this.#db.transaction(() => {
      for (const record of records) {
        this.#db.run(
          'INSERT OR REPLACE INTO records (fingerprint, status, last_seen, expires_at, record) VALUES (?, ?, ?, ?, ?)',
          record.fingerprint,
          record.status,
          record.lastSeen,
          record.expiresAt ?? null,
          JSON.stringify(record),
        );
      }
      for (const [key, expiresAt] of markers) this.#db.run('INSERT OR REPLACE INTO markers (key, expires_at) VALUES (?, ?)', key, expiresAt);
    });
    this.#cache.clear();
    this.#timerRows.clear();
  }

  #read(fingerprint: string): IncidentRecord | undefined {
    const cached = this.#cache.get(fingerprint);
    if (cached !== undefined) {
      this.#remember(cached);
      return cached;
    }
    const row = this.#db.get<{ record: string }>('SELECT record FROM records WHERE fingerprint = ?', fingerprint);
    if (row === undefined) return undefined;
    const record = this.#parse(fingerprint, row.record);
    this.#remember(record);
    return record;
  }

  #parse(fingerprint: string, text: string): IncidentRecord {
    return parseIncidentRecord(JSON.parse(text) as unknown, `${this.#db.file} (record ${fingerprint})`);
  }

  #remember(record: IncidentRecord): void {
    this.#cache.delete(record.fingerprint);
    this.#cache.set(record.fingerprint, record);
    if (this.#cache.size > this.#cacheSize) {
      const oldest = this.#cache.keys().next();
      if (!oldest.done) {
        this.#cache.delete(oldest.value);
        this.#timerRows.delete(oldest.value);
      }
    }
  }
}
