// The DynamoDB store: one item per fingerprint (layout in table.ts), and the decision applied
// with ONE conditional UpdateItem per incoming incident. No read in the common path: the store
// remembers the last record it wrote or saw per fingerprint (a bounded LRU, warm across
// invocations of one Lambda container), and a fingerprint it does not remember is written as
// new, with `attribute_not_exists(pk)`.
//
// Conditions (optimistic concurrency), for a record the store knows:
//   `version = :known AND lastEventTime <= :eventTime` (`<` for a firing onto a resolved record),
//   where :eventTime is the incident's ordering time (decide.ts: a future-stamped event time
//   counts as the time received, so the condition follows the same clock-skew rule)
// i.e. "no state change and no newer event since I looked": exactly when the decision taken on
// the known record still holds. A repeat (`touch`) keeps the version and counts with ADD, so
// concurrent repeats of one alert from many containers all succeed at the first try; only state
// changes (opened, resolved, renotified, flapping) can lose a race.
//
// A lost race (or a cache that was behind, or cold): DynamoDB returns the current item with the
// failure (ReturnValuesOnConditionCheckFailure=ALL_OLD); the decision is taken again on it and
// the write retried, a bounded number of times. dynalite, which the tests use, ignores that
// option, so when the failure carries no item the store reads it with one consistent GetItem:
// on real DynamoDB that read happens only if the item vanished in between (TTL deletion).
//
// A stale event that the cached record already proves stale costs no write at all (staleness
// only grows: lastEventTime never decreases, so a newer stored record makes it staler still).
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type QueryCommandOutput,
  type AttributeValue,
  type DynamoDBClient,
  type GetItemCommandOutput,
  type UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Incident } from '../incident.ts';
import { decide, decideDue, type DecideContext, type DedupDecision, type DedupResult } from './decide.ts';
import { dueAtOf, isExpired, parseIncidentRecord, type IncidentRecord } from './record.ts';
import { DEFAULT_DEDUP_SETTINGS, type DedupSettings } from './settings.ts';
import { type ApplyResult, type IncidentStore, type StoreClockOptions } from './store.ts';
import { DUE_AT_ATTRIBUTE, DUE_INDEX, DUE_SHARD, DUE_SHARD_ATTRIBUTE, PARTITION_KEY, TTL_ATTRIBUTE } from './table.ts';

/** What the scheduler's look at one due record came to. */
export type DueOutcome =
  | { readonly kind: 'done'; readonly record: IncidentRecord; readonly incident: Incident; readonly decision?: DedupDecision | undefined }
  /**
   * Nothing to do (gone, resolved, not due), or another run wrote it first: nothing to tell from
   * here. `record` is the record as read, when there is one (a redelivered due message re-makes
   * the jobs of its last transition from it).
   */
  | { readonly kind: 'skipped'; readonly record?: IncidentRecord | undefined };

/** One page of the due index: fingerprints due at or before the time asked, earliest first. */
export interface DuePage {
  readonly due: readonly { readonly fingerprint: string; readonly dueAtMs: number }[];
  /** Where the next page starts; absent on the last page. */
  readonly next?: Record<string, AttributeValue> | undefined;
}

/**
 * A record whose timer is still due right after the scheduler handled it (the settings changed
 * under it) is looked at again this much later, not at every run.
 */
export const DUE_RETRY_MS = 60_000;

const DEFAULT_MAX_ATTEMPTS = 5;
const DEFAULT_CACHE_SIZE = 10_000;

export interface DynamoDbStoreOptions extends StoreClockOptions {
  /** Either client works; the store sends plain DynamoDB commands and marshals itself. */
  readonly client: DynamoDBClient | DynamoDBDocumentClient;
  readonly tableName: string;
  readonly settings?: DedupSettings;
  /** Fingerprints whose last record is remembered (LRU); 10,000 by default. */
  readonly cacheSize?: number;
  /** Conditional writes per incident before giving up with DedupConflictError; 5 by default. */
  readonly maxAttempts?: number;
}

/** Too many lost races in a row: the caller should retry the incident later (SQS redelivers it). */
export class DedupConflictError extends Error {
  override readonly name = 'DedupConflictError';
}

