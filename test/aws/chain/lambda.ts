// A Lambda function of the chain: a packaged bundle run in containers (one `node` process each,
// see lambda-runtime.ts) with the function's own environment. An invocation takes an idle
// container or starts a new one (a cold start), as Lambda scales out; a container runs one
// invocation at a time and stays warm for the next. An invocation that outlives the function's
// timeout is cut off (its container killed), as Lambda does. The log is every line the
// containers print, kept per function in order.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { VirtualClock } from './clock.ts';

const RUNTIME = join(import.meta.dirname, 'lambda-runtime.ts');

export type InvokeOutcome<T> = { readonly ok: true; readonly result: T } | { readonly ok: false; readonly errorType: string; readonly errorMessage: string };

interface Container {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  busy: boolean;
  pending: ((outcome: InvokeOutcome<unknown>) => void) | undefined;
  /** Request ids whose END line has arrived, per stream (stdout, stderr). */
  readonly ended: [Set<string>, Set<string>];
  onEnd: (() => void) | undefined;
}

interface RuntimeMessage {
  readonly type: 'ready' | 'init-error' | 'result' | 'error';
  readonly result?: unknown;
  readonly errorType?: string;
  readonly errorMessage?: string;
  /** How long the handler ran (result and error only). */
  readonly durationMs?: number;
}

export interface LambdaFunctionOptions {
  readonly name: string;
  readonly bundle: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly clock: VirtualClock;
  /** Where the runtime sends fetches to https://sns.<region>.amazonaws.com (certificates, confirmations). */
  readonly snsEndpoint?: string;
}

export class LambdaFunction {
  readonly name: string;
  readonly #options: LambdaFunctionOptions;
  readonly #containers = new Set<Container>();
  readonly #lines: string[] = [];
  #invocations = 0;
  #coldStarts = 0;
  readonly #durations: number[] = [];

  constructor(options: LambdaFunctionOptions) {
    this.name = options.name;
    this.#options = options;
  }

  /** Runs one invocation; a thrown handler error is an outcome, not a rejection. */
  async invoke<T = unknown>(event: unknown): Promise<InvokeOutcome<T>> {
    const container = this.#idleContainer() ?? this.#start();
    container.busy = true;
    try {
      await container.ready;
      this.#invocations += 1;
      const outcome = await new Promise<InvokeOutcome<unknown>>((resolve) => {
        const timer = setTimeout(() => {
          this.#lines.push(JSON.stringify({ level: 'ERROR', message: `Task timed out after ${String(this.#options.timeoutMs / 1000)} seconds`, function: this.name }));
          void this.#kill(container);
          resolve({ ok: false, errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${String(this.#options.timeoutMs / 1000)} seconds` });
        }, this.#options.timeoutMs);
        const requestId = randomUUID();
        container.pending = (result) => {
          clearTimeout(timer);
          if (!result.ok && result.errorType === 'Runtime.ExitError') {
            resolve(result);
            return;
          }
          // Resolve once the log lines printed during the invocation have all been read.
          const settle = (): void => {
            if (container.ended.every((ids) => ids.has(requestId))) resolve(result);
          };
          container.onEnd = settle;
          settle();
        };
        container.child.send({
          type: 'invoke',
          id: this.#invocations,
          event,
          functionName: this.name,
          requestId,
          timeoutMs: this.#options.timeoutMs,
          clockOffsetMs: this.#options.clock.offsetMs,
        });
      });
      return outcome as InvokeOutcome<T>;
    } finally {
      container.busy = false;
      container.pending = undefined;
      container.onEnd = undefined;
    }
  }

  /** Every line the function printed (its CloudWatch log), across containers. */
  lines(): readonly string[] {
    return this.#lines;
  }

  /** The JSON log lines (Powertools logs and EMF metrics). */
  records(): Record<string, unknown>[] {
    return this.#lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** The structured log entries (not the EMF metric lines). */
  logs(): Record<string, unknown>[] {
    return this.records().filter((record) => record['_aws'] === undefined);
  }

  /** EMF metrics: each metric value with its dimensions. */
  metrics(): { name: string; value: unknown; dimensions: Record<string, string> }[] {
    return this.records()
      .filter((record) => typeof record['_aws'] === 'object')
      .flatMap((record) => {
        const directive = (record['_aws'] as { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] }).CloudWatchMetrics[0]!;
        const dimensions = Object.fromEntries((directive.Dimensions[0] ?? []).map((name) => [name, String(record[name])]));
        return directive.Metrics.map((metric) => ({ name: metric.Name, value: record[metric.Name], dimensions }));
      });
  }

  /** Sum of a count metric, optionally only where the given dimensions match. */
  metricSum(name: string, dimensions: Readonly<Record<string, string>> = {}): number {
    return this.metrics()
      .filter((metric) => metric.name === name && Object.entries(dimensions).every(([key, value]) => metric.dimensions[key] === value))
      .reduce((sum, metric) => sum + (Array.isArray(metric.value) ? (metric.value as number[]).reduce((a, b) => a + b, 0) : Number(metric.value)), 0);
  }

  /** Each completed invocation's handler time in ms, in order (the bench prices them). */
  get durations(): readonly number[] {
    return this.#durations;
  }

  get coldStarts(): number {
    return this.#coldStarts;
  }

  /** Drops every warm container: the next invocation is a cold start (fresh caches). */
  async recycle(): Promise<void> {
    await Promise.all([...this.#containers].map((container) => this.#kill(container)));
  }

  #idleContainer(): Container | undefined {
    return [...this.#containers].find((container) => !container.busy);
  }

  #start(): Container {
    this.#coldStarts += 1;
    const child = fork(RUNTIME, [this.#options.bundle, this.#options.snsEndpoint ?? ''], {
      env: { ...this.#options.environment },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: [],
    });
    let resolveReady: () => void = () => undefined;
    let rejectReady: (error: Error) => void = () => undefined;
    const ready = new Promise<void>((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    const container: Container = { child, ready, busy: false, pending: undefined, ended: [new Set(), new Set()], onEnd: undefined };
    [child.stdout, child.stderr].forEach((stream, index) => {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) {
          const end = /^END RequestId: (\S+)$/.exec(line);
          if (end?.[1] !== undefined) {
            container.ended[index]?.add(end[1]);
            container.onEnd?.();
          } else if (line !== '') this.#lines.push(line);
        }
      });
    });
    child.on('message', (message: RuntimeMessage) => {
      if (message.durationMs !== undefined) this.#durations.push(message.durationMs);
      if (message.type === 'ready') resolveReady();
      else if (message.type === 'init-error') rejectReady(new Error(`${this.name} failed to start: ${String(message.errorType)}: ${String(message.errorMessage)}`));
      else if (message.type === 'result') container.pending?.({ ok: true, result: message.result });
      else container.pending?.({ ok: false, errorType: message.errorType ?? 'Error', errorMessage: message.errorMessage ?? '' });
    });
    child.on('exit', (code, signal) => {
      this.#containers.delete(container);
      rejectReady(new Error(`${this.name} container exited (${String(code ?? signal)})`));
      container.pending?.({ ok: false, errorType: 'Runtime.ExitError', errorMessage: `RequestId: exited with ${String(code ?? signal)}` });
    });
    ready.catch(() => undefined);
    this.#containers.add(container);
    return container;
  }

  #kill(container: Container): Promise<void> {
    this.#containers.delete(container);
    if (container.child.exitCode !== null || container.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      container.child.once('exit', () => {
        resolve();
      });
      container.child.kill('SIGKILL');
    });
  }

  async close(): Promise<void> {
    await this.recycle();
  }
}
