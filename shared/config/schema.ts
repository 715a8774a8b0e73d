// The config file's shape (zod, built once at module load) and the resolved TocsinConfig the
// rest of the code reads. The file speaks in people's terms (`renotifyAfter: 4h`); the resolved
// config in the code's terms (`renotifyAfterMs`), split by the stage that uses it.
// Channel entries are checked here only for a string `type`; the loader then validates each
// with its channel module's own schema from the registry.
import { z } from 'zod';
import { DEFAULT_SEND_TIMEOUT_MS } from '../channels/channel.ts';
// decide.ts, not the dedup index: the index also loads the DynamoDB adapter and its SDK.
import { DEFAULT_DEDUP_SETTINGS, type DedupSettings } from '../dedup/decide.ts';
import { DEFAULT_DELIVERY_BACKOFF, type BackoffSettings } from '../delivery/backoff.ts';
import { CLOUDS, SEVERITIES, SOURCE_KINDS, type Cloud, type Severity, type SourceKind } from '../incident.ts';
import { maintenanceSchema, type MaintenanceWindow } from '../silences/maintenance.ts';
import { DURATION_HINT, parseDuration } from './duration.ts';

export type { DedupSettings };

export interface DeliverySettings {
  /** Tries per delivery job, the first included, before it is dead-lettered. */
  readonly maxAttempts: number;
  readonly sendTimeoutMs: number;
  /** Delays between those tries (equal jitter, shared/delivery/backoff.ts). */
  readonly backoff: BackoffSettings;
}

export interface IngestSettings {
  /** Bearer / basic-auth / `?token=` secret HTTP ingest requires; none when absent. */
  readonly token?: string | undefined;
  readonly maxBodyBytes: number;
}

/** One channel entry, validated by its channel module's `configSchema`. */
export interface ChannelConfig {
  readonly type: string;
}

export interface RouteMatch {
  readonly severity?: readonly Severity[] | undefined;
  readonly source?: readonly SourceKind[] | undefined;
  readonly cloud?: readonly Cloud[] | undefined;
  readonly account?: readonly string[] | undefined;
  /** Every listed label must equal the value; a missing label counts as "" (as in Alertmanager). */
  readonly labels?: Readonly<Record<string, string>> | undefined;
  /** Every listed label must fully match the expression (anchored like Alertmanager's `=~`). */
  readonly labelsRegex?: Readonly<Record<string, RegExp>> | undefined;
}

export interface RouteConfig {
  /** Absent: the route matches every incident. */
  readonly match?: RouteMatch | undefined;
  readonly channels: readonly string[];
  /** Keep looking at later routes after this one matched. */
  readonly continue: boolean;
  /** Severity given to the incidents this route matches (the first matching override wins). */
  readonly severity?: Severity | undefined;
  /** Resolve what this route matches after this long without news from its source (the first matching route that sets it wins). */
  readonly autoResolveAfter?: number | undefined;
}

export interface TocsinConfig {
  readonly ingest: IngestSettings;
  readonly channels: Readonly<Record<string, ChannelConfig>>;
  readonly routes: readonly RouteConfig[];
  readonly dedup: DedupSettings;
  readonly delivery: DeliverySettings;
  /**
   * Channels that routes may still name but that cannot send, by name, with why (the key of a
   * secret that is not set, never a value). Only the cloud loader isolates channels this way
   * (resolveConfig's `isolateChannels`); locally a missing value stops the start instead.
   */
  readonly unavailableChannels?: Readonly<Record<string, string>> | undefined;
  /** Maintenance windows: what they match is held like a silenced incident while they are open. */
  readonly maintenance?: readonly MaintenanceWindow[] | undefined;
  /** `defaults.autoResolveAfter` (ms): resolve a firing incident not heard of for this long; 0 never. */
  readonly autoResolveAfterMs?: number | undefined;
  /** `server.publicUrl`: the local server's address as people reach it; notices link its incidents page. */
  readonly publicUrl?: string | undefined;
}

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;
/** With the default backoff, 12 tries span 66 minutes at least (retryWindow). */
export const DEFAULT_MAX_ATTEMPTS = 12;

/** The values `defaults:` falls back to, key by key (dedup's own defaults). */
export const CONFIG_DEFAULTS = {
  renotifyAfterMs: DEFAULT_DEDUP_SETTINGS.renotifyAfterMs,
  flap: DEFAULT_DEDUP_SETTINGS.flap,
  notifyUnknownResolve: DEFAULT_DEDUP_SETTINGS.notifyUnknownResolve,
  resolvedTtlMs: DEFAULT_DEDUP_SETTINGS.resolvedTtlSeconds * 1000,
  maxAttempts: DEFAULT_MAX_ATTEMPTS,
  sendTimeoutMs: DEFAULT_SEND_TIMEOUT_MS,
  backoff: DEFAULT_DELIVERY_BACKOFF,
} as const;

