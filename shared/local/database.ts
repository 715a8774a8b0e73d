// The local pipeline's one embedded database: SQLite through Node's built-in `node:sqlite`
// (no native build, nothing downloaded; better-sqlite3 measured alike but compiles from source
// for 1.5 minutes here and against the machine's Node, see the README). It holds the dedup
// records, delivery markers, both queues, rejected payloads and each incident's history.
//
// - WAL journal, `synchronous=NORMAL` by default: a committed transaction survives the process
//   dying at any moment (kill -9, OOM, a crash), since it is in the OS's hands once COMMIT
//   returns; `full` also survives power loss and kernel crashes, at an fsync per commit.
// - `locking_mode=EXCLUSIVE`: the first write takes a file lock that the process keeps until it
//   exits (the OS drops it on kill -9), so a second instance on the same file fails at once.
// - Group commit: writers hand `commit()` a synchronous piece of work; the pieces queued within
//   one turn of the event loop run in one transaction (one failing piece does not undo the
//   others: the batch is then run again, each piece in its own savepoint), and each caller's
//   promise settles only after that transaction is on disk. That is how "accepted means
//   durable" stays fast.
// - Checkpoints (the WAL copied into the database file, both fsync'd) run when writes pause, not
//   on the writer's path: SQLite's automatic checkpoint ran inside whichever COMMIT filled 1,000
//   pages (every ~0.3 s at 500 new alerts/s) and held the event loop 10-50 ms for its fsyncs, so
//   every alert in flight then waited for it. Now a checkpoint runs after 25 ms without a commit,
//   or once the WAL reaches 16 MiB (writes that never pause), and each starts by flushing the WAL
//   on libuv's thread pool. The same checkpoint as before, at other moments: nothing about what a
//   commit guarantees changes.
// - Files are created 0600 in a 0700 folder: alert payloads and channel URLs are not for other
//   users of the machine.
import { chmodSync, closeSync, existsSync, fsync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { LocalDatabaseError } from './database-error.ts';
import { migrate } from './schema.ts';

export { LocalDatabaseError, type DatabaseProblem } from './database-error.ts';

export type Durability = 'normal' | 'full';

export interface OpenDatabaseOptions {
  readonly file: string;
  /** `normal` (default): survives the process dying; `full`: also power loss, an fsync per commit. */
  readonly durability?: Durability;
  /** Cap on the database size; past it, writes fail as if the disk were full. */
  readonly maxBytes?: number | undefined;
}

// SQLite primary result codes (the low byte of an extended code).
const SQLITE_PERM = 3;
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_READONLY = 8;
const SQLITE_IOERR = 10;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;

/** The SQLite result code of an error from node:sqlite, if it is one. */
export function sqliteCode(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'errcode' in error && typeof error.errcode === 'number') {
    return error.errcode & 0xff;
  }
  return undefined;
}

/** True for the errors a full disk (or the size cap) gives: the write can succeed later. */
export function isDiskFull(error: unknown): boolean {
  const code = sqliteCode(error);
  if (code === SQLITE_FULL) return true;
  // An I/O error while extending a file on a full disk.
  return code === SQLITE_IOERR && error instanceof Error && /full|ENOSPC|no space/i.test(error.message);
}

function describeOpenError(error: unknown, file: string): LocalDatabaseError {
  const code = sqliteCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  switch (code) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return new LocalDatabaseError('locked', file, `${file} is in use by another tocsin process${pidNote(file)}; stop it first, or give this one its own --data folder`);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return new LocalDatabaseError(
        'corrupt',
        file,
        `${file} is not a readable Tocsin database (${detail}); it was left untouched. Move it away to start afresh, or restore a copy`,
      );
    case SQLITE_FULL:
      return new LocalDatabaseError('full', file, `${file}: the disk is full (${detail}); free some space and start again`);
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
      return new LocalDatabaseError('unreadable', file, `cannot open ${file} for reading and writing (${detail})`);
    default:
      return new LocalDatabaseError('unreadable', file, `cannot open ${file} (${detail})`);
  }
}

/**
 * A BLOB parameter as node:sqlite binds it faithfully: an empty view into an empty buffer (what
 * `Buffer.concat([]).subarray(…)` gives) is bound as NULL by Node 22, so empty bytes are passed
 * as a fresh empty array.
 */
