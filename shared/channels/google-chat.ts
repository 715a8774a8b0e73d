// Google Chat incoming webhook channel: a `cardsV2` card whose `fallbackText` (the headline) is
// the notification and preview text, one thread per incident.
//
// Layout (the notice, ./notice.ts): header title = the rule on the resource, subtitle = mark,
// severity and status with its time (Chat gives a title one line when a subtitle is set, so the
// resource must come first); then the status line coloured by tone (green once resolved) with
// where, the metric and identifying labels, up to three ranked buttons (the first filled while
// firing), the reason (four lines), and a collapsed "Details" section with the other links,
// labels and the fingerprint. `text` is only set to carry a configured mention.
//
// Threading: the body carries `thread.threadKey` (the fingerprint) and the URL gets
// `messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD`, so the opened, re-notified and
// resolved notices of one incident land in one thread (a new thread if it is gone). The
// webhook's own `key` and `token` query parameters are kept verbatim. `threadPerIncident: false`
// posts every notice as a new message instead.
//
// Size: Google Chat rejects messages over 32,000 bytes; the JSON body is measured and rebuilt
// with less detail until it fits (room kept for the mention). Card text is Chat's HTML subset,
// so `&<>` are escaped there; in the plain `fallbackText` a `<` is followed by a zero-width space so
// `<users/all>` or `<https://…|link>` in an alert title cannot mention or link anyone.
import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { Incident, Severity } from '../incident.ts';
import { defineChannel, type DeliveryEvent } from './channel.ts';
import {
  TONE_TEXT_HEX,
  actionsWithin,
  cleanBlock,
  escapeAngleAmp,
  fingerprintSlug,
  fitText,
  largestThatFits,
  mentionOnSchema,
  utf8Bytes,
  wantsMention,
  webhookUrlSchema,
  type DetailLevel,
} from './chat-format.ts';
import { postJson } from './http.ts';
import { buildNotice, fitDigestLines, isFiringNotice, moreLine, type DigestLine, type DigestNotice, type Notice, type NoticeAction, type NoticeState } from './notice.ts';

export const GOOGLE_CHAT_MAX_BODY_BYTES = 32_000;
/** Room kept for `<users/…> ` added at send time. */
const MENTION_RESERVE_BYTES = 128;
const HEADER_TITLE_CHARS = 200;
const SUBTITLE_CHARS = 200;
const BUTTON_TEXT_CHARS = 40;
const LINK_URL_CHARS = 2048;
const THREAD_KEY_CHARS = 200;

export const REPLY_OPTION_PARAM = 'messageReplyOption';
export const REPLY_OPTION = 'REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD';

export const googleChatConfigSchema = z.lazy(() =>
  z.strictObject({
    type: z.literal('google-chat'),
    /** Space webhook URL including its `key` and `token` (a secret). https only; http for local tests. */
    webhookUrl: webhookUrlSchema,
    /** `users/all` or `users/<numeric id>`, mentioned on firing notices. */
    mention: z
      .string()
      .regex(/^users\/(?:all|\d{1,32})$/, { message: 'must be users/all or users/<numeric id>' })
      .optional(),
    mentionOn: mentionOnSchema,
    /** One thread per incident (default) or a new message for every notice. */
    threadPerIncident: z.boolean().default(true),
  })
);
export type GoogleChatConfig = z.infer<typeof googleChatConfigSchema>;

export type GoogleChatWidget =
  | {
      readonly decoratedText: {
        readonly topLabel?: string;
        readonly text: string;
        readonly bottomLabel?: string;
        readonly wrapText: true;
      };
    }
  | { readonly textParagraph: { readonly text: string; readonly maxLines?: number } }
  | { readonly buttonList: { readonly buttons: GoogleChatButton[] } };

export interface GoogleChatButton {
  readonly text: string;
  readonly onClick: { readonly openLink: { readonly url: string } };
  readonly type: 'FILLED' | 'OUTLINED';
}

export interface GoogleChatSection {
  readonly header?: string;
  readonly collapsible?: true;
  readonly uncollapsibleWidgetsCount?: number;
  readonly widgets: GoogleChatWidget[];
}

export interface GoogleChatMessage {
  /** Only set at send time, for a configured mention (the card header already says it all). */
  readonly text?: string;
  /** The notification and preview text: the headline. */
  readonly fallbackText: string;
  readonly cardsV2: [
    {
      readonly cardId: string;
      readonly card: {
        readonly header: { readonly title: string; readonly subtitle: string };
        readonly sections: GoogleChatSection[];
      };
    },
  ];
  readonly thread?: { readonly threadKey: string };
}

export interface GoogleChatRendered {
  readonly message: GoogleChatMessage;
  readonly severity: Severity;
  readonly mentionable: boolean;
}