/** z.strictObject whose unknown-key message lists the keys it knows, so a typo is obvious. */
function strictObject<Shape extends z.ZodRawShape>(shape: Shape) {
  const expected = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown key (expected one of ${expected})` : undefined),
  });
}

function duration(options: { positive: boolean }) {
  return z.unknown().transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: DURATION_HINT });
      return z.NEVER;
    }
    if (options.positive && ms === 0) {
      ctx.addIssue({ code: 'custom', message: 'must be longer than 0' });
      return z.NEVER;
    }
    return ms;
  });
}

/** Compiled anchored, like Alertmanager's `=~`: `prod|staging` does not match `preprod`. */
const labelRegex = z.string().transform((source, ctx) => {
  try {
    // Compiled alone first: wrapping could make a broken pattern such as `a)|(b` look valid.
    new RegExp(source);
    return new RegExp(`^(?:${source})$`);
  } catch (error) {
    const detail = error instanceof Error ? (error.message.split(': ').at(-1) ?? error.message) : 'syntax error';
    ctx.addIssue({ code: 'custom', message: `invalid regular expression (${detail})` });
    return z.NEVER;
  }
});

const matchSchema = strictObject({
  severity: z.array(z.enum(SEVERITIES)).min(1).optional(),
  source: z.array(z.enum(SOURCE_KINDS)).min(1).optional(),
  cloud: z.array(z.enum(CLOUDS)).min(1).optional(),
  account: z.array(z.string().min(1)).min(1).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  labelsRegex: z.record(z.string(), labelRegex).optional(),
});

const routeSchema = strictObject({
  match: matchSchema.optional(),
  // May be empty: a route that matches and tells nobody silences what it matches.
  channels: z.array(z.string().min(1)),
  continue: z.boolean().default(false),
  severity: z.enum(SEVERITIES).optional(),
  autoResolveAfter: duration({ positive: true }).optional(),
});

export const configFileSchema = strictObject({
  ingest: strictObject({
    // A blank token would read as "no token" to some checks and as a secret to others.
    token: z.string().refine((token) => token.trim() !== '', 'is blank: set a secret, or leave ingest.token out').optional(),
    maxBodyBytes: z.int().positive().default(DEFAULT_MAX_BODY_BYTES),
  }).prefault({}),
  channels: z
    .record(z.string(), z.looseObject({ type: z.string().min(1) }))
    .refine((channels) => Object.keys(channels).length > 0, 'define at least one channel'),
  routes: z.array(routeSchema).min(1, 'define at least one route'),
  defaults: strictObject({
    renotifyAfter: duration({ positive: false }).default(CONFIG_DEFAULTS.renotifyAfterMs),
    flap: strictObject({
      changes: z.int().min(1).default(CONFIG_DEFAULTS.flap.changes),
      window: duration({ positive: true }).default(CONFIG_DEFAULTS.flap.windowMs),
    }).prefault({}),
    notifyUnknownResolve: z.boolean().default(CONFIG_DEFAULTS.notifyUnknownResolve),
    resolvedTtl: duration({ positive: true }).default(CONFIG_DEFAULTS.resolvedTtlMs),
    maxAttempts: z.int().min(1).max(100).default(CONFIG_DEFAULTS.maxAttempts),
    sendTimeout: duration({ positive: true }).default(CONFIG_DEFAULTS.sendTimeoutMs),
    backoff: strictObject({
      initial: duration({ positive: true }).default(CONFIG_DEFAULTS.backoff.initialMs),
      max: duration({ positive: true }).default(CONFIG_DEFAULTS.backoff.maxMs),
    })
      .refine((backoff) => backoff.initial <= backoff.max, 'initial must not be longer than max')
      .prefault({}),
    autoResolveAfter: duration({ positive: false }).default(0),
  }).prefault({}),
  maintenance: maintenanceSchema.default([]),
  server: strictObject({
    // Opt-in: where people reach the local server's incidents page; notices then link it.
    publicUrl: z
      .url({ protocol: /^https?$/, error: 'a URL like https://tocsin.example.com (http or https) where people reach this server' })
      .refine((url) => !url.includes('?') && !url.includes('#'), 'a base URL without ?query or #fragment')
      .optional(),
  }).prefault({}),
});

export type ConfigFile = z.output<typeof configFileSchema>;

/** Channel names end up in marker keys, queue messages and metric labels: keep them plain. */
export const CHANNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
