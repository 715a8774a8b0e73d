// The `tocsin` command as a user runs it: a real child process, real files, real signals.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentSchema } from '../../shared/incident.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'functions', 'local', 'tocsin.js');
const run = (args: string[], input?: string) => spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, input, encoding: 'utf8' });

describe('tocsin normalize', () => {
  it.each([
    'cloudwatch/lambda-sns-single-metric-alarm.json',
    'azure-monitor/metric-static-fired.json',
    'gcp-monitoring/metric-open.json',
    'alertmanager/firing-group.json',
    'grafana/firing-group.json',
  ])('prints schema-valid incidents for %s and exits 0', (fixture) => {
    const result = run(['normalize', join('test', 'fixtures', fixture)]);
    expect(result.status).toBe(0);
    const incidents = JSON.parse(result.stdout) as unknown[];
    expect(incidents.length).toBeGreaterThan(0);
    for (const incident of incidents) expect(incidentSchema.safeParse(incident).success).toBe(true);
  });

  it('reads standard input with -, and --source forces a source', () => {
    const result = run(['normalize', '-', '--source', 'alertmanager'], '{"version":"4","alerts":[]}');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([]);
  });

  it('exits 2 for a non-alert JSON file and says, per source, why it did not match', () => {
    const result = run(['normalize', '-'], '{"hello":"world"}');
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toBe('tocsin: payload not recognised by any source');
    expect(lines.slice(1).map((line) => line.trim().split(':')[0])).toEqual(['cloudwatch', 'azure-monitor', 'gcp-monitoring', 'grafana', 'alertmanager', 'signalfx']);
  });

  it('exits 2 with usage for an unknown source or command', () => {
    expect(run(['normalize', '-', '--source', 'nagios'], '{}').stderr).toContain('unknown --source "nagios"');
    const unknown = run(['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('Usage: tocsin <command>');
  });
});

describe('tocsin start', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tocsin-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a bad config with exit 2 and the path of the mistake', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'channels:\n  audit: { type: webhook, url: "http://127.0.0.1:9/h" }\nroutes:\n  - channels: [audit]\n  - channels: [ops]\n');
    const result = run(['start', '--config', file, '--port', '0', '--data', join(dir, 'data-bad-config')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('routes[1].channels[0]: unknown channel "ops"');
  });

  it('prints the banner, serves, and on SIGTERM drains and exits 0', async () => {
    const child = spawn(process.execPath, [CLI, 'start', '--port', '0', '--data', join(dir, 'data')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`no banner: ${out}`)); }, 15_000);
      child.stdout.on('data', () => {
        const match = /tocsin listening on (http:\/\/\S+)/.exec(out);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    expect(out).toContain('config:    embedded default');
    expect(out).toContain(`POST ${url}/v1/ingest/alertmanager`);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toMatch(/tocsin: stopped; kept in .*tocsin\.db: 0 incident\(s\) to dispatch, 0 delivery\(ies\) pending/);
  }, 30_000);
});
