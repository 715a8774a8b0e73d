// The frame every test file that runs the real `tocsin start` shares: a scratch folder, a
// counting receiver, and every process it started killed after each test (a failed assertion
// must not leave a server holding the folder's database lock for the next test).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startCountingReceiver, type CountingReceiver, type RunningCli } from './cli-process.ts';

export interface CliSuite {
  /** The scratch folder (set in beforeAll). */
  readonly dir: string;
  /** Counts what it answered 2xx, by delivery id (set in beforeAll). */
  readonly receiver: CountingReceiver;
  /** Processes to SIGKILL after the current test. */
  readonly running: Set<RunningCli>;
}

/** Registers the hooks; call once at the top of a test file. */
export function cliSuite(prefix: string): CliSuite {
  let dir: string | undefined;
  let receiver: CountingReceiver | undefined;
  const running = new Set<RunningCli>();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    receiver = await startCountingReceiver();
  });
  afterEach(() => {
    for (const cli of running) cli.child.kill('SIGKILL');
    running.clear();
  });
  afterAll(async () => {
    await receiver?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      if (dir === undefined) throw new Error('cliSuite: dir is set in beforeAll');
      return dir;
    },
    get receiver() {
      if (receiver === undefined) throw new Error('cliSuite: receiver is set in beforeAll');
      return receiver;
    },
    running,
  };
}
