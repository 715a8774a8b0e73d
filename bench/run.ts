// `npm run bench`: every benchmark, printed as a table and written to bench/results.json.
// Not part of `npm test`: speed goals live here, never in timed tests.
import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { BenchResult } from './harness.ts';

const suites: Record<string, () => Promise<{ run: () => Promise<BenchResult[]> }>> = {
  normalize: () => import('./normalize.ts'),
  dedup: () => import('./dedup.ts'),
  server: () => import('./server.ts'),
  bundles: () => import('./bundles.ts'),
  'aws-calls': () => import('./aws-calls.ts'),
  footprint: () => import('./footprint.ts'),
  cost: () => import('./cost.ts'),
};

interface ResultsFile {
  date: string;
  node: string;
  cpus: number;
  /** When each suite last ran: `npm run bench -- normalize` refreshes that suite only. */
  suites?: Record<string, string>;
  results: BenchResult[];
}

async function previousResults(file: string): Promise<ResultsFile | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as ResultsFile;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const unknown = only.filter((name) => !(name in suites));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown suite ${unknown.join(', ')}; suites: ${Object.keys(suites).join(', ')}\n`);
    process.exit(2);
  }
  const results: BenchResult[] = [];
  const ran: string[] = [];
  const started = performance.now();
  for (const [name, load] of Object.entries(suites)) {
    if (only.length > 0 && !only.includes(name)) continue;
    process.stderr.write(`bench: ${name}…\n`);
    const suiteStart = performance.now();
    const suiteResults = await (await load()).run();
    results.push(...suiteResults);
    ran.push(name);
    process.stderr.write(`bench: ${name} done in ${((performance.now() - suiteStart) / 1000).toFixed(1)} s\n`);
  }
  const width = Math.max(...results.map((result) => `${result.group} ${result.name}`.length), 10);
  const lines = results.map((result) => {
    const label = `${result.group} ${result.name}`.padEnd(width);
    const value = result.value.toLocaleString('en-US', { maximumFractionDigits: 2 }).padStart(14);
    return `${label}  ${value} ${result.unit.padEnd(8)} ${result.note ?? ''}`.trimEnd();
  });
  process.stdout.write(`${lines.join('\n')}\n`);
  const file = join(import.meta.dirname, 'results.json');
  // A partial run replaces its own suites' figures and keeps the others from the last run.
  const date = new Date().toISOString();
  const previous = only.length > 0 ? await previousResults(file) : undefined;
  const kept = (previous?.results ?? []).filter((result) => !ran.includes(result.group));
  const order = Object.keys(suites);
  const suiteDates: Record<string, string> = {};
  for (const name of order) {
    const when = ran.includes(name) ? date : previous?.suites?.[name];
    if (when !== undefined) suiteDates[name] = when;
  }
  const merged = [...kept, ...results].sort((a, b) => order.indexOf(a.group) - order.indexOf(b.group));
  const output: ResultsFile = { date, node: process.version, cpus: cpus().length, suites: suiteDates, results: merged };
  await writeFile(file, `${JSON.stringify(output, null, 2)}\n`);
  process.stderr.write(`bench: wrote ${file} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
}

await main();
