#!/usr/bin/env node
// The `tocsin` command: start (the local pipeline), normalize (print the incidents for one
// payload), replay (re-send rejected payloads), history (an incident's timeline), dlq (dead
// letters), silence (create, list, expire), ack. Started through ./tocsin.js, which checks the Node version first.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../shared/config/errors.ts';
import { parseDuration } from '../../shared/config/duration.ts';
import { PayloadRejectedError } from '../../shared/errors.ts';
import { SOURCE_KINDS, type SourceKind } from '../../shared/incident.ts';
import { LocalDatabaseError } from '../../shared/local/database-error.ts';
import { normalizeBytes } from '../../shared/normalize.ts';
import { AdminError } from './admin-error.ts';
import { NoTokenOnNetworkError } from './network-error.ts';
import type { AdminTarget } from './admin.ts';
// The commands' own modules are imported when the command runs: `normalize` needs neither the
// database nor the server, and starts faster without them.

const USAGE = `Usage: tocsin <command> [options]

Commands:
  start [--port N] [--host H] [--config FILE] [--data DIR] [--sync normal|full] [--max-db-size SIZE]
        [--insecure-open-ingest]      run the local pipeline (default http://127.0.0.1:7070, data in
                                      ./.tocsin; PORT, TOCSIN_CONFIG and TOCSIN_INGEST_TOKEN are read
                                      from the environment). A --host off loopback needs a token;
                                      --insecure-open-ingest serves one without, on a network you
                                      trust with every alert
  normalize FILE|-  [--source KIND]   print the incidents for one payload as a JSON array
                                      (- reads standard input; KIND is one of ${SOURCE_KINDS.join(', ')})
  history FINGERPRINT [--json]        an incident's timeline: received, decided, each delivery attempt
  dlq list | dlq redrive              dead letters (deliveries given up on), and putting them back
  dlq list --aws --queue-url URL      the same on AWS: a dead-letter queue's messages with their reason
  dlq redrive --aws --source-arn DLQ_ARN --destination-arn QUEUE_ARN
                                      SQS's move task back to the work queue (stack outputs
                                      *DeadLetterQueueArn, Redrive*Command); AWS credentials and
                                      AWS_REGION as for the AWS CLI
  silence add MATCHER... (--for 2h | --until TIME) --by WHO --comment WHY [--from TIME]
                                      hold what the matchers (name=value, name!=value, name=~re,
                                      name!~re) match: recorded and shown, nobody told
  silence list [--all] [--json]       silences in force or pending (--all: ended ones too)
  silence expire ID                   end a silence now; what it held and still fires is told
  ack FINGERPRINT --by WHO            acknowledge a firing incident: no more reminders
  ack FINGERPRINT --undo              take the acknowledgement back
  replay [DIR|FILE]                   without a target: replay the rejected payloads the server keeps;
                                      with one: re-send spool entries (moved once accepted) or fixtures

  history, dlq, silence, ack and replay talk to the server at --url URL (default
  http://127.0.0.1:7070) with --token T (or TOCSIN_INGEST_TOKEN); history, dlq, silence and ack
  use --data DIR directly when it is stopped.

Exit codes: 0 done, 2 bad usage, invalid config, payload not recognised or database unusable,
1 anything else.`;

class UsageError extends Error {}

async function readInput(file: string): Promise<Buffer> {
  if (file !== '-') return readFile(file);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function isSourceKind(value: string): value is SourceKind {
  return (SOURCE_KINDS as readonly string[]).includes(value);
}

async function normalizeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { source: { type: 'string' } },
    allowPositionals: true,
  });
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw new UsageError('normalize takes exactly one FILE (or - for standard input)');
  if (values.source !== undefined && !isSourceKind(values.source)) {
    throw new UsageError(`unknown --source "${values.source}"; expected one of ${SOURCE_KINDS.join(', ')}`);
  }
  const raw = await readInput(file);
  const { incidents } = normalizeBytes(raw, { receivedAt: new Date(), source: values.source });
  process.stdout.write(`${JSON.stringify(incidents, null, 2)}\n`);
  return 0;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?$/i;
const SIZE_UNITS: Readonly<Record<string, number>> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };

