// Rejected requests in the local database: the raw bytes a sender posted and why they were
// refused, kept until they are replayed (after a config or code fix) or purged. They replace
// the old spool folder, whose files are imported once.
import type { SourceRejection } from '../errors.ts';
import { blob, type LocalDatabase } from './database.ts';

export interface RejectedMeta {
  readonly receivedAt: string;
  /** The request path, so a replay goes to the same endpoint. */
  readonly path: string;
  readonly status: number;
  readonly reason: string;
  readonly message: string;
  readonly rejections?: readonly SourceRejection[] | undefined;
  readonly contentType?: string | undefined;
  /** The body was over the size limit: only its first part was kept. */
  readonly truncated: boolean;
}

export interface RejectedEntry extends RejectedMeta {
  readonly id: number;
  readonly bytes: number;
}

interface Row {
  id: number;
  received_at: string;
  path: string;
  status: number;
  reason: string;
  message: string;
  rejections: string | null;
  content_type: string | null;
  truncated: number;
  bytes: number;
}

const COLUMNS = 'id, received_at, path, status, reason, message, rejections, content_type, truncated, length(body) AS bytes';

function entryOf(row: Row): RejectedEntry {
  return {
    id: row.id,
    receivedAt: row.received_at,
    path: row.path,
    status: row.status,
    reason: row.reason,
    message: row.message,
    rejections: row.rejections === null ? undefined : (JSON.parse(row.rejections) as SourceRejection[]),
    contentType: row.content_type ?? undefined,
    truncated: row.truncated === 1,
    bytes: row.bytes,
  };
}

export class RejectedPayloads {
  readonly #db: LocalDatabase;

  constructor(database: LocalDatabase) {
    this.#db = database;
  }

  add(meta: RejectedMeta, body: Uint8Array): RejectedEntry {
    const { lastInsertRowid } = this.#db.run(
      'INSERT INTO rejected (received_at, path, status, reason, message, rejections, content_type, truncated, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      meta.receivedAt,
      meta.path,
      meta.status,
      meta.reason,
      meta.message,
      meta.rejections === undefined ? null : JSON.stringify(meta.rejections),
      meta.contentType ?? null,
      meta.truncated ? 1 : 0,
      blob(body),
    );
    return { ...meta, id: Number(lastInsertRowid), bytes: body.byteLength };
  }

  /** The newest first. */
  list(limit: number): RejectedEntry[] {
    return this.#db.all<Row>(`SELECT ${COLUMNS} FROM rejected ORDER BY id DESC LIMIT ?`, limit).map(entryOf);
  }

  /** Oldest first: the order a replay sends them in. */
  ids(): number[] {
    return this.#db.all<{ id: number }>('SELECT id FROM rejected ORDER BY id').map((row) => row.id);
  }

  get(id: number): (RejectedEntry & { readonly body: Uint8Array }) | undefined {
    const row = this.#db.get<Row & { body: Uint8Array }>(`SELECT ${COLUMNS}, body FROM rejected WHERE id = ?`, id);
    return row && { ...entryOf(row), body: row.body };
  }

  remove(id: number): boolean {
    return Number(this.#db.run('DELETE FROM rejected WHERE id = ?', id).changes) === 1;
  }

  /** A replay was refused again: keep the entry with the new reason. */
  update(id: number, status: number, reason: string, message: string): void {
    this.#db.run('UPDATE rejected SET status = ?, reason = ?, message = ? WHERE id = ?', status, reason, message, id);
  }

  count(): number {
    return this.#db.get<{ n: number }>('SELECT count(*) AS n FROM rejected')?.n ?? 0;
  }
}
