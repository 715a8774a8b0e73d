// Config text and files (YAML or JSON) → TocsinConfig. Apart from ./load.ts, which resolves and
// validates, so that code which only ever reads JSON (the cloud functions) can leave the YAML
// parser out of its bundle and its start-up.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError } from './errors.ts';
import { nonEmptyDocument, parseConfigJson, resolveConfig } from './load.ts';
import type { TocsinConfig } from './schema.ts';
import { envResolver, type SecretResolver } from './secrets.ts';

/** An unquoted `${NAME}` as a whole value inside `{ }` or `[ ]`. */
const FLOW_PLACEHOLDER = /([:[,]\s*)(\$\{[A-Za-z_][A-Za-z0-9_]*\})(?=\s*[,}\]])/g;

function parseYaml(text: string, sourceName: string | undefined): unknown {
  let lineCounter = new LineCounter();
  let document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0 && text.search(FLOW_PLACEHOLDER) !== -1) {
    // `{ webhookUrl: ${SLACK_WEBHOOK_URL} }` (as the design's example writes it) is not YAML:
    // `{`/`}` end a flow mapping. Quoting exactly those placeholders is unambiguous; if the
    // document then parses, use it, else report the original errors.
    const quotedCounter = new LineCounter();
    const quoted = parseDocument(text.replace(FLOW_PLACEHOLDER, '$1"$2"'), { lineCounter: quotedCounter, prettyErrors: false });
    if (quoted.errors.length === 0) {
      document = quoted;
      lineCounter = quotedCounter;
    }
  }
  if (document.errors.length > 0) {
    throw new ConfigError(
      document.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return { path: `line ${line}, column ${col}`, message: error.message + flowPlaceholderHint(text, line) };
      }),
      sourceName,
    );
  }
  try {
    return document.toJS();
  } catch (error) {
    // Alias bombs ("Excessive alias count") and the like; yaml's messages do not quote the text.
    throw new ConfigError([{ path: '(root)', message: error instanceof Error ? error.message : 'unreadable YAML' }], sourceName);
  }
}

/** `{ url: ${URL} }` is not YAML: `{` and `}` end a flow mapping. Say how to fix it. */
function flowPlaceholderHint(text: string, line: number): string {
  const source = text.split('\n')[line - 1] ?? '';
  return /[{[][^\n]*\$\{/.test(source) ? ' (inside { } or [ ], quote placeholders: "${NAME}")' : '';
}


export type ConfigFormat = 'yaml' | 'json';

export interface ParseOptions {
  /** Defaults to the extension of `sourceName` (`.json` is JSON, anything else YAML). */
  readonly format?: ConfigFormat;
  /** File name or parameter name, for error messages. */
  readonly sourceName?: string | undefined;
}

/**
 * Parses config text into a plain document (nothing resolved or validated yet).
 * Syntax errors name the line and column, without quoting the line: it may hold a secret.
 */
export function parseConfigText(text: string, options: ParseOptions = {}): unknown {
  const format = options.format ?? formatOf(options.sourceName);
  if (format === 'json') return parseConfigJson(text, options.sourceName);
  return nonEmptyDocument(parseYaml(text, options.sourceName), options.sourceName);
}

export interface LoadOptions extends ParseOptions {
  /** Where `${NAME}` comes from; defaults to `env`. */
  readonly resolver?: SecretResolver;
  /** The environment for `${NAME}` when no resolver is given; defaults to process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** parseConfigText + resolveConfig. */
export async function loadConfigText(text: string, options: LoadOptions = {}): Promise<TocsinConfig> {
  const raw = parseConfigText(text, options);
  return resolveConfig(raw, options.resolver ?? envResolver(options.env), { sourceName: options.sourceName });
}

/** Reads, parses, resolves and validates a config file. */
export async function loadConfigFile(path: string, options: Omit<LoadOptions, 'sourceName'> = {}): Promise<TocsinConfig> {
  const text = await readFile(path, 'utf8');
  return loadConfigText(text, { ...options, sourceName: path });
}

function formatOf(sourceName: string | undefined): ConfigFormat {
  return sourceName !== undefined && extname(sourceName).toLowerCase() === '.json' ? 'json' : 'yaml';
}

