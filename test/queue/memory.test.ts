import { describe, expect, it } from 'vitest';
import { MemoryQueue, type DeadLetter, type ItemMeta } from '../../shared/queue/index.ts';
import type { HandlerResult } from '../../shared/queue/index.ts';

/** A promise the test resolves by hand, to hold handlers in flight. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

const done: HandlerResult = { kind: 'done' };

describe('MemoryQueue', () => {
  it('hands every item to the handler once, with attempt 1 and its own id', async () => {
    const seen: Array<{ item: string; meta: ItemMeta }> = [];
    const queue = new MemoryQueue<string>({
      name: 'jobs',
      concurrency: 2,
      handler: (item, meta) => {
        seen.push({ item, meta });
        return Promise.resolve(done);
      },
    });
    await queue.send(['a', 'b', 'c']);
    await expect(queue.drain(5_000)).resolves.toBe(true);
    expect(seen.map((entry) => entry.item).sort()).toEqual(['a', 'b', 'c']);
    expect(seen.map((entry) => entry.meta.attempt)).toEqual([1, 1, 1]);
    expect(new Set(seen.map((entry) => entry.meta.id)).size).toBe(3);
    expect(queue.depth()).toBe(0);
    expect(queue.stats()).toEqual({ enqueued: 3, completed: 3, retried: 0, deadLettered: 0, queued: 0, delayed: 0, inFlight: 0 });
  });

  it('never runs more handlers at once than its concurrency, and counts them in depth', async () => {
    const release = gate();
    let running = 0;
    let mostAtOnce = 0;
    const queue = new MemoryQueue<number>({
      name: 'jobs',
      concurrency: 2,
      handler: async () => {
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        await release.wait;
        running -= 1;
        return done;
      },
    });
    await queue.send([1, 2, 3, 4, 5]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(queue.stats()).toMatchObject({ inFlight: 2, queued: 3 });
    expect(queue.depth()).toBe(5);
    release.open();
    await expect(queue.drain(5_000)).resolves.toBe(true);
    expect(mostAtOnce).toBe(2);
    expect(queue.stats().completed).toBe(5);
  });

  it('re-delivers a retried item after its delay with the next attempt number and the same id', async () => {
    const attempts: ItemMeta[] = [];
    const queue = new MemoryQueue<string>({
      name: 'jobs',
      concurrency: 1,
      handler: (_item, meta) => {
        attempts.push(meta);
        return Promise.resolve(meta.attempt < 3 ? { kind: 'retry', delayMs: 2, reason: 'HTTP 503' } : done);
      },
    });
    await queue.send(['x']);
    await expect(queue.drain(5_000)).resolves.toBe(true);
    expect(attempts.map((meta) => meta.attempt)).toEqual([1, 2, 3]);
    expect(new Set(attempts.map((meta) => meta.id)).size).toBe(1);
    expect(queue.stats()).toMatchObject({ enqueued: 1, retried: 2, completed: 1, deadLettered: 0 });
  });

  it('keeps dead letters with their reason and tells onDeadLetter', async () => {
    const told: Array<DeadLetter<string>> = [];
    const queue = new MemoryQueue<string>({
      name: 'jobs',
      concurrency: 1,
      handler: (item) => Promise.resolve(item === 'bad' ? { kind: 'dead-letter', reason: 'HTTP 404: no_service' } : done),
      onDeadLetter: (deadLetter) => told.push(deadLetter),
    });
    await queue.send(['good', 'bad']);
    await queue.drain(5_000);
    expect(queue.deadLetters).toHaveLength(1);
    expect(queue.deadLetters[0]).toMatchObject({ item: 'bad', attempt: 1, reason: 'HTTP 404: no_service' });
    expect(told).toEqual(queue.deadLetters);
    expect(queue.stats()).toMatchObject({ completed: 1, deadLettered: 1 });
  });

  it('dead-letters an item still asking for retries at maxAttempts', async () => {
    const queue = new MemoryQueue<string>({
      name: 'jobs',
      concurrency: 1,
      maxAttempts: 3,
      handler: () => Promise.resolve({ kind: 'retry', delayMs: 1, reason: 'HTTP 500' }),
    });
    await queue.send(['x']);
    await queue.drain(5_000);
    expect(queue.deadLetters.map(({ item, attempt, reason }) => ({ item, attempt, reason }))).toEqual([
      { item: 'x', attempt: 3, reason: 'gave up after 3 attempts: HTTP 500' },
    ]);
    expect(queue.stats()).toMatchObject({ retried: 2, deadLettered: 1, completed: 0 });
  });

  it('retries a handler that throws, with backoff, reporting the error and naming only its type', async () => {
    const errors: Array<{ error: unknown; attempt: number }> = [];
    let calls = 0;
    const queue = new MemoryQueue<string>({
      name: 'jobs',
      concurrency: 1,
      maxAttempts: 2,
      backoff: { initialMs: 2, random: () => 0.5 },
      handler: () => {
        calls += 1;
        throw new TypeError('cannot reach https://hooks.example.com/SECRET');
      },
      onError: (error, meta) => errors.push({ error, attempt: meta.attempt }),
    });
    await queue.send(['x']);
    await queue.drain(5_000);
    expect(calls).toBe(2);
    expect(errors.map((entry) => entry.attempt)).toEqual([1, 2]);
    expect(errors[0]!.error).toBeInstanceOf(TypeError);
    expect(queue.deadLetters[0]!.reason).toBe('gave up after 2 attempts: handler threw TypeError');
  });

  it('holds items sent with a delay until it passes', async () => {
    const handled: string[] = [];
    const queue = new MemoryQueue<string>({
      name: 'jobs',
      concurrency: 1,
      handler: (item) => {
        handled.push(item);
        return Promise.resolve(done);
      },
    });
    await queue.send(['later'], { delayMs: 5 });
    expect(queue.stats()).toMatchObject({ delayed: 1, queued: 0 });
    expect(queue.depth()).toBe(1);
    expect(handled).toEqual([]);
    await expect(queue.drain(5_000)).resolves.toBe(true);
    expect(handled).toEqual(['later']);
  });

  it('drain answers false when the queue is still busy at the timeout', async () => {
    const release = gate();
    const queue = new MemoryQueue<string>({
      name: 'jobs',
      concurrency: 1,
      handler: async () => {
        await release.wait;
        return done;
      },
    });
    await queue.send(['stuck']);
    await expect(queue.drain(5)).resolves.toBe(false);
    release.open();
    await expect(queue.drain(5_000)).resolves.toBe(true);
  });

  it('close hands back unhandled items, refuses new ones, and dead-letters a retry asked for after it', async () => {
    const release = gate();
    const queue = new MemoryQueue<string>({
      name: 'jobs',
      concurrency: 1,
      handler: async () => {
        await release.wait;
        return { kind: 'retry', delayMs: 1, reason: 'HTTP 503' };
      },
    });
    await queue.send(['running', 'waiting']);
    await queue.send(['delayed'], { delayMs: 60_000 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(queue.close().sort()).toEqual(['delayed', 'waiting']);
    await expect(queue.send(['new'])).rejects.toThrow('queue jobs is closed');
    release.open();
    await expect(queue.drain(5_000)).resolves.toBe(true);
    expect(queue.deadLetters.map(({ item, reason }) => ({ item, reason }))).toEqual([
      { item: 'running', reason: 'queue closed before retry: HTTP 503' },
    ]);
  });

  it('keeps only the newest dead letters but counts them all', async () => {
    const queue = new MemoryQueue<number>({
      name: 'jobs',
      concurrency: 1,
      keepDeadLetters: 2,
      handler: (item) => Promise.resolve({ kind: 'dead-letter', reason: `bad ${item}` }),
    });
    await queue.send([1, 2, 3]);
    await queue.drain(5_000);
    expect(queue.deadLetters.map((deadLetter) => deadLetter.item)).toEqual([2, 3]);
    expect(queue.stats().deadLettered).toBe(3);
  });

  it('refuses a concurrency below 1', () => {
    expect(() => new MemoryQueue({ name: 'jobs', concurrency: 0, handler: () => Promise.resolve(done) })).toThrow(RangeError);
  });
});
