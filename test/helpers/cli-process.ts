// The `tocsin` command as a user runs it, for the fault tests: a real child process started
// through the package's bin (functions/local/tocsin.js), its output captured, its URL read from
// the banner; and a webhook receiver that counts what it answered 2xx per delivery id and can be
// told to fail, hang, or work.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'functions', 'local', 'tocsin.js');

export interface CliProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>;
}

export interface RunningCli extends CliProcess {
  readonly url: string;
}

/** Spawns `tocsin ARGS`; does not wait for anything. */
export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve(code ?? signal ?? 'unknown');
    });
  });
  return { child, output: () => text, exited };
}

/** Spawns `tocsin start ARGS --port 0` and waits for the banner. */
export async function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<RunningCli> {
  const process_ = spawnCli(['start', '--port', '0', ...args], env);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no banner within ${String(timeoutMs)} ms:\n${process_.output()}`));
    }, timeoutMs);
    const look = (): void => {
      const match = /tocsin listening on (http:\/\/\S+)/.exec(process_.output());
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    process_.child.stdout.on('data', look);
    void process_.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${String(code)} before listening:\n${process_.output()}`));
    });
  });
  return { ...process_, url };
}

export type ReceiverMode = 'ok' | 'fail' | 'slow-fail';

export interface ReceivedNotice {
  readonly deliveryId: string;
  readonly event: string;
  readonly fingerprint: string;
  readonly status: number;
  /** The notice's `state` (acknowledged by, silenced until, reminder), when it had one. */
  readonly state?: Record<string, unknown> | undefined;
}

export interface CountingReceiver {
  readonly url: string;
  mode: ReceiverMode;
  /** Every request answered, in order, with the status it was answered. */
  readonly requests: ReceivedNotice[];
  /** Requests that have arrived (answered or not yet). */
  arrivals: number;
  /** 2xx answers per delivery id. */
  successes(): Map<string, ReceivedNotice[]>;
  close(): Promise<void>;
}

/** A webhook receiver: 200 in `ok` mode, 500 in `fail`, 500 after 1.5 s in `slow-fail`. */
export async function startCountingReceiver(): Promise<CountingReceiver> {
  const requests: ReceivedNotice[] = [];
  const receiver = { mode: 'ok' as ReceiverMode, arrivals: 0 };
  const server: Server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      receiver.arrivals += 1;
      const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { event: string; incident: { fingerprint: string }; state?: Record<string, unknown> };
      const record = (status: number): void => {
        requests.push({ deliveryId: header(request.headers, 'x-tocsin-delivery-id'), event: body.event, fingerprint: body.incident.fingerprint, status, state: body.state });
      };
      switch (receiver.mode) {
        case 'ok':
          record(200);
          response.writeHead(200).end();
          return;
        case 'fail':
          record(500);
          response.writeHead(500).end('receiver down');
          return;
        case 'slow-fail':
          setTimeout(() => {
            record(500);
            if (!response.destroyed) response.writeHead(500).end('receiver down');
          }, 1_500).unref();
          return;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${String(port)}`,
    requests,
    successes() {
      const byId = new Map<string, ReceivedNotice[]>();
      for (const notice of requests) {
        if (notice.status >= 300) continue;
        byId.set(notice.deliveryId, [...(byId.get(notice.deliveryId) ?? []), notice]);
      }
      return byId;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  });
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

/** An Alertmanager webhook body with one alert per name. */
export function alertmanagerGroup(names: readonly string[], status: 'firing' | 'resolved', startsAt: string, endsAt?: string): string {
  return JSON.stringify({
    version: '4',
    groupKey: `{}:{batch="${names[0] ?? ''}"}`,
    truncatedAlerts: 0,
    status,
    receiver: 'tocsin',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.com:9093',
    alerts: names.map((name) => ({
      status,
      labels: { alertname: 'DurabilityProbe', instance: name, severity: 'warning' },
      annotations: { summary: `probe ${name}` },
      startsAt,
      endsAt: endsAt ?? '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example.com/graph',
    })),
  });
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A loopback URL nothing listens on (a port just freed), for "the server is not running". */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  return `http://127.0.0.1:${String(port)}`;
}
