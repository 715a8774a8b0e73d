// Dedup: decisions/s with the in-process store, and conditional writes/s against dynalite on
// loopback (real DynamoDB is network-bound; this measures the store's own overhead plus a
// local DynamoDB's, not AWS's latency).
import { DynamoDbIncidentStore, MemoryIncidentStore, DEFAULT_DEDUP_SETTINGS } from '../shared/dedup/index.ts';
import type { Incident } from '../shared/incident.ts';
import { startDynalite } from '../test/helpers/dynalite.ts';
import type { BenchResult } from './harness.ts';

function incident(index: number, status: 'firing' | 'resolved'): Incident {
  return {
    schemaVersion: 1,
    fingerprint: `alertmanager:${index.toString(16).padStart(32, '0')}`,
    status,
    severity: 'warning',
    title: `Bench alert ${String(index)}`,
    source: { kind: 'alertmanager', cloud: 'other', rule: 'Bench' },
    startsAt: '2026-11-25T10:00:00.000Z',
    ...(status === 'resolved' ? { endsAt: '2026-11-25T10:10:00.000Z' } : {}),
    labels: { alertname: 'Bench', instance: `host-${String(index)}` },
    links: [],
  };
}

/** Applies `count` incidents (1,000 fingerprints, firing/repeat/resolve mix) with `concurrency` in flight. */
async function drive(apply: (incident: Incident) => Promise<unknown>, count: number, concurrency: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      const fingerprint = index % 1_000;
      const round = Math.floor(index / 1_000);
      await apply(incident(fingerprint, round % 3 === 2 ? 'resolved' : 'firing'));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return count / ((performance.now() - started) / 1000);
}

export async function run(): Promise<BenchResult[]> {
  const now = new Date('2026-11-25T10:20:00.000Z');
  const memory = new MemoryIncidentStore({ settings: DEFAULT_DEDUP_SETTINGS });
  await drive((item) => memory.apply(item, now), 20_000, 1); // warm-up
  const memoryRate = await drive((item) => memory.apply(item, now), 200_000, 1);

  const dynalite = await startDynalite();
  try {
    await dynalite.createTable('tocsin-bench');
    const store = new DynamoDbIncidentStore({ client: dynalite.client, tableName: 'tocsin-bench', settings: DEFAULT_DEDUP_SETTINGS });
    await drive((item) => store.apply(item, now), 500, 8); // warm-up
    const dynamoRate = await drive((item) => store.apply(item, now), 4_000, 16);
    return [
      { group: 'dedup', name: 'in-process decisions/s', value: Math.round(memoryRate), unit: 'ops/s', note: '1,000 fingerprints, firing/repeat/resolve mix' },
      { group: 'dedup', name: 'dynalite conditional writes/s', value: Math.round(dynamoRate), unit: 'ops/s', note: 'one UpdateItem per incident, 16 in flight, loopback' },
    ];
  } finally {
    await dynalite.close();
  }
}