function parseSize(text: string, option: string): number {
  const match = SIZE.exec(text.trim());
  const unit = (match?.[2] ?? 'b').toLowerCase();
  const bytes = match ? Math.floor(Number(match[1]) * (SIZE_UNITS[unit] ?? 1)) : Number.NaN;
  if (!Number.isFinite(bytes) || bytes < 262_144) throw new UsageError(`${option} must be a size of at least 256KiB, like 512MiB or 2GB; got "${text}"`);
  return bytes;
}

const SIGNAL_NUMBERS: Readonly<Record<string, number>> = { SIGINT: 2, SIGTERM: 15 };

async function startCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      config: { type: 'string' },
      data: { type: 'string' },
      sync: { type: 'string' },
      'max-db-size': { type: 'string' },
      'drain-timeout': { type: 'string' },
      'insecure-open-ingest': { type: 'boolean' },
      // Gone: the JSON snapshot and the spool folder became the database in --data.
      state: { type: 'string' },
      'no-state': { type: 'boolean' },
      spool: { type: 'string' },
    },
    allowPositionals: false,
  });
  if (values.state !== undefined || values['no-state'] !== undefined || values.spool !== undefined) {
    throw new UsageError('--state, --no-state and --spool are gone: everything is kept in one database in --data DIR (default ./.tocsin); an old state.json and spool/ in it are imported once');
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new UsageError(`--port must be a port number, got "${values.port ?? ''}"`);
  }
  if (values.sync !== undefined && values.sync !== 'normal' && values.sync !== 'full') {
    throw new UsageError(`--sync must be normal or full, got "${values.sync}"`);
  }
  const drainTimeoutMs = values['drain-timeout'] === undefined ? undefined : parseDuration(values['drain-timeout']);
  if (values['drain-timeout'] !== undefined && drainTimeoutMs === undefined) {
    throw new UsageError(`--drain-timeout must be a duration like 10s, got "${values['drain-timeout']}"`);
  }
  const bound = Math.round((drainTimeoutMs ?? 10_000) / 1000);
  // Signals are heard from the start: one that arrives while starting stops it right after.
  const started: { databaseFile?: string } = {};
  const signalled = new Promise<void>((resolveSignal) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      if (signals === 1) {
        process.stdout.write(`tocsin: ${signal}: no longer accepting; letting sends under way finish (at most ${String(bound)} s)\n`);
        resolveSignal();
        return;
      }
      // Everything accepted is committed already; only sends under way are cut short.
      process.stdout.write(`tocsin: second ${signal}: exiting now; everything accepted is kept${started.databaseFile === undefined ? '' : ` in ${started.databaseFile}`}\n`);
      process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 1));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  const { describeDepths, startLocal } = await import('./start.ts');
  const running = await startLocal({
    port,
    host: values.host,
    configFile: values.config,
    dataDir: values.data,
    durability: values.sync,
    maxDatabaseBytes: values['max-db-size'] === undefined ? undefined : parseSize(values['max-db-size'], '--max-db-size'),
    drainTimeoutMs,
    allowOpenNetwork: values['insecure-open-ingest'] === true,
  });
  started.databaseFile = running.databaseFile;
  await signalled;
  const summary = await running.stop();
  const cut = summary.interrupted > 0 ? `; ${String(summary.interrupted)} send(s) cut short will be sent again at the next start` : '';
  process.stdout.write(`tocsin: stopped; kept in ${running.databaseFile}: ${describeDepths(summary.depths, summary.rejected)}${cut}\n`);
  return 0;
}

function adminTarget(values: { url?: string | undefined; token?: string | undefined; data?: string | undefined }): AdminTarget {
  return {
    url: values.url ?? `http://127.0.0.1:${process.env['PORT'] ?? '7070'}`,
    token: values.token ?? process.env['TOCSIN_INGEST_TOKEN'],
    dataDir: values.data,
  };
}

const ADMIN_OPTIONS = { url: { type: 'string' }, token: { type: 'string' }, data: { type: 'string' } } as const;

