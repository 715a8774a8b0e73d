// Microsoft Teams channel: a Workflows (Power Automate) webhook posting an Adaptive Card 1.4.
// Office 365 connectors are retired and Workflows accept Adaptive Cards only, wrapped in a
// `message` with one attachment. Workflows answer 202 Accepted (any 2xx is success).
//
// Size: Teams rejects messages over about 28 KB, so the rendered body is measured (UTF-8 bytes
// of the JSON) and rebuilt with less detail (summary, labels, links, long values) until it fits
// in TEAMS_MAX_BODY_BYTES minus room reserved for the optional mention added at send time.
// Layout (the notice, ./notice.ts): a banner Container in the tone's style (attention, warning,
// accent, good once resolved) holding the headline and the status line in the default text
// colour, then where, the metric, the identifying labels and the reason; at most three buttons
// (two ranked links and "More", an Action.ShowCard with the other links, the remaining labels and
// the fingerprint). `summary` and `fallbackText` carry the headline for previews. Text is Adaptive Card markdown (TextBlock text, Fact title and value), so every
// alert-provided text is escaped with backslashes (escapeTeamsMarkdown): `[Re-authenticate](https://evil)`
// in an alert shows as those characters, never as a link with a disguised target, and `**`/`_`
// cannot restyle it. Action titles are plain text and stay unescaped. Teams only turns
// `<at>…</at>` into a mention when a matching entity exists, which only the configured `mention`
// adds.
import * as z from 'zod';
import type { Incident, Severity } from '../incident.ts';
import { defineChannel, type DeliveryEvent } from './channel.ts';
import {
  actionsWithin,
  cleanBlock,
  fitText,
  largestThatFits,
  mentionOnSchema,
  utf8Bytes,
  wantsMention,
  webhookUrlSchema,
  type DetailLevel,
} from './chat-format.ts';
import { postJson } from './http.ts';
import { buildNotice, fitDigestLines, isFiringNotice, moreLine, type DigestLine, type DigestNotice, type Notice, type NoticeAction, type Tone, type NoticeState } from './notice.ts';

/** Teams' limit is "about 28 KB"; stay under the decimal figure. */
export const TEAMS_MAX_BODY_BYTES = 28_000;
/** Room kept for the mention TextBlock and entity (name ≤ 64, id ≤ 128 chars, no markup). */
const MENTION_RESERVE_BYTES = 1_500;
const LINK_URL_CHARS = 2048;
/** Button text: the notice's short labels (Runbook, Open alert, Silence) fit; a source's own title is cut. */
const ACTION_TITLE_CHARS = 16;
const PREVIEW_CHARS = 200;
const LABEL_KEY_CHARS = 100;

const NO_MARKUP = /^[^\p{Cc}<>]+$/u;

