// What the incident-tool channels (PagerDuty, Splunk On-Call, Opsgenie) share: the same reading
// of an incident as the chat channels (headline and facts from ./chat-format.ts), flattened into
// the plain strings and key/value details these APIs take. Each tool's module only maps it onto
// its own request fields and limits.
import type { Incident } from '../incident.ts';
import type { DeliveryEvent } from './channel.ts';
import { cleanBlock, fitText, headline, incidentFacts, labelEntries } from './chat-format.ts';
import { formatMetric } from './text.ts';

/** `🔴 CRITICAL: <title>` within `max` characters, cut on a character boundary. */
export function toolHeadline(event: DeliveryEvent, incident: Incident, max: number): string {
  return fitText(headline(event, incident), max);
}

/**
 * The incident as ordered key/value strings: the facts a chat card shows, then the summary,
 * metric, links, labels (`label:<key>`) and the fingerprint, each value cut to `valueChars`.
 */
export function incidentDetailEntries(event: DeliveryEvent, incident: Incident, valueChars: number): [string, string][] {
  const entries: [string, string][] = incidentFacts(event, incident).map((fact) => [fact.label, fact.value]);
  const summary = cleanBlock(incident.summary ?? '');
  if (summary !== '') entries.push(['Summary', summary]);
  const metric = formatMetric(incident.metric);
  if (metric !== undefined) entries.push(['Metric', metric]);
  for (const [key, value] of labelEntries(incident.labels)) entries.push([`label:${key}`, value]);
  entries.push(['Fingerprint', incident.fingerprint]);
  return entries.map(([key, value]) => [key, fitText(value, valueChars)]);
}

/** The entries as an object, keeping only what fits in `maxChars` (keys and values counted). */
export function boundedDetails(entries: readonly [string, string][], maxChars: number): Record<string, string> {
  const details: Record<string, string> = {};
  let used = 0;
  for (const [key, value] of entries) {
    if (Object.hasOwn(details, key)) continue;
    const size = key.length + value.length;
    if (used + size > maxChars) continue;
    details[key] = value;
    used += size;
  }
  return details;
}

/** The incident's description in plain text: summary, then one `Label: value` line per detail. */
export function plainDescription(event: DeliveryEvent, incident: Incident, maxChars: number): string {
  const lines = incidentDetailEntries(event, incident, 1000)
    .filter(([key]) => key !== 'Summary')
    .map(([key, value]) => `${key}: ${value}`);
  const summary = cleanBlock(incident.summary ?? '');
  const links = incident.links.map((link) => `${link.title}: ${link.url}`);
  return fitText([summary, lines.join('\n'), links.join('\n')].filter((part) => part !== '').join('\n\n'), maxChars);
}

/** Where the problem is, for tools that want a host-like `source`: resource, else account/region, else the source kind. */
export function affectedSystem(incident: Incident): string {
  const resource = incident.resource?.name ?? incident.resource?.id;
  if (resource !== undefined && resource !== '') return resource;
  const place = [incident.source.account, incident.source.region].filter((part) => part !== undefined && part !== '').join('/');
  return place !== '' ? place : incident.source.kind;
}
