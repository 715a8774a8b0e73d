// The DynamoDB store: one item per fingerprint, and the decision applied with ONE conditional
// UpdateItem per incoming incident, conditioned on the record's version (optimistic
// concurrency). No read in the common path: the store remembers the last record it wrote or
// saw per fingerprint (a bounded cache, warm across invocations of one Lambda container), and a
// fingerprint it has never seen is written with `attribute_not_exists(pk)`.
//
// When the condition fails (another writer won, or the cache was behind), DynamoDB returns the
// current item with ReturnValuesOnConditionCheckFailure=ALL_OLD, the decision is taken again on
// it, and the write retried: one extra attempt per lost race. dynalite (the local DynamoDB the
// tests use) ignores ReturnValuesOnConditionCheckFailure, so there — and only when the item is
// missing from the error — the store falls back to one consistent GetItem.
//
// Item layout (table: `pk` string hash key, TTL attribute `expiresAt`):
//   incident records:  pk = <fingerprint>, the IncidentRecord's fields, `incident` as a map
//   delivery markers:  pk = delivery#<fingerprint>#<transitionId>#<channel>, expiresAt
import {
  ConditionalCheckFailedException,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DeliveryKey } from '../delivery/job.ts';
import type { Incident } from '../incident.ts';
import { decide, DEFAULT_DEDUP_SETTINGS, type DedupSettings, type IncidentRecord } from './decide.ts';
import { markerKey } from './memory-store.ts';
import type { ApplyResult, IncidentStore } from './store.ts';

export const PARTITION_KEY = 'pk';
export const TTL_ATTRIBUTE = 'expiresAt';
const MAX_ATTEMPTS = 10;
const DEFAULT_CACHE_SIZE = 10_000;

/** The table the store expects; infra creates the same (plus PITR and encryption). */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: PARTITION_KEY, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: PARTITION_KEY, KeyType: 'HASH' }],
  };
}

export interface DynamoDbStoreOptions {
  readonly client: DynamoDBClient | DynamoDBDocumentClient;
  readonly tableName: string;
  readonly settings?: DedupSettings;
  /** Fingerprints whose last record is remembered (LRU). */
  readonly cacheSize?: number;
}

export class DedupConflictError extends Error {
  override readonly name = 'DedupConflictError';
}

/** The fields written for a record (everything but the key). */
const RECORD_FIELDS = [
  'version',
  'status',
  'incident',
  'episodeStartedAt',
  'lastEventTime',
  'occurrences',
  'firstSeen',
  'lastSeen',
  'lastNotifiedAt',
  'transitionId',
  'changes',
  'flapping',
  TTL_ATTRIBUTE,
] as const satisfies readonly (keyof IncidentRecord)[];

/** The item as written by #write: the record's fields under their names, the fingerprint as pk. */
function recordOf(item: Record<string, unknown>): IncidentRecord {
  const { [PARTITION_KEY]: fingerprint, ...fields } = item;
  return { ...fields, fingerprint } as unknown as IncidentRecord;
}

export class DynamoDbIncidentStore implements IncidentStore {
  readonly #documents: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #settings: DedupSettings;
  readonly #cache = new Map<string, IncidentRecord>();
  readonly #cacheSize: number;
  /** Per-fingerprint chain: applies of one fingerprint in this process run one after another. */
  readonly #inflight = new Map<string, Promise<unknown>>();

