// The local database's tables, created and upgraded in order by `PRAGMA user_version`. A
// database written by a newer Tocsin (a higher version) is refused rather than guessed at.
//
// records         one per fingerprint: the dedup record (IncidentRecord as JSON) and the columns
//                 the pages and the TTL sweep read
// markers         delivery markers of schema 1 (no longer read)
// delivery_cursors per fingerprint × channel, the last transition told (schema 2)
// incident_queue  accepted incidents not yet dispatched (dedup + routing), in arrival order per
//                 fingerprint (a retrying one holds back the later ones of its fingerprint)
// delivery_queue  delivery jobs: ready (due now or later, with their attempt) or dead (given
//                 up, with the reason); jobs of one fingerprint and channel run in queue order
// payloads        raw bytes of accepted requests (what the history's "received" points at)
// rejected        raw bytes of refused requests, with the reason, until replayed
// history         per fingerprint: received → decision → each delivery attempt
// meta            key/value: when the database was created, last started, imports done
// message_refs    per incident × channel: the message a channel posted (Slack's channel and ts),
//                 so a resolve can edit it in place; with an expiry, swept like markers
// silences        one per silence (JSON), by end time (active ones are those not yet ended)
// record_timers   one per firing record that the scheduler must look at: when (dueAtOf in
//                 shared/dedup/record.ts) and the silence holding it, if any
// rate_limits     per channel target (rate#…) or SMS channel (cap#…): rate state as JSON
// digest_groups   per group × channel (shared/grouping): digests made so far, when the last
//                 went out, and when the pending notices are due (the group timer)
// digest_pending  notices waiting in a group for its next digest, in arrival order
import type { DatabaseSync } from 'node:sqlite';
import { LocalDatabaseError } from './database-error.ts';

const MIGRATIONS: readonly string[] = [
  // 1
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE records (
    fingerprint TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    expires_at INTEGER,
    record TEXT NOT NULL
  );
  CREATE INDEX records_last_seen ON records (last_seen);
  CREATE INDEX records_expires_at ON records (expires_at) WHERE expires_at IS NOT NULL;
  CREATE TABLE markers (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE incident_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 1,
    due_at INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'ready',
    reason TEXT
  );
  CREATE INDEX incident_queue_due ON incident_queue (state, due_at, id);
  CREATE TABLE delivery_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    channel TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 1,
    due_at INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'ready',
    reason TEXT,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX delivery_queue_due ON delivery_queue (state, due_at, id);
  CREATE INDEX delivery_queue_order ON delivery_queue (order_key, id) WHERE state = 'ready';
  CREATE TABLE payloads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    path TEXT NOT NULL,
    content_type TEXT,
    body BLOB NOT NULL
  );
  CREATE INDEX payloads_received_at ON payloads (received_at);
  CREATE TABLE rejected (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL,
    rejections TEXT,
    content_type TEXT,
    truncated INTEGER NOT NULL,
    body BLOB NOT NULL
  );
  CREATE TABLE history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL
  );
  CREATE INDEX history_fingerprint ON history (fingerprint, id);
  CREATE INDEX history_at ON history (at);
  `,
  // 2: message refs (shared/message-refs/sqlite.ts): the message a channel posted per incident
  // and channel (Slack's channel and ts), so a resolve can edit it in place.
  `
  CREATE TABLE IF NOT EXISTS message_refs (key TEXT PRIMARY KEY, ref TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS message_refs_expires_at ON message_refs (expires_at);
  `,
  // 3: delivery cursors (shared/delivery/claims-sqlite.ts) replace the per-transition markers:
  // per incident and channel, the last transition told. `markers` stays for older databases.
  `
  CREATE TABLE delivery_cursors (
    line TEXT PRIMARY KEY,
    told TEXT NOT NULL,
    told_transition TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX delivery_cursors_expires_at ON delivery_cursors (expires_at);
  `,
  // 4: silences and the scheduler's timers (issue 15; new tables only).
  `
  CREATE TABLE silences (
    id TEXT PRIMARY KEY,
    ends_at INTEGER NOT NULL,
    silence TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX silences_ends_at ON silences (ends_at);
  CREATE TABLE record_timers (
    fingerprint TEXT PRIMARY KEY,
    due_at INTEGER NOT NULL,
    held_by TEXT
  ) WITHOUT ROWID;
  CREATE INDEX record_timers_due ON record_timers (due_at);
  CREATE INDEX record_timers_held_by ON record_timers (held_by) WHERE held_by IS NOT NULL;
  -- Firing records from before: the scheduler looks at each once at the first start and sets
  -- its timers (a reminder already due is sent then).
  INSERT INTO record_timers (fingerprint, due_at) SELECT fingerprint, 0 FROM records WHERE status = 'firing';
  `,
  // 5: one line per fingerprint on the incidents queue, as on the deliveries queue: an incident
  // waiting out a dispatch retry holds back the later incidents of its fingerprint.
  `
  CREATE INDEX IF NOT EXISTS incident_queue_line ON incident_queue (fingerprint, id) WHERE state = 'ready';
  `,
  // 6: rate limits (shared/delivery/rate-limit-sqlite.ts): per channel target, the next free
  // slot and any block a destination asked for; per SMS channel, the day's count.
  `
  CREATE TABLE rate_limits (key TEXT PRIMARY KEY, state TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE INDEX rate_limits_expires_at ON rate_limits (expires_at);
  `,
  // 7: grouping into digests (issue 16; new tables only): the group timers and their pending notices.
  `
  CREATE TABLE digest_groups (
    line TEXT PRIMARY KEY,
    group_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    labels TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    due_at INTEGER,
    last_flush_at INTEGER,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX digest_groups_due ON digest_groups (due_at) WHERE due_at IS NOT NULL;
  CREATE INDEX digest_groups_expires_at ON digest_groups (expires_at);
  CREATE TABLE digest_pending (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    line TEXT NOT NULL,
    item TEXT NOT NULL
  );
  CREATE INDEX digest_pending_line ON digest_pending (line, id);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the schema to SCHEMA_VERSION and records the start; throws for a newer database. */
export function migrate(db: DatabaseSync, file: string): void {
  const { user_version: version } = db.prepare('PRAGMA user_version').get() as { user_version: number };
  if (version > SCHEMA_VERSION) {
    throw new LocalDatabaseError(
      'newer-schema',
      file,
      `${file} was written by a newer Tocsin (schema ${String(version)}, this one knows ${String(SCHEMA_VERSION)}); it was left untouched`,
    );
  }
  db.exec('BEGIN IMMEDIATE');
  try {
    for (let next = version; next < SCHEMA_VERSION; next += 1) db.exec(MIGRATIONS[next] ?? '');
    db.exec(`PRAGMA user_version = ${String(SCHEMA_VERSION)}`);
    const now = new Date().toISOString();
    db.prepare("INSERT INTO meta (key, value) VALUES ('created_at', ?) ON CONFLICT (key) DO NOTHING").run(now);
    db.prepare("INSERT INTO meta (key, value) VALUES ('started_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(now);
    db.exec('COMMIT');
  } catch (error) {
    try {
      db.exec('ROLLBACK');
    } catch {
      // Already rolled back.
    }
    throw error;
  }
}
