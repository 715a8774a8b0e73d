// Groups on the local SQLite database (tables digest_groups and digest_pending, schema 5). Every
// method is synchronous and joins the caller's transaction: dispatch adds a notice in the same
// savepoint that records the dedup decision, and the scheduler flushes a group and queues its
// digest jobs in one transaction, so a digest is made once and a crash in between loses nothing.
import { epochSeconds } from '../dedup/record.ts';
import type { LocalDatabase } from '../local/database.ts';
import { dueAfterAdding, flushGroup, type DigestItem, type GroupAssignment, type GroupLabel, type GroupState } from './group.ts';
import { groupLineId, type DigestGroups, type DigestToSend, type GroupLineKey } from './port.ts';

/** An idle group's row is kept this long after its last digest (its sequence only matters while it is live). */
const IDLE_GROUP_TTL_SECONDS = 86_400;

interface GroupRow {
  group_id: string;
  channel: string;
  labels: string;
  sequence: number;
  due_at: number | null;
  last_flush_at: number | null;
}

export class SqliteDigestGroups implements DigestGroups {
  readonly #db: LocalDatabase;

  constructor(database: LocalDatabase) {
    this.#db = database;
  }

  add(assignment: GroupAssignment, channel: string, item: DigestItem, nowMs: number): GroupState {
    const line = groupLineId({ groupId: assignment.groupId, channel });
    const state = stateOf(this.#row(line));
    const dueAtMs = dueAfterAdding(state, nowMs, assignment);
    const expiresAt = Math.ceil(Math.max(dueAtMs, nowMs) / 1000) + Math.ceil(assignment.intervalMs / 1000) + IDLE_GROUP_TTL_SECONDS;
    this.#db.run(
      `INSERT INTO digest_groups (line, group_id, channel, labels, sequence, due_at, last_flush_at, expires_at) VALUES (?, ?, ?, ?, 0, ?, NULL, ?)
       ON CONFLICT (line) DO UPDATE SET due_at = excluded.due_at, labels = excluded.labels, expires_at = max(expires_at, excluded.expires_at)`,
      line,
      assignment.groupId,
      channel,
      JSON.stringify(assignment.groupLabels),
      dueAtMs,
      expiresAt,
    );
    this.#db.run('INSERT INTO digest_pending (line, item) VALUES (?, ?)', line, JSON.stringify(item));
    return { ...state, sequence: state?.sequence ?? 0, dueAtMs };
  }

  due(nowMs: number, limit: number): GroupLineKey[] {
    return this.#db
      .all<{ group_id: string; channel: string }>('SELECT group_id, channel FROM digest_groups WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?', nowMs, limit)
      .map((row) => ({ groupId: row.group_id, channel: row.channel }));
  }

  flush(key: GroupLineKey, nowMs: number): DigestToSend[] {
    const line = groupLineId(key);
    const row = this.#row(line);
    if (row === undefined) return [];
    const pending = this.#db.all<{ item: string }>('SELECT item FROM digest_pending WHERE line = ? ORDER BY id', line).map((entry) => JSON.parse(entry.item) as DigestItem);
    const groupLabels = JSON.parse(row.labels) as GroupLabel[];
    const { digests, next } = flushGroup(stateOf(row), { groupId: key.groupId, groupLabels }, pending, nowMs);
    this.#db.run('DELETE FROM digest_pending WHERE line = ?', line);
    this.#db.run(
      'UPDATE digest_groups SET sequence = ?, due_at = NULL, last_flush_at = ?, expires_at = ? WHERE line = ?',
      next.sequence,
      next.lastFlushAtMs ?? null,
      epochSeconds(new Date(nowMs)) + IDLE_GROUP_TTL_SECONDS,
      line,
    );
    return digests.map((digest) => ({ ...digest, channel: key.channel }));
  }

  nextDueAtMs(): number | undefined {
    return this.#db.get<{ due_at: number | null }>('SELECT min(due_at) AS due_at FROM digest_groups WHERE due_at IS NOT NULL')?.due_at ?? undefined;
  }

  pendingCount(): number {
    return this.#db.get<{ count: number }>('SELECT count(*) AS count FROM digest_pending')?.count ?? 0;
  }

  /** Deletes idle groups past their TTL (never one with pending notices); returns how many. */
  sweep(now: Date): number {
    return Number(this.#db.run('DELETE FROM digest_groups WHERE due_at IS NULL AND expires_at <= ?', epochSeconds(now)).changes);
  }

  #row(line: string): GroupRow | undefined {
    return this.#db.get<GroupRow>('SELECT group_id, channel, labels, sequence, due_at, last_flush_at FROM digest_groups WHERE line = ?', line);
  }
}

function stateOf(row: GroupRow | undefined): GroupState | undefined {
  if (row === undefined) return undefined;
  return { sequence: row.sequence, dueAtMs: row.due_at ?? undefined, lastFlushAtMs: row.last_flush_at ?? undefined };
}
