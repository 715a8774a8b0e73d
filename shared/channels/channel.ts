// The one small interface every notification channel implements, after Alertmanager's notify
// integrations: render (pure) and send, which says whether a failure is worth retrying.
// Retry, backoff, delivery markers and dead-lettering live in the delivery worker, not here.
import type { z } from 'zod';
import type { Digest } from '../grouping/group.ts';
import type { ChannelRateTargets } from '../delivery/rate-limit.ts';
import type { Incident } from '../incident.ts';
import { buildDigestNotice, type DigestNotice, type NoticeState } from './notice.ts';
import { stripBidiControls } from './text.ts';

export const DELIVERY_EVENTS = ['opened', 'resolved', 'renotified', 'flapping'] as const;
/** What happened to an incident that is worth telling a person. */
export type DeliveryEvent = (typeof DELIVERY_EVENTS)[number];

export type SendResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** Timeouts, network errors, 408, 429 and 5xx are retryable; other 4xx and bad addresses are not. */
      readonly retryable: boolean;
      /** Short, for logs and the dead-letter record. Never contains a URL, token or address secret. */
      readonly reason: string;
      /** From a 429's (or 503's) Retry-After, when the destination said how long to wait. */
      readonly retryAfterMs?: number;
      /**
       * The destination said "too many requests" (HTTP 429, Slack's `ratelimited`): the delivery
       * worker waits (retryAfterMs, bounded) without counting an attempt, and holds back every
       * other notice to the same target meanwhile.
       */
      readonly throttled?: boolean;
    };

export interface SendContext {
  /** Give up after this long; a timeout is a retryable failure. */
  readonly timeoutMs: number;
  /**
   * The notice's delivery id: the same on every retry of one notice to one channel (see
   * deliveryIdOf in ../delivery/job.ts), so a receiver can drop a copy it already has — e.g.
   * after a send that timed out on our side but was processed on theirs.
   */
  readonly deliveryId: string;
  /**
   * Where the channel may keep the reference of the message it posted for this incident on this
   * channel (Slack in bot mode, to edit it on resolve and thread reminders under it). Absent
   * when the deployment keeps no refs: the channel then posts every notice as a new message.
   */
  readonly messageRef?: MessageRefSlot | undefined;
}

/** One incident's message ref on one channel (the worker scopes the MessageRefs port to it). */
export interface MessageRefSlot {
  get(): Promise<string | undefined>;
  put(ref: string): Promise<void>;
}

export const DEFAULT_SEND_TIMEOUT_MS = 10_000;

export interface ChannelModule<Config extends { type: string }, Rendered> {
  readonly type: Config['type'];
  /**
   * The channel's entry in the config file (after `${NAME}` placeholders are resolved). Each
   * channel wraps it in `z.lazy`: zod 4 builds a schema when it is declared, so a process builds
   * only the schemas of the channel types its config uses, when it first parses one (not all ten
   * at import: about 260 schemas, a cold start's work in the cloud functions).
   */
  readonly configSchema: z.ZodType<Config>;
  /** Pure: what will be sent, within the destination's size limits. */
  /** `state`: acknowledged, silenced, which reminder. */
  render(event: DeliveryEvent, incident: Incident, state?: NoticeState): Rendered;
  /**
   * Pure: many notices of one group as one message, worst first, `+N more` for what does not
   * fit the destination's limits. Absent: the channel takes no digests (the incident tools
   * group by their own keys), and the config loader refuses routes that group onto it.
   */
  renderDigest?(digest: DigestNotice): Rendered;
  /** Never throws for a delivery failure: returns it, marked retryable or permanent. */
  send(rendered: Rendered, target: Config, context: SendContext): Promise<SendResult>;
  /** What the destination accepts and what it limits on (shared/delivery/rate-limit.ts); none: unlimited. */
  readonly rateLimit?: ChannelRateTargets<Config>;
  /** Sends a plain text of Tocsin's own (the SMS daily cap notice); channels with a daily cap have it. */
  sendText?(text: string, target: Config, context: SendContext): Promise<SendResult>;
}

