// What the chat channels (Slack, Teams, Google Chat) share besides the notice (./notice.ts, the
// one reading of an incident every channel lays out): tone colours, text fitting that never
// breaks a character or an escape sequence, and the webhook URL / mention rules of their configs.
// Fitting lives here because chat limits must be met after escaping and per grapheme.
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { SEVERITIES, type Incident, type IncidentLink, type Severity } from '../incident.ts';
import type { DeliveryEvent } from './channel.ts';
import { buildNotice, webUrl, type NoticeAction, type Tone } from './notice.ts';
import { ELLIPSIS, oneLine } from './text.ts';

// ---------------------------------------------------------------------------------------------
// Config pieces

const LOCAL_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * A chat webhook URL: https only. Plain http is accepted for 127.0.0.1, [::1] and localhost so
 * tests and `npm start` can point a channel at a local recorder; nothing else may go out unencrypted,
 * because the URL itself is the credential. The error message never repeats the URL.
 */
export const webhookUrlSchema = z.string().refine(isAllowedWebhookUrl, {
  message: 'must be an https URL (plain http only for 127.0.0.1, [::1] or localhost)',
});

function isAllowedWebhookUrl(value: string): boolean {
  const url = URL.parse(value);
  if (url === null) return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname);
}

/** Which severities a configured mention applies to (firing notices only; never on resolve). */
export const mentionOnSchema = z.array(z.enum(SEVERITIES)).min(1).default(['critical']);

/** Whether a rendered notice should carry the target's mention. */
export function wantsMention(
  rendered: { readonly severity: Severity; readonly mentionable: boolean },
  mentionOn: readonly Severity[],
): boolean {
  return rendered.mentionable && mentionOn.includes(rendered.severity);
}

// ---------------------------------------------------------------------------------------------
// Colour

/** Colour bars and accents per tone (Slack attachment bar, Google Chat status, the mail's top rule). */
export const TONE_HEX: Readonly<Record<Tone, string>> = {
  critical: '#D00000',
  error: '#E8590C',
  warning: '#F2C744',
  info: '#2F80ED',
  resolved: '#2EB67D',
};

/** Text in the tone's colour that reads on white (contrast at least 4.5:1, WCAG AA). */
export const TONE_TEXT_HEX: Readonly<Record<Tone, string>> = {
  critical: '#B00020',
  error: '#A63A00',
  warning: '#7A5A00',
  info: '#0B5CAD',
  resolved: '#1A7F37',
};

/** Links a chat client can open: http(s) only (the notice's actions already are), URL no longer than `maxUrlChars`. */
export function actionsWithin(actions: readonly NoticeAction[], maxUrlChars: number): NoticeAction[] {
  return actions.filter((action) => action.url.length <= maxUrlChars);
}

// ---------------------------------------------------------------------------------------------
// The pre-notice reading, kept for the incident-tool channels (PagerDuty, Opsgenie, Splunk
// On-Call: issue 16), which word a notice as facts rather than lay one out; new code reads
// buildNotice (./notice.ts).

/** The notice's headline: `🔴 CRITICAL: <rule on resource>`, `✅ RESOLVED: …`. */
export function headline(event: DeliveryEvent, incident: Incident): string {
  return buildNotice(event, incident).headline;
}

export interface Fact {
  readonly label: string;
  readonly value: string;
}

/** At most 10 facts, single-line, in reading order: status, severity, source, rule, where, when. */
export function incidentFacts(event: DeliveryEvent, incident: Incident): Fact[] {
  const notice = buildNotice(event, incident);
  const { source, resource } = incident;
  const facts: Fact[] = [
    { label: 'Status', value: notice.status },
    { label: 'Severity', value: incident.severity },
    { label: 'Source', value: `${source.kind} (${source.cloud})` },
    { label: 'Rule', value: source.rule },
  ];
  if (source.account !== undefined) facts.push({ label: 'Account', value: source.account });
  if (source.region !== undefined) facts.push({ label: 'Region', value: source.region });
  const resourceName = resource?.name ?? resource?.id;
  if (resourceName !== undefined) {
    const type = resource?.type;
    facts.push({ label: 'Resource', value: type === undefined ? resourceName : `${resourceName} (${type})` });
  }
  facts.push({ label: 'Started', value: incident.startsAt });
  if (incident.status === 'resolved' && incident.endsAt !== undefined) {
    facts.push({ label: 'Ended', value: incident.endsAt });
    if (notice.duration !== undefined) facts.push({ label: 'Duration', value: notice.duration });
  }
  return facts.slice(0, 10).map((fact) => ({ label: fact.label, value: oneLine(fact.value) }));
}

/** Labels sorted by key, as single-line `[key, value]` pairs. */
export function labelEntries(labels: Readonly<Record<string, string>>): [string, string][] {
  return Object.keys(labels)
    .sort()
    .map((key) => [oneLine(key), oneLine(labels[key] ?? '')]);
}