export function blob(bytes: Uint8Array): Uint8Array {
  return bytes.byteLength === 0 ? new Uint8Array(0) : bytes;
}

/** The pid file beside the database: only read to name the other process in a lock message. */
export function pidFileOf(file: string): string {
  return `${file}.pid`;
}

function pidNote(file: string): string {
  try {
    const text = readFileSync(pidFileOf(file), 'utf8').trim();
    return /^\d{1,10}$/.test(text) ? ` (pid ${text})` : '';
  } catch {
    return '';
  }
}

/** A checkpoint runs once no commit came for this long... */
const CHECKPOINT_QUIET_MS = 25;
/** ...or, when commits never pause, right after the one that brings the WAL to this size. */
const CHECKPOINT_MAX_WAL_BYTES = 16 * 1024 * 1024;

interface Settled {
  readonly item: PendingWork;
  readonly ok: boolean;
  readonly value: unknown;
}

interface PendingWork {
  readonly work: () => unknown;
  readonly recover: ((error: unknown) => unknown) | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

export class LocalDatabase {
  readonly file: string;
  readonly durability: Durability;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  #pending: PendingWork[] = [];
  readonly #rollbackListeners: (() => void)[] = [];
  #flushScheduled = false;
  #inTransaction = false;
  #closed = false;
  #commits = 0;
  /** Something was committed since the last checkpoint. */
  #uncheckpointed = false;
  #checkpointTimer: NodeJS.Timeout | undefined;
  /** Our own descriptor of the WAL, for flushing it off the event loop before a checkpoint. */
  #walFd: number | undefined;
  #walSyncing = false;

  private constructor(file: string, durability: Durability, db: DatabaseSync) {
    this.file = file;
    this.durability = durability;
    this.#db = db;
  }

