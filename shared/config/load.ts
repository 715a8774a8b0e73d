// Loading the config: parse the text (JSON here; YAML in ./text.ts, with the file and text entry
// points), fill `${NAME}` placeholders, validate the structure with zod and every channel entry
// with its channel module's schema, check that routes name channels that exist. Every problem
// is collected and thrown as one ConfigError. The YAML parser is a module of its own so that the
// cloud functions, which read the JSON infra writes, load it only for a YAML parameter.
import type { z } from 'zod';
import { CHANNEL_TYPES, channelByType } from '../channels/index.ts';
import { formatPath } from '../zod-issues.ts';
import { ConfigError, type ConfigProblem } from './errors.ts';
import type { ChannelRateLimit, RateLimitSettings } from '../delivery/rate-limit.ts';
import { CHANNEL_NAME, configFileSchema, type ChannelConfig, type ChannelRateLimitEntry, type ConfigFile, type TocsinConfig } from './schema.ts';
import { substitutePlaceholders, type SecretResolver } from './secrets.ts';

/**
 * parseConfigText for JSON or YAML told apart by the first character, with the YAML parser
 * loaded only for YAML: the cloud functions read JSON (as infra writes it) and need not carry it.
 */
export async function parseConfigTextLoadingYaml(text: string, sourceName: string | undefined): Promise<unknown> {
  if (text.trimStart().startsWith('{')) return parseConfigJson(text, sourceName);
  const { parseConfigText } = await import('./text.ts');
  return parseConfigText(text, { format: 'yaml', sourceName });
}

/** JSON config text into a plain document; syntax errors name the line and column, never the text. */
export function parseConfigJson(text: string, sourceName: string | undefined): unknown {
  return nonEmptyDocument(parseJson(text, sourceName), sourceName);
}

export function nonEmptyDocument(document: unknown, sourceName: string | undefined): unknown {
  if (document === null || document === undefined) {
    throw new ConfigError([{ path: '(root)', message: 'the config is empty (it needs at least channels and routes)' }], sourceName);
  }
  return document;
}

export interface ResolveOptions {
  readonly sourceName?: string | undefined;
  /**
   * A channel whose placeholders cannot be filled is set aside (TocsinConfig.unavailableChannels)
   * instead of failing the whole config, so ingest and the other channels keep working while one
   * channel's secret is missing. Routes may still name it; its deliveries fail with the reason.
   */
  readonly isolateChannels?: boolean;
}

/** Fills `${NAME}` placeholders through `resolver`, then validates; throws ConfigError. */
export async function resolveConfig(raw: unknown, resolver: SecretResolver, options: ResolveOptions = {}): Promise<TocsinConfig> {
  const substituted = await substitutePlaceholders(raw, resolver);
  if (options.isolateChannels !== true) return validate(substituted.value, substituted.problems, substituted.templates, options.sourceName);
  const { problems, unavailable } = setAsideChannels(substituted.value, substituted.problems);
  const config = validate(substituted.value, problems, substituted.templates, options.sourceName, Object.keys(unavailable));
  return Object.keys(unavailable).length === 0 ? config : { ...config, unavailableChannels: unavailable };
}

/** The channels with unfilled placeholders, with their problems as the reason; the other problems. */
function setAsideChannels(value: unknown, problems: readonly ConfigProblem[]): { problems: ConfigProblem[]; unavailable: Record<string, string> } {
  if (!isRecord(value) || !isRecord(value.channels)) return { problems: [...problems], unavailable: {} };
  const unavailable: Record<string, string> = {};
  const remaining: ConfigProblem[] = [];
  for (const problem of problems) {
    const name = Object.keys(value.channels).find((channel) => isWithin(problem.path, formatPath(['channels', channel])));
    if (name === undefined) remaining.push(problem);
    else unavailable[name] = [unavailable[name], `${problem.path}: ${problem.message}`].filter(Boolean).join('; ');
  }
  return { problems: remaining, unavailable };
}

/** Validates a document that holds no placeholders (or whose placeholders were already filled). */
export function validateConfig(raw: unknown, options: ResolveOptions = {}): TocsinConfig {
  return validate(raw, [], new Map(), options.sourceName);
}

/** What runs when no config is given: everything goes to the console. */
/** The embedded default: every event to the console; the ingest token from the caller (locally, TOCSIN_INGEST_TOKEN). */
export function defaultConfig(options: { ingestToken?: string | undefined } = {}): TocsinConfig {
  const token = options.ingestToken?.trim();
  return validateConfig({
    ...(token ? { ingest: { token } } : {}),
    channels: { console: { type: 'console' } },
    routes: [{ channels: ['console'] }],
  });
}

