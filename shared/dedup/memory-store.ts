// The in-process store for the local pipeline: the same decision as the DynamoDB store, applied
// synchronously inside `apply` (no await between read and write), so concurrent applies of one
// fingerprint are serialized by the event loop. It snapshots to JSON for restarts.
// Expired records behave as absent, as in the DynamoDB store, and are dropped from list() and
// snapshots (with expired markers of older snapshots).
import * as z from 'zod';
import type { Incident } from '../incident.ts';
import { formatIssues } from '../zod-issues.ts';
import { decide } from './decide.ts';
import { epochSeconds, incidentRecordSchema, isExpired, type IncidentRecord } from './record.ts';
import { DEFAULT_DEDUP_SETTINGS, type DedupSettings } from './settings.ts';
import { type ApplyResult, type IncidentStore, type StoreClockOptions } from './store.ts';

const snapshotSchema = z.object({
  version: z.literal(1),
  records: z.array(incidentRecordSchema),
  /** [marker key, expiry in epoch seconds] */
  markers: z.array(z.tuple([z.string().min(1), z.int()])),
});

export interface MemoryStoreSnapshot {
  readonly version: 1;
  readonly records: readonly IncidentRecord[];
  readonly markers: readonly (readonly [string, number])[];
}

export interface MemoryStoreOptions extends StoreClockOptions {
  readonly settings?: DedupSettings;
}

export class MemoryIncidentStore implements IncidentStore {
  readonly #records = new Map<string, IncidentRecord>();
  /** Delivery markers of older snapshots, marker key → expiry (epoch seconds): carried for the local import, no longer read. */
  readonly #markers = new Map<string, number>();
  readonly #settings: DedupSettings;
  readonly #now: () => Date;

  constructor(options: MemoryStoreOptions = {}) {
    this.#settings = options.settings ?? DEFAULT_DEDUP_SETTINGS;
    this.#now = options.now ?? (() => new Date());
  }

  apply(incident: Incident, now: Date, receivedAt: Date = now): Promise<ApplyResult> {
    const current = this.#records.get(incident.fingerprint);
    const result = decide(current, incident, now, this.#settings, receivedAt);
    if (result.write === 'none') {
      // decide() only calls an event stale against a record it was given.
      if (current === undefined) return Promise.reject(new Error('dedup: a stale decision without a record'));
      return Promise.resolve({ decision: result.decision, record: current });
    }
    this.#records.set(incident.fingerprint, result.next);
    return Promise.resolve({ decision: result.decision, record: result.next });
  }

  /** The live record of a fingerprint, if any. */
  get(fingerprint: string): IncidentRecord | undefined {
    const record = this.#records.get(fingerprint);
    return record && !isExpired(record, this.#now()) ? record : undefined;
  }

  /** Live records (expired ones are dropped here). */
  list(): IncidentRecord[] {
    const now = this.#now();
    const live: IncidentRecord[] = [];
    for (const [fingerprint, record] of this.#records) {
      if (isExpired(record, now)) this.#records.delete(fingerprint);
      else live.push(record);
    }
    return live;
  }

  toJSON(): MemoryStoreSnapshot {
    const nowSeconds = epochSeconds(this.#now());
    for (const [id, expires] of this.#markers) if (expires <= nowSeconds) this.#markers.delete(id);
    return { version: 1, records: this.list(), markers: [...this.#markers.entries()] };
  }

  /** Restores a snapshot written by toJSON; throws naming the first bad fields. */
  static fromJSON(snapshot: unknown, options: MemoryStoreOptions = {}): MemoryIncidentStore {
    const parsed = snapshotSchema.safeParse(snapshot);
    if (!parsed.success) throw new Error(`invalid incident store snapshot: ${formatIssues(parsed.error)}`);
    const store = new MemoryIncidentStore(options);
    for (const record of parsed.data.records) store.#records.set(record.fingerprint, record);
    for (const [id, expires] of parsed.data.markers) store.#markers.set(id, expires);
    return store;
  }
}
