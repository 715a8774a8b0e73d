// Delivery claims on the local database: the cursor of each incident and channel is a row of
// `delivery_cursors` (schema 2), written in the database's group commit when a delivery
// completes. Leases live in memory: the process holds the database's exclusive lock, so it is
// the only sender, and after a crash no sender survives whose lease would need honouring.
import type { LocalDatabase } from '../local/database.ts';
import { epochSeconds } from '../dedup/record.ts';
import { CLAIM_LINE_TTL_SECONDS, claimLineId, completedLine, judgeClaim, newClaim, type ClaimLine } from './claims.ts';
import type { ClaimResult, DeliveryClaim, DeliveryClaims, DeliveryKey } from './job.ts';

export class SqliteDeliveryClaims implements DeliveryClaims {
  readonly #db: LocalDatabase;
  /** Line id → the live claim's token and lease. */
  readonly #leases = new Map<string, { readonly token: string; readonly leaseUntilMs: number }>();

  constructor(database: LocalDatabase) {
    this.#db = database;
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
    await this.#db.commit(() => {
      const { line } = completedLine(this.#line(id), claim);
      this.#db.run(
        `INSERT INTO delivery_cursors (line, told, told_transition, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (line) DO UPDATE SET told = excluded.told, told_transition = excluded.told_transition, expires_at = excluded.expires_at`,
        id,
        line.told ?? claim.order,
        line.toldTransitionId ?? claim.transitionId,
        epochSeconds(now) + CLAIM_LINE_TTL_SECONDS,
      );
    });
    if (held) this.#leases.delete(id);
    return held;
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

  #line(id: string): ClaimLine | undefined {
    const row = this.#db.get<{ told: string; told_transition: string }>('SELECT told, told_transition FROM delivery_cursors WHERE line = ?', id);
    const lease = this.#leases.get(id);
    if (row === undefined && lease === undefined) return undefined;
    return { told: row?.told, toldTransitionId: row?.told_transition, token: lease?.token, leaseUntilMs: lease?.leaseUntilMs };
  }
}
