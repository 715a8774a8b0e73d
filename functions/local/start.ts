// `tocsin start`: wires config, store, queues, spool and the HTTP server, prints the banner,
// and shuts down gracefully. Tests call `startLocal` directly with port 0.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { defaultConfig, loadConfigFile, type TocsinConfig } from '../../shared/config/index.ts';
import { MemoryIncidentStore } from '../../shared/dedup/index.ts';
import { SnsReplayGuard, SnsVerifier, confirmSubscription, type CertificateFetcher, type SubscriptionConfirmer } from '../../shared/ingest/sns.ts';
import { LocalPipeline } from './pipeline.ts';
import { INGEST_ROUTES } from '../../shared/ingest/routes.ts';
import { assertTokenForHost, isLoopbackName, type ServerLimits } from './guards.ts';
import { LocalServer } from './server.ts';
import { Spool } from './spool.ts';

export interface StartOptions {
  readonly port?: number;
  readonly host?: string;
  /** A config file path; without it, the embedded default (every event to the console). */
  readonly configFile?: string | undefined;
  /** An already-loaded config (tests); wins over configFile. */
  readonly config?: TocsinConfig | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly spoolDir?: string;
  /** Where the incident store is snapshotted; `false` keeps nothing across restarts. */
  readonly stateFile?: string | false;
  /** SNS HTTP settings; tests inject a certificate fetcher and a confirmer. */
  readonly sns?: {
    readonly allowedTopicArns?: readonly string[] | undefined;
    readonly fetchCertificate?: CertificateFetcher;
    readonly confirm?: SubscriptionConfirmer;
  };
  /** Bounded drain on shutdown. */
  readonly drainTimeoutMs?: number;
  /** Timeouts and connection caps (defaults in guards.ts). */
  readonly limits?: Partial<ServerLimits> | undefined;
  /** Listen off loopback without a token (`--insecure-open-ingest`): anyone reaching it may post and read. */
  readonly allowOpenNetwork?: boolean | undefined;
  readonly log?: (line: string) => void;
}

export interface RunningLocal {
  readonly url: string;
  readonly pipeline: LocalPipeline;
  readonly spool: Spool;
  readonly config: TocsinConfig;
  /** Stop accepting, drain (bounded), snapshot the store. True when the queues drained. */
  stop(): Promise<boolean>;
}

export const DEFAULT_PORT = 7070;
export const DEFAULT_HOST = '127.0.0.1';
const SNAPSHOT_EVERY_MS = 30_000;

async function loadSnapshot(file: string, config: TocsinConfig): Promise<MemoryIncidentStore | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  return MemoryIncidentStore.fromJSON(JSON.parse(text) as unknown, { settings: config.dedup });
}

async function saveSnapshot(file: string, store: MemoryIncidentStore): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  // Write then rename, so a crash mid-write never leaves half a snapshot.
  const temporary = `${file}.tmp`;
  await writeFile(temporary, JSON.stringify(store.toJSON()));
  await rename(temporary, file);
}

export async function startLocal(options: StartOptions = {}): Promise<RunningLocal> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const configFile = options.configFile ?? env['TOCSIN_CONFIG'];
  const config = options.config ?? (configFile ? await loadConfigFile(configFile, { env }) : defaultConfig({ ingestToken: env['TOCSIN_INGEST_TOKEN'] }));
  const host = options.host ?? DEFAULT_HOST;
  // Before anything is opened or written: a network bind without a token is refused outright.
  assertTokenForHost(host, config.ingest.token, { configFile, allowOpenNetwork: options.allowOpenNetwork });
  const stateFile = options.stateFile === undefined ? resolve('.tocsin/state.json') : options.stateFile;
  const store = stateFile === false ? undefined : await loadSnapshot(stateFile, config);
  const pipeline = new LocalPipeline({ config, store });
  const spool = new Spool(options.spoolDir ?? resolve('.tocsin/spool'));
  const allowedTopics = options.sns?.allowedTopicArns ?? env['ALLOWED_TOPIC_ARNS']?.split(',').map((arn) => arn.trim()).filter(Boolean);
  const server = new LocalServer({
    pipeline,
    spool,
    token: config.ingest.token,
    maxBodyBytes: config.ingest.maxBodyBytes,
    loopbackOnly: isLoopbackName(host),
    limits: options.limits,
    log: (line) => {
      log(`tocsin: ${line}`);
    },
    sns: {
      verifier: new SnsVerifier(options.sns?.fetchCertificate ? { fetchCertificate: options.sns.fetchCertificate } : {}),
      allowedTopicArns: allowedTopics && allowedTopics.length > 0 ? allowedTopics : undefined,
      confirm: options.sns?.confirm ?? confirmSubscription,
      replay: new SnsReplayGuard(),
    },
  });
  const port = options.port ?? (env['PORT'] ? Number(env['PORT']) : DEFAULT_PORT);
  const address = await server.listen(port, host);

  const snapshotTimer =
    stateFile === false
      ? undefined
      : setInterval(() => {
          saveSnapshot(stateFile, pipeline.store).catch(() => undefined);
        }, SNAPSHOT_EVERY_MS).unref();

  log(banner(address.url, config, configFile, spool.directory, stateFile, store !== undefined, isLoopbackName(host)));

  let stopping: Promise<boolean> | undefined;
  const stop = (): Promise<boolean> => {
    stopping ??= (async () => {
      await server.close();
      const drained = await pipeline.drain(options.drainTimeoutMs ?? 10_000);
      pipeline.close();
      if (snapshotTimer) clearInterval(snapshotTimer);
      if (stateFile !== false) await saveSnapshot(stateFile, pipeline.store);
      return drained;
    })();
    return stopping;
  };
  return { url: address.url, pipeline, spool, config, stop };
}

function banner(
  url: string,
  config: TocsinConfig,
  configFile: string | undefined,
  spoolDir: string,
  stateFile: string | false,
  restored: boolean,
  loopback: boolean,
): string {
  const channelLines = Object.entries(config.channels).map(([name, channel]) => `    ${name} (${channel.type})`);
  const lines = [
    `tocsin listening on ${url}`,
    `  config:    ${configFile ?? 'embedded default (every event printed here, on the console)'}`,
    `  ingest:    ${
      config.ingest.token
        ? 'token required for everything but /healthz (bearer, basic auth or ?token=)'
        : loopback
          ? 'no token: loopback only (set TOCSIN_INGEST_TOKEN or ingest.token to require one)'
          : '!!! NO TOKEN, OPEN TO THE NETWORK (--insecure-open-ingest): anyone who can reach this port can post alerts and read incidents !!!'
    }`,
    `  channels:`,
    ...channelLines,
    `  routes:    ${String(config.routes.length)}`,
    `  spool:     ${spoolDir} (rejected payloads are kept here)`,
    `  state:     ${stateFile === false ? 'in memory only' : `${stateFile}${restored ? ' (restored)' : ''}`}`,
    `  endpoints:`,
    ...Object.keys(INGEST_ROUTES).map((path) => `    POST ${url}${path}`),
    `    GET  ${url}/healthz   ${url}/metrics   ${url}/v1/incidents`,
  ];
  return lines.join('\n');
}
