// `node bench/compare-normalize.ts <other checkout> [fixtures dir]`: is this checkout's normalize
// as fast as another's (a base commit in a temporary worktree)? Both are loaded into one process
// and fed the same payloads (the fixtures both accept) in short slices, back to back and in
// alternating order, timed in CPU time rather than wall time: on a machine shared with other jobs,
// waiting for a core is no one's cost, and a change of load hits both alike. Prints, per source,
// payloads per CPU-second of each and the median of the paired ratios (this / other).
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SOURCE_KINDS } from '../shared/incident.ts';
import { normalizeBytes } from '../shared/normalize.ts';

type Normalize = typeof normalizeBytes;

const [otherDir, fixturesArg] = process.argv.slice(2);
if (otherDir === undefined) {
  process.stderr.write('usage: node bench/compare-normalize.ts <other checkout> [fixtures dir]\n');
  process.exit(2);
}
const other = (await import(join(resolve(otherDir), 'shared', 'normalize.ts'))) as { normalizeBytes: Normalize };
const fixtures = resolve(fixturesArg ?? join(import.meta.dirname, '..', 'test', 'fixtures'));
const PAIRS = Number(process.env.PAIRS ?? 61);
const SLICE_MS = 100;
const receivedAt = new Date();

/** Payloads per CPU-second of `fn` over `inputs`, run round-robin for about `ms` of wall time. */
function rate(fn: (input: Buffer) => unknown, inputs: readonly Buffer[], ms: number): number {
  let index = 0;
  let count = 0;
  const end = performance.now() + ms;
  const start = process.cpuUsage();
  while (performance.now() < end) {
    for (let batch = 0; batch < 16; batch += 1) fn(inputs[index++ % inputs.length]!);
    count += 16;
  }
  const used = process.cpuUsage(start);
  return count / ((used.user + used.system) / 1e6);
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

for (const kind of SOURCE_KINDS) {
  let files: string[];
  try {
    files = readdirSync(join(fixtures, kind)).filter((name) => name.endsWith('.json')).sort();
  } catch {
    continue;
  }
  const mine = (bytes: Buffer): unknown => normalizeBytes(bytes, { receivedAt, source: kind });
  const theirs = (bytes: Buffer): unknown => other.normalizeBytes(bytes, { receivedAt, source: kind });
  const inputs = files.map((file) => readFileSync(join(fixtures, kind, file))).filter((bytes) => {
    try {
      mine(bytes);
      theirs(bytes);
      return true;
    } catch {
      return false; // a payload either side refuses (or a source the other does not know) is not compared
    }
  });
  if (inputs.length === 0) continue;
  rate(mine, inputs, 300);
  rate(theirs, inputs, 300);
  const ours: number[] = [];
  const base: number[] = [];
  const ratios: number[] = [];
  for (let pair = 0; pair < PAIRS; pair += 1) {
    const [a, b] = pair % 2 === 0 ? [rate(mine, inputs, SLICE_MS), rate(theirs, inputs, SLICE_MS)] : [Number.NaN, Number.NaN];
    const theirsRate = pair % 2 === 0 ? b : rate(theirs, inputs, SLICE_MS);
    const mineRate = pair % 2 === 0 ? a : rate(mine, inputs, SLICE_MS);
    ours.push(mineRate);
    base.push(theirsRate);
    ratios.push(mineRate / theirsRate);
  }
  const line = [
    kind.padEnd(15),
    `${String(inputs.length).padStart(3)} payloads`,
    `other ${Math.round(median(base)).toLocaleString('en-US').padStart(7)}/s`,
    `this ${Math.round(median(ours)).toLocaleString('en-US').padStart(7)}/s`,
    `this/other ${median(ratios).toFixed(2)}`,
  ];
  process.stdout.write(`${line.join('  ')}\n`);
}
