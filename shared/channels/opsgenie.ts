// Opsgenie channel: the Alert API (v2).
//
// Relied on: Opsgenie's "Alert API" reference (docs.opsgenie.com/docs/alert-api):
// - every request carries `Authorization: GenieKey <API key of an API integration>`; the host is
//   https://api.opsgenie.com, or https://api.eu.opsgenie.com for an account on the EU instance;
// - Create Alert: POST /v2/alerts with `message` (required, 130 characters), `alias` (512, the
//   de-duplication key: while an alert with that alias is open, another create only counts),
//   `description` (15,000), `tags` (20 of 50), `details` (string map, 8,000 characters in all),
//   `entity` (512), `source` (100) and `priority` P1 (highest) … P5, P3 by default;
// - Close Alert: POST /v2/alerts/<alias>/close?identifierType=alias with `source`, `note`;
//   Add Note: POST /v2/alerts/<alias>/notes?identifierType=alias with `note` (required);
// - creating, closing and notes are processed asynchronously: a valid request is answered
//   202 `{"result":"Request will be processed","took":…,"requestId":…}`; 401/403 (key), 404 and
//   422 (body not processable) are refusals; 429 is the rate limit. postJson classifies these.
// Mapping: alias is the incident fingerprint, so the close finds the alert whichever Tocsin
// instance created it. opened and renotified create (Opsgenie counts the repeat on the open
// alert); resolved closes; flapping adds a note. Priority: critical P1, error P2, warning P3,
// info P5.
import * as z from 'zod';
import type { Severity } from '../incident.ts';
import { defineChannel } from './channel.ts';
import { fitText, headline, webhookUrlSchema } from './chat-format.ts';
import { postJson } from './http.ts';
import { affectedSystem, boundedDetails, incidentDetailEntries, plainDescription, toolHeadline } from './incident-tool-format.ts';

export const OPSGENIE_API_URLS = { us: 'https://api.opsgenie.com', eu: 'https://api.eu.opsgenie.com' } as const;
export const OPSGENIE_LIMITS = {
  messageChars: 130,
  aliasChars: 512,
  descriptionChars: 15_000,
  detailsChars: 8000,
  detailValueChars: 1000,
  entityChars: 512,
  tags: 20,
  tagChars: 50,
  noteChars: 25_000,
} as const;

const PRIORITY: Readonly<Record<Severity, 'P1' | 'P2' | 'P3' | 'P5'>> = { critical: 'P1', error: 'P2', warning: 'P3', info: 'P5' };
const SOURCE = 'Tocsin';

export const opsgenieConfigSchema = z.lazy(() =>
  z.strictObject({
    type: z.literal('opsgenie'),
    /** The API key of an Opsgenie API integration (a secret: use `${NAME}`). */
    apiKey: z.string().regex(/^[A-Za-z0-9-]{8,128}$/, { message: 'must be the API key of an Opsgenie API integration' }),
    /** Where the Opsgenie account lives: `us` (api.opsgenie.com, the default) or `eu` (api.eu.opsgenie.com). */
    region: z.enum(['us', 'eu']).default('us'),
    /** Another API host (a test server); overrides `region`. */
    url: webhookUrlSchema.optional(),
    /** Extra tags on every alert this channel creates (besides severity and source kind). */
    tags: z.array(z.string().min(1).max(OPSGENIE_LIMITS.tagChars)).max(OPSGENIE_LIMITS.tags - 2).optional(),
  })
);
export type OpsgenieConfig = z.infer<typeof opsgenieConfigSchema>;

export interface OpsgenieCreate {
  readonly message: string;
  readonly alias: string;
  readonly description: string;
  readonly details: Record<string, string>;
  readonly entity: string;
  readonly source: typeof SOURCE;
  readonly priority: 'P1' | 'P2' | 'P3' | 'P5';
  readonly tags: string[];
}

/** One Alert API request: the path below the host (without the query) and the body. */
export type OpsgenieRequest =
  | { readonly action: 'create'; readonly body: OpsgenieCreate }
  | { readonly action: 'close'; readonly alias: string; readonly body: { readonly source: typeof SOURCE; readonly note: string } }
  | { readonly action: 'note'; readonly alias: string; readonly body: { readonly source: typeof SOURCE; readonly note: string } };

function pathOf(request: OpsgenieRequest): string {
  if (request.action === 'create') return '/v2/alerts';
  const verb = request.action === 'close' ? 'close' : 'notes';
  return `/v2/alerts/${encodeURIComponent(request.alias)}/${verb}?identifierType=alias`;
}

export const opsgenieChannel = defineChannel<OpsgenieConfig, OpsgenieRequest>({
  type: 'opsgenie',
  configSchema: opsgenieConfigSchema,
  // Opsgenie: token buckets per account and domain, sized by plan; 60 alert requests per minute
  // per integration is the smallest published figure.
  rateLimit: { defaults: { rate: { limit: 60, perMs: 60_000, burst: 10 } }, targets: (config) => [config.apiKey] },
  render(event, incident) {
    const alias = incident.fingerprint.slice(0, OPSGENIE_LIMITS.aliasChars);
    if (event === 'resolved' || event === 'flapping') {
      return {
        action: event === 'resolved' ? 'close' : 'note',
        alias,
        body: { source: SOURCE, note: fitText(headline(event, incident), OPSGENIE_LIMITS.noteChars) },
      };
    }
    return {
      action: 'create',
      body: {
        message: toolHeadline(event, incident, OPSGENIE_LIMITS.messageChars),
        alias,
        description: plainDescription(event, incident, OPSGENIE_LIMITS.descriptionChars),
        details: boundedDetails(incidentDetailEntries(event, incident, OPSGENIE_LIMITS.detailValueChars), OPSGENIE_LIMITS.detailsChars),
        entity: fitText(affectedSystem(incident), OPSGENIE_LIMITS.entityChars),
        source: SOURCE,
        priority: PRIORITY[incident.severity],
        tags: [incident.severity, incident.source.kind],
      },
    };
  },
  send(rendered, target, context) {
    const host = (target.url ?? OPSGENIE_API_URLS[target.region]).replace(/\/+$/, '');
    const body = rendered.action === 'create' ? { ...rendered.body, tags: [...rendered.body.tags, ...(target.tags ?? [])] } : rendered.body;
    return postJson(`${host}${pathOf(rendered)}`, JSON.stringify(body), {
      headers: { authorization: `GenieKey ${target.apiKey}` },
      timeoutMs: context.timeoutMs,
      secrets: [target.apiKey],
    });
  },
});
