// Slack channel (Block Kit): an incoming webhook, or a Slack app's bot token and a channel ID,
// which edits the message in place on resolve and threads reminders under it (sendAsBot below;
// the Web API transport is ./slack-api.ts).
//
// Layout (the notice, ./notice.ts, read top-down): header = the headline (mark, severity, rule on
// resource); a context line with the status in words and time (`Firing since Wed 25 Nov 10:00
// UTC`, `Resolved after 1h 5m (ended …)`) and where; the metric in words and the identifying
// labels; the ranked buttons (runbook first, primary style while firing); then the reason text.
// The top-level `text` is the headline: Slack's push notification and unread preview. The
// remaining labels and the fingerprint go in one legacy attachment whose `color` paints the bar
// beside it: red/orange/yellow/blue by severity, green once resolved. Putting everything in an attachment would show the colour next to all of it,
// but Slack collapses long attachments behind "Show more" and calls them legacy.
//
// Every text is escaped for Slack's control characters (`&`, `<`, `>`) before it is measured
// and fitted, so a title like `<!channel>` can never ping a channel; only the configured
// `mention` (validated below) can. Limits respected: header 150, section text 3000, ≤10 fields
// of ≤2000, button text 75 and URL 3000, ≤5 buttons, ≤50 blocks, `text` ≤40,000.
// Slack answers 200 "ok"; 400 invalid_payload/invalid_blocks, 403 action_prohibited,
// 404 channel_not_found/no_service and 410 channel_is_archived are permanent, 429 and 5xx are
// retried (postJson does the classification).
import * as z from 'zod';
import type { Incident, Severity } from '../incident.ts';
import { defineChannel, type DeliveryEvent, type MessageRefSlot, type SendResult } from './channel.ts';
import {
  TONE_HEX,
  actionsWithin,
  cleanBlock,
  escapeAngleAmp,
  fitText,
  joinBounded,
  mentionOnSchema,
  wantsMention,
  webhookUrlSchema,
} from './chat-format.ts';
import { postJson } from './http.ts';
import { callSlack, parseSlackMessageRef, SLACK_API_URL, slackMessageRef, type SlackApiCall, type SlackApiFailure, type SlackApiOk } from './slack-api.ts';
import { buildNotice, fitDigestLines, isFiringNotice, moreLine, type DigestLine, type DigestNotice, type Notice, type NoticeState } from './notice.ts';

export const SLACK_LIMITS = {
  headerChars: 150,
  sectionChars: 3000,
  fieldChars: 2000,
  fields: 10,
  contextChars: 3000,
  buttonTextChars: 75,
  buttonUrlChars: 3000,
  buttons: 5,
  blocks: 50,
  textChars: 40_000,
} as const;

/** The notification text is a headline; far below Slack's 40,000 so previews stay readable. */
const FALLBACK_TEXT_CHARS = 3000;
const LABEL_CHARS = 200;
/** The reason text comes after the buttons; kept to a screenful. */
const SUMMARY_CHARS = 1500;

/** `<!here>`, `<!channel>`, `<!everyone>`, `<!subteam^ID>` or `<@U…>`, space-separated. */
const SLACK_MENTION = /^<(?:!here|!channel|!everyone|!subteam\^[A-Z0-9]+|@[UW][A-Z0-9]+)>(?: <(?:!here|!channel|!everyone|!subteam\^[A-Z0-9]+|@[UW][A-Z0-9]+)>)*$/;

