// Cost per million alerts on AWS, from measured figures: the packaged bundles run on the chain
// (test/aws/chain/, as bench/aws-calls.ts does) with real event shapes, warm containers. Per
// function: invocations per alert and the median handler time (what Lambda bills, rounded up to
// 1 ms) → GB-seconds at the memory infra gives it. SQS, DynamoDB and SNS requests are counted
// on the same run. Then priced at list prices (PRICES) for a stated mix of new and repeated
// alerts. Durations come from this machine, not from Graviton: an estimate, not a bill.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DEFAULT_MEMORY_MB } from '../infra/tocsin-pipeline.ts';
import { startChain, type Chain, type FunctionName } from '../test/aws/chain/chain.ts';
import { alertGroup } from './aws-calls.ts';
import type { BenchResult } from './harness.ts';

/** Alerts per Alertmanager webhook (one group per request). */
const GROUP_SIZE = 10;
/** Measured rounds per case (after one warm-up round). */
const ROUNDS = 8;
/** Share of received alerts that are new (open an incident, notified on every channel); the rest are Alertmanager's repeats of firing ones. */
const NEW_SHARE = 0.1;
const CHANNELS = 2;

/**
 * List prices as published for us-east-1 on 2026-12-02 (to be checked against the AWS pricing
 * pages before relying on them): first tiers, no free tier, no Savings Plans.
 */
export const PRICES = {
  date: '2026-12-02',
  region: 'us-east-1',
  lambdaArmPerMillionRequests: 0.2,
  lambdaArmPerGbSecond: 0.0000133334,
  sqsStandardPerMillionRequests: 0.4,
  dynamoOnDemandPerMillionWrites: 0.625,
  dynamoOnDemandPerMillionReads: 0.125,
  snsPublishPerMillion: 0.5,
} as const;

const SQS_CHUNK_BYTES = 64 * 1024;

// Capacity units as DynamoDB counts them (item size, larger of old and new, 1 KB per write unit,
// 4 KB per read unit, half for eventually consistent reads): dynalite computes them in
// db.addConsumedCapacity, which its actions call through the module object. The bench wraps it
// to add up the units of every request, whether or not the caller asked for ConsumedCapacity,
// and wraps db.checkConditional for the writes whose condition fails: DynamoDB bills those too
// (the existing item's size), dynalite returns before counting them.
interface CapacityRequest {
  ReturnConsumedCapacity?: string;
  ConsistentRead?: boolean;
}
type AddConsumedCapacity = (data: CapacityRequest, isRead: boolean, newItem?: unknown, oldItem?: unknown) => unknown;
type CheckConditional = (data: CapacityRequest, existingItem?: Record<string, unknown>) => unknown;
const dynaliteDb = createRequire(import.meta.url)('dynalite/db/index.js') as {
  addConsumedCapacity: AddConsumedCapacity;
  checkConditional: CheckConditional;
  itemSize: (item: Record<string, unknown>) => number;
};
const consumed = { write: 0, read: 0 };

function countCapacityUnits(): () => void {
  const original = dynaliteDb.addConsumedCapacity;
  const originalCheck = dynaliteDb.checkConditional;
  dynaliteDb.addConsumedCapacity = (data, isRead, newItem, oldItem) => {
    const total = original({ ...data, ReturnConsumedCapacity: 'TOTAL' }, isRead, newItem, oldItem) as { CapacityUnits: number };
    consumed[isRead ? 'read' : 'write'] += total.CapacityUnits;
    return original(data, isRead, newItem, oldItem);
  };
  dynaliteDb.checkConditional = (data, existingItem) => {
    const failed = originalCheck(data, existingItem);
    if (failed != null) consumed.write += existingItem === undefined ? 1 : Math.max(1, Math.ceil(dynaliteDb.itemSize(existingItem) / 1024));
    return failed;
  };
  return () => {
    dynaliteDb.addConsumedCapacity = original;
    dynaliteDb.checkConditional = originalCheck;
  };
}
const FUNCTIONS: readonly FunctionName[] = ['sns-ingest', 'http-ingest', 'dispatch', 'deliver'];