// The characters Adaptive Card markdown gives a meaning inline: emphasis (`*`, `_`, `~`), links
// (`[`, `]`), code (`` ` ``), autolinks and tags (`<`, `>`), and the backslash itself.
const TEAMS_MARKDOWN = /[\\*_~`[\]<>]/g;

/** Alert text as literal characters in Adaptive Card markdown (CommonMark backslash escapes). */
export function escapeTeamsMarkdown(text: string): string {
  return text.replace(TEAMS_MARKDOWN, '\\$&');
}
const escape = escapeTeamsMarkdown;

export const teamsConfigSchema = z.lazy(() =>
  z.strictObject({
    type: z.literal('teams'),
    /** Workflows "When a Teams webhook request is received" URL (a secret; its `sig` is the key). */
    webhookUrl: webhookUrlSchema,
    /** Someone to @mention on firing notices: their Entra object id or UPN, and display name. */
    mention: z
      .strictObject({
        id: z.string().min(1).max(128).regex(NO_MARKUP),
        name: z.string().min(1).max(64).regex(NO_MARKUP),
      })
      .optional(),
    mentionOn: mentionOnSchema,
  })
);
export type TeamsConfig = z.infer<typeof teamsConfigSchema>;

export type TeamsColor = 'Default' | 'Attention' | 'Warning' | 'Accent' | 'Good';
export type TeamsContainerStyle = 'attention' | 'warning' | 'accent' | 'good' | 'emphasis';
export interface TeamsTextBlock {
  readonly type: 'TextBlock';
  readonly text: string;
  readonly wrap: true;
  readonly size?: 'Small' | 'Medium' | 'Large';
  readonly weight?: 'Bolder';
  readonly color?: TeamsColor;
  readonly isSubtle?: true;
  readonly maxLines?: number;
  readonly spacing?: 'None' | 'Small';
}
export interface TeamsFactSet {
  readonly type: 'FactSet';
  readonly facts: { readonly title: string; readonly value: string }[];
}
export interface TeamsContainer {
  readonly type: 'Container';
  readonly style: TeamsContainerStyle;
  readonly bleed: true;
  readonly items: TeamsTextBlock[];
}
export type TeamsElement = TeamsTextBlock | TeamsFactSet | TeamsContainer;
export interface TeamsOpenUrl {
  readonly type: 'Action.OpenUrl';
  readonly title: string;
  readonly url: string;
  readonly style?: 'positive';
}
export interface TeamsShowCard {
  readonly type: 'Action.ShowCard';
  readonly title: string;
  readonly card: {
    readonly type: 'AdaptiveCard';
    readonly body: TeamsElement[];
    readonly actions: TeamsOpenUrl[];
  };
}
export interface TeamsMention {
  readonly type: 'mention';
  readonly text: string;
  readonly mentioned: { readonly id: string; readonly name: string };
}
export interface AdaptiveCard {
  readonly $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  readonly type: 'AdaptiveCard';
  readonly version: '1.4';
  /** Shown where the card cannot be (and read by screen readers): the headline. */
  readonly fallbackText: string;
  readonly speak: string;
  readonly body: TeamsElement[];
  readonly actions: (TeamsOpenUrl | TeamsShowCard)[];
  readonly msteams: { readonly width: 'Full'; readonly entities?: TeamsMention[] };
}
export interface TeamsMessage {
  readonly type: 'message';
  /** The notification and chat-list preview text (a card alone previews as "Card"). */
  readonly summary: string;
  readonly attachments: [
    {
      readonly contentType: 'application/vnd.microsoft.card.adaptive';
      readonly contentUrl: null;
      readonly content: AdaptiveCard;
    },
  ];
}

export interface TeamsRendered {
  readonly message: TeamsMessage;
  readonly severity: Severity;
  readonly mentionable: boolean;
}

/**
 * The banner behind the headline. Teams' light theme paints Warning text #F8D22A and Good
 * #92C353 on white (contrast 1.5:1 and 2.1:1), so the tone is the banner's background and the
 * headline stays in the default text colour on it (test/channels/rendering.test.ts measures it).
 */
export const TEAMS_BANNER: Readonly<Record<Tone, TeamsContainerStyle>> = {
  critical: 'attention',
  error: 'attention',
  warning: 'warning',
  info: 'accent',
  resolved: 'good',
};

/** Top-level buttons: at most three, so none is cut at phone width; the rest go behind "More". */
const MAX_TOP_ACTIONS = 3;

export function renderTeams(event: DeliveryEvent, incident: Incident, state?: NoticeState): TeamsRendered {
  const notice = buildNotice(event, incident, state);
  return {
    message: largestThatFits((level) => buildMessage(notice, incident, level), TEAMS_MAX_BODY_BYTES - MENTION_RESERVE_BYTES),
    severity: incident.severity,
    mentionable: isFiringNotice(event, incident),
  };
}

function buildMessage(notice: Notice, incident: Incident, level: DetailLevel): TeamsMessage {
  const banner: TeamsContainer = {
    type: 'Container',
    style: TEAMS_BANNER[notice.tone],
    bleed: true,
    items: [
      { type: 'TextBlock', text: fitText(notice.headline, level.titleChars, { escape }), wrap: true, size: 'Large', weight: 'Bolder' },
      { type: 'TextBlock', text: escape(notice.statusLine), wrap: true, weight: 'Bolder', spacing: 'Small' },
    ],
  };
  const body: TeamsElement[] = [banner, { type: 'TextBlock', text: fitText(notice.where, level.valueChars, { escape }), wrap: true, isSubtle: true, size: 'Small' }];

  if (notice.metric !== undefined) {
    body.push({ type: 'TextBlock', text: fitText(notice.metric, level.valueChars, { escape }), wrap: true, size: 'Medium', weight: 'Bolder' });
  }
  if (notice.identity.length > 0) {
    body.push({
      type: 'FactSet',
      facts: notice.identity.map((fact) => ({ title: fitText(fact.label, LABEL_KEY_CHARS, { escape }), value: fitText(fact.value, level.valueChars, { escape }) })),
    });
  }
  const summary = cleanBlock(notice.summary ?? '');
  if (summary !== '') body.push({ type: 'TextBlock', text: fitText(summary, level.summaryChars, { escape }), wrap: true, maxLines: 8 });

  const links = actionsWithin(notice.actions, LINK_URL_CHARS).slice(0, level.linkCount);
  const details = notice.details.slice(0, level.labelCount);
  const hiddenLabels = notice.details.length - details.length;
  const moreBody: TeamsElement[] = [];
  if (details.length > 0) {
    const facts = details.map((fact) => ({ title: fitText(fact.label, LABEL_KEY_CHARS, { escape }), value: fitText(fact.value, level.valueChars, { escape }) }));
    if (hiddenLabels > 0) facts.push({ title: '…', value: `${hiddenLabels} more labels` });
    moreBody.push({ type: 'FactSet', facts });
  }
  moreBody.push({
    type: 'TextBlock',
    text: `Tocsin · ${escape(incident.source.kind)} · fingerprint ${fitText(notice.fingerprint, 200, { escape })}`,
    wrap: true,
    size: 'Small',
    isSubtle: true,
  });

  // With an overflow card, two link buttons plus "More" keep to three; without, up to three links.
  const shown = links.length <= MAX_TOP_ACTIONS - 1 ? links : links.slice(0, MAX_TOP_ACTIONS - 1);
  const overflow = links.slice(shown.length);
  const actions: (TeamsOpenUrl | TeamsShowCard)[] = shown.map((action, index) => openUrl(action, index === 0 && !notice.resolved));
  actions.push({ type: 'Action.ShowCard', title: 'More', card: { type: 'AdaptiveCard', body: moreBody, actions: overflow.map((action) => openUrl(action, false)) } });

  return cardMessage(notice.headline, body, actions);
}

/** The message around an Adaptive Card: the headline as its preview, read aloud and the fallback. */
function cardMessage(headline: string, body: TeamsElement[], actions: (TeamsOpenUrl | TeamsShowCard)[]): TeamsMessage {
  const preview = fitText(headline, PREVIEW_CHARS);
  return {
    type: 'message',
    summary: preview,
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          fallbackText: preview,
          speak: preview,
          body,
          actions,
          msteams: { width: 'Full' },
        },
      },
    ],
  };
}

/** Room kept for the card around a digest's lines (banner, preview, schema). */
const DIGEST_FRAME_BYTES = 4_000;

function teamsDigestLine(line: DigestLine): TeamsTextBlock {
  const link = line.action === undefined || line.action.url.length > LINK_URL_CHARS ? '' : ` · [${escape(fitText(line.action.label, ACTION_TITLE_CHARS))}](${line.action.url})`;
  const text = `${line.mark} **${escape(line.label)}** ${fitText(line.subject, 200, { escape })} · ${fitText(line.where, 120, { escape })}${link}`;
  return { type: 'TextBlock', text, wrap: true, spacing: 'Small' };
}

/**
 * A digest: the banner in the worst line's tone with the headline and the counts, what the group
 * has in common, then one line per notice (worst first, its first link at the end) and `+N more`
 * for what does not fit Teams' 28 KB.
 */
export function renderTeamsDigest(digest: DigestNotice): TeamsRendered {
  const banner: TeamsContainer = {
    type: 'Container',
    style: TEAMS_BANNER[digest.tone],
    bleed: true,
    items: [
      { type: 'TextBlock', text: fitText(digest.headline, 300, { escape }), wrap: true, size: 'Large', weight: 'Bolder' },
      { type: 'TextBlock', text: fitText([digest.counts, digest.groupLine].filter((part) => part !== '').join(' · '), 500, { escape }), wrap: true, weight: 'Bolder', spacing: 'Small' },
    ],
  };
  const budget = TEAMS_MAX_BODY_BYTES - MENTION_RESERVE_BYTES - DIGEST_FRAME_BYTES;
  const { shown, more } = fitDigestLines(digest.lines, budget, teamsDigestLine, (part) => utf8Bytes(JSON.stringify(typeof part === 'string' ? teamsMore(part) : part)) + 1);
  const body: TeamsElement[] = [banner, ...shown, ...(more > 0 ? [teamsMore(moreLine(more))] : [])];
  body.push({ type: 'TextBlock', text: `Tocsin digest · group ${digest.groupId} · #${String(digest.sequence)}`, wrap: true, size: 'Small', isSubtle: true });
  return {
    message: cardMessage(digest.headline, body, []),
    severity: digest.digest.items[0]?.incident.severity ?? 'info',
    mentionable: digest.tone !== 'resolved',
  };
}

