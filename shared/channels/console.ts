// The console channel: one line per notice on stdout or stderr, the local pipeline's default
// so a newcomer sees incidents with no account anywhere. The line is plain text (the title is
// reduced to one line with control characters removed, so a payload cannot forge log lines or
// send terminal escapes); colour is added only when writing to a terminal and NO_COLOR is unset.
import * as z from 'zod';
import { defineChannel, type DeliveryEvent, type SendResult } from './channel.ts';
import { eventTime, type Incident } from '../incident.ts';
import type { DigestNotice } from './notice.ts';
import { oneLine, shortFingerprint, truncate } from './text.ts';

export const consoleConfigSchema = z.lazy(() =>
  z.strictObject({
    type: z.literal('console'),
    stream: z.enum(['stdout', 'stderr']).default('stdout'),
  })
);
export type ConsoleConfig = z.infer<typeof consoleConfigSchema>;

export interface ConsoleLine {
  readonly event: DeliveryEvent;
  /** Without the trailing newline and without colour. */
  readonly line: string;
}

/** The part of a writable stream the channel uses (process.stdout fits). */
export interface ConsoleOutput {
  readonly isTTY?: boolean;
  write(text: string, callback: (error?: Error | null) => void): boolean;
}

export interface ConsoleChannelOptions {
  /** Where `stdout` and `stderr` write; read at send time. Default: the process's streams. */
  readonly streams?: () => Readonly<Record<ConsoleConfig['stream'], ConsoleOutput>>;
  /** For NO_COLOR and TERM. Default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const TITLE_MAX = 300;
const EVENT_WIDTH = Math.max(...(['opened', 'resolved', 'renotified', 'flapping'] as const).map((e) => e.length));

// SGR colours: red opened, green resolved, yellow reminder, magenta flapping.
const EVENT_COLOUR: Readonly<Record<DeliveryEvent, number>> = { opened: 31, resolved: 32, renotified: 33, flapping: 35 };

/**
 * `<ISO time> <EVENT> [<SEVERITY>] <title> (<source kind>/<account>) fp=<short fingerprint>`.
 * The time is the event's own (when it began, or ended for a resolved notice), in UTC.
 */
export function renderConsoleLine(event: DeliveryEvent, incident: Incident): string {
  const time = new Date(eventTime(incident)).toISOString();
  const origin = incident.source.account !== undefined ? `${incident.source.kind}/${oneLine(incident.source.account)}` : incident.source.kind;
  const title = truncate(oneLine(incident.title), TITLE_MAX);
  return `${time} ${event.toUpperCase().padEnd(EVENT_WIDTH)} [${incident.severity.toUpperCase()}] ${title} (${origin}) fp=${shortFingerprint(incident.fingerprint)}`;
}

/**
 * A digest: `<time> DIGEST <headline> group=<id>#<sequence>`, then one indented line per notice,
 * `<LABEL> <subject> (<where>) fp=<short fingerprint>`. The console has no size limit: all are shown.
 */
export function renderConsoleDigest(digest: DigestNotice, now: Date = new Date()): string {
  const head = `${now.toISOString()} ${'DIGEST'.padEnd(EVENT_WIDTH)} ${oneLine(digest.headline)} group=${digest.groupId}#${String(digest.sequence)}`;
  const lines = digest.lines.map((line) => `  ${line.label} ${truncate(line.subject, TITLE_MAX)} (${line.where}) fp=${shortFingerprint(line.fingerprint)}`);
  return [head, ...lines].join('\n');
}

export function shouldColour(output: ConsoleOutput, env: Readonly<Record<string, string | undefined>>): boolean {
  const noColor = env.NO_COLOR;
  return output.isTTY === true && (noColor === undefined || noColor === '') && env.TERM !== 'dumb';
}

export function createConsoleChannel(options: ConsoleChannelOptions = {}) {
  const streams = options.streams ?? (() => ({ stdout: process.stdout, stderr: process.stderr }));
  const env = options.env ?? process.env;
  return defineChannel<ConsoleConfig, ConsoleLine>({
    type: 'console',
    configSchema: consoleConfigSchema,
    render(event, incident) {
      return { event, line: renderConsoleLine(event, incident) };
    },
    renderDigest(digest) {
      return { event: digest.lines[0]?.event ?? 'opened', line: renderConsoleDigest(digest) };
    },
    send(rendered, target) {
      const output = streams()[target.stream];
      const text = shouldColour(output, env)
        ? `\u001b[${EVENT_COLOUR[rendered.event]}m${rendered.line}\u001b[0m\n`
        : `${rendered.line}\n`;
      return new Promise<SendResult>((resolve) => {
        try {
          output.write(text, (error) => {
            resolve(error ? { ok: false, retryable: true, reason: `write to ${target.stream} failed: ${errorCode(error)}` } : { ok: true });
          });
        } catch (error) {
          resolve({ ok: false, retryable: true, reason: `write to ${target.stream} failed: ${errorCode(error)}` });
        }
      });
    },
  });
}

function errorCode(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code ?? error.name;
  }
  return 'unknown error';
}

export const consoleChannel = createConsoleChannel();