/** A registered channel: the interface plus render-then-send over a config validated by the loader. */
export interface RegisteredChannel {
  readonly type: string;
  readonly configSchema: z.ZodType<{ type: string }>;
  deliver(event: DeliveryEvent, incident: Incident, target: { type: string }, context: SendContext, state?: NoticeState): Promise<SendResult>;
  /** The channel's rate limits, its targets read from a config entry (invalid entry: none). */
  readonly rateTargets?: {
    readonly defaults: ChannelRateTargets<never>['defaults'];
    targets(target: { type: string }): readonly string[];
  };
  deliverText?(text: string, target: { type: string }, context: SendContext): Promise<SendResult>;
  /** Present when the channel lays out digests (ChannelModule.renderDigest). */
  deliverDigest?(digest: Digest, target: { type: string }, context: SendContext): Promise<SendResult>;
}

/** Every string in a JSON-shaped value (keys included) passed through `map`. */
function mapStrings<T>(value: T, map: (text: string) => string): T {
  if (typeof value === 'string') return map(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => mapStrings(item, map)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[map(key)] = mapStrings(item, map);
  return out as T;
}

/** The incident with every bidi control character removed from every text in it. */
export function withoutBidiControls(incident: Incident): Incident {
  return mapStrings(incident, stripBidiControls);
}

/**
 * The channel as registered: its `render` sees the incident without bidi control characters
 * (alert text is untrusted, and every channel must show it as it reads), and `deliver` renders
 * then sends.
 */
export function defineChannel<Config extends { type: string }, Rendered>(
  channel: ChannelModule<Config, Rendered>,
): ChannelModule<Config, Rendered> & RegisteredChannel {
  const render = (event: DeliveryEvent, incident: Incident, state?: NoticeState): Rendered =>
    channel.render(event, withoutBidiControls(incident), state && mapStrings(state, stripBidiControls));
  // The config loader validated `target` with this same schema; parsing again keeps the types
  // honest. Once per target object (a config is not changed once loaded): it cost ~20 µs, twice
  // per delivery (its rate-limit targets, then the send), at hundreds of deliveries a second.
  const parsedTargets = new WeakMap<object, ReturnType<typeof channel.configSchema.safeParse>>();
  const parse = (target: { type: string }): ReturnType<typeof channel.configSchema.safeParse> => {
    let parsed = parsedTargets.get(target);
    if (parsed === undefined) {
      parsed = channel.configSchema.safeParse(target);
      parsedTargets.set(target, parsed);
    }
    return parsed;
  };
  const sendParsed = (rendered: () => Rendered, target: { type: string }, context: SendContext): Promise<SendResult> => {
    const parsed = parse(target);
    if (!parsed.success) {
      return Promise.resolve({ ok: false, retryable: false, reason: `invalid ${channel.type} channel config` });
    }
    return channel.send(rendered(), parsed.data, context);
  };
  const renderDigest = channel.renderDigest?.bind(channel);
  const { rateLimit } = channel;
  return {
    ...channel,
    render,
    ...(rateLimit && {
      rateTargets: {
        defaults: rateLimit.defaults,
        targets(target: { type: string }) {
          const parsed = parse(target);
          return parsed.success ? rateLimit.targets(parsed.data) : [];
        },
      },
    }),
    ...(channel.sendText !== undefined && {
      deliverText(text: string, target: { type: string }, context: SendContext): Promise<SendResult> {
        const parsed = parse(target);
        if (!parsed.success) return Promise.resolve({ ok: false, retryable: false, reason: `invalid ${channel.type} channel config` });
        return channel.sendText?.(text, parsed.data, context) ?? Promise.resolve({ ok: false, retryable: false, reason: `${channel.type} cannot send text` });
      },
    }),
    deliver(event, incident, target, context, state) {
      return sendParsed(() => render(event, incident, state), target, context);
    },
    ...(renderDigest === undefined
      ? {}
      : {
          deliverDigest(digest: Digest, target: { type: string }, context: SendContext) {
            const clean = { ...digest, items: digest.items.map((item) => ({ ...item, incident: withoutBidiControls(item.incident) })) };
            return sendParsed(() => renderDigest(buildDigestNotice(clean)), target, context);
          },
        }),
  };
}
