// Per-function bundle size and module init time: `npm run package` into a temp folder, then
// import each bundle in a fresh Node process (what a cold start pays before the handler runs).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchResult } from './harness.ts';

const ROOT = join(import.meta.dirname, '..');
const INIT_RUNS = 5;

/** Median wall time of `import(file)` in fresh processes, in ms. */
function initTime(file: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const times: number[] = [];
  for (let run = 0; run < INIT_RUNS; run += 1) {
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      // Handlers read their settings lazily; these only keep SDK clients from looking for a region.
      env: { PATH: process.env['PATH'] ?? '', AWS_REGION: 'eu-west-1' },
    });
    if (result.status !== 0) return Number.NaN;
    times.push(Number(result.stdout));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

export async function run(): Promise<BenchResult[]> {
  // Inside the repository, so the Azure and GCP bundles' externals (@azure/functions, the
  // functions framework) resolve from node_modules, as the cloud installs them.
  await mkdir(join(ROOT, 'dist'), { recursive: true });
  const out = await mkdtemp(join(ROOT, 'dist', 'bench-'));
  try {
    execFileSync(process.execPath, [join(ROOT, 'functions', 'package.ts'), '--out', out], { cwd: ROOT, stdio: 'ignore' });
    const results: BenchResult[] = [];
    for (const cloud of (await readdir(out)).sort()) {
      for (const fn of (await readdir(join(out, cloud))).sort()) {
        const file = join(out, cloud, fn, 'index.mjs');
        const size = (await stat(file)).size;
        results.push(
          { group: 'bundles', name: `${cloud}/${fn} size`, value: Math.round(size / 1024), unit: 'KiB' },
          { group: 'bundles', name: `${cloud}/${fn} module init`, value: Number(initTime(file).toFixed(1)), unit: 'ms', note: `median of ${String(INIT_RUNS)} fresh processes` },
        );
      }
    }
    return results;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