async function historyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...ADMIN_OPTIONS, json: { type: 'boolean' } }, allowPositionals: true });
  const [fingerprint, ...extra] = positionals;
  if (!fingerprint || extra.length > 0) throw new UsageError('history takes exactly one FINGERPRINT (see GET /v1/incidents)');
  const { formatHistory, incidentHistory } = await import('./admin.ts');
  const found = await incidentHistory(adminTarget(values), fingerprint);
  process.stdout.write(`${values.json === true ? JSON.stringify(found, null, 2) : formatHistory(found)}\n`);
  return 0;
}

async function dlqCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...ADMIN_OPTIONS,
      json: { type: 'boolean' },
      aws: { type: 'boolean' },
      'queue-url': { type: 'string' },
      'source-arn': { type: 'string' },
      'destination-arn': { type: 'string' },
    },
    allowPositionals: true,
  });
  const [action, ...extra] = positionals;
  if (extra.length > 0 || (action !== 'list' && action !== 'redrive')) throw new UsageError('dlq takes list or redrive');
  if (values.aws === true) return awsDlqCommand(action, values);
  const target = adminTarget(values);
  const { deadLetters, formatDeadLetters, redrive } = await import('./admin.ts');
  if (action === 'list') {
    const rows = await deadLetters(target);
    process.stdout.write(`${values.json === true ? JSON.stringify(rows, null, 2) : formatDeadLetters(rows)}\n`);
    return 0;
  }
  const moved = await redrive(target);
  process.stdout.write(`put ${String(moved)} dead letter(s) back on their queue\n`);
  return 0;
}

async function awsDlqCommand(
  action: 'list' | 'redrive',
  values: { json?: boolean | undefined; 'queue-url'?: string | undefined; 'source-arn'?: string | undefined; 'destination-arn'?: string | undefined },
): Promise<number> {
  const { deadLetterClient, formatSqsDeadLetters, listDeadLetters, redriveDeadLetters } = await import('../../shared/queue/sqs-dead-letters.ts');
  const client = deadLetterClient(process.env);
  if (action === 'list') {
    const queueUrl = values['queue-url'];
    if (queueUrl === undefined) throw new UsageError('dlq list --aws needs --queue-url (the dead-letter queue\'s URL)');
    const letters = await listDeadLetters(client, queueUrl);
    process.stdout.write(`${values.json === true ? JSON.stringify(letters, null, 2) : formatSqsDeadLetters(letters)}\n`);
    return 0;
  }
  const source = values['source-arn'];
  const destination = values['destination-arn'];
  if (source === undefined || destination === undefined) {
    throw new UsageError('dlq redrive --aws needs --source-arn (the dead-letter queue) and --destination-arn (its work queue): Tocsin\'s functions dead-letter themselves, so SQS does not know the source queue');
  }
  const handle = await redriveDeadLetters(client, source, destination);
  process.stdout.write(`SQS is moving the dead letters back (task ${handle}); aws sqs list-message-move-tasks --source-arn ${source} shows its progress\n`);
  return 0;
}

async function silenceCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...ADMIN_OPTIONS,
      json: { type: 'boolean' },
      all: { type: 'boolean' },
      for: { type: 'string' },
      until: { type: 'string' },
      from: { type: 'string' },
      by: { type: 'string' },
      comment: { type: 'string' },
    },
    allowPositionals: true,
  });
  const [action, ...rest] = positionals;
  const target = adminTarget(values);
  const admin = await import('./admin.ts');
  switch (action) {
    case 'add': {
      if (rest.length === 0) throw new UsageError('silence add takes at least one MATCHER, e.g. alertname=DiskFull');
      if ((values.for === undefined) === (values.until === undefined)) throw new UsageError('silence add takes either --for DURATION or --until TIME');
      if (values.by === undefined || values.comment === undefined) throw new UsageError('silence add needs --by WHO and --comment WHY');
      const silence = await admin.addSilence(target, {
        matchers: rest,
        createdBy: values.by,
        comment: values.comment,
        ...(values.for === undefined ? {} : { duration: values.for }),
        ...(values.until === undefined ? {} : { endsAt: values.until }),
        ...(values.from === undefined ? {} : { startsAt: values.from }),
      });
      process.stdout.write(values.json === true ? `${JSON.stringify(silence, null, 2)}\n` : `silence ${silence.id} until ${silence.endsAt}\n`);
      return 0;
    }
    case 'list': {
      if (rest.length > 0) throw new UsageError('silence list takes no arguments');
      const silences = await admin.listSilences(target, values.all === true);
      process.stdout.write(`${values.json === true ? JSON.stringify(silences, null, 2) : admin.formatSilences(silences)}\n`);
      return 0;
    }
    case 'expire': {
      const [id, ...extra] = rest;
      if (id === undefined || extra.length > 0) throw new UsageError('silence expire takes exactly one ID (see tocsin silence list)');
      const silence = await admin.expireSilence(target, id);
      process.stdout.write(`silence ${silence.id} ended ${silence.endsAt}\n`);
      return 0;
    }
    default:
      throw new UsageError('silence takes add, list or expire');
  }
}