/** What one case cost per alert, before prices. */
interface Usage {
  alerts: number;
  readonly invocations: Record<FunctionName, number>;
  readonly billedMs: Record<FunctionName, number[]>;
  /** DynamoDB write and read request units (on-demand bills units, not calls). */
  writeUnits: number;
  readUnits: number;
  /** Billed SQS requests: the functions' sends (per 64 KiB chunk) plus the event source mappings' receive and delete per batch. */
  sqsRequests: number;
  dynamoWrites: number;
  dynamoReads: number;
  snsPublishes: number;
  deliveries: number;
}

function emptyUsage(): Usage {
  const perFunction = <T>(make: () => T): Record<FunctionName, T> => Object.fromEntries(FUNCTIONS.map((name) => [name, make()])) as Record<FunctionName, T>;
  return { alerts: 0, invocations: perFunction(() => 0), billedMs: perFunction((): number[] => []), sqsRequests: 0, writeUnits: 0, readUnits: 0, dynamoWrites: 0, dynamoReads: 0, snsPublishes: 0, deliveries: 0 };
}

/** Counters of the chain at one moment, to take differences around a round. */
function snapshot(chain: Chain): { durations: Record<FunctionName, number>; sqs: number; batches: number; dynamo: Record<string, number>; units: typeof consumed; delivered: number } {
  return {
    units: { ...consumed },
    durations: Object.fromEntries(FUNCTIONS.map((name) => [name, chain.functions[name].durations.length])) as Record<FunctionName, number>,
    sqs: chain.sqs.calls.length,
    batches: chain.batches.length,
    dynamo: { ...chain.dynamo.calls() },
    delivered: chain.webhook.requests.length + chain.slack.requests.length,
  };
}

/** SQS bills each 64 KiB of a request's payload as one request. */
function sqsBilledRequests(input: Record<string, unknown>): number {
  const entries = Array.isArray(input['Entries']) ? (input['Entries'] as { MessageBody?: string }[]) : [input as { MessageBody?: string }];
  const bytes = entries.reduce((sum, entry) => sum + Buffer.byteLength(entry.MessageBody ?? ''), 0);
  return Math.max(1, Math.ceil(bytes / SQS_CHUNK_BYTES));
}

