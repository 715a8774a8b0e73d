// The claim rule every DeliveryClaims adapter applies (job.ts explains the port), and the
// in-process adapter. The SQLite and DynamoDB adapters keep the same line state in a row or an
// item and judge it with judgeClaim(), so all three answer alike (test/delivery/claims-contract).
import { randomUUID } from 'node:crypto';
import type { ClaimKey, ClaimResult, DeliveryClaim, DeliveryClaims, DeliveryKey } from './job.ts';

/** What is stored per incident and channel. */
export interface ClaimLine {
  /** The order of the last transition told (the cursor). */
  readonly told?: string | undefined;
  readonly toldTransitionId?: string | undefined;
  /** The claim being sent, if any, and when its lease runs out (epoch ms). */
  readonly token?: string | undefined;
  readonly leaseUntilMs?: number | undefined;
}

/**
 * How long a line is remembered after its last claim or completion. A cursor only has to outlive
 * the copies of its jobs that can still arrive (queue retention: at most 14 days on SQS).
 */
export const CLAIM_LINE_TTL_SECONDS = 15 * 86_400;

/** The stored id of a line: `cursor#<fingerprint>#<channel>` (channel names hold no `#`). */
export function claimLineId(key: ClaimKey): string {
  return `cursor#${key.fingerprint}#${key.channel}`;
}

/** undefined: the line is free for this transition. Otherwise why it cannot be claimed. */
export function judgeClaim(line: ClaimLine | undefined, order: string, nowMs: number): Exclude<ClaimResult, { status: 'claimed' }> | undefined {
  if (line?.told !== undefined) {
    if (line.told === order) return { status: 'already-delivered' };
    if (line.told > order) return { status: 'superseded', toldTransitionId: line.toldTransitionId ?? '' };
  }
  if (line?.token !== undefined && line.leaseUntilMs !== undefined && line.leaseUntilMs > nowMs) {
    return { status: 'busy', leaseUntilMs: line.leaseUntilMs };
  }
  return undefined;
}

export function newClaim(key: DeliveryKey, order: string, leaseMs: number, now: Date): DeliveryClaim {
  return {
    fingerprint: key.fingerprint,
    channel: key.channel,
    transitionId: key.transitionId,
    order,
    token: randomUUID(),
    leaseUntilMs: now.getTime() + Math.max(1, leaseMs),
  };
}

/** The line after `claim` completed: the cursor moves forward (never back); the lease goes if it is this claim's. */
export function completedLine(line: ClaimLine | undefined, claim: DeliveryClaim): { line: ClaimLine; held: boolean } {
  const held = line?.token === claim.token;
  const forward = line?.told === undefined || line.told < claim.order;
  return {
    held,
    line: {
      told: forward ? claim.order : line.told,
      toldTransitionId: forward ? claim.transitionId : line.toldTransitionId,
      token: held ? undefined : line?.token,
      leaseUntilMs: held ? undefined : line?.leaseUntilMs,
    },
  };
}

/** In-process claims: one map, decided synchronously (the event loop serialises them). */
export class MemoryDeliveryClaims implements DeliveryClaims {
  readonly #lines = new Map<string, ClaimLine>();

  claim(key: DeliveryKey, order: string, leaseMs: number, now: Date): Promise<ClaimResult> {
    const id = claimLineId(key);
    const line = this.#lines.get(id);
    const refused = judgeClaim(line, order, now.getTime());
    if (refused !== undefined) return Promise.resolve(refused);
    const claim = newClaim(key, order, leaseMs, now);
    this.#lines.set(id, { ...line, token: claim.token, leaseUntilMs: claim.leaseUntilMs });
    return Promise.resolve({ status: 'claimed', claim });
  }

  complete(claim: DeliveryClaim): Promise<boolean> {
    const id = claimLineId(claim);
    const { line, held } = completedLine(this.#lines.get(id), claim);
    this.#lines.set(id, line);
    return Promise.resolve(held);
  }

  release(claim: DeliveryClaim): Promise<void> {
    const id = claimLineId(claim);
    const line = this.#lines.get(id);
    if (line?.token === claim.token) this.#lines.set(id, { ...line, token: undefined, leaseUntilMs: undefined });
    return Promise.resolve();
  }
}