function parseJson(text: string, sourceName: string | undefined): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ConfigError([describeJsonError(error, text)], sourceName);
  }
}

/** V8's JSON messages may quote the text around the error; keep only the position and the kind. */
function describeJsonError(error: unknown, text: string): ConfigProblem {
  const message = error instanceof Error ? error.message : 'invalid JSON';
  const position = /at position (\d+)/.exec(message);
  const kind = (message.split(/ in JSON| at position|, "/)[0] ?? 'invalid JSON').trim();
  if (position?.[1] === undefined) return { path: '(root)', message: `invalid JSON: ${kind}` };
  const before = text.slice(0, Number(position[1]));
  const line = before.split('\n').length;
  const col = before.length - before.lastIndexOf('\n');
  return { path: `line ${line}, column ${col}`, message: `invalid JSON: ${kind}` };
}

function validate(
  raw: unknown,
  placeholderProblems: readonly ConfigProblem[],
  templates: ReadonlyMap<string, string>,
  sourceName: string | undefined,
  setAside: readonly string[] = [],
): TocsinConfig {
  const parsed = configFileSchema.safeParse(raw);
  const channelResult = validateChannels(raw, templates, setAside);
  const problems = [
    ...(parsed.success ? [] : problemsOf(parsed.error)),
    ...channelResult.problems,
    ...checkRouteChannels(raw, templates),
    ...checkGroupedChannels(raw, channelResult.channels),
    ...checkRateLimitChannels(raw),
  ];
  // A placeholder that could not be filled also fails validation at the same place; the
  // placeholder message is the one that says what to fix.
  const reported = placeholderProblems.map((problem) => problem.path);
  const kept = problems.filter((problem) => !reported.some((path) => isWithin(problem.path, path)));
  const all = [...placeholderProblems, ...kept];
  if (all.length > 0 || !parsed.success) throw new ConfigError(all, sourceName);
  return toTocsinConfig(parsed.data, channelResult.channels);
}

function toTocsinConfig(file: ConfigFile, channels: Record<string, ChannelConfig>): TocsinConfig {
  const { defaults } = file;
  return {
    ingest: file.ingest,
    channels,
    routes: file.routes,
    dedup: {
      renotifyAfterMs: defaults.renotifyAfter,
      flap: { changes: defaults.flap.changes, windowMs: defaults.flap.window },
      notifyUnknownResolve: defaults.notifyUnknownResolve,
      resolvedTtlSeconds: Math.ceil(defaults.resolvedTtl / 1000),
    },
    delivery: {
      maxAttempts: defaults.maxAttempts,
      sendTimeoutMs: defaults.sendTimeout,
      backoff: { initialMs: defaults.backoff.initial, maxMs: defaults.backoff.max },
    },
    maintenance: file.maintenance,
    autoResolveAfterMs: defaults.autoResolveAfter,
    rateLimits: rateLimitSettingsOf(file.rateLimits, channels),
    ...(file.server.publicUrl === undefined ? {} : { publicUrl: file.server.publicUrl }),
  };
}

/** `rateLimits:` resolved: each override merged over its channel type's defaults. */
function rateLimitSettingsOf(file: ConfigFile['rateLimits'], channels: Record<string, ChannelConfig>): RateLimitSettings {
  const resolved: Record<string, ChannelRateLimit | 'off'> = {};
  for (const [name, entry] of Object.entries(file.channels)) {
    const type = Object.hasOwn(channels, name) ? channels[name]?.type : undefined;
    resolved[name] = entry === 'off' ? 'off' : mergeRateLimit(entry, type === undefined ? undefined : channelByType(type)?.rateTargets?.defaults);
  }
  return { maxWaitMs: file.maxWait, channels: resolved };
}

function mergeRateLimit(entry: ChannelRateLimitEntry, defaults: ChannelRateLimit | undefined): ChannelRateLimit {
  const base = defaults?.rate;
  const rate =
    entry.limit !== undefined && entry.per !== undefined
      ? { limit: entry.limit, perMs: entry.per, burst: entry.burst ?? 1 }
      : base && { ...base, burst: entry.burst ?? base.burst };
  const dailyCap = entry.dailyCap ?? defaults?.dailyCap;
  return { ...(rate ? { rate } : {}), ...(dailyCap === undefined ? {} : { dailyCap }) };
}

/** Every channel `rateLimits.channels` names must be defined. */
function checkRateLimitChannels(raw: unknown): ConfigProblem[] {
  if (!isRecord(raw) || !isRecord(raw.rateLimits) || !isRecord(raw.rateLimits.channels)) return [];
  const defined = isRecord(raw.channels) ? raw.channels : {};
  return Object.keys(raw.rateLimits.channels)
    .filter((name) => !Object.hasOwn(defined, name))
    .map((name) => ({ path: formatPath(['rateLimits', 'channels', name]), message: `unknown channel ${JSON.stringify(name)}` }));
}

/** Each channel entry through its own module's schema (but those set aside); the zod pass already checked the shape. */
function validateChannels(
  raw: unknown,
  templates: ReadonlyMap<string, string>,
  setAside: readonly string[],
): { channels: Record<string, ChannelConfig>; problems: ConfigProblem[] } {
  const channels: Record<string, ChannelConfig> = {};
  const problems: ConfigProblem[] = [];
  const entries = isRecord(raw) && isRecord(raw.channels) ? Object.entries(raw.channels) : [];
  for (const [name, entry] of entries) {
    const path = formatPath(['channels', name]);
    if (!CHANNEL_NAME.test(name)) {
      problems.push({ path, message: 'invalid channel name (use up to 64 letters, digits, - and _)' });
    }
    if (!isRecord(entry) || typeof entry.type !== 'string' || entry.type === '' || setAside.includes(name)) continue;
    const channel = channelByType(entry.type);
    if (!channel) {
      const typePath = `${path}.type`;
      problems.push({
        path: typePath,
        message: `unknown channel type ${show(typePath, entry.type, templates)} (expected one of ${CHANNEL_TYPES.join(', ')})`,
      });
      continue;
    }
    const result = channel.configSchema.safeParse(entry);
    if (result.success) channels[name] = result.data;
    else problems.push(...problemsOf(result.error, ['channels', name]));
  }
  return { channels, problems };
}

function checkRouteChannels(raw: unknown, templates: ReadonlyMap<string, string>): ConfigProblem[] {
  if (!isRecord(raw) || !Array.isArray(raw.routes)) return [];
  const defined = isRecord(raw.channels) ? raw.channels : {};
  const problems: ConfigProblem[] = [];
  raw.routes.forEach((route: unknown, routeIndex) => {
    if (!isRecord(route) || !Array.isArray(route.channels)) return;
    route.channels.forEach((name: unknown, index) => {
      if (typeof name !== 'string' || name === '' || Object.hasOwn(defined, name)) return;
      const path = formatPath(['routes', routeIndex, 'channels', index]);
      problems.push({ path, message: `unknown channel ${show(path, name, templates)}` });
    });
  });
  return problems;
}

/** A grouping route may only name channels that lay out digests (not the incident tools). */
function checkGroupedChannels(raw: unknown, channels: Readonly<Record<string, ChannelConfig>>): ConfigProblem[] {
  if (!isRecord(raw) || !Array.isArray(raw.routes)) return [];
  const problems: ConfigProblem[] = [];
  const noDigests = CHANNEL_TYPES.filter((type) => channelByType(type)?.deliverDigest === undefined);
  raw.routes.forEach((route: unknown, routeIndex) => {
    if (!isRecord(route) || route.groupBy === undefined || !Array.isArray(route.channels)) return;
    route.channels.forEach((name: unknown, index) => {
      const type = typeof name === 'string' && Object.hasOwn(channels, name) ? channels[name]?.type : undefined;
      if (type === undefined || channelByType(type)?.deliverDigest !== undefined) return;
      problems.push({
        path: formatPath(['routes', routeIndex, 'channels', index]),
        message: `channel "${String(name)}" is of type ${type}, which takes no digests (${noDigests.join(', ')} group alerts by their own keys): name it on a route without groupBy`,
      });
    });
  });
  return problems;
}

function problemsOf(error: z.ZodError, prefix: readonly PropertyKey[] = []): ConfigProblem[] {
  return error.issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      // One line per key; channel schemas use zod's own `Unrecognized keys: "a", "b"` text.
      const message = issue.message.startsWith('unknown key') ? issue.message : 'unknown key';
      return issue.keys.map((key) => ({ path: formatPath([...path, key]), message }));
    }
    return [{ path: formatPath(path), message: issue.message }];
  });
}

/** A value for a message, unless it came from a placeholder: then the placeholder, not the secret. */
function show(path: string, value: string, templates: ReadonlyMap<string, string>): string {
  const template = templates.get(path);
  return template === undefined ? JSON.stringify(value) : `${JSON.stringify(template)} (resolved value not shown)`;
}

function isWithin(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}.`) || path.startsWith(`${ancestor}[`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
