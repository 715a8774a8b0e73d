// normalize throughput per source, in one process, against the floor: JSON.parse of the same
// bytes. Goal: normalize (parse + validate + map) costs at most 2x JSON.parse.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SOURCE_KINDS } from '../shared/incident.ts';
import { normalizeBytes } from '../shared/normalize.ts';
import type { BenchResult } from './harness.ts';

const FIXTURES = join(import.meta.dirname, '..', 'test', 'fixtures');

/** Calls `fn` over `inputs` round-robin for about `ms`; returns calls per second (sync, no await per call). */
function rate(inputs: readonly Buffer[], fn: (input: Buffer) => unknown, ms: number): number {
  const warmUntil = performance.now() + ms / 5;
  let index = 0;
  while (performance.now() < warmUntil) fn(inputs[index++ % inputs.length]!);
  let count = 0;
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    for (let batch = 0; batch < 64; batch += 1) fn(inputs[(index + batch) % inputs.length]!);
    index += 64;
    count += 64;
  }
  return count / ((performance.now() - start) / 1000);
}

export async function run(ms = 1_000): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const receivedAt = new Date();
  for (const kind of SOURCE_KINDS) {
    const dir = join(FIXTURES, kind);
    const files = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
    const inputs: Buffer[] = [];
    let alerts = 0;
    for (const file of files) {
      const bytes = await readFile(join(dir, file));
      try {
        alerts += normalizeBytes(bytes, { receivedAt, source: kind }).incidents.length;
        inputs.push(bytes);
      } catch {
        // Fixtures of rejected payloads are not part of the throughput figure.
      }
    }
    if (inputs.length === 0) continue;
    const alertsPerPayload = alerts / inputs.length;
    const normalizeRate = rate(inputs, (bytes) => normalizeBytes(bytes, { receivedAt, source: kind }), ms);
    const parseRate = rate(inputs, (bytes) => JSON.parse(bytes.toString('utf8')) as unknown, ms);
    results.push(
      { group: 'normalize', name: `${kind} alerts/s`, value: Math.round(normalizeRate * alertsPerPayload), unit: 'alerts/s', note: `${String(inputs.length)} fixtures` },
      { group: 'normalize', name: `${kind} cost vs JSON.parse`, value: Number((parseRate / normalizeRate).toFixed(2)), unit: 'x', note: 'goal ≤ 2x' },
    );
  }
  return results;
}