/** Links a client can open: http(s) only, URL no longer than `maxUrlChars`, no duplicates. */
export function openableLinks(links: readonly IncidentLink[], maxUrlChars: number): IncidentLink[] {
  const seen = new Set<string>();
  return links.filter((link) => {
    if (link.url.length > maxUrlChars || seen.has(link.url) || webUrl(link.url) === undefined) return false;
    seen.add(link.url);
    return true;
  });
}

/** A short, stable id derived from the fingerprint, safe as a card id. */
export function fingerprintSlug(fingerprint: string): string {
  const tail = fingerprint.slice(fingerprint.lastIndexOf(':') + 1).replace(/[^A-Za-z0-9_-]/g, '');
  return tail.length >= 8 ? tail.slice(0, 16) : createHash('sha256').update(fingerprint).digest('hex').slice(0, 16);
}

// ---------------------------------------------------------------------------------------------
// Text fitting

// Built at the first text cut, like notice.ts's number format: the first Intl object loads ICU's
// data (CPU at every cold start, and resident memory).
let graphemes: Intl.Segmenter | undefined;

/** Multi-line text with control characters other than newlines and tabs removed, trimmed. */
export function cleanBlock(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[^\P{Cc}\n\t]/gu, '')
    .trim();
}

export interface FitOptions {
  /** Applied to the text before measuring (for example Slack's `&<>` escaping). */
  readonly escape?: (text: string) => string;
  readonly marker?: string;
}

const identity = (text: string): string => text;

/**
 * Sizes are UTF-16 code units (`length`), which never undercount what Slack calls a character.
 * Returns `escape(text)` if it fits in `max`, else the longest escaped prefix that ends on a
 * grapheme boundary (never half an emoji, a surrogate pair or an `&amp;`) followed by the marker.
 */
export function fitText(text: string, max: number, options: FitOptions = {}): string {
  const escape = options.escape ?? identity;
  const marker = options.marker ?? ELLIPSIS;
  const whole = escape(text);
  if (whole.length <= max) return whole;
  const budget = max - marker.length;
  if (budget < 0) return '';
  let out = '';
  let used = 0;
  graphemes ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  for (const { segment } of graphemes.segment(text)) {
    const piece = escape(segment);
    const size = piece.length;
    if (used + size > budget) break;
    out += piece;
    used += size;
  }
  return out.trimEnd() + marker;
}

/**
 * Joins already-formatted items with `separator` within `max` characters; when some do not fit,
 * ends with `more(hiddenCount)` (its room is reserved up front).
 */
export function joinBounded(
  items: readonly string[],
  separator: string,
  max: number,
  more: (hidden: number) => string,
): string {
  const all = items.join(separator);
  if (all.length <= max) return all;
  const budget = max - more(items.length).length - separator.length;
  let out = '';
  let shown = 0;
  for (const item of items) {
    const next = shown === 0 ? item : `${out}${separator}${item}`;
    if (next.length > budget) break;
    out = next;
    shown += 1;
  }
  const tail = more(items.length - shown);
  return shown === 0 ? tail : `${out}${separator}${tail}`;
}

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** HTML-ish escaping: Slack's three control characters, also what Google Chat card text needs. */
export function escapeAngleAmp(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// ---------------------------------------------------------------------------------------------
// Size budgets for byte-limited cards (Teams, Google Chat)

/** How much of each part a card keeps; byte-limited channels step down until the body fits. */
export interface DetailLevel {
  readonly titleChars: number;
  readonly summaryChars: number;
  readonly valueChars: number;
  readonly labelCount: number;
  readonly linkCount: number;
}

export const DETAIL_LEVELS: readonly [DetailLevel, ...DetailLevel[]] = [
  { titleChars: 1000, summaryChars: 12_000, valueChars: 1000, labelCount: 50, linkCount: 5 },
  { titleChars: 500, summaryChars: 4000, valueChars: 300, labelCount: 20, linkCount: 5 },
  { titleChars: 250, summaryChars: 1000, valueChars: 150, labelCount: 10, linkCount: 3 },
  // The floor: every part bounded small, so this always fits well under any chat limit.
  { titleChars: 150, summaryChars: 200, valueChars: 100, labelCount: 0, linkCount: 0 },
];

/** Builds at each level in turn and returns the first whose JSON fits in `maxBytes`. */
export function largestThatFits<T>(build: (level: DetailLevel) => T, maxBytes: number): T {
  let built: T | undefined;
  for (const level of DETAIL_LEVELS) {
    built = build(level);
    if (utf8Bytes(JSON.stringify(built)) <= maxBytes) return built;
  }
  // Unreachable with the floor level's bounds; returning the smallest keeps render total.
  return built ?? build(DETAIL_LEVELS[0]);
}
