// Microsoft Teams channel: a Workflows (Power Automate) webhook posting an Adaptive Card 1.4.
// Office 365 connectors are retired and Workflows accept Adaptive Cards only, wrapped in a
// `message` with one attachment. Workflows answer 202 Accepted (any 2xx is success).
//
// Size: Teams rejects messages over about 28 KB, so the rendered body is measured (UTF-8 bytes
// of the JSON) and rebuilt with less detail (summary, labels, links, long values) until it fits
// in TEAMS_MAX_BODY_BYTES minus room reserved for the optional mention added at send time.
// Colour: the title TextBlock takes Attention (critical, error), Warning, Accent (info) or Good
// (resolved). Text is Adaptive Card markdown (TextBlock text, Fact title and value), so every
// alert-provided text is escaped with backslashes (escapeTeamsMarkdown): `[Re-authenticate](https://evil)`
// in an alert shows as those characters, never as a link with a disguised target, and `**`/`_`
// cannot restyle it. Action titles are plain text and stay unescaped. Teams only turns
// `<at>…</at>` into a mention when a matching entity exists, which only the configured `mention`
// adds.
import { z } from 'zod';
import type { Incident, Severity } from '../incident.ts';
import { defineChannel, type DeliveryEvent } from './channel.ts';
import {
  cleanBlock,
  fitText,
  headline,
  incidentFacts,
  isFiringNotice,
  labelEntries,
  largestThatFits,
  mentionOnSchema,
  noticeTone,
  openableLinks,
  wantsMention,
  webhookUrlSchema,
  type DetailLevel,
  type Tone,
} from './chat-format.ts';
import { postJson } from './http.ts';
import { formatMetric, oneLine } from './text.ts';

/** Teams' limit is "about 28 KB"; stay under the decimal figure. */
export const TEAMS_MAX_BODY_BYTES = 28_000;
/** Room kept for the mention TextBlock and entity (name ≤ 64, id ≤ 128 chars, no markup). */
const MENTION_RESERVE_BYTES = 1_500;
const LINK_URL_CHARS = 2048;
const ACTION_TITLE_CHARS = 60;
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

export const teamsConfigSchema = z.strictObject({
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
});
export type TeamsConfig = z.infer<typeof teamsConfigSchema>;

export type TeamsColor = 'Attention' | 'Warning' | 'Accent' | 'Good';
export interface TeamsTextBlock {
  readonly type: 'TextBlock';
  readonly text: string;
  readonly wrap: true;
  readonly size?: 'Small' | 'Large';
  readonly weight?: 'Bolder';
  readonly color?: TeamsColor;
  readonly isSubtle?: true;
}
export interface TeamsFactSet {
  readonly type: 'FactSet';
  readonly facts: { readonly title: string; readonly value: string }[];
}
export interface TeamsOpenUrl {
  readonly type: 'Action.OpenUrl';
  readonly title: string;
  readonly url: string;
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
  readonly body: (TeamsTextBlock | TeamsFactSet)[];
  readonly actions: TeamsOpenUrl[];
  readonly msteams: { readonly width: 'Full'; readonly entities?: TeamsMention[] };
}
export interface TeamsMessage {
  readonly type: 'message';
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

export const TEAMS_COLOR: Readonly<Record<Tone, TeamsColor>> = {
  critical: 'Attention',
  error: 'Attention',
  warning: 'Warning',
  info: 'Accent',
  resolved: 'Good',
};

export function renderTeams(event: DeliveryEvent, incident: Incident): TeamsRendered {
  return {
    message: largestThatFits(
      (level) => buildMessage(event, incident, level),
      TEAMS_MAX_BODY_BYTES - MENTION_RESERVE_BYTES,
    ),
    severity: incident.severity,
    mentionable: isFiringNotice(event, incident),
  };
}

function buildMessage(event: DeliveryEvent, incident: Incident, level: DetailLevel): TeamsMessage {
  const body: (TeamsTextBlock | TeamsFactSet)[] = [
    {
      type: 'TextBlock',
      text: fitText(headline(event, incident), level.titleChars, { escape }),
      wrap: true,
      size: 'Large',
      weight: 'Bolder',
      color: TEAMS_COLOR[noticeTone(event, incident)],
    },
    {
      type: 'FactSet',
      facts: incidentFacts(event, incident).map((fact) => ({
        title: fact.label,
        value: fitText(fact.value, level.valueChars, { escape }),
      })),
    },
  ];

  const summary = cleanBlock(incident.summary ?? '');
  if (summary !== '') body.push({ type: 'TextBlock', text: fitText(summary, level.summaryChars, { escape }), wrap: true });

  const metric = formatMetric(incident.metric);
  if (metric !== undefined) {
    body.push({ type: 'TextBlock', text: `**Metric:** ${fitText(metric, level.valueChars, { escape })}`, wrap: true, isSubtle: true });
  }

  const labels = labelEntries(incident.labels);
  if (labels.length > 0 && level.labelCount > 0) {
    const shown = labels.slice(0, level.labelCount).map(([key, value]) => ({
      title: fitText(key, LABEL_KEY_CHARS, { escape }),
      value: fitText(value, level.valueChars, { escape }),
    }));
    const hidden = labels.length - shown.length;
    if (hidden > 0) shown.push({ title: '…', value: `${hidden} more labels` });
    body.push({ type: 'TextBlock', text: '**Labels**', wrap: true }, { type: 'FactSet', facts: shown });
  }

  body.push({
    type: 'TextBlock',
    text: `Tocsin · ${escape(incident.source.kind)} · fingerprint ${fitText(incident.fingerprint, 200, { escape })}`,
    wrap: true,
    size: 'Small',
    isSubtle: true,
  });

  const actions = openableLinks(incident.links, LINK_URL_CHARS)
    .slice(0, level.linkCount)
    .map(
      (link): TeamsOpenUrl => ({
        type: 'Action.OpenUrl',
        title: fitText(oneLine(link.title), ACTION_TITLE_CHARS),
        url: link.url,
      }),
    );

  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
          actions,
          msteams: { width: 'Full' },
        },
      },
    ],
  };
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
  render: renderTeams,
  send(rendered, target, context) {
    const message =
      target.mention !== undefined && wantsMention(rendered, target.mentionOn)
        ? withMention(rendered.message, target.mention)
        : rendered.message;
    return postJson(target.webhookUrl, JSON.stringify(message), { timeoutMs: context.timeoutMs });
  },
});