async function ackCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...ADMIN_OPTIONS, by: { type: 'string' }, undo: { type: 'boolean' }, json: { type: 'boolean' } }, allowPositionals: true });
  const [fingerprint, ...extra] = positionals;
  if (fingerprint === undefined || extra.length > 0) throw new UsageError('ack takes exactly one FINGERPRINT (see GET /v1/incidents)');
  if ((values.undo === true) === (values.by !== undefined)) throw new UsageError('ack takes either --by WHO or --undo');
  const { acknowledgeIncident } = await import('./admin.ts');
  const record = await acknowledgeIncident(adminTarget(values), fingerprint, values.undo === true ? undefined : values.by);
  const text = record.acknowledged ? `${fingerprint} acknowledged by ${record.acknowledged.by} at ${record.acknowledged.at}` : `${fingerprint} no longer acknowledged`;
  process.stdout.write(`${values.json === true ? JSON.stringify(record, null, 2) : text}\n`);
  return 0;
}

async function replayCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { url: { type: 'string' }, token: { type: 'string' } },
    allowPositionals: true,
  });
  const [target, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError('replay takes at most one DIR or FILE');
  const options = {
    baseUrl: values.url ?? `http://127.0.0.1:${process.env['PORT'] ?? '7070'}`,
    token: values.token ?? process.env['TOCSIN_INGEST_TOKEN'],
  };
  const { replay, replayStored } = await import('./replay.ts');
  if (target === undefined) {
    const stored = await replayStored(options);
    for (const result of stored.results) {
      process.stdout.write(`${String(result.status)} #${String(result.id)} ${result.path ?? ''}${result.message ? ` — ${result.message}` : ''}\n`);
    }
    process.stdout.write(`replayed ${String(stored.replayed)} rejected payload(s), ${String(stored.stillRejected)} still rejected\n`);
    return stored.stillRejected > 0 ? 1 : 0;
  }
  const results = await replay(target, {
    ...options,
    onResult: (result) => {
      process.stdout.write(`${String(result.status)} ${result.path} ${result.file}${result.message ? ` — ${result.message}` : ''}\n`);
    },
  });
  const failed = results.filter((result) => result.status < 200 || result.status >= 300).length;
  process.stdout.write(`replayed ${String(results.length)} payload(s), ${String(failed)} not accepted\n`);
  return failed > 0 ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'normalize':
      return normalizeCommand(rest);
    case 'start':
      return startCommand(rest);
    case 'replay':
      return replayCommand(rest);
    case 'history':
      return historyCommand(rest);
    case 'dlq':
      return dlqCommand(rest);
    case 'silence':
      return silenceCommand(rest);
    case 'ack':
      return ackCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Explicitly: idle keep-alive sockets to receivers must not hold a stopped server open.
    process.exit(code);
  },
  (error: unknown) => {
    if (
      error instanceof PayloadRejectedError ||
      error instanceof ConfigError ||
      error instanceof LocalDatabaseError ||
      error instanceof AdminError ||
      error instanceof NoTokenOnNetworkError
    ) {
      process.stderr.write(`tocsin: ${error.message}\n`);
      process.exitCode = 2;
    } else if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`tocsin: ${error.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
    } else if (error instanceof Error && 'code' in error && error.code === 'ENOENT') {
      process.stderr.write(`tocsin: ${error.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`tocsin: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
