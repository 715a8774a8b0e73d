// Debian's prometheus-alertmanager, started for a test on 127.0.0.1 with clustering off and a
// throwaway storage folder (.ci/run installs the package when it is missing).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ALERTMANAGER_BIN = process.env['ALERTMANAGER_BIN'] ?? 'prometheus-alertmanager';

export interface RunningAlertmanager {
  readonly url: string;
  readonly pid: number | undefined;
  /** POSTs alerts to Alertmanager's v2 API, as Prometheus would. */
  postAlerts(alerts: readonly PostableAlert[]): Promise<void>;
  readonly output: () => string;
  stop(): Promise<void>;
}

export interface PostableAlert {
  readonly labels: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly startsAt?: string;
  readonly endsAt?: string;
  readonly generatorURL?: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => { resolve(port); });
    });
  });
}

async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`alertmanager exited with ${String(child.exitCode)}:\n${output()}`);
    try {
      const response = await fetch(`${url}/-/ready`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`alertmanager did not become ready:\n${output()}`);
}

/**
 * `webhookUrl` receives every notification; intervals are short so repeats happen in seconds.
 * Without one, alerts go to a receiver with no integrations (the benchmark's null receiver).
 */
export async function startAlertmanager(webhookUrl?: string): Promise<RunningAlertmanager> {
  const dir = await mkdtemp(join(tmpdir(), 'tocsin-am-'));
  const config = webhookUrl === undefined ? 'route:\n  receiver: none\nreceivers:\n  - name: none\n' : `route:
  receiver: tocsin
  group_by: ['alertname', 'instance']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 2s
receivers:
  - name: tocsin
    webhook_configs:
      - url: '${webhookUrl}'
        send_resolved: true
`;
  await writeFile(join(dir, 'alertmanager.yml'), config);
  const port = await freePort();
  const child = spawn(
    ALERTMANAGER_BIN,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${String(port)}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const url = `http://127.0.0.1:${String(port)}`;
  await waitReady(url, child, () => log);
  return {
    url,
    pid: child.pid,
    output: () => log,
    async postAlerts(alerts) {
      const response = await fetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts),
      });
      if (!response.ok) throw new Error(`alertmanager refused the alerts: ${String(response.status)} ${await response.text()}`);
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