  constructor(options: DynamoDbStoreOptions) {
    this.#documents =
      options.client instanceof DynamoDBDocumentClient
        ? options.client
        : DynamoDBDocumentClient.from(options.client, { marshallOptions: { removeUndefinedValues: true } });
    this.#table = options.tableName;
    this.#settings = options.settings ?? DEFAULT_DEDUP_SETTINGS;
    this.#cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  }

  apply(incident: Incident, now: Date): Promise<ApplyResult> {
    // Within one process, racing ourselves would only burn conditional writes: queue behind the
    // previous apply of the same fingerprint. Across processes the version condition decides.
    const key = incident.fingerprint;
    const previous = this.#inflight.get(key) ?? Promise.resolve();
    const result = previous.then(
      () => this.#apply(incident, now),
      () => this.#apply(incident, now),
    );
    const settled = result.catch(() => undefined);
    this.#inflight.set(key, settled);
    void settled.then(() => {
      if (this.#inflight.get(key) === settled) this.#inflight.delete(key);
    });
    return result;
  }

  async #apply(incident: Incident, now: Date): Promise<ApplyResult> {
    let current = this.#cached(incident.fingerprint);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const { decision, next } = decide(current, incident, now, this.#settings);
      if (next === undefined) {
        // Stale: nothing to write. `current` is known here (a first event always yields a record).
        if (current === undefined) throw new Error('unreachable: stale without a record');
        return { decision, record: current };
      }
      try {
        await this.#write(next, current);
        this.#remember(next);
        return { decision, record: next };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // Lost a race (or the cache was behind): decide again on what is stored now.
        current = error.Item ? recordOf(unmarshall(error.Item)) : await this.#read(incident.fingerprint);
        if (current) this.#remember(current);
        else this.#cache.delete(incident.fingerprint);
        // Writers that collided would collide again at once: spread them out a little.
        if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
    throw new DedupConflictError(`gave up on ${incident.fingerprint} after ${String(MAX_ATTEMPTS)} conflicting writes`);
  }

  async isDelivered(key: DeliveryKey): Promise<boolean> {
    const result = await this.#documents.send(
      new GetCommand({ TableName: this.#table, Key: { [PARTITION_KEY]: markerKey(key) }, ConsistentRead: true, ProjectionExpression: PARTITION_KEY }),
    );
    return result.Item !== undefined;
  }

  async markDelivered(key: DeliveryKey): Promise<boolean> {
    try {
      await this.#documents.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            [PARTITION_KEY]: markerKey(key),
            deliveredAt: new Date().toISOString(),
            [TTL_ATTRIBUTE]: Math.floor(Date.now() / 1000) + this.#settings.resolvedTtlSeconds,
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** One conditional UpdateItem: SET the present fields, REMOVE the absent ones. */
  async #write(next: IncidentRecord, expected: IncidentRecord | undefined): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    const removes: string[] = [];
    RECORD_FIELDS.forEach((field, index) => {
      const value = next[field];
      names[`#f${String(index)}`] = field;
      if (value === undefined) {
        removes.push(`#f${String(index)}`);
      } else {
        values[`:f${String(index)}`] = value;
        sets.push(`#f${String(index)} = :f${String(index)}`);
      }
    });
    // `version` is RECORD_FIELDS[0], so #f0 names it.
    let condition: string;
    if (expected === undefined) {
      names['#pk'] = PARTITION_KEY;
      condition = 'attribute_not_exists(#pk)';
    } else {
      values[':expectedVersion'] = expected.version;
      condition = '#f0 = :expectedVersion';
    }
    await this.#documents.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { [PARTITION_KEY]: next.fingerprint },
        UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
  }

  async #read(fingerprint: string): Promise<IncidentRecord | undefined> {
    const result = await this.#documents.send(new GetCommand({ TableName: this.#table, Key: { [PARTITION_KEY]: fingerprint }, ConsistentRead: true }));
    return result.Item ? recordOf(result.Item) : undefined;
  }

  #cached(fingerprint: string): IncidentRecord | undefined {
    const record = this.#cache.get(fingerprint);
    if (record) {
      // Refresh its place in the LRU order.
      this.#cache.delete(fingerprint);
      this.#cache.set(fingerprint, record);
    }
    return record;
  }

  #remember(record: IncidentRecord): void {
    this.#cache.delete(record.fingerprint);
    this.#cache.set(record.fingerprint, record);
    if (this.#cache.size > this.#cacheSize) {
      const oldest = this.#cache.keys().next();
      if (!oldest.done) this.#cache.delete(oldest.value);
    }
  }
}
