// The local pipeline's two queues as tables of the local database. Every method is synchronous
// and joins the caller's transaction, so "take an incident off the incidents queue, record the
// dedup decision and queue its delivery jobs" is one atomic write, and so is "record a delivery
// outcome and take the job off (or reschedule it)".
//
// Deliveries of one fingerprint to one channel go out in the order they were queued: a job is
// only taken while it is the oldest ready job of its (fingerprint, channel), so a resolve never
// overtakes its own firing, even while the firing waits out a retry delay. A dead-lettered job
// no longer holds the line.
import { jobFingerprint, jobTitle, type DeliveryJob } from '../delivery/job.ts';
import type { Incident } from '../incident.ts';
import type { LocalDatabase } from './database.ts';

export interface QueuedIncidentRow {
  readonly id: number;
  readonly incident: Incident;
  readonly receivedAtMs: number;
  readonly attempt: number;
}

export interface QueuedDeliveryRow {
  readonly id: number;
  readonly job: DeliveryJob;
  readonly receivedAtMs: number;
  readonly attempt: number;
  readonly dueAtMs: number;
}

export interface DeadLetterRow {
  readonly id: number;
  readonly queue: 'incidents' | 'deliveries';
  readonly fingerprint: string;
  readonly channel?: string | undefined;
  readonly event?: string | undefined;
  readonly title: string;
  readonly attempt: number;
  readonly reason: string;
  readonly at: string;
  /** The delivery job as last tried (deliveries), or the incident (incidents). */
  readonly job?: DeliveryJob | undefined;
  readonly incident?: Incident | undefined;
}

export interface QueueDepths {
  /** Accepted, not yet dispatched. */
  readonly incidents: number;
  /** Delivery jobs due now (or being sent). */
  readonly deliveriesReady: number;
  /** Delivery jobs waiting out a retry delay. */
  readonly deliveriesDelayed: number;
  readonly deadLetters: number;
  /** When the next delayed delivery is due (epoch ms). */
  readonly nextDueAtMs?: number | undefined;
}

/** The key that orders jobs: one line per fingerprint and channel. */
export function deliveryOrderKey(job: Pick<DeliveryJob, 'incident' | 'channel' | 'digest'>): string {
  return `${jobFingerprint(job)}\n${job.channel}`;
}

/**
 * A LIMIT written into the SQL as a literal, rounded up to a power of two (the caller keeps the
 * rows it wants). SQLite re-prepares a statement whose `LIMIT ?` is bound afresh on every run
 * (the planner looks at the bound value), about 30–40 µs each time here, against 2–3 µs for the
 * same query with a literal; rounding keeps the statement cache to a handful of entries.
 */
function limitLiteral(limit: number): string {
  return String(2 ** Math.ceil(Math.log2(Math.max(1, Math.floor(limit)))));
}

export class LocalQueues {
  readonly #db: LocalDatabase;

  constructor(database: LocalDatabase) {
    this.#db = database;
  }

