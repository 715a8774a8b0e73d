// The port the pipelines keep groups in: per group and channel, the notices waiting for the next
// digest and the group's timer. Each adapter makes "add a notice and set the timer" and "take
// the pending notices, make the digests and queue their delivery jobs" atomic, so a notice is
// told in exactly one digest and a crash at any point neither loses nor doubles one:
//
// - local (./sqlite.ts): two tables of the local database, written inside the pipeline's own
//   transactions (dispatch's savepoint, the scheduler's turn); the timer is the table's due
//   index, looked at like record_timers, so a kill -9 during groupWait loses nothing and the
//   next start sends the digest when it falls due.
// - AWS (designed, not built yet; grouped routes send per incident there for now): the state
//   table holds `group#<id>#<channel>` items (sequence, lastFlushAt, dueAt in the sparse due
//   index the scheduler already queries) and `pending#<id>#<channel>#<fingerprint>` items (the
//   latest notice per incident, so a redelivered dispatch overwrites instead of adding). Dispatch
//   writes the pending item and sets dueAt with one TransactWriteItems (condition: dueAt absent
//   or unchanged); the scheduler queries due groups, reads their pending items, and sends the
//   digest jobs to the deliveries queue with a message deduplication id of group + sequence,
//   then deletes the items it told with a condition on the sequence, so a retried flush makes
//   the same digest (same transition id, claimed once by the delivery claims).
import type { DigestItem, GroupAssignment, GroupState } from './group.ts';
import type { Digest } from './group.ts';

/** A group on one channel. */
export interface GroupLineKey {
  readonly groupId: string;
  readonly channel: string;
}

export interface DigestToSend extends Digest {
  readonly channel: string;
  readonly transitionId: string;
}

export interface DigestGroups {
  /** Adds a notice to its group on `channel`, setting the group's timer if it has none. */
  add(assignment: GroupAssignment, channel: string, item: DigestItem, nowMs: number): GroupState;
  /** Groups whose timer is due by `nowMs`, soonest first. */
  due(nowMs: number, limit: number): GroupLineKey[];
  /** Takes a due group's pending notices and returns its digests (none if nothing was pending). */
  flush(key: GroupLineKey, nowMs: number): DigestToSend[];
  /** When the next group falls due, if any. */
  nextDueAtMs(): number | undefined;
  /** Notices waiting in groups. */
  pendingCount(): number;
}

/** The stored id of a group on a channel (channel names hold no newline). */
export function groupLineId(key: GroupLineKey): string {
  return `${key.groupId}\n${key.channel}`;
}