  /**
   * Opens (creating if needed) the database, takes the single-instance lock and brings the
   * schema up to date. Throws LocalDatabaseError naming the file and what to do; a file that is
   * not a database is never written to.
   */
  static open(options: OpenDatabaseOptions): LocalDatabase {
    const { file } = options;
    const durability = options.durability ?? 'normal';
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      if (!existsSync(file)) closeSync(openSync(file, 'wx', 0o600));
    } catch (error) {
      throw describeOpenError(error, file);
    }
    for (const path of [file, `${file}-wal`, `${file}-shm`]) {
      try {
        chmodSync(path, 0o600);
      } catch {
        // Not there (yet), or not ours to change: SQLite creates the WAL with the file's mode.
      }
    }
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(file);
      // Lock mode first, so the WAL index lives in this process's memory (no -shm file).
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      db.exec('PRAGMA busy_timeout = 0');
      const mode = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode?: string } | undefined;
      if (mode?.journal_mode !== 'wal') throw new Error(`journal mode ${String(mode?.journal_mode)} instead of wal`);
      db.exec(`PRAGMA synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
      // Checkpoints when writes pause instead (#committed).
      db.exec('PRAGMA wal_autocheckpoint = 0');
      if (options.maxBytes !== undefined) {
        const pageSize = (db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
        db.exec(`PRAGMA max_page_count = ${String(Math.max(1, Math.floor(options.maxBytes / pageSize)))}`);
      }
      // The schema migration writes (at least the start time), which takes the exclusive lock.
      migrate(db, file);
    } catch (error) {
      try {
        db?.close();
      } catch {
        // Closing a handle that never opened properly.
      }
      if (error instanceof LocalDatabaseError) throw error;
      throw describeOpenError(error, file);
    }
    try {
      writeFileSync(pidFileOf(file), `${String(process.pid)}\n`, { mode: 0o600 });
    } catch {
      // Only a hint for the lock message.
    }
    return new LocalDatabase(file, durability, db);
  }

  /** A cached prepared statement. */
  statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  run(sql: string, ...params: SQLInputValue[]): { changes: number | bigint; lastInsertRowid: number | bigint } {
    return this.statement(sql).run(...params);
  }

  // The caller names the row's shape; SQLite gives plain objects of the selected columns.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  get<T>(sql: string, ...params: SQLInputValue[]): T | undefined {
    return this.statement(sql).get(...params) as T | undefined;
  }

  all<T>(sql: string, ...params: SQLInputValue[]): T[] {
    return this.statement(sql).all(...params) as T[];
  }

  exec(sql: string): void {
    this.#db.exec(sql);
  }

  /**
   * Runs synchronous work in one transaction now (joining the current one if there is one).
   * Throws what the work or the commit threw, after rolling back.
   */
  transaction<T>(work: () => T): T {
    if (this.#inTransaction) return work();
    this.#db.exec('BEGIN IMMEDIATE');
    this.#inTransaction = true;
    let result: T;
    try {
      result = work();
      this.#db.exec('COMMIT');
      this.#commits += 1;
    } catch (error) {
      this.#rollbackQuietly();
      throw error;
    } finally {
      this.#inTransaction = false;
    }
    this.#committed();
    return result;
  }

  /**
   * Group commit: queues synchronous work; within one turn of the event loop every queued piece
   * runs in one transaction. The promise resolves with the work's result once the transaction is
   * committed, or rejects with the work's own error (its changes undone, the others kept) or with
   * the commit's error (nothing kept). When a piece throws, the transaction is undone and the
   * others run again, each in its own savepoint: a piece may run twice, so what it changes
   * outside the database must be undone by the rollback listeners (onRollback), as the caches
   * of records and silences are. The piece that threw is not run again.
   *
   * `recover`, when given, runs (in a fresh savepoint) after the work threw and its changes were
   * undone, with the work's error: what it returns is the result, what it throws the error. A
   * fallback costs nothing on the common path, unlike a savepoint of the work's own.
   */
  commit<T>(work: () => T, recover?: (error: unknown) => T): Promise<T> {
    if (this.#closed) return Promise.reject(new Error(`database ${this.file} is closed`));
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ work, recover, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => {
          this.#flush();
        });
      }
    });
  }

  /** Runs whatever commit() has queued now (close() and tests). */
  flush(): void {
    this.#flush();
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    let settled: Settled[] | undefined;
    try {
      this.statement('BEGIN IMMEDIATE').run();
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    this.#inTransaction = true;
    try {
      // First every piece as it is, no savepoints: a savepoint makes SQLite copy each page a
      // piece touches into its sub-journal (about a third of the database's time per ingest
      // request, measured). If a piece throws, the whole transaction is undone (the rollback
      // listeners drop what they cached) and the batch runs again, each piece in its own
      // savepoint, so a failing piece still undoes only itself.
      const plain = this.#runAll(batch);
      if (plain.failed === undefined) settled = plain.settled;
      else {
        const { failed } = plain;
        this.#rollbackQuietly();
        this.statement('BEGIN IMMEDIATE').run();
        settled = batch.map((item, index) => {
          const { recover } = item;
          // The piece that threw is not run again: its error stands (or its fallback runs).
          const first = index === failed.index ? { ok: false, value: failed.error } : this.#runInSavepoint(item.work);
          return first.ok || recover === undefined ? { item, ...first } : { item, ...this.#runInSavepoint(() => recover(first.value)) };
        });
      }
      this.statement('COMMIT').run();
      this.#commits += 1;
    } catch (error) {
      this.#rollbackQuietly();
      this.#inTransaction = false;
      for (const item of batch) item.reject(error);
      return;
    }
    this.#inTransaction = false;
    for (const { item, ok, value } of settled) {
      if (ok) item.resolve(value);
      else item.reject(value);
    }
    this.#committed();
  }

  /** After every commit, out of the transaction: a checkpoint now if the WAL is large, else once commits pause. */
  #committed(): void {
    this.#uncheckpointed = true;
    let walBytes = 0;
    try {
      walBytes = statSync(`${this.file}-wal`).size;
    } catch {
      // No WAL file to measure: the pause will checkpoint.
    }
    if (walBytes >= CHECKPOINT_MAX_WAL_BYTES) {
      this.#checkpointSoon();
      return;
    }
    if (this.#checkpointTimer === undefined) {
      this.#checkpointTimer = setTimeout(() => {
        this.#checkpointSoon();
      }, CHECKPOINT_QUIET_MS).unref();
    } else {
      this.#checkpointTimer.refresh();
    }
  }

  /**
   * A checkpoint once the WAL is on disk. Its first step is an fsync of the WAL, which with
   * synchronous=NORMAL holds every frame written since the last checkpoint (megabytes at 500 new
   * alerts/s) and held the event loop for tens of ms (12% of a profile at that rate, the p99).
   * Flushing the file first on libuv's thread pool (an extra fsync never weakens anything) leaves
   * the checkpoint's own fsync of it only the frames committed meanwhile.
   */
  #checkpointSoon(): void {
    if (this.#walSyncing || this.#closed) return;
    this.#cancelCheckpointTimer();
    try {
      this.#walFd ??= openSync(`${this.file}-wal`, 'r');
    } catch {
      // No WAL to flush ahead: the checkpoint does it all.
      this.checkpoint();
      return;
    }
    this.#walSyncing = true;
    fsync(this.#walFd, () => {
      // A failed flush changes nothing: the checkpoint flushes again, and reports its own errors.
      this.#walSyncing = false;
      this.checkpoint();
    });
  }

  #cancelCheckpointTimer(): void {
    if (this.#checkpointTimer !== undefined) clearTimeout(this.#checkpointTimer);
    this.#checkpointTimer = undefined;
  }

  /**
   * Copies the WAL into the database file and truncates it (PRAGMA wal_checkpoint(TRUNCATE)), if
   * anything was committed since the last one. A failed checkpoint (a full disk) loses nothing:
   * the WAL stays and the next one tries again.
   */
  checkpoint(): void {
    this.#cancelCheckpointTimer();
    if (!this.#uncheckpointed || this.#closed || this.#inTransaction) return;
    try {
      this.#db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      this.#uncheckpointed = false;
    } catch {
      // Housekeeping: tried again after the next commit.
    }
  }

  /** Runs the pieces in the open transaction, up to the first that throws. */
  #runAll(batch: readonly PendingWork[]): { settled: Settled[]; failed?: { index: number; error: unknown } } {
    const settled: Settled[] = [];
    for (const [index, item] of batch.entries()) {
      try {
        settled.push({ item, ok: true, value: item.work() });
      } catch (error) {
        return { settled, failed: { index, error } };
      }
    }
    return { settled };
  }

  /**
   * Runs one piece of work in its own savepoint; its error undoes only its changes. Throws (failing
   * the whole transaction) when SQLite rolled the whole transaction back itself (a full disk, an
   * I/O error): then the savepoint is gone, and so is everything before it.
   */
  #runInSavepoint(work: () => unknown): { ok: boolean; value: unknown } {
    this.statement('SAVEPOINT work').run();
    try {
      const value = work();
      this.statement('RELEASE work').run();
      return { ok: true, value };
    } catch (error) {
      try {
        this.#db.exec('ROLLBACK TO work');
        this.statement('RELEASE work').run();
      } catch {
        throw error;
      }
      this.#rolledBack();
      return { ok: false, value: error };
    }
  }

  #rollbackQuietly(): void {
    try {
      this.#db.exec('ROLLBACK');
    } catch {
      // Already rolled back by SQLite.
    }
    this.#rolledBack();
  }

  /** Told whenever changes are undone, so caches of what was written can be dropped. */
  onRollback(listener: () => void): void {
    this.#rollbackListeners.push(listener);
  }

  #rolledBack(): void {
    for (const listener of this.#rollbackListeners) listener();
  }

  /** Rows inserted, updated or deleted since the database was opened (write amplification). */
  rowWrites(): number {
    return (this.#db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
  }

  /** Transactions committed since the database was opened. */
  get commits(): number {
    return this.#commits;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Commits what is queued, then closes (releasing the lock). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#flush();
    this.#cancelCheckpointTimer();
    this.#closed = true;
    this.#statements.clear();
    if (this.#walFd !== undefined) {
      try {
        closeSync(this.#walFd);
      } catch {
        // Only our extra descriptor.
      }
      this.#walFd = undefined;
    }
    try {
      this.#db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } catch {
      // A checkpoint is housekeeping; the WAL is replayed at the next open anyway.
    }
    this.#db.close();
  }
}