async function measure(chain: Chain, usage: Usage, alerts: number, send: () => Promise<void>): Promise<void> {
  const before = snapshot(chain);
  await send();
  await chain.settle();
  const after = snapshot(chain);
  usage.alerts += alerts;
  for (const name of FUNCTIONS) {
    const durations = chain.functions[name].durations.slice(before.durations[name], after.durations[name]);
    usage.invocations[name] += durations.length;
    usage.billedMs[name].push(...durations.map((ms) => Math.ceil(ms)));
  }
  usage.sqsRequests += chain.sqs.calls.slice(before.sqs, after.sqs).reduce((sum, call) => sum + sqsBilledRequests(call.input), 0);
  // Lambda's pollers: the ReceiveMessage that returned the batch and the DeleteMessageBatch after it.
  usage.sqsRequests += 2 * (after.batches - before.batches);
  const delta = (operation: string): number => (after.dynamo[operation] ?? 0) - (before.dynamo[operation] ?? 0);
  usage.dynamoWrites += delta('UpdateItem') + delta('PutItem') + delta('DeleteItem') + 2 * delta('TransactWriteItems');
  usage.dynamoReads += delta('GetItem') + delta('Query');
  usage.writeUnits += after.units.write - before.units.write;
  usage.readUnits += after.units.read - before.units.read;
  usage.deliveries += after.delivered - before.delivered;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** GB-seconds per alert for one function in one case: invocations per alert × median billed ms × memory. */
function gbSecondsPerAlert(usage: Usage, name: FunctionName): number {
  if (usage.alerts === 0 || usage.invocations[name] === 0) return 0;
  return (usage.invocations[name] / usage.alerts) * (Math.ceil(median(usage.billedMs[name])) / 1000) * (DEFAULT_MEMORY_MB[name] / 1024);
}

/** US dollars per million alerts for one case, by service. */
function dollarsPerMillion(usage: Usage): { lambda: number; sqs: number; dynamo: number; sns: number } {
  const perAlert = (count: number): number => count / usage.alerts;
  const requests = FUNCTIONS.reduce((sum, name) => sum + perAlert(usage.invocations[name]), 0);
  const gbSeconds = FUNCTIONS.reduce((sum, name) => sum + gbSecondsPerAlert(usage, name), 0);
  return {
    lambda: requests * PRICES.lambdaArmPerMillionRequests + gbSeconds * 1e6 * PRICES.lambdaArmPerGbSecond,
    sqs: perAlert(usage.sqsRequests) * PRICES.sqsStandardPerMillionRequests,
    dynamo: perAlert(usage.writeUnits) * PRICES.dynamoOnDemandPerMillionWrites + perAlert(usage.readUnits) * PRICES.dynamoOnDemandPerMillionReads,
    sns: perAlert(usage.snsPublishes) * PRICES.snsPublishPerMillion,
  };
}

/** A CloudWatch alarm as SNS hands it to sns-ingest, renamed so that each one is a new incident. */
function alarmEvent(fixture: string, index: number): unknown {
  const renamed = fixture.replaceAll('prod-web-cpu-high', `prod-web-cpu-high-${String(index)}`);
  const event = JSON.parse(renamed) as { Records: { Sns: { MessageId: string } }[] };
  for (const record of event.Records) record.Sns.MessageId = randomUUID();
  return event;
}

export async function run(): Promise<BenchResult[]> {
  const alarmFixture = await readFile(join(import.meta.dirname, '..', 'test', 'fixtures', 'cloudwatch', 'lambda-sns-single-metric-alarm.json'), 'utf8');
  const restore = countCapacityUnits();
  const chain = await startChain();
  try {
    const fresh = emptyUsage();
    const repeated = emptyUsage();
    const alarms = emptyUsage();
    const accepted = async (payload: unknown): Promise<void> => {
      const answer = await chain.alertmanager(payload);
      if (answer.statusCode !== 202) throw new Error(`http-ingest answered ${String(answer.statusCode)}: ${answer.body}`);
    };
    const published = async (event: unknown): Promise<void> => {
      const outcome = await chain.publish(event);
      if (!outcome.ok) throw new Error(`sns-ingest failed: ${outcome.errorMessage}`);
    };
    // Round 0 warms every container (the cold start is not a per-alert cost); rounds 1.. are measured.
    for (let round = 0; round <= ROUNDS; round += 1) {
      const payload = alertGroup(GROUP_SIZE, round * GROUP_SIZE);
      const [newUsage, repeatUsage, alarmUsage] = round === 0 ? [emptyUsage(), emptyUsage(), emptyUsage()] : [fresh, repeated, alarms];
      await measure(chain, newUsage, GROUP_SIZE, () => accepted(payload));
      // The same group again: what Alertmanager re-sends every group_interval while the alerts fire.
      await measure(chain, repeatUsage, GROUP_SIZE, () => accepted(payload));
      await measure(chain, alarmUsage, 1, () => published(alarmEvent(alarmFixture, round)));
      alarmUsage.snsPublishes += 1;
    }
    if (fresh.deliveries !== CHANNELS * fresh.alerts) throw new Error(`expected ${String(CHANNELS * fresh.alerts)} notices for new alerts, got ${String(fresh.deliveries)}`);

    const results: BenchResult[] = [];
    const cases = [
      ['new alert', fresh],
      ['repeated alert', repeated],
    ] as const;
    for (const name of FUNCTIONS) {
      const all = [...fresh.billedMs[name], ...repeated.billedMs[name], ...alarms.billedMs[name]];
      const perCase = [...cases, ['CloudWatch alarm', alarms] as const]
        .filter(([, usage]) => usage.invocations[name] > 0)
        .map(([label, usage]) => `${label}: ${(usage.invocations[name] / usage.alerts).toFixed(2)} invocations/alert, median ${String(Math.ceil(median(usage.billedMs[name])))} ms`)
        .join('; ');
      results.push({
        group: 'cost',
        name: `${name} billed duration, warm (median)`,
        value: Math.ceil(median(all)),
        unit: 'ms',
        note: `${String(all.length)} invocations at ${String(DEFAULT_MEMORY_MB[name])} MB; ${perCase}`,
      });
    }
    const mixed = (pick: (usage: Usage) => number): number => NEW_SHARE * pick(fresh) + (1 - NEW_SHARE) * pick(repeated);
    const perAlertNote = (usage: Usage): string =>
      `${(usage.sqsRequests / usage.alerts).toFixed(2)} SQS requests, ${(usage.dynamoWrites / usage.alerts).toFixed(2)} DynamoDB writes (${(usage.writeUnits / usage.alerts).toFixed(2)} units), ${(usage.dynamoReads / usage.alerts).toFixed(2)} reads (${(usage.readUnits / usage.alerts).toFixed(2)} units), ${(FUNCTIONS.reduce((sum, name) => sum + usage.invocations[name], 0) / usage.alerts).toFixed(2)} Lambda invocations per alert`;
    const gbSecondsNote = (usage: Usage): string => FUNCTIONS.filter((name) => usage.invocations[name] > 0).map((name) => `${name} ${(gbSecondsPerAlert(usage, name) * 1e6).toFixed(0)}`).join(', ');
    const priced = (label: string, usage: Usage, scenario: string): void => {
      const dollars = dollarsPerMillion(usage);
      const total = dollars.lambda + dollars.sqs + dollars.dynamo + dollars.sns;
      results.push({
        group: 'cost',
        name: `${label}: USD per million alerts`,
        value: Math.round(total * 100) / 100,
        unit: 'USD',
        note: `${scenario}; Lambda ${dollars.lambda.toFixed(2)}, SQS ${dollars.sqs.toFixed(2)}, DynamoDB ${dollars.dynamo.toFixed(2)}, SNS ${dollars.sns.toFixed(2)}; ${perAlertNote(usage)}; GB-s per million alerts: ${gbSecondsNote(usage)}`,
      });
    };
    const group = `Alertmanager groups of ${String(GROUP_SIZE)} via http-ingest, ${String(CHANNELS)} channels`;
    priced('Alertmanager, new alerts', fresh, group);
    priced('Alertmanager, repeated alerts', repeated, `${group}, alerts already firing (no delivery)`);
    const mix = dollarsPerMillion(fresh);
    const again = dollarsPerMillion(repeated);
    const blended = (key: keyof typeof mix): number => NEW_SHARE * mix[key] + (1 - NEW_SHARE) * again[key];
    results.push({
      group: 'cost',
      name: `Alertmanager, ${String(NEW_SHARE * 100)}% new: USD per million alerts`,
      value: Math.round((blended('lambda') + blended('sqs') + blended('dynamo') + blended('sns')) * 100) / 100,
      unit: 'USD',
      note: `${group}; ${String(NEW_SHARE * 100)}% of alerts new, the rest repeats; Lambda ${blended('lambda').toFixed(2)}, SQS ${blended('sqs').toFixed(2)}, DynamoDB ${blended('dynamo').toFixed(2)}; ${mixed((usage) => usage.deliveries / usage.alerts).toFixed(2)} notices per alert`,
    });
    priced('CloudWatch alarms via SNS', alarms, `one alarm per SNS publish into sns-ingest (SNS → Lambda delivery free), ${String(CHANNELS)} channels`);
    results.push({
      group: 'cost',
      name: 'prices used',
      value: 0,
      unit: '',
      note: `list prices as published for ${PRICES.region} on ${PRICES.date}, to be checked: Lambda arm64 $${String(PRICES.lambdaArmPerMillionRequests)}/M requests + $${String(PRICES.lambdaArmPerGbSecond)}/GB-s (1 ms billing); SQS standard $${String(PRICES.sqsStandardPerMillionRequests)}/M requests (64 KiB chunks); DynamoDB on-demand $${String(PRICES.dynamoOnDemandPerMillionWrites)}/M write units, $${String(PRICES.dynamoOnDemandPerMillionReads)}/M read units (units sized per item as DynamoDB does; failed conditional writes included); SNS $${String(PRICES.snsPublishPerMillion)}/M publishes. No free tier; idle SQS long polling by the event source mappings is a fixed monthly cost, not per alert. Durations measured on a shared 2-core x86 machine, not Graviton`,
    });
    return results;
  } finally {
    await chain.close();
    restore();
  }
}
