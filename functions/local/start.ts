// `tocsin start`: wires config, the local database, the pipeline and the HTTP server, prints the
// banner, and stops gracefully. Tests call `startLocal` directly with port 0.
import { join, resolve } from 'node:path';
import { defaultConfig } from '../../shared/config/load.ts';
import type { TocsinConfig } from '../../shared/config/schema.ts';
import { SnsReplayGuard, SnsVerifier, confirmSubscription, type CertificateFetcher, type SubscriptionConfirmer } from '../../shared/ingest/sns.ts';
import { INGEST_ROUTES } from '../../shared/ingest/routes.ts';
import { LocalDatabase, type Durability } from '../../shared/local/database.ts';
import { importLegacyFiles } from '../../shared/local/legacy-import.ts';
import { LocalPipeline, type StopSummary } from '../../shared/local/pipeline.ts';
import type { QueueDepths } from '../../shared/local/queues.ts';
import { formatDuration } from '../../shared/config/duration.ts';
import { describeWindow } from '../../shared/silences/maintenance.ts';
import { assertTokenForHost, isLoopbackName, type ServerLimits } from './guards.ts';
import { LocalServer } from './server.ts';

export interface StartOptions {
  readonly port?: number;
  readonly host?: string;
  /** A config file path; without it, the embedded default (every event to the console). */
  readonly configFile?: string | undefined;
  /** An already-loaded config (tests); wins over configFile. */
  readonly config?: TocsinConfig | undefined;
  readonly env?: NodeJS.ProcessEnv;
  /** Where the database lives (`tocsin.db`); `./.tocsin` by default. */
  readonly dataDir?: string;
  readonly durability?: Durability;
  /** Cap on the database size (bytes); past it ingest answers 503 as on a full disk. */
  readonly maxDatabaseBytes?: number | undefined;
  /** SNS HTTP settings; tests inject a certificate fetcher and a confirmer. */
  readonly sns?: {
    readonly allowedTopicArns?: readonly string[] | undefined;
    readonly fetchCertificate?: CertificateFetcher;
    readonly confirm?: SubscriptionConfirmer;
  };
  /** How long sends under way may take to finish when stopping; 10 s by default. */
  readonly drainTimeoutMs?: number;
  /** Sends at once. */
  readonly deliveryConcurrency?: number;
  /** The banner and the delivery log lines. */
  readonly log?: (line: string) => void;
  /** Timeouts and connection caps (defaults in guards.ts). */
  readonly limits?: Partial<ServerLimits> | undefined;
  /** Run the scheduler (reminders, holds ending, auto-resolve); on by default (tests turn it off). */
  readonly scheduler?: boolean | undefined;
  /** Listen off loopback without a token (`--insecure-open-ingest`): anyone reaching it may post and read. */
  readonly allowOpenNetwork?: boolean | undefined;
}

export interface RunningLocal {
  readonly url: string;
  readonly pipeline: LocalPipeline;
  readonly config: TocsinConfig;
  readonly databaseFile: string;
  /** Stop accepting (503), let sends under way finish (bounded), close the database. */
  stop(): Promise<StopSummary>;
}

export const DEFAULT_PORT = 7070;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_DATA_DIR = '.tocsin';
export const DATABASE_FILE_NAME = 'tocsin.db';