export const slackConfigSchema = z.lazy(() =>
  z
    .strictObject({
      type: z.literal('slack'),
      /** Incoming-webhook mode: the webhook URL (a secret). https only; http for 127.0.0.1/localhost in tests. */
      webhookUrl: webhookUrlSchema.optional(),
      /** Bot mode: a Slack app's bot token (a secret) with `chat:write`, invited to the channel. */
      botToken: z.string().regex(/^xox[bp]-[A-Za-z0-9-]+$/, { message: 'must be a Slack bot token (xoxb-…)' }).optional(),
      /** Bot mode: the channel's ID (channel details › About), not its #name. */
      channelId: z.string().regex(/^[CGD][A-Z0-9]{2,}$/, { message: 'must be a Slack channel ID such as C0123ABCDEF, not a #name' }).optional(),
      /** Bot mode: another Web API base URL (a test server); https://slack.com/api by default. */
      apiUrl: webhookUrlSchema.optional(),
      /** Slack mention syntax, e.g. `<!here>` or `<!subteam^S0123ABC>`, added to firing notices. */
      mention: z
        .string()
        .regex(SLACK_MENTION, { message: 'must be Slack mention syntax such as <!here> or <!subteam^ID>' })
        .optional(),
      /** Severities whose firing notices carry the mention (default: critical). */
      mentionOn: mentionOnSchema,
    })
    .superRefine((config, ctx) => {
      const bot = config.botToken !== undefined;
      if (config.webhookUrl === undefined && !bot) {
        ctx.addIssue({ code: 'custom', message: 'set webhookUrl (incoming webhook) or botToken and channelId (Slack app)', path: ['webhookUrl'] });
      }
      if (config.webhookUrl !== undefined && bot) {
        ctx.addIssue({ code: 'custom', message: 'set either webhookUrl or botToken, not both', path: ['botToken'] });
      }
      if (bot && config.channelId === undefined) ctx.addIssue({ code: 'custom', message: 'is required with botToken', path: ['channelId'] });
      for (const key of ['channelId', 'apiUrl'] as const) {
        if (!bot && config[key] !== undefined) ctx.addIssue({ code: 'custom', message: 'is only used with botToken', path: [key] });
      }
    })
);
export type SlackConfig = z.infer<typeof slackConfigSchema>;

export interface SlackText {
  readonly type: 'plain_text' | 'mrkdwn';
  readonly text: string;
  readonly emoji?: boolean;
}
export interface SlackButton {
  readonly type: 'button';
  readonly text: SlackText;
  readonly url: string;
  readonly action_id: string;
  readonly style?: 'primary';
}
export type SlackBlock =
  | { readonly type: 'header'; readonly text: SlackText }
  | { readonly type: 'section'; readonly text: SlackText }
  | { readonly type: 'section'; readonly fields: SlackText[] }
  | { readonly type: 'context'; readonly elements: SlackText[] }
  | { readonly type: 'actions'; readonly elements: SlackButton[] };

export interface SlackMessage {
  readonly text: string;
  readonly blocks: SlackBlock[];
  readonly attachments: [{ readonly color: string; readonly blocks: SlackBlock[] }];
}

export interface SlackRendered {
  /** Which notice this is: bot mode edits, threads or posts by it. */
  readonly event: DeliveryEvent;
  readonly message: SlackMessage;
  readonly severity: Severity;
  /** A firing notice: the target's mention may be added when sending. */
  readonly mentionable: boolean;
}

const escape = escapeAngleAmp;
const mrkdwn = (text: string): SlackText => ({ type: 'mrkdwn', text });
const plain = (text: string): SlackText => ({ type: 'plain_text', text, emoji: true });

export function renderSlack(event: DeliveryEvent, incident: Incident, state?: NoticeState): SlackRendered {
  const notice = buildNotice(event, incident, state);
  const blocks: SlackBlock[] = [{ type: 'header', text: plain(fitText(notice.headline, SLACK_LIMITS.headerChars, { escape })) }];

  // Status, time and place in one line under the headline: how bad, since when, where.
  const status = `*${escape(notice.statusLine)}*`;
  blocks.push(context(`${status} · ${fitText(notice.where, SLACK_LIMITS.contextChars - status.length - 3, { escape })}`));

  const what = [
    ...(notice.metric === undefined ? [] : [`*${fitText(notice.metric, 500, { escape })}*`]),
    ...(notice.identity.length === 0 ? [] : [notice.identity.map((fact) => fitText(`${fact.label}: ${fact.value}`, LABEL_CHARS, { escape })).join(' · ')]),
  ];
  if (what.length > 0) blocks.push({ type: 'section', text: mrkdwn(what.join('\n')) });

  const buttons = actionsWithin(notice.actions, SLACK_LIMITS.buttonUrlChars)
    .slice(0, SLACK_LIMITS.buttons)
    .map(
      (action, index): SlackButton => ({
        type: 'button',
        text: plain(fitText(action.label, SLACK_LIMITS.buttonTextChars, { escape })),
        url: action.url,
        action_id: `tocsin-link-${index}`,
        // The first action of a firing notice is the one to press: Slack's primary (green) style.
        ...(index === 0 && !notice.resolved ? { style: 'primary' as const } : {}),
      }),
    );
  if (buttons.length > 0) blocks.push({ type: 'actions', elements: buttons });

  const summary = cleanBlock(notice.summary ?? '');
  if (summary !== '') blocks.push({ type: 'section', text: mrkdwn(fitText(summary, SUMMARY_CHARS, { escape })) });

  return {
    event,
    message: {
      text: fitText(notice.headline, FALLBACK_TEXT_CHARS, { escape }),
      blocks,
      attachments: [{ color: TONE_HEX[notice.tone], blocks: secondaryBlocks(notice, incident.source.kind) }],
    },
    severity: incident.severity,
    mentionable: isFiringNotice(event, incident),
  };
}

