// The in-process queue of the local pipeline, behaving like the SQS queues it stands in for:
// bounded concurrency, delayed re-delivery with an attempt count, a dead-letter list with the
// reason, and a receive limit after which an item is dead-lettered whatever the handler says.
// Timers are unref'd so a forgotten queue never keeps the process alive.
import { backoffDelay, type BackoffOptions } from '../delivery/backoff.ts';
import type { HandlerResult, JobQueue, SendOptions } from './port.ts';

export interface ItemMeta {
  /** 1 on the first delivery of an item, +1 on each retry. */
  readonly attempt: number;
  /** Stable across retries of the same item. */
  readonly id: string;
}

export interface DeadLetter<T> {
  readonly id: string;
  readonly item: T;
  readonly attempt: number;
  readonly reason: string;
  readonly at: Date;
}

export interface QueueStats {
  /** Items sent to the queue (retries not counted again). */
  readonly enqueued: number;
  readonly completed: number;
  readonly retried: number;
  readonly deadLettered: number;
  readonly queued: number;
  readonly delayed: number;
  readonly inFlight: number;
}

export interface MemoryQueueOptions<T> {
  /** For reasons and metrics: `deliveries`, `incidents`. */
  readonly name: string;
  /** Handlers running at once. */
  readonly concurrency: number;
  readonly handler: (item: T, meta: ItemMeta) => Promise<HandlerResult>;
  readonly onDeadLetter?: (deadLetter: DeadLetter<T>) => void;
  /** Told when a handler throws (the item is then retried with backoff); log it here. */
  readonly onError?: (error: unknown, meta: ItemMeta) => void;
  /** Like SQS maxReceiveCount: a retry asked for on this attempt is dead-lettered. Default 10. */
  readonly maxAttempts?: number;
  /** Backoff after a handler throws; defaults as in ../delivery/backoff.ts. */
  readonly backoff?: Omit<BackoffOptions, 'retryAfterMs'>;
  /** Dead letters kept for inspection (the oldest are dropped; the counter keeps counting). Default 1000. */
  readonly keepDeadLetters?: number;
}

interface Entry<T> {
  readonly id: string;
  readonly item: T;
  readonly attempt: number;
}

export class MemoryQueue<T> implements JobQueue<T> {
  readonly name: string;
  readonly #options: MemoryQueueOptions<T>;
  readonly #maxAttempts: number;
  readonly #ready: Entry<T>[] = [];
  readonly #delayed = new Map<string, { entry: Entry<T>; timer: NodeJS.Timeout }>();
  readonly #deadLetters: DeadLetter<T>[] = [];
  readonly #drainWaiters = new Set<() => void>();
  #inFlight = 0;
  #sequence = 0;
  #closed = false;
  #counts = { enqueued: 0, completed: 0, retried: 0, deadLettered: 0 };

