// PagerDuty channel: Events API v2 (POST https://events.pagerduty.com/v2/enqueue).
//
// Relied on: PagerDuty's Events API v2 reference (developer.pagerduty.com/docs/events-api-v2,
// "Send an Alert Event", and the published OpenAPI document PagerDuty/api-schema
// reference/events-v2/openapiv3.json):
// - body `{routing_key, event_action: trigger|acknowledge|resolve, dedup_key, payload, links,
//   client}`; `payload` needs `summary` (at most 1024 characters), `source` and `severity`
//   (`critical|error|warning|info`, Tocsin's four severities one to one); `timestamp`,
//   `component`, `group`, `class` and `custom_details` (any object) are optional; `links` are
//   `{href, text}`; `dedup_key` is at most 255 characters and ties the resolve to the trigger;
//   a resolve needs no payload;
// - the routing key is the 32-character Integration Key of an Events API v2 integration, sent in
//   the body (no auth header), so it is a secret like a webhook URL;
// - answers: 202 `{"status":"success","message":"Event processed","dedup_key":…}`; 400 `invalid
//   event` (do not retry); 429 "too many API calls" and 5xx (retry after some time).
//   postJson classifies exactly so (any 2xx is success; 429 honours Retry-After when given).
// Mapping: opened, renotified and flapping trigger (PagerDuty folds repeats of one dedup_key into
// the open alert); resolved resolves. dedup_key is the incident fingerprint, so the resolve finds
// the trigger whichever Tocsin instance sent it. custom_details is kept to 100,000 characters,
// well under the API's request size limit.
import * as z from 'zod';
import { defineChannel } from './channel.ts';
import { fitText, openableLinks, webhookUrlSchema } from './chat-format.ts';
import { postJson } from './http.ts';
import { affectedSystem, boundedDetails, incidentDetailEntries, toolHeadline } from './incident-tool-format.ts';

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
export const PAGERDUTY_LIMITS = { summaryChars: 1024, dedupKeyChars: 255, sourceChars: 255, links: 10, linkTextChars: 255, customDetailsChars: 100_000 } as const;

export const pagerDutyConfigSchema = z.lazy(() =>
  z.strictObject({
    type: z.literal('pagerduty'),
    /** The Integration Key of an Events API v2 integration (a secret: use `${NAME}`). */
    routingKey: z
      .string()
      .regex(/^[A-Za-z0-9]{32}$/, { message: 'must be the 32-character Integration Key of an Events API v2 integration' }),
    /** Another Events API v2 endpoint: the EU service region's https://events.eu.pagerduty.com/v2/enqueue, or a test server. */
    url: webhookUrlSchema.default(PAGERDUTY_EVENTS_URL),
  })
);
export type PagerDutyConfig = z.infer<typeof pagerDutyConfigSchema>;

export interface PagerDutyLink {
  readonly href: string;
  readonly text: string;
}

export interface PagerDutyPayload {
  readonly summary: string;
  readonly source: string;
  readonly severity: 'critical' | 'error' | 'warning' | 'info';
  readonly timestamp: string;
  readonly class: string;
  readonly group?: string;
  readonly component?: string;
  readonly custom_details: Record<string, string>;
}

/** The event without its routing key, which send() adds from the config. */
export type PagerDutyEvent =
  | {
      readonly event_action: 'trigger';
      readonly dedup_key: string;
      readonly client: 'Tocsin';
      readonly payload: PagerDutyPayload;
      readonly links: PagerDutyLink[];
    }
  | { readonly event_action: 'resolve'; readonly dedup_key: string };

export const pagerDutyChannel = defineChannel<PagerDutyConfig, PagerDutyEvent>({
  type: 'pagerduty',
  configSchema: pagerDutyConfigSchema,
  // PagerDuty Events API v2: 120 events per minute per integration (routing) key.
  rateLimit: { defaults: { rate: { limit: 120, perMs: 60_000, burst: 10 } }, targets: (config) => [config.routingKey] },
  render(event, incident) {
    const dedupKey = incident.fingerprint.slice(0, PAGERDUTY_LIMITS.dedupKeyChars);
    if (event === 'resolved') return { event_action: 'resolve', dedup_key: dedupKey };
    const group = incident.source.account;
    const component = incident.resource?.type;
    return {
      event_action: 'trigger',
      dedup_key: dedupKey,
      client: 'Tocsin',
      payload: {
        summary: toolHeadline(event, incident, PAGERDUTY_LIMITS.summaryChars),
        source: fitText(affectedSystem(incident), PAGERDUTY_LIMITS.sourceChars),
        severity: incident.severity,
        timestamp: incident.startsAt,
        class: fitText(incident.source.rule, PAGERDUTY_LIMITS.sourceChars),
        ...(group === undefined ? {} : { group }),
        ...(component === undefined ? {} : { component }),
        custom_details: boundedDetails(incidentDetailEntries(event, incident, 2000), PAGERDUTY_LIMITS.customDetailsChars),
      },
      links: openableLinks(incident.links, 2000)
        .slice(0, PAGERDUTY_LIMITS.links)
        .map((link) => ({ href: link.url, text: fitText(link.title, PAGERDUTY_LIMITS.linkTextChars) })),
    };
  },
  send(rendered, target, context) {
    return postJson(target.url, JSON.stringify({ routing_key: target.routingKey, ...rendered }), {
      timeoutMs: context.timeoutMs,
      secrets: [target.routingKey],
    });
  },
});
