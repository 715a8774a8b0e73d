// Dedup: decisions/s with the in-process store, and conditional writes/s against dynalite on
// loopback (real DynamoDB is network-bound; this measures the store's own overhead plus a
// local DynamoDB's, not AWS's latency). Starts and stops its own dynalite.
import { DynamoDbIncidentStore, MemoryIncidentStore, DEFAULT_DEDUP_SETTINGS } from '../shared/dedup/index.ts';
import type { Incident } from '../shared/incident.ts';
import { countCommands, startDynalite } from '../test/helpers/dynalite.ts';
import type { BenchResult } from './harness.ts';

const FINGERPRINTS = 1_000;
const T0 = Date.parse('2026-11-25T10:00:00.000Z');
const minute = (n: number): string => new Date(T0 + n * 60_000).toISOString();

/**
 * The `index`-th delivery: fingerprints in turn; per fingerprint, rounds go opened → repeat →
 * resolved → opened …, each a real (non-stale) event, so each costs exactly one write.
 */
function delivery(index: number): { incident: Incident; now: Date } {
  const fingerprint = index % FINGERPRINTS;
  const round = Math.floor(index / FINGERPRINTS);
  const episodeStart = round - (round % 3);
  const resolved = round % 3 === 2;
  return {
    now: new Date(T0 + round * 60_000),
    incident: {
      schemaVersion: 1,
      fingerprint: `alertmanager:${fingerprint.toString(16).padStart(32, '0')}`,
      status: resolved ? 'resolved' : 'firing',
      severity: 'warning',
      title: `Bench alert ${String(fingerprint)}`,
      source: { kind: 'alertmanager', cloud: 'other', rule: 'Bench' },
      startsAt: minute(episodeStart),
      ...(resolved ? { endsAt: minute(round) } : {}),
      labels: { alertname: 'Bench', instance: `host-${String(fingerprint)}` },
      links: [],
    },
  };
}

/** Applies deliveries [from, from + count) with `concurrency` in flight; returns per-second rate. */
async function drive(apply: (incident: Incident, now: Date) => Promise<unknown>, from: number, count: number, concurrency: number): Promise<number> {
  const started = performance.now();
  let next = from;
  const end = from + count;
  const worker = async (): Promise<void> => {
    while (next < end) {
      const { incident, now } = delivery(next++);
      await apply(incident, now);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return count / ((performance.now() - started) / 1000);
}

export async function run(): Promise<BenchResult[]> {
  const memory = new MemoryIncidentStore({ settings: DEFAULT_DEDUP_SETTINGS });
  await drive((incident, now) => memory.apply(incident, now), 0, 20_000, 1); // warm-up
  const memoryRate = await drive((incident, now) => memory.apply(incident, now), 20_000, 200_000, 1);

  const dynalite = await startDynalite();
  try {
    await dynalite.createTable('tocsin-bench');
    const counts = countCommands(dynalite.client);
    const store = new DynamoDbIncidentStore({ client: dynalite.client, tableName: 'tocsin-bench', settings: DEFAULT_DEDUP_SETTINGS });
    const apply = (incident: Incident, now: Date): Promise<unknown> => store.apply(incident, now);
    await drive(apply, 0, 1_000, 16); // warm-up: creates every record
    counts.reset();
    const applied = 6_000;
    const applyRate = await drive(apply, 1_000, applied, 16);
    const { UpdateItemCommand: writes = 0, GetItemCommand: reads = 0 } = counts.snapshot();
    return [
      { group: 'dedup', name: 'in-process store decisions/s', value: Math.round(memoryRate), unit: 'ops/s', note: '1,000 fingerprints, opened/repeat/resolved cycle' },
      {
        group: 'dedup',
        name: 'dynalite conditional writes/s',
        value: Math.round((applyRate * writes) / applied),
        unit: 'ops/s',
        note: `UpdateItem, 16 in flight, loopback; ${String(writes)} writes and ${String(reads)} reads for ${String(applied)} incidents`,
      },
    ];
  } finally {
    await dynalite.close();
  }
}
