// Each incident's history in the local database: what arrived (and the raw request it came in),
// what dedup decided and why, and every delivery attempt with its outcome. It is what
// `/v1/incidents/{fingerprint}` and `tocsin history` show. Old entries are pruned by age.
import type { Hold } from '../dedup/record.ts';
import { blob, type LocalDatabase } from './database.ts';

export type HistoryEntry =
  | {
      readonly kind: 'received';
      readonly at: string;
      /** The request path, e.g. /v1/ingest/alertmanager. */
      readonly path: string;
      readonly status: string;
      readonly payloadId: number;
      readonly bytes: number;
    }
  | {
      readonly kind: 'decision';
      readonly at: string;
      /** opened, resolved, renotified, flapping, or suppressed. */
      readonly action: string;
      readonly reason?: string | undefined;
      readonly transitionId?: string | undefined;
      /** The channels told (none when suppressed or when no route matched). */
      readonly channels?: readonly string[] | undefined;
      /** Those of them that tell it in their group's next digest (routes with groupBy). */
      readonly grouped?: readonly string[] | undefined;
      /** The silence or maintenance window that held it. */
      readonly held?: Hold | undefined;
      /** Taken by the scheduler (a reminder, the end of a hold, auto-resolve), not on news from the source. */
      readonly trigger?: 'timer' | undefined;
    }
  | {
      readonly kind: 'ack';
      readonly at: string;
      readonly acknowledged: boolean;
      readonly by?: string | undefined;
    }
  | {
      readonly kind: 'delivery';
      readonly at: string;
      readonly channel: string;
      readonly event: string;
      readonly attempt: number;
      readonly outcome: 'delivered' | 'already-delivered' | 'superseded' | 'retry' | 'dead-letter' | 'interrupted' | 'rate-limited' | 'capped';
      readonly reason?: string | undefined;
      readonly deliveryId: string;
      readonly nextAttemptAt?: string | undefined;
      /** The digest that told it (`<group id>#<sequence>`), when its route groups. */
      readonly digest?: string | undefined;
    };

export interface StoredPayload {
  readonly id: number;
  readonly receivedAt: string;
  readonly path: string;
  readonly contentType?: string | undefined;
  readonly body: Uint8Array;
}

type EntryDetail<E extends HistoryEntry> = Omit<E, 'kind' | 'at'>;
export type ReceivedDetail = EntryDetail<Extract<HistoryEntry, { kind: 'received' }>>;
export type DecisionDetail = EntryDetail<Extract<HistoryEntry, { kind: 'decision' }>>;

/**
 * An incident received and decided in the same transaction is stored as one row: the
 * "received" entry's detail carries the decision (with its own time) under this key, and
 * reading gives back the two entries. Half the history rows written on the ingest path.
 */
const DECIDED = 'decided';

export class History {
  readonly #db: LocalDatabase;

  constructor(database: LocalDatabase) {
    this.#db = database;
  }

  /** Keeps a request's raw bytes; returns its id. */
  savePayload(receivedAt: string, path: string, contentType: string | undefined, body: Uint8Array): number {
    const { lastInsertRowid } = this.#db.run(
      'INSERT INTO payloads (received_at, path, content_type, body) VALUES (?, ?, ?, ?)',
      receivedAt,
      path,
      contentType ?? null,
      blob(body),
    );
    return Number(lastInsertRowid);
  }

  payload(id: number): StoredPayload | undefined {
    const row = this.#db.get<{ id: number; received_at: string; path: string; content_type: string | null; body: Uint8Array }>(
      'SELECT id, received_at, path, content_type, body FROM payloads WHERE id = ?',
      id,
    );
    return row && { id: row.id, receivedAt: row.received_at, path: row.path, contentType: row.content_type ?? undefined, body: row.body };
  }

  add<E extends HistoryEntry>(fingerprint: string, kind: E['kind'], at: string, detail: EntryDetail<E>): void {
    this.#db.run('INSERT INTO history (fingerprint, at, kind, detail) VALUES (?, ?, ?, ?)', fingerprint, at, kind, JSON.stringify(detail));
  }

  /** The "received" and "decision" entries of one incident, decided as it was accepted: one row. */
  addReceivedAndDecided(fingerprint: string, receivedAt: string, received: ReceivedDetail, decidedAt: string, decision: DecisionDetail): void {
    this.#db.run(
      'INSERT INTO history (fingerprint, at, kind, detail) VALUES (?, ?, ?, ?)',
      fingerprint,
      receivedAt,
      'received',
      JSON.stringify({ ...received, [DECIDED]: { at: decidedAt, ...decision } }),
    );
  }

  /** A fingerprint's entries, oldest first (the newest `limit` of them). */
  of(fingerprint: string, limit = 500): HistoryEntry[] {
    // A row may hold two entries: `limit` rows hold at least `limit` entries.
    const rows = this.#db.all<{ at: string; kind: HistoryEntry['kind']; detail: string }>(
      'SELECT at, kind, detail FROM (SELECT id, at, kind, detail FROM history WHERE fingerprint = ? ORDER BY id DESC LIMIT ?) ORDER BY id',
      fingerprint,
      limit,
    );
    const entries: HistoryEntry[] = [];
    for (const row of rows) {
      const detail = JSON.parse(row.detail) as Record<string, unknown>;
      const decided = row.kind === 'received' ? detail[DECIDED] : undefined;
      if (decided === undefined) {
        entries.push({ kind: row.kind, at: row.at, ...detail } as HistoryEntry);
        continue;
      }
      const { [DECIDED]: _decided, ...received } = detail;
      entries.push({ kind: 'received', at: row.at, ...received } as HistoryEntry, { kind: 'decision', ...(decided as object) } as HistoryEntry);
    }
    return entries.length > limit ? entries.slice(entries.length - limit) : entries;
  }

  /** The newest delivery entries of a fingerprint, oldest first. */
  deliveries(fingerprint: string, limit: number): Extract<HistoryEntry, { kind: 'delivery' }>[] {
    const rows = this.#db.all<{ at: string; detail: string }>(
      "SELECT at, detail FROM (SELECT id, at, detail FROM history WHERE fingerprint = ? AND kind = 'delivery' ORDER BY id DESC LIMIT ?) ORDER BY id",
      fingerprint,
      limit,
    );
    return rows.map((row) => ({ kind: 'delivery', at: row.at, ...(JSON.parse(row.detail) as EntryDetail<Extract<HistoryEntry, { kind: 'delivery' }>>) }));
  }

  /** Deletes entries and payloads received before `beforeIso`; returns how many rows went. */
  prune(beforeIso: string): number {
    const entries = Number(this.#db.run('DELETE FROM history WHERE at < ?', beforeIso).changes);
    const payloads = Number(this.#db.run('DELETE FROM payloads WHERE received_at < ?', beforeIso).changes);
    return entries + payloads;
  }
}