/** Digest lines in all; far below the 50 blocks × 3000 characters Slack allows, a screenful or three. */
const DIGEST_LINES_CHARS = 12_000;
const DIGEST_LINE_CHARS = 400;

/** One digest line: `🔴 *CRITICAL* <subject> · <where> · <Runbook>` (escaped; the link is the notice's first action). */
function slackDigestLine(line: DigestLine): string {
  // `|` and `>` would end Slack's <url|text> early (an http(s) href has no `<`).
  const url = line.action?.url.replace(/\|/g, '%7C').replace(/>/g, '%3E');
  const link = line.action === undefined || url === undefined || url.length > SLACK_LIMITS.buttonUrlChars ? '' : ` · <${url}|${escape(line.action.label)}>`;
  const text = `${line.mark} *${escape(line.label)}* ${fitText(line.subject, 200, { escape })} · ${fitText(line.where, 120, { escape })}`;
  return fitText(text, DIGEST_LINE_CHARS - link.length) + link;
}

/**
 * A digest: the headline as header, a context line with the counts and what the group has in
 * common, then one line per notice (worst first) in sections of at most 3000 characters, and
 * `+N more` for what does not fit. The colour bar is the worst line's tone.
 */
export function renderSlackDigest(digest: DigestNotice): SlackRendered {
  const blocks: SlackBlock[] = [{ type: 'header', text: plain(fitText(digest.headline, SLACK_LIMITS.headerChars, { escape })) }];
  const about = [digest.counts, digest.groupLine].filter((part) => part !== '').join(' · ');
  blocks.push(context(fitText(about, SLACK_LIMITS.contextChars, { escape })));
  const { shown, more } = fitDigestLines(digest.lines, DIGEST_LINES_CHARS, slackDigestLine, (part) => part.length + 1);
  let section = '';
  for (const line of [...shown, ...(more > 0 ? [`_${moreLine(more)}_`] : [])]) {
    if (section !== '' && section.length + 1 + line.length > SLACK_LIMITS.sectionChars) {
      blocks.push({ type: 'section', text: mrkdwn(section) });
      section = '';
    }
    section = section === '' ? line : `${section}\n${line}`;
  }
  if (section !== '') blocks.push({ type: 'section', text: mrkdwn(section) });
  const worst: Severity = digest.digest.items[0]?.incident.severity ?? 'info';
  return {
    event: 'opened',
    message: {
      text: fitText(digest.headline, FALLBACK_TEXT_CHARS, { escape }),
      blocks,
      attachments: [{ color: TONE_HEX[digest.tone], blocks: [context(`Tocsin digest · group ${escape(digest.groupId)} · #${String(digest.sequence)}`)] }],
    },
    severity: worst,
    mentionable: digest.tone !== 'resolved',
  };
}

/** The remaining labels and the fingerprint: detail beside the colour bar, below what matters. */
function secondaryBlocks(notice: Notice, kind: string): SlackBlock[] {
  const blocks: SlackBlock[] = [];
  const labels = notice.details.map((fact) => fitText(`${fact.label}=${fact.value}`, LABEL_CHARS, { escape }));
  if (labels.length > 0) {
    const label = '*Labels:* ';
    const joined = joinBounded(labels, ' · ', SLACK_LIMITS.contextChars - label.length, (hidden) => `+${hidden} more`);
    blocks.push(context(label + joined));
  }
  blocks.push(context(`Tocsin · ${escape(kind)} · fingerprint ${fitText(notice.fingerprint, 200, { escape })}`));
  return blocks;
}

const context = (text: string): SlackBlock => ({ type: 'context', elements: [mrkdwn(text)] });