/** Card text: HTML subset, so escape `&<>`; newlines become `<br>`. */
const escapeCard = (text: string): string => escapeAngleAmp(text).replace(/\n/g, '<br>');
/** Message text: Chat parses `<users/…>` and `<url|text>`; a zero-width space after `<` defuses both. */
const escapeChatText = (text: string): string => text.replace(/</g, '<\u200B');

/** Buttons shown on the card; more go in the collapsed details. */
const PRIMARY_BUTTONS = 3;

export function renderGoogleChat(event: DeliveryEvent, incident: Incident, state?: NoticeState): GoogleChatRendered {
  const notice = buildNotice(event, incident, state);
  return {
    message: largestThatFits((level) => buildMessage(notice, incident, level), GOOGLE_CHAT_MAX_BODY_BYTES - MENTION_RESERVE_BYTES),
    severity: incident.severity,
    mentionable: isFiringNotice(event, incident),
  };
}

function buildMessage(notice: Notice, incident: Incident, level: DetailLevel): GoogleChatMessage {
  const colour = TONE_TEXT_HEX[notice.tone];
  // The status, coloured like the notice (green once resolved), then where: one widget.
  const widgets: GoogleChatWidget[] = [
    {
      decoratedText: {
        text: `<font color="${colour}"><b>${escapeCard(notice.status)}</b></font> ${escapeCard(notice.when)}${notice.state === undefined ? '' : ` · ${escapeCard(notice.state)}`}`,
        bottomLabel: fitText(notice.where, SUBTITLE_CHARS, { escape: escapeCard }),
        wrapText: true,
      },
    },
  ];
  const facts = [
    ...(notice.metric === undefined ? [] : [`<b>${fitText(notice.metric, level.valueChars, { escape: escapeCard })}</b>`]),
    ...(notice.identity.length === 0 ? [] : [notice.identity.map((fact) => fitText(`${fact.label}: ${fact.value}`, level.valueChars, { escape: escapeCard })).join(' · ')]),
  ];
  if (facts.length > 0) widgets.push({ textParagraph: { text: facts.join('<br>') } });

  const links = actionsWithin(notice.actions, LINK_URL_CHARS).slice(0, level.linkCount);
  // The first action of a firing notice is filled: the one to press.
  const button = (action: NoticeAction, index: number): GoogleChatButton => ({
    text: fitText(action.label, BUTTON_TEXT_CHARS),
    onClick: { openLink: { url: action.url } },
    type: index === 0 && !notice.resolved ? 'FILLED' : 'OUTLINED',
  });
  const primary = links.slice(0, PRIMARY_BUTTONS);
  if (primary.length > 0) widgets.push({ buttonList: { buttons: primary.map(button) } });

  const summary = cleanBlock(notice.summary ?? '');
  if (summary !== '') widgets.push({ textParagraph: { text: fitText(summary, level.summaryChars, { escape: escapeCard }), maxLines: 4 } });

  // Everything else, collapsed: more links, the remaining labels, the fingerprint.
  const details: GoogleChatWidget[] = [];
  const more = links.slice(PRIMARY_BUTTONS);
  if (more.length > 0) details.push({ buttonList: { buttons: more.map((action) => button(action, 1)) } });
  const labels = notice.details.slice(0, level.labelCount).map((fact) => fitText(`${fact.label}: ${fact.value}`, level.valueChars, { escape: escapeCard }));
  const hidden = notice.details.length - labels.length;
  if (hidden > 0) labels.push(`+${hidden} more`);
  if (labels.length > 0) details.push({ textParagraph: { text: labels.join('<br>') } });
  details.push({
    textParagraph: {
      text: `<font color="#5F6368">Tocsin · ${escapeCard(incident.source.kind)} · fingerprint ${fitText(notice.fingerprint, 200, { escape: escapeCard })}</font>`,
    },
  });

  return {
    fallbackText: fitText(notice.headline, level.titleChars, { escape: escapeChatText }),
    cardsV2: [
      {
        cardId: `tocsin-${fingerprintSlug(incident.fingerprint)}`,
        card: {
          // Title = what is broken; the status and severity go in the subtitle, so a title that
          // wraps to one line cuts neither.
          header: {
            title: fitText(`${notice.isTest ? '[TEST] ' : ''}${notice.subject}`, HEADER_TITLE_CHARS),
            subtitle: fitText(`${notice.mark} ${notice.label} · ${notice.statusLine}`, SUBTITLE_CHARS),
          },
          sections: [{ widgets }, { header: 'Details', collapsible: true, uncollapsibleWidgetsCount: 0, widgets: details }],
        },
      },
    ],
    thread: { threadKey: threadKeyFor(incident.fingerprint) },
  };
}

