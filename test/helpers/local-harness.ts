// The local server as suites drive it: a receiver (a recording HTTP server unless the suite
// brings its own), a throw-away data directory (a real SQLite database) and `startLocal` on
// port 0 with, by default, one `audit` webhook channel to `${receiver.url}/hook` and one route
// to it; `stop()` undoes it all.
// Nothing here imports vitest, so bench/ uses it as well.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocal, type RunningLocal, type StartOptions } from '../../functions/local/start.ts';
import { validateConfig } from '../../shared/config/index.ts';
import { startRecorder, type HttpRecorder, type Responder } from './http-recorder.ts';

/** What the channels deliver to: anything with a base URL that can be closed. */
export interface Receiver {
  readonly url: string;
  close(): Promise<void>;
}

/** Top-level config sections before validation (`ingest`, `channels`, `routes`, `defaults`…). */
export type ConfigSections = Readonly<Record<string, unknown>>;

interface CommonOptions {
  /**
   * Sections laid over the default config; a section given replaces the default's whole
   * (so `channels` and `routes` go together). A function gets the receiver's URL.
   */
  readonly config?: ConfigSections | ((receiverUrl: string) => ConfigSections);
  /** Read the config from a file with this env instead (to test `${VAR}` secrets); wins over `config`. */
  readonly configFile?: (receiverUrl: string) => { readonly path: string; readonly env: NodeJS.ProcessEnv };
  readonly sns?: StartOptions['sns'];
  /** Where the banner goes; nowhere by default. */
  readonly log?: (line: string) => void;
  /** Name prefix of the data directory made in the OS temp directory. */
  readonly dataPrefix?: string;
  /** The database's durability (`normal` by default). */
  readonly durability?: StartOptions['durability'];
  /** Where to listen; 127.0.0.1 by default. */
  readonly host?: string;
  /** Timeouts and connection caps (guards.ts defaults otherwise). */
  readonly limits?: StartOptions['limits'];
  readonly allowOpenNetwork?: boolean;
  /** Run the scheduler (on by default). */
  readonly scheduler?: boolean;
}

export interface RecorderHarnessOptions extends CommonOptions {
  /** How the recorder answers; 200 with an empty body by default. */
  readonly responder?: Responder;
}

export interface ReceiverHarnessOptions<R extends Receiver> extends CommonOptions {
  /** Starts a receiver of the suite's own in place of the recorder. */
  readonly receiver: () => Promise<R>;
}

export interface LocalHarness<R extends Receiver = HttpRecorder> {
  readonly receiver: R;
  readonly local: RunningLocal;
  readonly dataDir: string;
  /** Stops the server, then the receiver, then removes the data directory. */
  stop(): Promise<void>;
}

const auditWebhook = (receiverUrl: string): ConfigSections => ({
  channels: { audit: { type: 'webhook', url: `${receiverUrl}/hook` } },
  routes: [{ channels: ['audit'] }],
});

export function startLocalHarness(options?: RecorderHarnessOptions): Promise<LocalHarness>;
export function startLocalHarness<R extends Receiver>(options: ReceiverHarnessOptions<R>): Promise<LocalHarness<R>>;
export async function startLocalHarness(
  options: RecorderHarnessOptions | ReceiverHarnessOptions<Receiver> = {},
): Promise<LocalHarness<Receiver>> {
  const receiver: Receiver = 'receiver' in options ? await options.receiver() : await startRecorder(options.responder);
  let dataDir: string | undefined;
  try {
    dataDir = await mkdtemp(join(tmpdir(), options.dataPrefix ?? 'tocsin-test-data-'));
    const fromFile = options.configFile?.(receiver.url);
    const sections = typeof options.config === 'function' ? options.config(receiver.url) : options.config;
    const local = await startLocal({
      port: 0,
      ...(fromFile
        ? { configFile: fromFile.path, env: fromFile.env }
        : { config: validateConfig({ ...auditWebhook(receiver.url), ...sections }) }),
      dataDir,
      durability: options.durability,
      log: options.log ?? (() => undefined),
      sns: options.sns,
      ...(options.host === undefined ? {} : { host: options.host }),
      limits: options.limits,
      allowOpenNetwork: options.allowOpenNetwork,
      ...(options.scheduler === undefined ? {} : { scheduler: options.scheduler }),
    });
    const dir = dataDir;
    return {
      receiver,
      local,
      dataDir: dir,
      async stop() {
        // The server first: while it drains it may still be delivering to the receiver.
        await local.stop();
        await receiver.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    // A half-started harness would leave a listening receiver behind and the run hanging.
    await receiver.close();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}
