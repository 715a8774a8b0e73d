#!/usr/bin/env node
// The `tocsin` command. Subcommands: normalize (print the incidents for one payload).
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { PayloadRejectedError } from '../../shared/errors.ts';
import { SOURCE_KINDS, type SourceKind } from '../../shared/incident.ts';
import { normalizeBytes } from '../../shared/normalize.ts';

const USAGE = `Usage: tocsin <command> [options]

Commands:
  normalize FILE|-  [--source KIND]   print the incidents for one payload as a JSON array
                                      (- reads standard input; KIND is one of ${SOURCE_KINDS.join(', ')})

Exit codes: 0 done, 2 bad usage or payload not recognised, 1 anything else.`;

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

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'normalize':
      return normalizeCommand(rest);
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
    if (error instanceof PayloadRejectedError) {
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
