// Per-function bundle size and module init time: `npm run package` into a temp folder, then
// import each bundle in a fresh Node process (what a cold start pays before the handler runs).
// Size is what a cold start loads: index.mjs and the chunks it imports statically; the chunks
// loaded on demand (S3, the email and SMS clients, nodemailer, YAML) are reported apart.
// Init is given as wall time and as the process's CPU time for the import: on a busy machine
// the wall time mostly measures the wait for a core, the CPU time much less so.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageAll, type BundleResult } from '../functions/package.ts';
import type { BenchResult } from './harness.ts';

const ROOT = join(import.meta.dirname, '..');
const INIT_RUNS = 5;

export interface InitTime {
  /** Median wall time of `import(file)`, ms. */
  readonly wallMs: number;
  /** Median CPU time (user + system) the import took, ms. */
  readonly cpuMs: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/** Median import time over INIT_RUNS fresh processes. */
export function initTime(file: string, runs = INIT_RUNS): InitTime {
  const script = [
    'const cpu = process.cpuUsage(); const t = performance.now();',
    `await import(${JSON.stringify(pathToFileURL(file).href)});`,
    'const wall = performance.now() - t; const used = process.cpuUsage(cpu);',
    'process.stdout.write(JSON.stringify({ wall, cpu: (used.user + used.system) / 1000 }));',
  ].join(' ');
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      // Handlers read their settings lazily; these only keep SDK clients from looking for a region.
      env: { PATH: process.env['PATH'] ?? '', AWS_REGION: 'eu-west-1' },
    });
    if (result.status !== 0) return { wallMs: Number.NaN, cpuMs: Number.NaN };
    const measured = JSON.parse(result.stdout) as { wall: number; cpu: number };
    wall.push(measured.wall);
    cpu.push(measured.cpu);
  }
  return { wallMs: median(wall), cpuMs: median(cpu) };
}

export function bundleResults(bundles: readonly BundleResult[], label = ''): BenchResult[] {
  const results: BenchResult[] = [];
  for (const bundle of bundles) {
    const name = `${bundle.cloud}/${bundle.name}${label}`;
    const init = initTime(bundle.file);
    const onDemand = Math.round((bundle.totalBytes - bundle.startBytes) / 1024);
    results.push(
      { group: 'bundles', name: `${name} size`, value: Math.round(bundle.startBytes / 1024), unit: 'KiB', note: `loaded at start; ${String(onDemand)} KiB more in chunks loaded on demand` },
      { group: 'bundles', name: `${name} module init`, value: Number(init.wallMs.toFixed(1)), unit: 'ms', note: `median of ${String(INIT_RUNS)} fresh processes` },
      { group: 'bundles', name: `${name} module init CPU`, value: Number(init.cpuMs.toFixed(1)), unit: 'ms', note: 'user + system of the import, same runs' },
    );
  }
  return results;
}

export async function run(): Promise<BenchResult[]> {
  // Inside the repository, so the Azure and GCP bundles' externals (@azure/functions, the
  // functions framework) resolve from node_modules, as the cloud installs them.
  await mkdir(join(ROOT, 'dist'), { recursive: true });
  const out = await mkdtemp(join(ROOT, 'dist', 'bench-'));
  try {
    return bundleResults(await packageAll(out));
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