  enqueueIncidents(incidents: readonly Incident[], receivedAtMs: number): void {
    for (const incident of incidents) {
      this.#db.run(
        'INSERT INTO incident_queue (fingerprint, body, received_at, due_at) VALUES (?, ?, ?, ?)',
        incident.fingerprint,
        JSON.stringify(incident),
        receivedAtMs,
        receivedAtMs,
      );
    }
  }

  /**
   * The ready incidents due by `nowMs` that are the oldest ready incident of their fingerprint,
   * soonest due first (arrival order for all but retries): an incident waiting out a dispatch
   * retry is never overtaken by a later one of its fingerprint (its resolve would be decided
   * first, and the firing then dropped as stale). Ordered as the (state, due_at, id) index is,
   * so a backlog is never sorted on every take.
   */
  takeIncidents(nowMs: number, limit: number): QueuedIncidentRow[] {
    return this.#db
      .all<{ id: number; body: string; received_at: number; attempt: number }>(
        `SELECT id, body, received_at, attempt FROM incident_queue AS queued
         WHERE state = 'ready' AND due_at <= ?
           AND NOT EXISTS (SELECT 1 FROM incident_queue AS earlier WHERE earlier.fingerprint = queued.fingerprint AND earlier.state = 'ready' AND earlier.id < queued.id)
         ORDER BY due_at, id LIMIT ${limitLiteral(limit)}`,
        nowMs,
      )
      .slice(0, limit)
      .map((row) => ({ id: row.id, incident: JSON.parse(row.body) as Incident, receivedAtMs: row.received_at, attempt: row.attempt }));
  }

  /** Anything on the incidents queue not yet dispatched (due now or waiting out a retry). */
  hasPendingIncidents(): boolean {
    return this.#db.get("SELECT 1 AS pending FROM incident_queue WHERE state = 'ready' LIMIT 1") !== undefined;
  }

  removeIncident(id: number): void {
    this.#db.run('DELETE FROM incident_queue WHERE id = ?', id);
  }

  retryIncident(id: number, dueAtMs: number, reason: string): void {
    this.#db.run('UPDATE incident_queue SET attempt = attempt + 1, due_at = ?, reason = ? WHERE id = ?', dueAtMs, reason, id);
  }

  deadLetterIncident(id: number, reason: string, nowMs: number): void {
    this.#db.run("UPDATE incident_queue SET state = 'dead', reason = ?, due_at = ? WHERE id = ?", reason, nowMs, id);
  }

  enqueueDeliveries(jobs: readonly DeliveryJob[], receivedAtMs: number, nowMs: number): void {
    for (const job of jobs) {
      this.#db.run(
        'INSERT INTO delivery_queue (order_key, fingerprint, channel, body, received_at, attempt, due_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        deliveryOrderKey(job),
        jobFingerprint(job),
        job.channel,
        JSON.stringify({ ...job, attempt: 1 }),
        receivedAtMs,
        job.attempt,
        nowMs,
        nowMs,
      );
    }
  }

  /**
   * Ready jobs due by `nowMs` that are the oldest ready job of their fingerprint and channel,
   * soonest due first, skipping `busy` ids (being sent). The lines are found on ids alone and only
   * the jobs taken are read: the busy ones come first in that order, and the pump looks after
   * every batch of finished sends.
   */
  takeDeliveries(nowMs: number, limit: number, busy: ReadonlySet<number>): QueuedDeliveryRow[] {
    if (limit <= 0) return [];
    const heads = this.#db.all<{ id: number }>(
      `SELECT q.id FROM delivery_queue q
       WHERE q.state = 'ready' AND q.due_at <= ?
         AND q.id = (SELECT min(p.id) FROM delivery_queue p WHERE p.order_key = q.order_key AND p.state = 'ready')
       ORDER BY q.due_at, q.id LIMIT ${limitLiteral(limit + busy.size)}`,
      nowMs,
    );
    const taken: QueuedDeliveryRow[] = [];
    for (const { id } of heads) {
      if (busy.has(id)) continue;
      const row = this.#db.get<{ body: string; received_at: number; attempt: number; due_at: number }>(
        'SELECT body, received_at, attempt, due_at FROM delivery_queue WHERE id = ?',
        id,
      );
      if (row === undefined) continue;
      const job = JSON.parse(row.body) as DeliveryJob;
      taken.push({ id, job: { ...job, attempt: row.attempt }, receivedAtMs: row.received_at, attempt: row.attempt, dueAtMs: row.due_at });
      if (taken.length === limit) break;
    }
    return taken;
  }

  removeDelivery(id: number): void {
    this.#db.run('DELETE FROM delivery_queue WHERE id = ?', id);
  }

  retryDelivery(id: number, dueAtMs: number, reason: string, nowMs: number): void {
    this.#db.run('UPDATE delivery_queue SET attempt = attempt + 1, due_at = ?, reason = ?, updated_at = ? WHERE id = ?', dueAtMs, reason, nowMs, id);
  }

  /** Looks at the job again at `dueAtMs` without counting an attempt (its line was busy). */
  postponeDelivery(id: number, dueAtMs: number, nowMs: number): void {
    this.#db.run('UPDATE delivery_queue SET due_at = ?, updated_at = ? WHERE id = ?', dueAtMs, nowMs, id);
  }

  /**
   * Looks at the job again at `dueAtMs` without counting an attempt (it waits for its rate-limit
   * slot), keeping what the job now holds (the slot, the "too many requests" answers so far).
   */
  deferDelivery(id: number, job: DeliveryJob, dueAtMs: number, reason: string, nowMs: number): void {
    this.#db.run('UPDATE delivery_queue SET body = ?, due_at = ?, reason = ?, updated_at = ? WHERE id = ?', JSON.stringify({ ...job, attempt: 1 }), dueAtMs, reason, nowMs, id);
  }

  deadLetterDelivery(id: number, reason: string, nowMs: number): void {
    this.#db.run("UPDATE delivery_queue SET state = 'dead', reason = ?, updated_at = ? WHERE id = ?", reason, nowMs, id);
  }

  /** Puts dead-lettered deliveries back on the queue, due now, attempts counted afresh; returns how many. */
  redriveDeliveries(nowMs: number, ids?: readonly number[]): number {
    if (ids === undefined) {
      return Number(
        this.#db.run("UPDATE delivery_queue SET state = 'ready', attempt = 1, due_at = ?, reason = NULL, updated_at = ? WHERE state = 'dead'", nowMs, nowMs).changes,
      );
    }
    let moved = 0;
    for (const id of ids) {
      moved += Number(
        this.#db.run(
          "UPDATE delivery_queue SET state = 'ready', attempt = 1, due_at = ?, reason = NULL, updated_at = ? WHERE id = ? AND state = 'dead'",
          nowMs,
          nowMs,
          id,
        ).changes,
      );
    }
    return moved;
  }

  /** Puts dead-lettered incidents back on the incidents queue; returns how many. */
  redriveIncidents(nowMs: number): number {
    return Number(this.#db.run("UPDATE incident_queue SET state = 'ready', attempt = 1, due_at = ?, reason = NULL WHERE state = 'dead'", nowMs).changes);
  }

  deadLetters(limit: number): DeadLetterRow[] {
    const deliveries = this.#db
      .all<{ id: number; body: string; attempt: number; reason: string | null; updated_at: number }>(
        "SELECT id, body, attempt, reason, updated_at FROM delivery_queue WHERE state = 'dead' ORDER BY id DESC LIMIT ?",
        limit,
      )
      .map((row): DeadLetterRow => {
        const job = JSON.parse(row.body) as DeliveryJob;
        return {
          id: row.id,
          queue: 'deliveries',
          fingerprint: jobFingerprint(job),
          channel: job.channel,
          event: job.digest === undefined ? job.event : 'digest',
          title: jobTitle(job),
          attempt: row.attempt,
          reason: row.reason ?? '',
          at: new Date(row.updated_at).toISOString(),
          job: { ...job, attempt: row.attempt },
        };
      });
    const incidents = this.#db
      .all<{ id: number; body: string; attempt: number; reason: string | null; due_at: number }>(
        "SELECT id, body, attempt, reason, due_at FROM incident_queue WHERE state = 'dead' ORDER BY id DESC LIMIT ?",
        limit,
      )
      .map((row): DeadLetterRow => {
        const incident = JSON.parse(row.body) as Incident;
        return {
          id: row.id,
          queue: 'incidents',
          fingerprint: incident.fingerprint,
          title: incident.title,
          attempt: row.attempt,
          reason: row.reason ?? '',
          at: new Date(row.due_at).toISOString(),
          incident,
        };
      });
    return [...deliveries, ...incidents];
  }

  depths(nowMs: number): QueueDepths {
    const incidents = this.#db.get<{ n: number }>("SELECT count(*) AS n FROM incident_queue WHERE state = 'ready'")?.n ?? 0;
    const deliveries = this.#db.get<{ ready: number | null; delayed: number | null; next: number | null }>(
      "SELECT sum(due_at <= ?) AS ready, sum(due_at > ?) AS delayed, min(CASE WHEN due_at > ? THEN due_at END) AS next FROM delivery_queue WHERE state = 'ready'",
      nowMs,
      nowMs,
      nowMs,
    );
    const dead =
      (this.#db.get<{ n: number }>("SELECT count(*) AS n FROM delivery_queue WHERE state = 'dead'")?.n ?? 0) +
      (this.#db.get<{ n: number }>("SELECT count(*) AS n FROM incident_queue WHERE state = 'dead'")?.n ?? 0);
    return {
      incidents,
      deliveriesReady: deliveries?.ready ?? 0,
      deliveriesDelayed: deliveries?.delayed ?? 0,
      deadLetters: dead,
      nextDueAtMs: deliveries?.next ?? undefined,
    };
  }

  /** When the next ready incident falls due (epoch ms), if any is waiting. */
  nextIncidentDueAtMs(): number | undefined {
    // Only the heads of their lines: one held back behind a retry is not due before its head.
    return (
      this.#db.get<{ next: number | null }>(
        `SELECT min(due_at) AS next FROM incident_queue AS queued WHERE state = 'ready'
           AND NOT EXISTS (SELECT 1 FROM incident_queue AS earlier WHERE earlier.fingerprint = queued.fingerprint AND earlier.state = 'ready' AND earlier.id < queued.id)`,
      )?.next ?? undefined
    );
  }

  /**
   * When the next delivery that may be taken falls due (epoch ms): the oldest ready job of its
   * fingerprint and channel, not one of `busy`. `afterMs`: only jobs due after it (the caller took
   * every line due by then, so the busy ones, all due by then, are not even looked at).
   */
  nextDeliveryDueAtMs(busy: ReadonlySet<number>, afterMs?: number): number | undefined {
    const rows = this.#db.all<{ id: number; due_at: number }>(
      `SELECT q.id, q.due_at FROM delivery_queue q
       WHERE q.state = 'ready' AND q.due_at > ? AND q.id = (SELECT min(p.id) FROM delivery_queue p WHERE p.order_key = q.order_key AND p.state = 'ready')
       ORDER BY q.due_at, q.id LIMIT ${limitLiteral(busy.size + 1)}`,
      afterMs ?? Number.MIN_SAFE_INTEGER,
    );
    return rows.find((row) => !busy.has(row.id))?.due_at;
  }
}
