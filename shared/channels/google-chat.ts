// Google Chat incoming webhook channel: a `cardsV2` card plus a short `text` line (the
// notification and the preview), one thread per incident.
//
// Threading: the body carries `thread.threadKey` (the fingerprint) and the URL gets
// `messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD`, so the opened, re-notified and
// resolved notices of one incident land in one thread (a new thread if it is gone). The
// webhook's own `key` and `token` query parameters are kept verbatim. `threadPerIncident: false`
// posts every notice as a new message instead.
//
// Size: Google Chat rejects messages over 32,000 bytes; the JSON body is measured and rebuilt
// with less detail until it fits (room kept for the mention). Card text is Chat's HTML subset,
// so `&<>` are escaped there; in the plain `text` line a `<` is followed by a zero-width space so
// `<users/all>` or `<https://…|link>` in an alert title cannot mention or link anyone.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Incident, Severity } from '../incident.ts';
import { defineChannel, type DeliveryEvent } from './channel.ts';
import {
  TONE_HEX,
  cleanBlock,
  escapeAngleAmp,
  fingerprintSlug,
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
} from './chat-format.ts';
import { postJson } from './http.ts';
import { formatMetric, oneLine } from './text.ts';

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

export const googleChatConfigSchema = z.strictObject({
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
});
export type GoogleChatConfig = z.infer<typeof googleChatConfigSchema>;

export type GoogleChatWidget =
  | { readonly decoratedText: { readonly topLabel: string; readonly text: string; readonly wrapText: true } }
  | { readonly textParagraph: { readonly text: string } }
  | {
      readonly buttonList: {
        readonly buttons: { readonly text: string; readonly onClick: { readonly openLink: { readonly url: string } } }[];
      };
    };

export interface GoogleChatMessage {
  readonly text: string;
  readonly cardsV2: [
    {
      readonly cardId: string;
      readonly card: {
        readonly header: { readonly title: string; readonly subtitle?: string };
        readonly sections: [{ readonly widgets: GoogleChatWidget[] }];
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

export function renderGoogleChat(event: DeliveryEvent, incident: Incident): GoogleChatRendered {
  return {
    message: largestThatFits(
      (level) => buildMessage(event, incident, level),
      GOOGLE_CHAT_MAX_BODY_BYTES - MENTION_RESERVE_BYTES,
    ),
    severity: incident.severity,
    mentionable: isFiringNotice(event, incident),
  };
}

function buildMessage(event: DeliveryEvent, incident: Incident, level: DetailLevel): GoogleChatMessage {
  const title = headline(event, incident);
  const colour = TONE_HEX[noticeTone(event, incident)];
  const widgets: GoogleChatWidget[] = incidentFacts(event, incident).map((fact, index) => {
    const value = fitText(fact.value, level.valueChars, { escape: escapeCard });
    // The first fact is the status: coloured like the notice so resolved reads green at a glance.
    const text = index === 0 ? `<font color="${colour}"><b>${value}</b></font>` : value;
    return { decoratedText: { topLabel: fact.label, text, wrapText: true } };
  });

  const summary = cleanBlock(incident.summary ?? '');
  if (summary !== '') widgets.push({ textParagraph: { text: fitText(summary, level.summaryChars, { escape: escapeCard }) } });

  const metric = formatMetric(incident.metric);
  if (metric !== undefined) {
    widgets.push({
      decoratedText: { topLabel: 'Metric', text: fitText(metric, level.valueChars, { escape: escapeCard }), wrapText: true },
    });
  }

  const labels = labelEntries(incident.labels);
  if (labels.length > 0 && level.labelCount > 0) {
    const shown = labels
      .slice(0, level.labelCount)
      .map(([key, value]) => fitText(`${key}: ${value}`, level.valueChars, { escape: escapeCard }));
    const hidden = labels.length - shown.length;
    if (hidden > 0) shown.push(`+${hidden} more`);
    widgets.push({ textParagraph: { text: `<b>Labels</b><br>${shown.join('<br>')}` } });
  }

  const buttons = openableLinks(incident.links, LINK_URL_CHARS)
    .slice(0, level.linkCount)
    .map((link) => ({ text: fitText(oneLine(link.title), BUTTON_TEXT_CHARS), onClick: { openLink: { url: link.url } } }));
  if (buttons.length > 0) widgets.push({ buttonList: { buttons } });

  widgets.push({
    textParagraph: {
      text: `<font color="#80868B">Tocsin · ${escapeCard(incident.source.kind)} · fingerprint ${fitText(incident.fingerprint, 200, { escape: escapeCard })}</font>`,
    },
  });

  const { source } = incident;
  const subtitle = [source.kind, source.account, source.region].filter((part) => part !== undefined).join(' · ');
  return {
    text: fitText(title, level.titleChars, { escape: escapeChatText }),
    cardsV2: [
      {
        cardId: `tocsin-${fingerprintSlug(incident.fingerprint)}`,
        card: {
          header: { title: fitText(title, HEADER_TITLE_CHARS), subtitle: fitText(oneLine(subtitle), SUBTITLE_CHARS) },
          sections: [{ widgets }],
        },
      },
    ],
    thread: { threadKey: threadKeyFor(incident.fingerprint) },
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
  render: renderGoogleChat,
  send(rendered, target, context) {
    const { thread, ...unthreaded } = rendered.message;
    let message: GoogleChatMessage = target.threadPerIncident ? rendered.message : unthreaded;
    if (target.mention !== undefined && wantsMention(rendered, target.mentionOn)) {
      message = { ...message, text: `<${target.mention}> ${message.text}` };
    }
    const url = target.threadPerIncident && thread !== undefined ? (threadedUrl(target.webhookUrl) ?? target.webhookUrl) : target.webhookUrl;
    // The configured URL too: the threaded one differs from it only by added parameters.
    return postJson(url, JSON.stringify(message), { timeoutMs: context.timeoutMs, secrets: [target.webhookUrl] });
  },
});