// Metric values may exceed 2^53 (bytes, counters): stored as DynamoDB numbers, read back as JS
// numbers, never BigInt. Undefined optional fields are simply left out.
const MARSHALL = { removeUndefinedValues: true, allowImpreciseNumbers: true } as const;
const UNMARSHALL = { wrapNumbers: (text: string): number => Number(text) } as const;

type Item = Record<string, AttributeValue>;

/** The two plain commands the store sends. */
interface CommandSender {
  send(command: UpdateItemCommand): Promise<UpdateItemCommandOutput>;
  send(command: GetItemCommand): Promise<GetItemCommandOutput>;
  send(command: QueryCommand): Promise<QueryCommandOutput>;
}

function recordFromItem(item: Item, tableName: string): IncidentRecord {
  const attributes: Record<string, unknown> = unmarshall(item, UNMARSHALL);
  const { [PARTITION_KEY]: key, ...fields } = attributes;
  return parseIncidentRecord({ ...fields, fingerprint: key }, `table ${tableName}`);
}

/** The sparse index's attributes: present only while the record has a timer. */
function setDue(update: UpdateExpression, dueAt: number | undefined): void {
  update.set(DUE_SHARD_ATTRIBUTE, dueAt === undefined ? undefined : DUE_SHARD).set(DUE_AT_ATTRIBUTE, dueAt);
}

/** Collects one UpdateItem's expression, attribute names and values. */
class UpdateExpression {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  readonly #sets: string[] = [];
  readonly #removes: string[] = [];
  readonly #adds: string[] = [];

  name(field: string): string {
    this.names[`#${field}`] = field;
    return `#${field}`;
  }

  value(key: string, value: unknown): string {
    this.values[`:${key}`] = value;
    return `:${key}`;
  }

  /** SET the field, or REMOVE it when the value is undefined. */
  set(field: string, value: unknown): this {
    if (value === undefined) this.#removes.push(this.name(field));
    else this.#sets.push(`${this.name(field)} = ${this.value(field, value)}`);
    return this;
  }

  add(field: string, amount: number): this {
    this.#adds.push(`${this.name(field)} ${this.value(`add_${field}`, amount)}`);
    return this;
  }

  toString(): string {
    return [
      this.#sets.length > 0 ? `SET ${this.#sets.join(', ')}` : '',
      this.#removes.length > 0 ? `REMOVE ${this.#removes.join(', ')}` : '',
      this.#adds.length > 0 ? `ADD ${this.#adds.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
  }
}

export class DynamoDbIncidentStore implements IncidentStore {
  readonly #client: CommandSender;
  readonly #table: string;
  readonly #settings: DedupSettings;
  readonly #maxAttempts: number;
  readonly #cacheSize: number;
  readonly #cache = new Map<string, IncidentRecord>();
  /** Per-fingerprint chain: applies of one fingerprint in this process run one after another. */
  readonly #inflight = new Map<string, Promise<unknown>>();

