// The in-process store for the local pipeline: the same decision as the DynamoDB store, applied
// synchronously inside `apply` (no await between read and write), so concurrent applies of one
// fingerprint are serialized by the event loop. It snapshots to JSON for restarts.
import { z } from 'zod';
import type { DeliveryKey, DeliveryMarkers } from '../delivery/job.ts';
import { incidentSchema, type Incident } from '../incident.ts';
import { decide, DEFAULT_DEDUP_SETTINGS, type DedupSettings, type IncidentRecord } from './decide.ts';
import type { ApplyResult, IncidentStore } from './store.ts';

const recordSchema = z.object({
  fingerprint: z.string(),
  version: z.number().int(),
  status: z.enum(['firing', 'resolved']),
  incident: incidentSchema,
  episodeStartedAt: z.string(),
  lastEventTime: z.string(),
  occurrences: z.number().int(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  lastNotifiedAt: z.string().optional(),
  transitionId: z.string().optional(),
  changes: z.array(z.string()),
  flapping: z.boolean(),
  expiresAt: z.number().optional(),
});

const snapshotSchema = z.object({
  version: z.literal(1),
  records: z.array(recordSchema),
  markers: z.array(z.tuple([z.string(), z.number()])),
});
export interface MemoryStoreSnapshot {
  readonly version: 1;
  readonly records: readonly IncidentRecord[];
  readonly markers: readonly (readonly [string, number])[];
}

export interface MemoryStoreOptions {
  readonly settings?: DedupSettings;
}

export function markerKey(key: DeliveryKey): string {
  return `delivery#${key.fingerprint}#${key.transitionId}#${key.channel}`;
}

export class MemoryIncidentStore implements IncidentStore, DeliveryMarkers {
  readonly #records = new Map<string, IncidentRecord>();
  /** Marker key → expiry (epoch seconds). */
  readonly #markers = new Map<string, number>();
  readonly #settings: DedupSettings;

  constructor(options: MemoryStoreOptions = {}) {
    this.#settings = options.settings ?? DEFAULT_DEDUP_SETTINGS;
  }

  apply(incident: Incident, now: Date): Promise<ApplyResult> {
    const current = this.#live(this.#records.get(incident.fingerprint), now);
    const { decision, next } = decide(current, incident, now, this.#settings);
    if (next) this.#records.set(incident.fingerprint, next);
    const record = next ?? current;
    if (!record) throw new Error('unreachable: a first event always yields a record');
    return Promise.resolve({ decision, record });
  }

  isDelivered(key: DeliveryKey): Promise<boolean> {
    return Promise.resolve(this.#markers.has(markerKey(key)));
  }

  markDelivered(key: DeliveryKey): Promise<boolean> {
    const id = markerKey(key);
    if (this.#markers.has(id)) return Promise.resolve(false);
    this.#markers.set(id, Math.floor(Date.now() / 1000) + this.#settings.resolvedTtlSeconds);
    return Promise.resolve(true);
  }

  get(fingerprint: string): IncidentRecord | undefined {
    return this.#records.get(fingerprint);
  }

  list(): IncidentRecord[] {
    return [...this.#records.values()];
  }

  toJSON(): MemoryStoreSnapshot {
    const nowSeconds = Math.floor(Date.now() / 1000);
    return {
      version: 1,
      records: this.list().filter((record) => record.expiresAt === undefined || record.expiresAt > nowSeconds),
      markers: [...this.#markers.entries()].filter(([, expires]) => expires > nowSeconds),
    };
  }

  /** Restores a snapshot written by toJSON; throws a zod error naming the bad field. */
  static fromJSON(snapshot: unknown, options: MemoryStoreOptions = {}): MemoryIncidentStore {
    const parsed = snapshotSchema.parse(snapshot);
    const store = new MemoryIncidentStore(options);
    for (const record of parsed.records) store.#records.set(record.fingerprint, record);
    for (const [key, expires] of parsed.markers) store.#markers.set(key, expires);
    return store;
  }

  /** An expired record behaves as absent, as DynamoDB's TTL would eventually make it. */
  #live(record: IncidentRecord | undefined, now: Date): IncidentRecord | undefined {
    if (record?.expiresAt !== undefined && record.expiresAt <= Math.floor(now.getTime() / 1000)) {
      this.#records.delete(record.fingerprint);
      return undefined;
    }
    return record;
  }
}