function teamsMore(text: string): TeamsTextBlock {
  return { type: 'TextBlock', text, wrap: true, isSubtle: true };
}

/** Action titles are plain text (never markdown); the short label fits a phone-width button. */
function openUrl(action: NoticeAction, primary: boolean): TeamsOpenUrl {
  return { type: 'Action.OpenUrl', title: fitText(action.label, ACTION_TITLE_CHARS), url: action.url, ...(primary ? { style: 'positive' as const } : {}) };
}

function withMention(message: TeamsMessage, mention: { id: string; name: string }): TeamsMessage {
  const [attachment] = message.attachments;
  const text = `<at>${mention.name}</at>`;
  const content: AdaptiveCard = {
    ...attachment.content,
    body: [{ type: 'TextBlock', text, wrap: true }, ...attachment.content.body],
    msteams: { width: 'Full', entities: [{ type: 'mention', text, mentioned: { id: mention.id, name: mention.name } }] },
  };
  return { ...message, attachments: [{ ...attachment, content }] };
}

export const teamsChannel = defineChannel<TeamsConfig, TeamsRendered>({
  type: 'teams',
  configSchema: teamsConfigSchema,
  // Teams: Microsoft gives no fixed number for Workflows webhooks (values "subject to change",
  // 429 beyond); connectors were documented at about 4 requests per second. One per second keeps
  // a channel readable and clear of that.
  rateLimit: { defaults: { rate: { limit: 1, perMs: 1_000, burst: 2 } }, targets: (config) => [config.webhookUrl] },
  render: renderTeams,
  renderDigest: renderTeamsDigest,
  send(rendered, target, context) {
    const message =
      target.mention !== undefined && wantsMention(rendered, target.mentionOn)
        ? withMention(rendered.message, target.mention)
        : rendered.message;
    return postJson(target.webhookUrl, JSON.stringify(message), { timeoutMs: context.timeoutMs });
  },
});
