#!/usr/bin/env node
// The `tocsin` command: start (the local pipeline), normalize (print the incidents for one
// payload), replay (re-send spooled or fixture payloads to a running server).
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../shared/config/index.ts';
import { PayloadRejectedError } from '../../shared/errors.ts';
import { SOURCE_KINDS, type SourceKind } from '../../shared/incident.ts';
import { normalizeBytes } from '../../shared/normalize.ts';
import { NoTokenOnNetworkError } from './guards.ts';
import { replay } from './replay.ts';
import { startLocal } from './start.ts';

const USAGE = `Usage: tocsin <command> [options]

Commands:
  start [--port N] [--host H] [--config FILE] [--spool DIR] [--state FILE | --no-state]
        [--insecure-open-ingest]      run the local pipeline (default http://127.0.0.1:7070;
                                      PORT, TOCSIN_CONFIG and TOCSIN_INGEST_TOKEN are read from
                                      the environment). A --host off loopback needs a token;
                                      --insecure-open-ingest serves one without, on a network
                                      you trust with every alert
  normalize FILE|-  [--source KIND]   print the incidents for one payload as a JSON array
                                      (- reads standard input; KIND is one of ${SOURCE_KINDS.join(', ')})
  replay DIR|FILE [--url URL] [--token T]
                                      re-send spooled payloads or fixture files to a running
                                      server (default http://127.0.0.1:7070)

Exit codes: 0 done, 2 bad usage, invalid config or payload not recognised, 1 anything else.`;

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

async function startCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      config: { type: 'string' },
      spool: { type: 'string' },
      state: { type: 'string' },
      'no-state': { type: 'boolean' },
      'insecure-open-ingest': { type: 'boolean' },
    },
    allowPositionals: false,
  });
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new UsageError(`--port must be a port number, got "${values.port ?? ''}"`);
  }
  const running = await startLocal({
    port,
    host: values.host,
    configFile: values.config,
    spoolDir: values.spool,
    stateFile: values['no-state'] === true ? false : values.state,
    allowOpenNetwork: values['insecure-open-ingest'] === true,
  });
  await new Promise<void>((resolveSignal) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.stdout.write(`tocsin: ${signal}: no longer accepting; draining queues (at most 10 s)\n`);
      resolveSignal();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  const drained = await running.stop();
  const left = running.pipeline.incidents.depth() + running.pipeline.deliveries.depth();
  process.stdout.write(drained ? 'tocsin: drained; bye\n' : `tocsin: stopped with ${String(left)} job(s) not delivered\n`);
  return 0;
}

async function replayCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { url: { type: 'string' }, token: { type: 'string' } },
    allowPositionals: true,
  });
  const [target, ...extra] = positionals;
  if (!target || extra.length > 0) throw new UsageError('replay takes exactly one DIR or FILE');
  const results = await replay(target, {
    baseUrl: values.url ?? `http://127.0.0.1:${process.env['PORT'] ?? '7070'}`,
    token: values.token ?? process.env['TOCSIN_INGEST_TOKEN'],
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
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof PayloadRejectedError || error instanceof ConfigError || error instanceof NoTokenOnNetworkError) {
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
