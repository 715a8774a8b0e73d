// `npm start` runs tocsin bundled (functions/package.ts --cloud local): the bundle starts from a
// folder of its own, takes an alert, tells the console channel, and stops on SIGTERM with 0.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerBody } from '../../bench/alert-body.ts';
import { LOCAL_BUNDLE, packageAll } from '../../functions/package.ts';
import { waitFor } from '../helpers/cli-process.ts';

describe('the local bundle npm start runs', () => {
  let dir: string;
  let entry: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tocsin-local-bundle-'));
    const [result] = await packageAll(join(dir, 'out'), [LOCAL_BUNDLE]);
    entry = result?.file ?? '';
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts, ingests, delivers to the console, and stops cleanly', async () => {
    // Outside the repository: the bundle needs nothing from node_modules.
    const child = spawn(process.execPath, [entry, 'start', '--port', '0', '--data', join(dir, 'data')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = once(child, 'exit');
    try {
      await waitFor(() => /tocsin listening on http:\/\/\S+/.test(output), 30_000, 'the banner');
      const url = /tocsin listening on (http:\/\/\S+)/.exec(output)?.[1] ?? '';
      const response = await fetch(`${url}/v1/ingest/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: alertmanagerBody('LocalBundle', Date.now()) });
      expect(response.status).toBe(202);
      await waitFor(() => /OPENED\s+\[WARNING\] LocalBundle/.test(output), 10_000, 'the console notice');
      expect(output).not.toMatch(/ExperimentalWarning/);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await exited) as [number | null];
    expect(code, output).toBe(0);
  }, 60_000);
});