export async function startLocal(options: StartOptions = {}): Promise<RunningLocal> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const configFile = options.configFile ?? env['TOCSIN_CONFIG'];
  const config = options.config ?? (configFile ? await loadConfigFile(configFile, env) : defaultConfig({ ingestToken: env['TOCSIN_INGEST_TOKEN'] }));
  const host = options.host ?? DEFAULT_HOST;
  // Before anything is opened or written: a network bind without a token is refused outright.
  assertTokenForHost(host, config.ingest.token, { configFile, allowOpenNetwork: options.allowOpenNetwork });
  const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  const databaseFile = join(dataDir, DATABASE_FILE_NAME);
  const database = LocalDatabase.open({ file: databaseFile, durability: options.durability, maxBytes: options.maxDatabaseBytes });
  let server: LocalServer | undefined;
  try {
    const pipeline = new LocalPipeline({ config, database, log, deliveryConcurrency: options.deliveryConcurrency, ...(options.scheduler === undefined ? {} : { scheduler: options.scheduler }) });
    const imported = importLegacyFiles(dataDir, { database, store: pipeline.store, rejected: pipeline.rejected, settings: config.dedup });
    const allowedTopics = options.sns?.allowedTopicArns ?? env['ALLOWED_TOPIC_ARNS']?.split(',').map((arn) => arn.trim()).filter(Boolean);
    server = new LocalServer({
      pipeline,
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
    const restored = { incidents: pipeline.store.counts(), depths: pipeline.depths(), rejected: pipeline.rejected.count() };
    // Before the banner: whoever waits for "listening" has seen them by then.
    for (const line of imported.lines) log(`tocsin: ${line}`);
    log(banner(address.url, config, configFile, database, restored, isLoopbackName(host)));
    pipeline.start();

    const running = server;
    let stopping: Promise<StopSummary> | undefined;
    const stop = (): Promise<StopSummary> => {
      stopping ??= (async () => {
        running.stopAccepting();
        const summary = await pipeline.stop(options.drainTimeoutMs ?? 10_000);
        await running.close();
        database.close();
        return summary;
      })();
      return stopping;
    };
    return { url: address.url, pipeline, config, databaseFile, stop };
  } catch (error) {
    if (server) await server.close().catch(() => undefined);
    database.close();
    throw error;
  }
}

/** The config file's loader and its YAML parser are imported only when there is a file to read. */
async function loadConfigFile(file: string, env: NodeJS.ProcessEnv): Promise<TocsinConfig> {
  const { loadConfigFile: load } = await import('../../shared/config/text.ts');
  return load(file, { env });
}

/** "3 firing", "20 pending (2 delayed)": what is kept, for the banner and the last line. */
export function describeDepths(depths: QueueDepths, rejected: number): string {
  const parts = [
    `${String(depths.incidents)} incident(s) to dispatch`,
    `${String(depths.deliveriesReady + depths.deliveriesDelayed)} delivery(ies) pending${depths.deliveriesDelayed > 0 ? ` (${String(depths.deliveriesDelayed)} waiting to retry)` : ''}`,
    `${String(depths.deadLetters)} dead letter(s)`,
    `${String(rejected)} rejected payload(s)`,
  ];
  return parts.join(', ');
}

function banner(
  url: string,
  config: TocsinConfig,
  configFile: string | undefined,
  database: LocalDatabase,
  restored: { incidents: { firing: number; resolved: number }; depths: QueueDepths; rejected: number },
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
    ...((config.maintenance ?? []).length === 0
      ? []
      : ['  maintenance:', ...(config.maintenance ?? []).map((window) => `    ${describeWindow(window, Date.now())}`)]),
    `  reminders: ${config.dedup.renotifyAfterMs > 0 ? `every ${formatDuration(config.dedup.renotifyAfterMs)} while firing and unacknowledged` : 'off (renotifyAfter: 0)'}${
      (config.autoResolveAfterMs ?? 0) > 0 ? `; auto-resolve after ${formatDuration(config.autoResolveAfterMs ?? 0)} without news` : ''
    }`,
    `  data:      ${database.file} (${database.durability === 'full' ? 'synchronous=full: survives power loss' : 'survives the process dying at any moment'})`,
    `  restored:  ${String(restored.incidents.firing)} firing, ${String(restored.incidents.resolved)} resolved; ${describeDepths(restored.depths, restored.rejected)}`,
    `  endpoints:`,
    ...Object.keys(INGEST_ROUTES).map((path) => `    POST ${url}${path}`),
    `    GET  ${url}/healthz   ${url}/metrics   ${url}/v1/incidents   ${url}/v1/dead-letters   ${url}/v1/rejected`,
    `    GET/POST ${url}/v1/silences   POST ${url}/v1/incidents/{fingerprint}/ack`,
    `  page:      ${url}/${config.ingest.token ? ' (sign in with the token once)' : ''}`,
  ];
  return lines.join('\n');
}

