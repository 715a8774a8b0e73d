// The generic webhook channel: POSTs `{"event": …, "incident": {…}}` as JSON so any HTTP
// service can consume the incident stream (design.md, "Config file"), with `"state": {…}`
// (acknowledgedBy, silencedUntil, reminder) when the pipeline knows any of it.
//
// Headers sent:
//   content-type: application/json; charset=utf-8
//   user-agent: tocsin/<version>
//   x-tocsin-event: opened | resolved | renotified | flapping | digest
//   x-tocsin-fingerprint: the incident's fingerprint (a digest's: its group id)
//   x-tocsin-delivery-id: 32 hex, the same on every retry of this notice to this channel
//   authorization: Bearer <bearerToken>                        (when bearerToken is set)
//   x-tocsin-timestamp: <unix seconds at send time>            (when hmacSecret is set)
//   x-tocsin-signature: sha256=<hex HMAC-SHA256(hmacSecret, `${timestamp}.${deliveryId}.${body}`)>
// Receivers verify by recomputing the HMAC over the timestamp header, a dot, the delivery id
// header, a dot and the exact raw body bytes, comparing in constant time, and rejecting
// timestamps older than a few minutes: signing the timestamp with the body is what makes a
// captured request unreplayable, and signing the delivery id lets a receiver trust it to drop
// copies (a retry after a send that timed out on our side carries the same id).
// Custom `headers` from the config are sent too, but cannot replace the ones above.
import { createHmac } from 'node:crypto';
import * as z from 'zod';
import { defineChannel, type DeliveryEvent } from './channel.ts';
import { postJson } from './http.ts';
import packageJson from '../../package.json' with { type: 'json' };

export const USER_AGENT = `tocsin/${packageJson.version}`;

// RFC 9110 token characters for a field name; values may not carry CR, LF or NUL.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// eslint-disable-next-line no-control-regex -- a header value must not hold these
const HEADER_VALUE_FORBIDDEN = /[\r\n\u0000]/;
/** Set by the channel (or by fetch itself): a custom header may not replace them. */
const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'host',
  'connection',
  'transfer-encoding',
  'user-agent',
  'x-tocsin-event',
  'x-tocsin-fingerprint',
  'x-tocsin-delivery-id',
  'x-tocsin-timestamp',
  'x-tocsin-signature',
]);

export const webhookConfigSchema = z.lazy(() =>
  z
    .strictObject({
      type: z.literal('webhook'),
      url: z.url({ protocol: /^https?$/ }),
      bearerToken: z.string().min(1).optional(),
      hmacSecret: z.string().min(1).optional(),
      headers: z
        .record(
          z
            .string()
            .regex(HEADER_NAME, 'not a valid HTTP header name')
            .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), 'this header is set by Tocsin'),
          z.string().refine((value) => !HEADER_VALUE_FORBIDDEN.test(value), 'header values may not contain CR, LF or NUL'),
        )
        .optional(),
    })
    .refine(
      (config) => config.bearerToken === undefined || !Object.keys(config.headers ?? {}).some((name) => name.toLowerCase() === 'authorization'),
      { message: 'set either bearerToken or an authorization header, not both', path: ['headers'] },
    )
);
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

export interface WebhookRequest {
  /** `digest` for a digest (shared/grouping): `{"event":"digest","digest":{…}}`. */
  readonly event: DeliveryEvent | 'digest';
  readonly fingerprint: string;
  /** The exact JSON body; the signature covers these bytes. */
  readonly body: string;
}

/** `sha256=<hex>` over `${timestamp}.${deliveryId}.${body}`; exported so receivers and tests share the definition. */
export function signWebhook(secret: string, timestamp: string, deliveryId: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${deliveryId}.${body}`).digest('hex')}`;
}

export const webhookChannel = defineChannel<WebhookConfig, WebhookRequest>({
  type: 'webhook',
  configSchema: webhookConfigSchema,
  // A receiver of your own: no limit unless `rateLimits` sets one; its 429s are honoured all the same.
  rateLimit: { defaults: {}, targets: (config) => [config.url] },
  render(event, incident, state) {
    return { event, fingerprint: incident.fingerprint, body: JSON.stringify({ event, incident, ...(state === undefined ? {} : { state }) }) };
  },
  renderDigest({ digest }) {
    // Every notice in full: a receiver gets what separate notices would have told it.
    const body = {
      event: 'digest',
      digest: {
        groupId: digest.groupId,
        group: Object.fromEntries(digest.groupLabels.map((label) => [label.key, label.value])),
        sequence: digest.sequence,
        items: digest.items.map((item) => ({ event: item.event, incident: item.incident })),
      },
    };
    return { event: 'digest', fingerprint: digest.groupId, body: JSON.stringify(body) };
  },
  send(rendered, target, context) {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(target.headers ?? {})) headers[name.toLowerCase()] = value;
    headers['user-agent'] = USER_AGENT;
    headers['x-tocsin-event'] = rendered.event;
    headers['x-tocsin-fingerprint'] = rendered.fingerprint;
    headers['x-tocsin-delivery-id'] = context.deliveryId;
    if (target.bearerToken !== undefined) headers.authorization = `Bearer ${target.bearerToken}`;
    if (target.hmacSecret !== undefined) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      headers['x-tocsin-timestamp'] = timestamp;
      headers['x-tocsin-signature'] = signWebhook(target.hmacSecret, timestamp, context.deliveryId, rendered.body);
    }
    // A receiver may echo the request's headers in its error body: the bearer token, the HMAC
    // secret and secret-looking custom header values (an API key) are kept out of the reason.
    const secrets = [target.bearerToken, target.hmacSecret, ...Object.values(target.headers ?? {}).filter((value) => value.length >= 8)];
    return postJson(target.url, rendered.body, {
      headers,
      timeoutMs: context.timeoutMs,
      secrets: secrets.filter((secret): secret is string => secret !== undefined),
      // The channel that takes hundreds of notices a second: node:http over kept-alive sockets
      // costs less than half of fetch's CPU per notice (http.ts).
      transport: 'node-http',
    });
  },
});
