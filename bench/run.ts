// `npm run bench`: every benchmark, printed as a table and written to bench/results.json.
// Not part of `npm test`: speed goals live here, never in timed tests.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchResult } from './harness.ts';

const suites: Record<string, () => Promise<{ run: () => Promise<BenchResult[]> }>> = {
  normalize: () => import('./normalize.ts'),
  dedup: () => import('./dedup.ts'),
  server: () => import('./server.ts'),
  bundles: () => import('./bundles.ts'),
};

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const results: BenchResult[] = [];
  const started = performance.now();
  for (const [name, load] of Object.entries(suites)) {
    if (only.length > 0 && !only.includes(name)) continue;
    process.stderr.write(`bench: ${name}…\n`);
    const suiteStart = performance.now();
    const suiteResults = await (await load()).run();
    results.push(...suiteResults);
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
  await writeFile(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: (await import('node:os')).cpus().length, results }, null, 2)}\n`,
  );
  process.stderr.write(`bench: wrote ${file} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
}

await main();
