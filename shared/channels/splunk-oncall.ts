// Splunk On-Call (formerly VictorOps) channel: the REST endpoint integration.
//
// Relied on: Splunk's "REST Endpoint integration for Splunk On-Call"
// (help.splunk.com/…/splunk-on-call/integrations-with-splunk-on-call/rest-endpoint-integration-for-splunk-on-call)
// and its "Incident fields glossary":
// - POST JSON to the endpoint URL shown under Integrations › REST - Generic,
//   https://alert.victorops.com/integrations/generic/20131114/alert/<REST API key>/<routing key>:
//   the key in the path authenticates (so the URL is a secret) and the routing key, the last
//   path segment, picks the team;
// - `message_type` is the one required field: CRITICAL opens an incident and pages, WARNING may
//   (per the account's alert configuration), INFO only posts to the timeline, RECOVERY resolves
//   the incident with the same `entity_id`; `entity_id` must stay the same for the life of one
//   incident; `entity_display_name` is the line people read; `state_message` the detail;
//   `state_start_time` (epoch seconds) when the entity entered its state; `monitoring_tool` names
//   the sender in the timeline. Any other field is kept as alert detail;
// - it answers 200 `{"result":"success","entity_id":…}`. Other answers are classified as every
//   HTTP channel does (postJson: 4xx permanent, 408/429/5xx retried, Retry-After honoured).
// Mapping: entity_id is the incident fingerprint; critical and error → CRITICAL, warning →
// WARNING, info → INFO; a resolve → RECOVERY. Reminders and flapping notices repeat the message
// type of the severity: the open incident takes them into its timeline.
import * as z from 'zod';
import type { Severity } from '../incident.ts';
import { defineChannel } from './channel.ts';
import { fitText, webhookUrlSchema } from './chat-format.ts';
import { postJson } from './http.ts';
import { incidentDetailEntries, plainDescription, toolHeadline } from './incident-tool-format.ts';

export const SPLUNK_ONCALL_REST_URL = 'https://alert.victorops.com/integrations/generic/20131114/alert';

/** Field sizes Tocsin keeps to (the service documents none; these keep the timeline readable). */
export const SPLUNK_ONCALL_LIMITS = { displayNameChars: 512, stateMessageChars: 10_000, detailChars: 2000, details: 60 } as const;

const MESSAGE_TYPE: Readonly<Record<Severity, 'CRITICAL' | 'WARNING' | 'INFO'>> = {
  critical: 'CRITICAL',
  error: 'CRITICAL',
  warning: 'WARNING',
  info: 'INFO',
};

export const splunkOnCallConfigSchema = z.lazy(() =>
  z.strictObject({
    type: z.literal('splunk-oncall'),
    /** The REST integration's API key, the path segment before the routing key (a secret: use `${NAME}`). */
    apiKey: z.string().regex(/^[A-Za-z0-9-]{8,128}$/, { message: 'must be the REST integration API key (letters, digits and -)' }),
    /** The routing key of the team to page (Settings › Routing Keys). */
    routingKey: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, { message: 'must be a routing key (letters, digits, _ . and -)' }),
    /** The REST endpoint up to (not including) the API key; for a test server or another Splunk On-Call host. */
    url: webhookUrlSchema.default(SPLUNK_ONCALL_REST_URL),
  })
);
export type SplunkOnCallConfig = z.infer<typeof splunkOnCallConfigSchema>;

export interface SplunkOnCallAlert {
  readonly message_type: 'CRITICAL' | 'WARNING' | 'INFO' | 'RECOVERY';
  readonly entity_id: string;
  readonly entity_display_name: string;
  readonly state_message: string;
  readonly state_start_time: number;
  readonly monitoring_tool: 'Tocsin';
  /** The incident's facts, labels and links as extra alert fields (`tocsin_<name>`). */
  readonly [field: `tocsin_${string}`]: string;
}

export const splunkOnCallChannel = defineChannel<SplunkOnCallConfig, SplunkOnCallAlert>({
  type: 'splunk-oncall',
  configSchema: splunkOnCallConfigSchema,
  // Splunk On-Call publishes no limit for the REST endpoint: the same pace as the other
  // incident tools, per routing key.
  rateLimit: { defaults: { rate: { limit: 60, perMs: 60_000, burst: 10 } }, targets: (config) => [`${config.apiKey}/${config.routingKey}`] },
  render(event, incident) {
    const resolved = event === 'resolved';
    const startedMs = Date.parse(resolved && incident.endsAt !== undefined ? incident.endsAt : incident.startsAt);
    const extra: Record<`tocsin_${string}`, string> = {};
    for (const [key, value] of incidentDetailEntries(event, incident, SPLUNK_ONCALL_LIMITS.detailChars).slice(0, SPLUNK_ONCALL_LIMITS.details)) {
      extra[`tocsin_${key.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`] = value;
    }
    incident.links.slice(0, 5).forEach((link, index) => {
      extra[`tocsin_link_${String(index + 1)}`] = fitText(`${link.title}: ${link.url}`, SPLUNK_ONCALL_LIMITS.detailChars);
    });
    return {
      ...extra,
      message_type: resolved ? 'RECOVERY' : MESSAGE_TYPE[incident.severity],
      entity_id: incident.fingerprint,
      entity_display_name: toolHeadline(event, incident, SPLUNK_ONCALL_LIMITS.displayNameChars),
      state_message: plainDescription(event, incident, SPLUNK_ONCALL_LIMITS.stateMessageChars),
      // The incident schema guarantees ISO 8601 times, so this is a number.
      state_start_time: Math.floor(startedMs / 1000),
      monitoring_tool: 'Tocsin',
    };
  },
  send(rendered, target, context) {
    const url = `${target.url.replace(/\/+$/, '')}/${encodeURIComponent(target.apiKey)}/${encodeURIComponent(target.routingKey)}`;
    return postJson(url, JSON.stringify(rendered), { timeoutMs: context.timeoutMs, secrets: [target.apiKey] });
  },
});