  constructor(options: MemoryQueueOptions<T>) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new RangeError(`queue ${options.name}: concurrency must be a positive integer`);
    }
    this.name = options.name;
    this.#options = options;
    this.#maxAttempts = options.maxAttempts ?? 10;
  }

  send(items: readonly T[], options: SendOptions = {}): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`queue ${this.name} is closed`));
    for (const item of items) {
      this.#counts.enqueued += 1;
      this.#sequence += 1;
      this.#enqueue({ id: `${this.name}-${this.#sequence}`, item, attempt: 1 }, options.delayMs ?? 0);
    }
    this.#pump();
    return Promise.resolve();
  }

  /** Items waiting, waiting out a delay, or being handled. */
  depth(): number {
    return this.#ready.length + this.#delayed.size + this.#inFlight;
  }

  stats(): QueueStats {
    return { ...this.#counts, queued: this.#ready.length, delayed: this.#delayed.size, inFlight: this.#inFlight };
  }

  get deadLetters(): readonly DeadLetter<T>[] {
    return this.#deadLetters;
  }

  /** Resolves true once the queue is empty (delayed retries included), false after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.depth() === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (empty: boolean): void => {
        clearTimeout(timer);
        this.#drainWaiters.delete(onEmpty);
        resolve(empty);
      };
      const onEmpty = (): void => {
        done(true);
      };
      const timer = setTimeout(() => {
        done(false);
      }, timeoutMs);
      timer.unref();
      this.#drainWaiters.add(onEmpty);
    });
  }

  /**
   * Stops taking items and cancels pending retries. Returns the items that were never handled
   * (waiting or delayed) so the caller can keep them; handlers already running finish, and a
   * retry they ask for after this is dead-lettered rather than lost.
   */
  close(): T[] {
    this.#closed = true;
    const left = [...this.#ready.map((entry) => entry.item)];
    this.#ready.length = 0;
    for (const { entry, timer } of this.#delayed.values()) {
      clearTimeout(timer);
      left.push(entry.item);
    }
    this.#delayed.clear();
    this.#notifyIfEmpty();
    return left;
  }

  #enqueue(entry: Entry<T>, delayMs: number): void {
    if (delayMs <= 0) {
      this.#ready.push(entry);
      return;
    }
    const timer = setTimeout(() => {
      this.#delayed.delete(entry.id);
      this.#ready.push(entry);
      this.#pump();
    }, delayMs);
    timer.unref();
    this.#delayed.set(entry.id, { entry, timer });
  }

  #pump(): void {
    while (!this.#closed && this.#inFlight < this.#options.concurrency) {
      const entry = this.#ready.shift();
      if (entry === undefined) break;
      this.#inFlight += 1;
      void this.#run(entry);
    }
    this.#notifyIfEmpty();
  }

  async #run(entry: Entry<T>): Promise<void> {
    const meta: ItemMeta = { attempt: entry.attempt, id: entry.id };
    let result: HandlerResult;
    try {
      // Start on a later tick: a handler that sends to its own queue must not recurse into send.
      await Promise.resolve();
      result = await this.#options.handler(entry.item, meta);
    } catch (error) {
      this.#safely(() => this.#options.onError?.(error, meta));
      const delayMs = backoffDelay(entry.attempt, this.#options.backoff);
      result = { kind: 'retry', delayMs, reason: `handler threw ${error instanceof Error ? error.name : typeof error}` };
    }
    this.#inFlight -= 1;
    this.#settle(entry, result);
    this.#pump();
  }

  #settle(entry: Entry<T>, result: HandlerResult): void {
    switch (result.kind) {
      case 'done':
        this.#counts.completed += 1;
        return;
      case 'dead-letter':
        this.#deadLetter(entry, result.reason);
        return;
      case 'retry':
        if (this.#closed) this.#deadLetter(entry, `queue closed before retry: ${result.reason}`);
        else if (entry.attempt >= this.#maxAttempts) {
          this.#deadLetter(entry, `gave up after ${entry.attempt} attempts: ${result.reason}`);
        } else {
          this.#counts.retried += 1;
          this.#enqueue({ ...entry, attempt: entry.attempt + 1 }, Math.max(0, result.delayMs));
        }
        return;
    }
  }

  #deadLetter(entry: Entry<T>, reason: string): void {
    this.#counts.deadLettered += 1;
    const deadLetter: DeadLetter<T> = { id: entry.id, item: entry.item, attempt: entry.attempt, reason, at: new Date() };
    this.#deadLetters.push(deadLetter);
    const keep = this.#options.keepDeadLetters ?? 1000;
    if (this.#deadLetters.length > keep) this.#deadLetters.splice(0, this.#deadLetters.length - keep);
    this.#safely(() => this.#options.onDeadLetter?.(deadLetter));
  }

  #notifyIfEmpty(): void {
    if (this.depth() !== 0) return;
    for (const waiter of [...this.#drainWaiters]) waiter();
  }

  /** A throwing callback must not wedge the queue's bookkeeping. */
  #safely(callback: () => void): void {
    try {
      callback();
    } catch {
      // The callback's own problem; the item's fate is already decided.
    }
  }
}
