// Delivery claims on the local database: the cursor of each incident and channel is a row of
// `delivery_cursors` (schema 2), written in the database's group commit when a delivery
// completes. Leases live in memory: the process holds the database's exclusive lock, so it is
// the only sender, and after a crash no sender survives whose lease would need honouring.
//
// With `deferCompletion` (the local pipeline), complete() writes nothing itself: the completion
// waits in memory, and the caller writes it with writeCompletion() inside the transaction that
// records the delivery's outcome, so the cursor and the job leaving the queue are one commit
// (one group commit per send instead of two, and never one without the other). Until it is
// committed the line reads as completed and its lease holds; a crash before that loses both the
// cursor and the outcome, and the job is sent again at the next start with the same delivery id,
// as any send under way when the process died.
import type { LocalDatabase } from '../local/database.ts';
import { epochSeconds } from '../dedup/record.ts';
import { CLAIM_LINE_TTL_SECONDS, claimLineId, completedLine, judgeClaim, newClaim, type ClaimLine } from './claims.ts';
import type { ClaimKey, ClaimResult, DeliveryClaim, DeliveryClaims, DeliveryKey } from './job.ts';

export interface SqliteDeliveryClaimsOptions {
  /** complete() leaves the write to writeCompletion() in the caller's transaction. */
  readonly deferCompletion?: boolean;
}

export class SqliteDeliveryClaims implements DeliveryClaims {
  readonly #db: LocalDatabase;
  readonly #defer: boolean;
  /** Line id → the live claim's token and lease. */
  readonly #leases = new Map<string, { readonly token: string; readonly leaseUntilMs: number }>();
  /** Line id → a completion told but not yet committed (deferCompletion). */
  readonly #completed = new Map<string, { readonly claim: DeliveryClaim; readonly now: Date }>();

  constructor(database: LocalDatabase, options: SqliteDeliveryClaimsOptions = {}) {
    this.#db = database;
    this.#defer = options.deferCompletion ?? false;
  }

  claim(key: DeliveryKey, order: string, leaseMs: number, now: Date): Promise<ClaimResult> {
    const id = claimLineId(key);
    const refused = judgeClaim(this.#line(id), order, now.getTime());
    if (refused !== undefined) return Promise.resolve(refused);
    const claim = newClaim(key, order, leaseMs, now);
    this.#leases.set(id, { token: claim.token, leaseUntilMs: claim.leaseUntilMs });
    return Promise.resolve({ status: 'claimed', claim });
  }

  async complete(claim: DeliveryClaim, now: Date): Promise<boolean> {
    const id = claimLineId(claim);
    const held = this.#leases.get(id)?.token === claim.token;
    if (this.#defer) {
      this.#completed.set(id, { claim, now });
      return held;
    }
    await this.#db.commit(() => {
      this.#writeCursor(id, claim, now);
    });
    if (held) this.#leases.delete(id);
    return held;
  }

  /**
   * Inside the caller's transaction: writes the line's completion that waits (deferCompletion),
   * if there is one. Call completionCommitted() once that transaction is committed.
   */
  writeCompletion(key: ClaimKey): void {
    const id = claimLineId(key);
    const waiting = this.#completed.get(id);
    if (waiting !== undefined) this.#writeCursor(id, waiting.claim, waiting.now);
  }

  /** The transaction that wrote the line's completion is committed: it stops waiting, and its lease goes. */
  completionCommitted(key: ClaimKey): void {
    const id = claimLineId(key);
    const waiting = this.#completed.get(id);
    if (waiting === undefined) return;
    this.#completed.delete(id);
    if (this.#leases.get(id)?.token === waiting.claim.token) this.#leases.delete(id);
  }

  #writeCursor(id: string, claim: DeliveryClaim, now: Date): void {
    const { line } = completedLine(this.#stored(id), claim);
    this.#db.run(
      `INSERT INTO delivery_cursors (line, told, told_transition, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (line) DO UPDATE SET told = excluded.told, told_transition = excluded.told_transition, expires_at = excluded.expires_at`,
      id,
      line.told ?? claim.order,
      line.toldTransitionId ?? claim.transitionId,
      epochSeconds(now) + CLAIM_LINE_TTL_SECONDS,
    );
  }

  release(claim: DeliveryClaim): Promise<void> {
    const id = claimLineId(claim);
    if (this.#leases.get(id)?.token === claim.token) this.#leases.delete(id);
    return Promise.resolve();
  }

  /** Deletes cursors past their TTL; returns how many. */
  sweep(now: Date): number {
    return Number(this.#db.run('DELETE FROM delivery_cursors WHERE expires_at <= ?', epochSeconds(now)).changes);
  }

  /** The line as it stands: its stored cursor, moved by a completion that waits, and its lease. */
  #line(id: string): ClaimLine | undefined {
    const stored = this.#stored(id);
    const waiting = this.#completed.get(id);
    const cursor = waiting === undefined ? stored : completedLine(stored, waiting.claim).line;
    const lease = this.#leases.get(id);
    if (cursor?.told === undefined && lease === undefined) return undefined;
    return { told: cursor?.told, toldTransitionId: cursor?.toldTransitionId, token: lease?.token, leaseUntilMs: lease?.leaseUntilMs };
  }

  /** The stored cursor with the live lease (what a completion is written over). */
  #stored(id: string): ClaimLine | undefined {
    const row = this.#db.get<{ told: string; told_transition: string }>('SELECT told, told_transition FROM delivery_cursors WHERE line = ?', id);
    const lease = this.#leases.get(id);
    if (row === undefined && lease === undefined) return undefined;
    return { told: row?.told, toldTransitionId: row?.told_transition, token: lease?.token, leaseUntilMs: lease?.leaseUntilMs };
  }
}
