// What the three chat channels (Slack, Teams, Google Chat) share: one reading of an incident
// (headline, emoji, tone, facts, metric line, labels, links), text fitting that never breaks a
// character or an escape sequence, and the webhook URL / mention rules of their configs.
// Each channel module only lays this out in its own card format. Plain-text basics (one-line
// cleanup, severity emoji, metric wording) come from ./text.ts so every channel words them alike;
// fitting lives here because chat limits must be met after escaping and per grapheme.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { SEVERITIES, TEST_LABEL, type Incident, type IncidentLink, type Severity } from '../incident.ts';
import type { DeliveryEvent } from './channel.ts';
import { ELLIPSIS, oneLine, severityEmoji } from './text.ts';

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
// Reading an incident

/** Visual tone of a notice: the severity while it is a problem, `resolved` once it is over. */
export type Tone = Severity | 'resolved';

export const TONE_HEX: Readonly<Record<Tone, string>> = {
  critical: '#D00000',
  error: '#E8590C',
  warning: '#F2C744',
  info: '#2F80ED',
  resolved: '#2EB67D',
};

function isResolvedNotice(event: DeliveryEvent, incident: Incident): boolean {
  return event === 'resolved' || incident.status === 'resolved';
}

export function noticeTone(event: DeliveryEvent, incident: Incident): Tone {
  // A flapping notice is about instability, so it keeps the severity's tone even mid-flip.
  if (event !== 'flapping' && isResolvedNotice(event, incident)) return 'resolved';
  return incident.severity;
}

export function noticeEmoji(event: DeliveryEvent, incident: Incident): string {
  if (event === 'flapping') return '⚠️';
  if (isResolvedNotice(event, incident)) return '✅';
  if (event === 'renotified') return '🔁';
  return severityEmoji(incident.severity);
}

/** "Firing", "Still firing", "Flapping (now firing)" or "Resolved". */
export function noticeStatus(event: DeliveryEvent, incident: Incident): string {
  if (event === 'flapping') return `Flapping (now ${incident.status})`;
  if (isResolvedNotice(event, incident)) return 'Resolved';
  return event === 'renotified' ? 'Still firing' : 'Firing';
}

/** A firing notice, the only kind that may page people with a mention. */
export function isFiringNotice(event: DeliveryEvent, incident: Incident): boolean {
  return event !== 'resolved' && incident.status === 'firing';
}

function noticeLabel(event: DeliveryEvent, incident: Incident): string {
  const severity = incident.severity.toUpperCase();
  if (event === 'flapping') return `FLAPPING · ${severity}`;
  if (isResolvedNotice(event, incident)) return 'RESOLVED';
  if (event === 'renotified') return `STILL FIRING · ${severity}`;
  return severity;
}

/** The one line a person reads first: `🔴 CRITICAL: <title>`, `✅ RESOLVED: <title>`, … */
export function headline(event: DeliveryEvent, incident: Incident): string {
  const test = incident.labels[TEST_LABEL] === undefined ? '' : '[TEST] ';
  return `${noticeEmoji(event, incident)} ${test}${noticeLabel(event, incident)}: ${oneLine(incident.title)}`;
}

export interface Fact {
  readonly label: string;
  readonly value: string;
}

/** At most 10 facts (Slack's field limit), single-line, in reading order. */
export function incidentFacts(event: DeliveryEvent, incident: Incident): Fact[] {
  const { source, resource } = incident;
  const facts: Fact[] = [
    { label: 'Status', value: noticeStatus(event, incident) },
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
    const duration = Date.parse(incident.endsAt) - Date.parse(incident.startsAt);
    if (Number.isFinite(duration) && duration >= 0) facts.push({ label: 'Duration', value: formatDuration(duration) });
  }
  return facts.slice(0, 10).map((fact) => ({ label: fact.label, value: oneLine(fact.value) }));
}

/** `2d 3h`, `1h 5m`, `4m 10s`, `12s`: the two largest units from the first non-zero one. */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.floor(ms / 1000));
  const parts: string[] = [];
  let counted = 0;
  for (const [unit, size] of DURATION_UNITS) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (counted === 0 && count === 0) continue;
    counted += 1;
    if (count > 0) parts.push(`${count}${unit}`);
    if (counted === 2) break;
  }
  return parts.length === 0 ? '0s' : parts.join(' ');
}

const DURATION_UNITS: readonly (readonly [string, number])[] = [
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
];

/** Labels sorted by key, as single-line `[key, value]` pairs. */
export function labelEntries(labels: Readonly<Record<string, string>>): [string, string][] {
  return Object.keys(labels)
    .sort()
    .map((key) => [oneLine(key), oneLine(labels[key] ?? '')]);
}

/** Links a chat client can open: http(s) only, URL no longer than `maxUrlChars`, no duplicates. */
export function openableLinks(links: readonly IncidentLink[], maxUrlChars: number): IncidentLink[] {
  const seen = new Set<string>();
  return links.filter((link) => {
    if (link.url.length > maxUrlChars || seen.has(link.url)) return false;
    const url = URL.parse(link.url);
    if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) return false;
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

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

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