  constructor(options: DynamoDbStoreOptions) {
    // A document client shares its base client's config and middleware stack and only adds
    // (un)marshalling to its own commands: plain commands sent through it pass unchanged.
    this.#client = options.client;
    this.#table = options.tableName;
    this.#settings = options.settings ?? DEFAULT_DEDUP_SETTINGS;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    this.#cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  }

  /** `context`: what holds the incident now and its auto-resolve time (shared/pipeline/context.ts). */
  apply(incident: Incident, now: Date, receivedAt: Date = now, context: DecideContext = {}): Promise<ApplyResult> {
    // Within one process, racing ourselves would only burn conditional writes: queue behind the
    // previous apply of the same fingerprint. Across processes the write condition decides.
    const key = incident.fingerprint;
    const previous = this.#inflight.get(key) ?? Promise.resolve();
    const result = previous.then(
      () => this.#apply(incident, now, receivedAt, context),
      () => this.#apply(incident, now, receivedAt, context),
    );
    const settled = result.catch(() => undefined);
    this.#inflight.set(key, settled);
    void settled.then(() => {
      if (this.#inflight.get(key) === settled) this.#inflight.delete(key);
    });
    return result;
  }

  async #apply(incident: Incident, now: Date, receivedAt: Date, context: DecideContext): Promise<ApplyResult> {
    const { fingerprint } = incident;
    let known = this.#recall(fingerprint);
    for (let attempt = 1; ; attempt += 1) {
      const result = decide(known, incident, now, this.#settings, receivedAt, context);
      if (result.write === 'none') {
        if (known === undefined) throw new Error('dedup: a stale decision without a record');
        return { decision: result.decision, record: known };
      }
      try {
        const stored = await this.#write(result, known, incident, now);
        this.#remember(stored);
        return { decision: result.decision, record: stored };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) {
          // The write may or may not have happened: forget, and let the next try find out.
          this.#cache.delete(fingerprint);
          throw error;
        }
        if (attempt >= this.#maxAttempts) {
          this.#cache.delete(fingerprint);
          throw new DedupConflictError(`dedup: ${fingerprint} still changing after ${String(attempt)} conditional writes`);
        }
        // Lost a race, or the cache was behind: decide again on what is stored now.
        known = error.Item ? recordFromItem(error.Item, this.#table) : await this.#read(fingerprint);
        if (known) this.#remember(known);
        else this.#cache.delete(fingerprint);
      }
    }
  }

  /** One conditional UpdateItem; returns the record as stored (ALL_NEW). */
  async #write(
    result: Exclude<DedupResult, { write: 'none' }>,
    known: IncidentRecord | undefined,
    incident: Incident,
    now: Date,
    /** The scheduler's writes: the due time to index, and no occurrence counted (nothing was heard). */
    due?: { readonly atMs: number | undefined },
  ): Promise<IncidentRecord> {
    const dueAtMs = due === undefined ? dueAtOf(result.next) : due.atMs;
    const { next } = result;
    const update = new UpdateExpression();
    let condition: string;
    if (result.write === 'touch') {
      update.set('incident', next.incident).set('lastSeen', next.lastSeen).set('lastEventTime', next.lastEventTime);
      update.set('held', next.held).set('autoResolveAt', next.autoResolveAt);
      setDue(update, dueAtMs);
      if (next.expiresAt !== undefined) update.set(TTL_ATTRIBUTE, next.expiresAt);
      update.add('occurrences', 1);
    } else {
      update
        .set('version', next.version)
        .set('status', next.status)
        .set('incident', next.incident)
        .set('episodeStartedAt', next.episodeStartedAt)
        .set('lastEventTime', next.lastEventTime)
        .set('firstSeen', next.firstSeen)
        .set('lastSeen', next.lastSeen)
        .set('lastNotifiedAt', next.lastNotifiedAt)
        .set('transitionId', next.transitionId)
        .set('changes', next.changes)
        .set('flapping', next.flapping)
        .set(TTL_ATTRIBUTE, next.expiresAt)
        .set('untold', next.untold)
        .set('held', next.held)
        .set('acknowledged', next.acknowledged)
        .set('reminders', next.reminders)
        .set('nextReminderAt', next.nextReminderAt)
        .set('autoResolveAt', next.autoResolveAt);
      setDue(update, dueAtMs);
      // A new (or expired, hence restarted) record sets the count; a known one adds to it, so
      // repeats counted concurrently by other writers are not lost.
      // The scheduler heard nothing from the source: its writes leave the count as it is.
      if (due === undefined) {
        if (next.occurrences === 1) update.set('occurrences', 1);
        else update.add('occurrences', 1);
      }
    }
    if (known === undefined) {
      condition = `attribute_not_exists(${update.name(PARTITION_KEY)})`;
    } else {
      condition = `${update.name('version')} = ${update.value('knownVersion', known.version)}`;
      if (!isExpired(known, now)) {
        // Mirrors isStale(): the write holds only if no newer event was applied meanwhile. The
        // value compared is decide()'s lastEventTime, the ordering time (future stamps clamped).
        const operator = incident.status === 'firing' && known.status === 'resolved' ? '<' : '<=';
        condition += ` AND ${update.name('lastEventTime')} ${operator} ${update.value('eventTime', next.lastEventTime)}`;
      }
    }
    const output = await this.#client.send(
      new UpdateItemCommand({
        TableName: this.#table,
        Key: { [PARTITION_KEY]: { S: next.fingerprint } },
        UpdateExpression: update.toString(),
        ConditionExpression: condition,
        ExpressionAttributeNames: update.names,
        ExpressionAttributeValues: marshall(update.values, MARSHALL),
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    if (!output.Attributes) throw new Error('dedup: UpdateItem returned no attributes');
    return recordFromItem(output.Attributes, this.#table);
  }

  /** Fingerprints whose timer is due at `nowMs` (a query on the sparse due index, earliest first). */
  async listDue(nowMs: number, limit: number): Promise<string[]> {
    const page = await queryDue(this.#client, this.#table, nowMs, limit);
    return page.due.map((entry) => entry.fingerprint);
  }

  /**
   * The scheduler's decision (decideDue) on one due record, written conditioned on the version
   * it read: of two runs looking at the same record, one makes the transition and the other is
   * `skipped`, so a reminder is one transition however many runs there are.
   */
  async applyDue(fingerprint: string, now: Date, context: DecideContext | ((incident: Incident) => DecideContext) = {}): Promise<DueOutcome> {
    const known = await this.#read(fingerprint);
    if (known === undefined) return { kind: 'skipped' };
    const nowMs = now.getTime();
    // Not due (any more): a second look at a record another run has just handled writes nothing.
    const dueAt = dueAtOf(known);
    if (dueAt === undefined || dueAt > nowMs) return { kind: 'skipped', record: known };
    const result = decideDue(known, now, this.#settings, typeof context === 'function' ? context(known.incident) : context);
    if (result.write === 'none') {
      // Due, yet nothing to decide (resolved as it expired): out of the index, so no run looks again.
      return this.#writeDue(known, { ...known, version: known.version + 1 }, known.incident, now, undefined);
    }
    const nextDueAt = dueAtOf(result.next);
    return this.#writeDue(known, result.next, result.incident, now, nextDueAt !== undefined && nextDueAt <= nowMs ? nowMs + DUE_RETRY_MS : nextDueAt, result.decision);
  }

  /** applyDue's write, conditioned on the version read: lost to another writer, it is `skipped`. */
  async #writeDue(
    known: IncidentRecord,
    next: IncidentRecord,
    incident: Incident,
    now: Date,
    dueAtMs: number | undefined,
    decision?: DedupDecision,
  ): Promise<DueOutcome> {
    const fingerprint = known.fingerprint;
    try {
      const stored = await this.#write({ decision: decision ?? { action: 'suppressed', reason: 'duplicate' }, write: 'state', next }, known, incident, now, { atMs: dueAtMs });
      this.#remember(stored);
      return { kind: 'done', record: stored, incident, decision };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        this.#cache.delete(fingerprint);
        return { kind: 'skipped', record: error.Item ? recordFromItem(error.Item, this.#table) : known };
      }
      this.#cache.delete(fingerprint);
      throw error;
    }
  }

  async #read(fingerprint: string): Promise<IncidentRecord | undefined> {
    const { Item } = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: { [PARTITION_KEY]: { S: fingerprint } }, ConsistentRead: true }),
    );
    return Item ? recordFromItem(Item, this.#table) : undefined;
  }

  #recall(fingerprint: string): IncidentRecord | undefined {
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

/**
 * One page of the sparse due index: the records due at or before `nowMs`, earliest first. A
 * Query on the index (KEYS_ONLY: it returns the key and the due time, never the records), so
 * what it reads grows with what is due, not with the table.
 */
export async function queryDue(
  client: { send(command: QueryCommand): Promise<QueryCommandOutput> },
  tableName: string,
  nowMs: number,
  limit: number,
  startKey?: Record<string, AttributeValue>,
): Promise<DuePage> {
  const output = await client.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: DUE_INDEX,
      KeyConditionExpression: '#shard = :shard AND #dueAt <= :now',
      ExpressionAttributeNames: { '#shard': DUE_SHARD_ATTRIBUTE, '#dueAt': DUE_AT_ATTRIBUTE },
      ExpressionAttributeValues: { ':shard': { S: DUE_SHARD }, ':now': { N: String(nowMs) } },
      Limit: limit,
      ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
    }),
  );
  const due = (output.Items ?? []).flatMap((item) => {
    const fingerprint = item[PARTITION_KEY]?.S;
    const dueAtMs = Number(item[DUE_AT_ATTRIBUTE]?.N);
    return fingerprint === undefined || !Number.isFinite(dueAtMs) ? [] : [{ fingerprint, dueAtMs }];
  });
  return { due, next: output.LastEvaluatedKey };
}
