// The config file's shape (zod, built once at module load) and the resolved TocsinConfig the
// rest of the code reads. The file speaks in people's terms (`renotifyAfter: 4h`); the resolved
// config in the code's terms (`renotifyAfterMs`), split by the stage that uses it.
// Channel entries are checked here only for a string `type`; the loader then validates each
// with its channel module's own schema from the registry.
import * as z from 'zod';
import { DEFAULT_SEND_TIMEOUT_MS } from '../channels/channel.ts';
// decide.ts, not the dedup index: the index also loads the DynamoDB adapter and its SDK.
import { DEFAULT_DEDUP_SETTINGS, type DedupSettings } from '../dedup/decide.ts';
import { DEFAULT_DELIVERY_BACKOFF, type BackoffSettings } from '../delivery/backoff.ts';
import { DEFAULT_MAX_WAIT_MS, type RateLimitSettings } from '../delivery/rate-limit.ts';
import { CLOUDS, SEVERITIES, SOURCE_KINDS, type Cloud, type Severity, type SourceKind } from '../incident.ts';
import { GROUP_FIELDS, LABEL_PREFIX } from '../grouping/group.ts';
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
  // Grouping into digests (shared/grouping/group.ts): absent groupBy, every notice is its own message.
  /** Incident fields (GROUP_FIELDS) or label names whose values make a group. */
  readonly groupBy?: readonly string[] | undefined;
  /** How long a new group's first notice waits for others (ms); DEFAULT_GROUP_WAIT_MS when grouped. */
  readonly groupWait?: number | undefined;
  /** How long after a digest the group's next changes wait (ms); DEFAULT_GROUP_INTERVAL_MS when grouped. */
  readonly groupInterval?: number | undefined;
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
  /** `rateLimits`: per-channel overrides of the channel types' rate limits; the types' defaults when absent. */
  readonly rateLimits?: RateLimitSettings | undefined;
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

// Grouping keys: an incident field, a label name, or `label:<name>` for a label spelt like a field.
const groupByKey = z
  .string()
  .min(1, `must be an incident field (${GROUP_FIELDS.join(', ')}) or a label name`)
  .refine((key) => key !== LABEL_PREFIX, `name the label after "${LABEL_PREFIX}"`);
const MAX_GROUP_WAIT_MS = 3_600_000;
const MAX_GROUP_INTERVAL_MS = 86_400_000;

const routeSchema = strictObject({
  match: matchSchema.optional(),
  // May be empty: a route that matches and tells nobody silences what it matches.
  channels: z.array(z.string().min(1)),
  continue: z.boolean().default(false),
  severity: z.enum(SEVERITIES).optional(),
  autoResolveAfter: duration({ positive: true }).optional(),
  // Grouping into digests (shared/grouping/group.ts).
  groupBy: z
    .array(groupByKey)
    .min(1, `list at least one incident field (${GROUP_FIELDS.join(', ')}) or label name, or leave groupBy out`)
    .refine((keys) => new Set(keys).size === keys.length, 'lists a key twice')
    .optional(),
  groupWait: duration({ positive: false })
    .refine((ms) => ms <= MAX_GROUP_WAIT_MS, 'must be at most 1h (a first notice waits this long)')
    .optional(),
  groupInterval: duration({ positive: true })
    .refine((ms) => ms <= MAX_GROUP_INTERVAL_MS, 'must be at most 24h')
    .optional(),
}).superRefine((route, ctx) => {
  if (route.groupBy !== undefined) return;
  for (const key of ['groupWait', 'groupInterval'] as const) {
    if (route[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'only applies with groupBy: set groupBy too, or leave it out' });
  }
});

// Rate limits per channel target (`rateLimits:`): overrides by channel name of what each channel
// type assumes its destination accepts (shared/delivery/rate-limit.ts). `limit` per `per`, with
// `burst` sent at once after a quiet spell; `dailyCap` counts notices per UTC day (SMS); `off`
// sends as fast as deliveries come. Keys left out keep the type's default.
const channelRateLimitSchema = strictObject({
  limit: z.int().positive().optional(),
  per: duration({ positive: true }).optional(),
  burst: z.int().positive().optional(),
  dailyCap: z.int().positive().optional(),
}).refine((entry) => (entry.limit === undefined) === (entry.per === undefined), 'set limit and per together (e.g. limit: 1, per: 1s)');

const rateLimitsSchema = strictObject({
  /** A destination's Retry-After longer than this is cut to it. */
  maxWait: duration({ positive: true }).default(DEFAULT_MAX_WAIT_MS),
  channels: z.record(z.string(), z.union([z.literal('off'), channelRateLimitSchema])).default({}),
});

export type ChannelRateLimitEntry = z.output<typeof channelRateLimitSchema>;

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
  rateLimits: rateLimitsSchema.prefault({}),
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