/** Adds the configured mention to the notification text and as a line under the header. */
function withMention(message: SlackMessage, mention: string): SlackMessage {
  const [header, ...rest] = message.blocks;
  const mentionBlock: SlackBlock = { type: 'section', text: mrkdwn(mention) };
  return {
    ...message,
    text: fitText(`${mention} ${message.text}`, SLACK_LIMITS.textChars),
    blocks: header === undefined ? [mentionBlock, ...rest] : [header, mentionBlock, ...rest],
  };
}

export const slackChannel = defineChannel<SlackConfig, SlackRendered>({
  type: 'slack',
  configSchema: slackConfigSchema,
  // Slack: incoming webhooks take about 1 message per second per webhook; chat.postMessage about
  // 1 per second per channel (short bursts allowed, not guaranteed). Bot mode limits per channel.
  rateLimit: {
    defaults: { rate: { limit: 1, perMs: 1_000, burst: 1 } },
    targets: (config) => [config.webhookUrl ?? `${config.apiUrl ?? SLACK_API_URL}#${config.channelId ?? ''}`],
  },
  render: renderSlack,
  renderDigest: renderSlackDigest,
  send(rendered, target, context) {
    const message =
      target.mention !== undefined && wantsMention(rendered, target.mentionOn)
        ? withMention(rendered.message, target.mention)
        : rendered.message;
    if (target.botToken !== undefined && target.channelId !== undefined) {
      const call = { apiUrl: target.apiUrl ?? SLACK_API_URL, token: target.botToken, timeoutMs: context.timeoutMs };
      return sendAsBot(rendered.event, message, target.channelId, call, context.messageRef);
    }
    if (target.webhookUrl === undefined) return Promise.resolve({ ok: false, retryable: false, reason: 'slack channel has neither webhookUrl nor botToken' });
    return postJson(target.webhookUrl, JSON.stringify(message), { timeoutMs: context.timeoutMs });
  },
});

/** Slack errors after which a stored message cannot be edited or replied to: post anew instead. */
const MESSAGE_GONE: ReadonlySet<string> = new Set(['message_not_found', 'cant_update_message', 'edit_window_closed', 'thread_not_found', 'cant_reply_to_message']);

/**
 * Bot mode (chat.postMessage / chat.update): an opening notice is a new message whose ref is
 * kept; the resolve edits that message in place and adds a short reply in its thread;
 * reminders and flapping notices are replies in the thread. Without a stored message (none
 * kept, expired, another channel, deleted in Slack) a notice is posted as a new message.
 */
async function sendAsBot(
  event: DeliveryEvent,
  message: SlackMessage,
  channel: string,
  call: SlackApiCall,
  slot: MessageRefSlot | undefined,
): Promise<SendResult> {
  let parent: { readonly channel: string; readonly ts: string } | undefined;
  if (slot !== undefined && event !== 'opened') {
    try {
      parent = parseSlackMessageRef(await slot.get());
    } catch (error) {
      return { ok: false, retryable: true, reason: `could not read the stored Slack message (${error instanceof Error ? error.name : typeof error})` };
    }
    if (parent?.channel !== channel) parent = undefined;
  }
  const post = (content: Partial<SlackMessage> = message, threadTs?: string): Promise<SlackApiOk | SlackApiFailure> =>
    callSlack('chat.postMessage', { channel, ...content, ...(threadTs === undefined ? {} : { thread_ts: threadTs }), unfurl_links: false, unfurl_media: false }, call);

  if (parent !== undefined) {
    if (event === 'resolved') {
      const updated = await callSlack('chat.update', { channel, ts: parent.ts, ...message }, call);
      if (updated.ok) return done(await post({ text: message.text }, parent.ts));
      if (!MESSAGE_GONE.has(updated.slackError ?? '')) return updated;
    } else {
      const replied = await post(message, parent.ts);
      if (replied.ok || !MESSAGE_GONE.has(replied.slackError ?? '')) return done(replied);
    }
  }
  const posted = await post();
  // A new top-level message becomes the one to edit, unless it is the resolve itself.
  if (posted.ok && slot !== undefined && event !== 'resolved' && posted.ts !== undefined) {
    try {
      await slot.put(slackMessageRef(posted.channel ?? channel, posted.ts));
    } catch {
      // It was posted: failing now would post it twice. The resolve will then post anew.
    }
  }
  return done(posted);
}

function done(result: SlackApiOk | SlackApiFailure): SendResult {
  if (result.ok) return { ok: true };
  const { slackError: _code, ...failure } = result;
  return failure;
}