/** Room kept for the card around a digest's lines (header, fallback text, frame). */
const DIGEST_FRAME_BYTES = 3_000;

function googleChatDigestLine(line: DigestLine): string {
  const link = line.action === undefined || line.action.url.length > LINK_URL_CHARS ? '' : ` · <a href="${escapeAngleAmp(line.action.url).replace(/"/g, '&quot;')}">${escapeCard(fitText(line.action.label, BUTTON_TEXT_CHARS))}</a>`;
  const colour = TONE_TEXT_HEX[line.tone];
  return `${line.mark} <font color="${colour}"><b>${escapeCard(line.label)}</b></font> ${fitText(line.subject, 200, { escape: escapeCard })} · ${fitText(line.where, 120, { escape: escapeCard })}${link}`;
}

/**
 * A digest: the header says how many and what the group has in common; one line per notice
 * (worst first, coloured label, its first link) and `+N more` for what does not fit 32 KB.
 * A digest is not threaded under any incident: it is a message of its own.
 */
export function renderGoogleChatDigest(digest: DigestNotice): GoogleChatRendered {
  const budget = GOOGLE_CHAT_MAX_BODY_BYTES - MENTION_RESERVE_BYTES - DIGEST_FRAME_BYTES;
  // JSON-escaped size: the lines travel inside a JSON string.
  const { shown, more } = fitDigestLines(digest.lines, budget, googleChatDigestLine, (part) => utf8Bytes(JSON.stringify(part)) + 4);
  const text = [...shown, ...(more > 0 ? [`<i>${moreLine(more)}</i>`] : [])].join('<br>');
  return {
    message: {
      fallbackText: fitText(digest.headline, HEADER_TITLE_CHARS, { escape: escapeChatText }),
      cardsV2: [
        {
          cardId: `tocsin-digest-${digest.groupId}`,
          card: {
            header: {
              title: fitText(digest.headline, HEADER_TITLE_CHARS),
              subtitle: fitText([digest.counts, digest.groupLine].filter((part) => part !== '').join(' · '), SUBTITLE_CHARS),
            },
            sections: [
              { widgets: [{ textParagraph: { text } }] },
              { widgets: [{ textParagraph: { text: `<font color="#5F6368">Tocsin digest · group ${digest.groupId} · #${String(digest.sequence)}</font>` } }] },
            ],
          },
        },
      ],
    },
    severity: digest.digest.items[0]?.incident.severity ?? 'info',
    mentionable: digest.tone !== 'resolved',
  };
}

/** The fingerprint itself (readable, stable); a hash of it if it is unusually long. */
export function threadKeyFor(fingerprint: string): string {
  if (fingerprint.length <= THREAD_KEY_CHARS) return fingerprint;
  return `tocsin-${createHash('sha256').update(fingerprint).digest('hex')}`;
}

/** The webhook URL with the reply option added; existing `key`/`token` parameters kept as they were. */
export function threadedUrl(webhookUrl: string): string | undefined {
  const url = URL.parse(webhookUrl);
  if (url === null) return undefined;
  if (url.searchParams.has(REPLY_OPTION_PARAM)) {
    url.searchParams.set(REPLY_OPTION_PARAM, REPLY_OPTION);
  } else {
    // Appending to `search` rather than `searchParams.set` leaves the other parameters' encoding untouched.
    url.search = `${url.search === '' ? '?' : `${url.search}&`}${REPLY_OPTION_PARAM}=${REPLY_OPTION}`;
  }
  return url.href;
}

export const googleChatChannel = defineChannel<GoogleChatConfig, GoogleChatRendered>({
  type: 'google-chat',
  configSchema: googleChatConfigSchema,
  // Google Chat: per space, 1 message write per second (60 per minute) shared by every app and
  // webhook posting there, incoming webhooks with stricter limits of their own.
  rateLimit: { defaults: { rate: { limit: 1, perMs: 1_000, burst: 1 } }, targets: (config) => [config.webhookUrl] },
  render: renderGoogleChat,
  renderDigest: renderGoogleChatDigest,
  send(rendered, target, context) {
    const { thread, ...unthreaded } = rendered.message;
    let message: GoogleChatMessage = target.threadPerIncident ? rendered.message : unthreaded;
    if (target.mention !== undefined && wantsMention(rendered, target.mentionOn)) {
      message = { ...message, text: `<${target.mention}> ${message.fallbackText}` };
    }
    const url = target.threadPerIncident && thread !== undefined ? (threadedUrl(target.webhookUrl) ?? target.webhookUrl) : target.webhookUrl;
    // The configured URL too: the threaded one differs from it only by added parameters.
    return postJson(url, JSON.stringify(message), { timeoutMs: context.timeoutMs, secrets: [target.webhookUrl] });
  },
});
