// The email channel: one mail per notice with a plain-text and an HTML part, sent through SMTP
// (when `smtp` is configured, e.g. a relay or a local test server) or else Amazon SES v2. Both
// paths send the same MIME message, built with nodemailer's MailComposer. SMTP requires TLS
// unless the config says `tls: none` (see SMTP_TLS_MODES).
//
// Subject: the notice's headline (./notice.ts), e.g. `🔴 CRITICAL: CPU high on web-1`, and once
// over `✅ RESOLVED: CPU high on web-1 (after 1h 5m)`; reminders and flapping notices say
// `🔁 STILL FIRING · CRITICAL: …` and `⚠️ FLAPPING · CRITICAL: …`. The subject is reduced to one
// line (no CR/LF can reach a header) and cut to 200 characters. Everything in the HTML part is
// escaped; only http(s) URLs become links (the notice keeps no others).
//
// Threading: each incident episode (fingerprint + startsAt) is one thread. The opened mail's
// Message-ID is `<tocsin.<h>.<startsAt unix s>.opened@<from domain>>` (h: 24 hex of the
// sha256 of the fingerprint, since a fingerprint's `:` may not appear in a Message-ID); every
// later mail of the episode carries In-Reply-To and References = that id, so the resolved
// mail threads under the opened one. Resolved: `....resolved@…`, deterministic so a
// re-sent mail is recognisable as the same message; reminders and flapping notices repeat
// within an episode, so theirs end with the send time (`....renotified.<unix ms>@…`).
import { createHash } from 'node:crypto';
// The SES client, nodemailer's transport and its MIME composer load on the first send: a
// process that validates or renders email config (every cloud function, a local run without an
// email channel) never pays their import time and memory. addressparser is small and the
// config schema needs it.
import type { SESv2Client, SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import addressparser from 'nodemailer/lib/addressparser';
import * as z from 'zod';
import { defineChannel, type DeliveryEvent, type SendContext, type SendResult } from './channel.ts';
import type { Incident } from '../incident.ts';
import { classifyAwsError, type AwsErrorRules } from './aws-errors.ts';
import { TONE_HEX, TONE_TEXT_HEX } from './chat-format.ts';
import { deadlineSignal } from './deadline.ts';
import { buildNotice, fitDigestLines, moreLine, type DigestLine, type DigestNotice, type Notice, type NoticeAction, type NoticeState } from './notice.ts';
import { oneLine, truncate } from './text.ts';

/** The single mailbox of a `from` value (`alerts@example.com` or `Tocsin <alerts@example.com>`). */
export function mailboxOf(from: string): string | undefined {
  const parsed = addressparser(from);
  const only = parsed.length === 1 ? parsed[0] : undefined;
  const address = only?.address;
  return address !== undefined && z.email().safeParse(address).success ? address : undefined;
}

/**
 * How the SMTP connection is protected. `starttls` (the default): the session must be upgraded
 * with STARTTLS before anything else is sent; a server that does not offer it (or a stripped
 * offer) fails the delivery, so a password or an alert never crosses the network in clear text.
 * `implicit`: TLS from the first byte (usually port 465). `none`: clear text, the explicit
 * choice for a relay on the same host or a network you trust.
 */
export const SMTP_TLS_MODES = ['starttls', 'implicit', 'none'] as const;

/** Built with the email config schema, on first use (no schema is built at import). */
function smtpSchema() {
  return z
    .strictObject({
      host: z.string().min(1),
      port: z.int().min(1).max(65_535),
      tls: z.enum(SMTP_TLS_MODES).default('starttls'),
      /** PEM certificate(s) to trust instead of the system's CAs (a relay with a private CA). */
      ca: z.string().includes('-----BEGIN CERTIFICATE-----', { message: 'expected PEM certificate text' }).optional(),
      user: z.string().min(1).optional(),
      pass: z.string().min(1).optional(),
      // The settings before `tls` existed: refused with the replacement, never reinterpreted.
      secure: z.never({ error: 'replaced by tls: implicit (TLS from the first byte); leave both out for STARTTLS' }).optional(),
      ignoreTLS: z.never({ error: 'replaced by tls: none (clear text, password included); leave both out for STARTTLS' }).optional(),
    })
    .refine((smtp) => (smtp.user === undefined) === (smtp.pass === undefined), {
      message: 'set both user and pass, or neither',
      path: ['pass'],
    });
}

export const emailConfigSchema = z.lazy(() =>
  z.strictObject({
    type: z.literal('email'),
    from: z.string().refine((from) => mailboxOf(from) !== undefined, 'expected one address, e.g. alerts@example.com or "Tocsin <alerts@example.com>"'),
    to: z.array(z.email()).min(1),
    cc: z.array(z.email()).optional(),
    /** Send through this SMTP server instead of SES. */
    smtp: smtpSchema().optional(),
    /** SES region (ignored with `smtp`); default: the function's own (AWS_REGION). */
    region: z.string().min(1).optional(),
  })
);
export type EmailConfig = z.infer<typeof emailConfigSchema>;

export interface EmailMessage {
  /** `digest` for a digest of a group's notices (X-Tocsin-Event). */
  readonly event: DeliveryEvent | 'digest';
  readonly fingerprint: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** Message-ID left of the `@`; the domain comes from the channel's `from` at send time. */
  readonly messageIdLocal: string;
  /** True when the id must be made unique per send (reminders, flapping notices). */
  readonly uniquePerSend: boolean;
  /** The opened mail's id (left of the `@`) for In-Reply-To/References; absent on the opened mail itself. */
  readonly threadRootLocal?: string;
}

const SUBJECT_TITLE_MAX = 200;
const BODY_TITLE_MAX = 1_000;
const SUMMARY_MAX = 10_000;
const LABELS_MAX = 100;
const VALUE_MAX = 1_000;
const LINKS_MAX = 20;

export function threadLocalPart(incident: Incident, event: DeliveryEvent): string {
  const hash = createHash('sha256').update(incident.fingerprint).digest('hex').slice(0, 24);
  const startsAt = Math.floor(Date.parse(incident.startsAt) / 1000);
  return `tocsin.${hash}.${startsAt}.${event}`;
}

const EVENT_NOTE: Readonly<Record<DeliveryEvent, string | undefined>> = {
  opened: undefined,
  renotified: 'Reminder: this incident is still firing.',
  resolved: undefined,
  flapping: 'This incident is flapping (changing state often). Notices pause until it is stable.',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

const one = (text: string, max: number = VALUE_MAX): string => truncate(oneLine(text), max);

/** `✅ RESOLVED: CPU high on web-1 (after 1h 5m)`, `🔴 CRITICAL: CPU high on web-1`: one line, no CR/LF. */
function subjectOf(notice: Notice): string {
  const test = notice.isTest ? '[TEST] ' : '';
  const lasted = notice.resolved && notice.duration !== undefined ? ` (after ${notice.duration})` : '';
  return `${notice.mark} ${test}${notice.label}: ${truncate(notice.subject, SUBJECT_TITLE_MAX)}${lasted}`;
}

// Layout for phones first: one column at most 600 px wide that shrinks to the screen, the tone
// as a thick top rule, the status line in the tone's text colour, the headline, where, then
// the buttons (ranked: runbook first), and only then the metric, the reason and the labels.
// Inline styles only (mail clients drop most <style>); long ids and URLs wrap anywhere.
const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const WRAP = 'overflow-wrap:anywhere;word-break:break-word';

function buttonHtml(action: NoticeAction, index: number, notice: Notice): string {
  const primary = index === 0 && !notice.resolved;
  const colours = primary ? `background:${TONE_TEXT_HEX[notice.tone]};color:#ffffff;border:1px solid ${TONE_TEXT_HEX[notice.tone]}` : 'background:#ffffff;color:#1f2328;border:1px solid #8c959f';
  return `<a href="${escapeHtml(action.url)}" style="display:inline-block;margin:0 8px 8px 0;padding:10px 16px;border-radius:6px;${colours};font-weight:600;font-size:15px;line-height:20px;text-decoration:none">${escapeHtml(one(action.label, 40))}</a>`;
}

export function renderEmail(event: DeliveryEvent, incident: Incident, state?: NoticeState): EmailMessage {
  const notice = buildNotice(event, incident, state);
  const subject = subjectOf(notice);
  const headline = `${notice.mark} ${notice.isTest ? '[TEST] ' : ''}${notice.label}: ${truncate(notice.subject, BODY_TITLE_MAX)}`;
  const note = EVENT_NOTE[event];
  const summary = notice.summary === undefined ? undefined : truncate(notice.summary, SUMMARY_MAX);
  const actions = notice.actions.slice(0, LINKS_MAX);
  const labels = notice.details.slice(0, LABELS_MAX);
  const hiddenLabels = notice.details.length - labels.length;
  const identity = notice.identity.map((fact) => `${one(fact.label)}: ${one(fact.value)}`).join(' · ');
  const { resource: named } = incident;
  const resourceParts = [named?.name, named?.id !== named?.name ? named?.id : undefined].filter((part) => part !== undefined);
  const resource = resourceParts.length === 0 ? undefined : resourceParts.join(' · ');

  const text = [
    headline,
    notice.statusLine,
    notice.where,
    '',
    ...(note !== undefined ? [note, ''] : []),
    ...(actions.length > 0 ? [...actions.map((action) => `${action.label}: ${action.url}`), ''] : []),
    ...(notice.metric !== undefined ? [notice.metric] : []),
    ...(identity !== '' ? [identity] : []),
    ...(resource !== undefined ? [`Resource: ${one(resource)}`] : []),
    ...(summary !== undefined ? ['', summary] : []),
    ...(labels.length > 0
      ? ['', 'Labels', ...labels.map((fact) => `  ${one(fact.label)}: ${one(fact.value)}`), ...(hiddenLabels > 0 ? [`  (+${hiddenLabels} more)`] : [])]
      : []),
    '',
    '-- ',
    `Sent by Tocsin · rule ${one(incident.source.rule)} · fingerprint ${incident.fingerprint}`,
    '',
  ]
    .join('\n')
    // Parts left out leave no run of blank lines.
    .replace(/\n{3,}/g, '\n\n');

  const tone = TONE_HEX[notice.tone];
  const toneText = TONE_TEXT_HEX[notice.tone];
  const cell = `style="padding:4px 12px 4px 0;vertical-align:top;text-align:left;font-size:13px;${WRAP}"`;
  const html = [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(subject)}</title></head>`,
    `<body style="margin:0;padding:0;background:#f6f8fa;font-family:${FONT};color:#1f2328">`,
    `<div style="max-width:600px;margin:0 auto;background:#ffffff;border-top:6px solid ${tone};box-sizing:border-box">`,
    '<div style="padding:16px 16px 4px">',
    `<div style="font-size:14px;font-weight:700;color:${toneText};${WRAP}">${escapeHtml(`${notice.mark} ${notice.label} · ${notice.statusLine}`)}</div>`,
    // Cut like the subject, so even a huge title leaves the buttons above the fold on a phone.
    `<h1 style="margin:6px 0 4px;font-size:20px;line-height:26px;${WRAP}">${escapeHtml(truncate(notice.subject, SUBJECT_TITLE_MAX))}</h1>`,
    `<div style="font-size:13px;color:#57606a;${WRAP}">${escapeHtml(notice.where)}</div>`,
    '</div>',
    ...(actions.length > 0 ? [`<div style="padding:12px 16px 4px">${actions.map((action, index) => buttonHtml(action, index, notice)).join('')}</div>`] : []),
    '<div style="padding:4px 16px 8px;font-size:15px;line-height:22px">',
    ...(note !== undefined ? [`<p style="margin:8px 0"><strong>${escapeHtml(note)}</strong></p>`] : []),
    ...(notice.metric !== undefined ? [`<p style="margin:8px 0;font-size:17px;font-weight:700;${WRAP}">${escapeHtml(notice.metric)}</p>`] : []),
    ...(identity !== '' ? [`<p style="margin:8px 0;color:#57606a;${WRAP}">${escapeHtml(identity)}</p>`] : []),
    ...(summary !== undefined ? [`<p style="margin:8px 0;white-space:pre-wrap;${WRAP}">${escapeHtml(summary)}</p>`] : []),
    '</div>',
    '<div style="padding:0 16px 16px">',
    `<table role="presentation" style="width:100%;table-layout:fixed;border-collapse:collapse">`,
    `<tr><th ${cell} width="30%">Rule</th><td ${cell}>${escapeHtml(one(incident.source.rule))}</td></tr>`,
    ...(resource !== undefined ? [`<tr><th ${cell}>Resource</th><td ${cell}>${escapeHtml(one(resource))}</td></tr>`] : []),
    ...labels.map((fact) => `<tr><th ${cell}>${escapeHtml(one(fact.label))}</th><td ${cell}>${escapeHtml(one(fact.value))}</td></tr>`),
    ...(hiddenLabels > 0 ? [`<tr><td colspan="2" ${cell}>(+${hiddenLabels} more labels)</td></tr>`] : []),
    '</table>',
    `<p style="margin:12px 0 0;font-size:12px;color:#57606a;${WRAP}">Sent by Tocsin · fingerprint ${escapeHtml(incident.fingerprint)}</p>`,
    '</div>',
    '</div>',
    '</body></html>',
    '',
  ].join('\n');

  return {
    event,
    fingerprint: incident.fingerprint,
    subject,
    text,
    html,
    messageIdLocal: threadLocalPart(incident, event),
    uniquePerSend: event === 'renotified' || event === 'flapping',
    ...(event === 'opened' ? {} : { threadRootLocal: threadLocalPart(incident, 'opened') }),
  };
}

/** Lines a digest mail lists; the rest are counted (`+N more`). A mail can be long, a reader's patience not. */
const DIGEST_LINES_MAX = 200;

/**
 * A digest mail: the subject is the digest's headline; the body lists each notice (worst first)
 * with its status line, where, and its first link; `+N more` after 200. Not threaded under any
 * incident's mail; its Message-ID is the group's and sequence's, so a resent copy is the same mail.
 */
export function renderEmailDigest(digest: DigestNotice): EmailMessage {
  const subject = truncate(digest.headline, SUBJECT_TITLE_MAX + 100);
  const { shown, more } = fitDigestLines(digest.lines, DIGEST_LINES_MAX, (line) => line, (part) => (typeof part === 'string' ? 0 : 1));
  const about = [digest.counts, digest.groupLine].filter((part) => part !== '').join(' · ');
  const lineText = (line: DigestLine): string[] => [
    `${line.mark} ${line.label}: ${truncate(line.subject, SUBJECT_TITLE_MAX)}`,
    `   ${line.statusLine} · ${line.where}`,
    ...(line.action === undefined ? [] : [`   ${line.action.label}: ${line.action.url}`]),
  ];
  const text = [
    digest.headline,
    about,
    '',
    ...shown.flatMap((line) => [...lineText(line), '']),
    ...(more > 0 ? [moreLine(more), ''] : []),
    '-- ',
    `Sent by Tocsin · digest of group ${digest.groupId} · #${String(digest.sequence)}`,
    '',
  ].join('\n');
  const toneText = TONE_TEXT_HEX[digest.tone];
  const row = (line: DigestLine): string =>
    [
      `<tr><td style="padding:8px 0;border-top:1px solid #d0d7de;font-size:15px;line-height:21px;${WRAP}">`,
      `<div style="font-size:13px;font-weight:700;color:${TONE_TEXT_HEX[line.tone]}">${escapeHtml(`${line.mark} ${line.label}`)}</div>`,
      `<div style="font-weight:600">${escapeHtml(truncate(line.subject, SUBJECT_TITLE_MAX))}</div>`,
      `<div style="font-size:13px;color:#57606a">${escapeHtml(`${line.statusLine} · ${line.where}`)}</div>`,
      ...(line.action === undefined ? [] : [`<div style="font-size:13px"><a href="${escapeHtml(line.action.url)}" style="color:#0b5cad">${escapeHtml(one(line.action.label, 40))}</a></div>`]),
      '</td></tr>',
    ].join('');
  const html = [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(subject)}</title></head>`,
    `<body style="margin:0;padding:0;background:#f6f8fa;font-family:${FONT};color:#1f2328">`,
    `<div style="max-width:600px;margin:0 auto;background:#ffffff;border-top:6px solid ${TONE_HEX[digest.tone]};box-sizing:border-box;padding:16px">`,
    `<h1 style="margin:0 0 4px;font-size:20px;line-height:26px;color:${toneText};${WRAP}">${escapeHtml(digest.headline)}</h1>`,
    `<div style="font-size:13px;color:#57606a;${WRAP}">${escapeHtml(about)}</div>`,
    `<table role="presentation" style="width:100%;table-layout:fixed;border-collapse:collapse;margin-top:12px">`,
    ...shown.map(row),
    ...(more > 0 ? [`<tr><td style="padding:8px 0;border-top:1px solid #d0d7de;font-size:13px">${escapeHtml(moreLine(more))}</td></tr>`] : []),
    '</table>',
    `<p style="margin:12px 0 0;font-size:12px;color:#57606a;${WRAP}">Sent by Tocsin · digest of group ${escapeHtml(digest.groupId)} · #${String(digest.sequence)}</p>`,
    '</div>',
    '</body></html>',
    '',
  ].join('\n');
  return {
    event: 'digest',
    fingerprint: digest.groupId,
    subject,
    text,
    html,
    messageIdLocal: `tocsin.digest.${digest.groupId}.${String(digest.sequence)}`,
    uniquePerSend: false,
  };
}

/** The complete MIME message (RFC 5322, CRLF line ends) for one mail to the channel's recipients. */
export async function buildMime(message: EmailMessage, target: EmailConfig, now: Date = new Date()): Promise<Buffer> {
  const domain = (mailboxOf(target.from) ?? '').split('@').pop()?.toLowerCase() ?? 'tocsin.local';
  const local = message.uniquePerSend ? `${message.messageIdLocal}.${now.getTime()}` : message.messageIdLocal;
  const root = message.threadRootLocal !== undefined ? `<${message.threadRootLocal}@${domain}>` : undefined;
  const { default: MailComposer } = await import('nodemailer/lib/mail-composer');
  const composer = new MailComposer({
    from: target.from,
    to: target.to,
    ...(target.cc !== undefined && target.cc.length > 0 ? { cc: target.cc } : {}),
    subject: message.subject,
    messageId: `<${local}@${domain}>`,
    date: now,
    ...(root !== undefined ? { inReplyTo: root, references: root } : {}),
    headers: {
      // RFC 3834: tells autoresponders (out-of-office) not to answer an alert.
      'Auto-Submitted': 'auto-generated',
      'X-Tocsin-Event': message.event,
      'X-Tocsin-Fingerprint': message.fingerprint,
    },
    text: message.text,
    html: message.html,
    newline: 'win',
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return composer.compile().build();
}

// ---- SMTP ----

const RETRYABLE_SMTP_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'EPROXY', 'EMAXLIMIT']);

/** SMTP reply classes (RFC 5321): 4yz transient, 5yz permanent — except 503 (bad sequence), which a new session may pass. */
export function classifySmtpError(error: unknown, timeoutMs: number): Extract<SendResult, { ok: false }> {
  if (!(error instanceof Error)) return { ok: false, retryable: true, reason: 'SMTP: unknown error' };
  const details = error as Error & { code?: unknown; responseCode?: unknown; response?: unknown; command?: unknown; originalCode?: unknown };
  const code = typeof details.code === 'string' ? details.code : undefined;
  if (code === 'EABORT' || error.name === 'TimeoutError' || error.name === 'AbortError') {
    return { ok: false, retryable: true, reason: `SMTP: timed out after ${timeoutMs} ms` };
  }
  // STARTTLS required but refused by the server (no offer, or not implemented): a setting to
  // fix, not a fault to retry. A failed handshake (certificate, network) stays retryable.
  if (code === 'ETLS' && details.command === 'STARTTLS' && typeof details.response === 'string') {
    const reply = typeof details.responseCode === 'number' ? ` ${String(details.responseCode)}` : '';
    return { ok: false, retryable: false, reason: `SMTP ETLS: the server refused STARTTLS${reply}; TLS is required (set smtp.tls: none to send in clear text)` };
  }
  if (typeof details.responseCode === 'number') {
    const reply = details.responseCode;
    // The server's text may quote a recipient address: keep only the enhanced status code (e.g. 5.1.1).
    const enhanced = typeof details.response === 'string' ? /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b/.exec(details.response)?.[1] : undefined;
    const command = typeof details.command === 'string' && /^[A-Z]+(?: [A-Z]+)?$/.test(details.command) ? ` after ${details.command}` : '';
    const reason = `SMTP ${reply}${enhanced !== undefined ? ` ${enhanced}` : ''}${command}`;
    const permanent = reply >= 500 && reply < 600 && reply !== 503;
    return { ok: false, retryable: !permanent, reason };
  }
  // Node error codes (ECONNRESET) and TLS verification codes (DEPTH_ZERO_SELF_SIGNED_CERT) name
  // the problem without quoting anything the server said.
  const original = typeof details.originalCode === 'string' && /^[A-Z][A-Z0-9_]{2,48}$/.test(details.originalCode) ? ` (${details.originalCode})` : '';
  const reason = `SMTP ${code ?? error.name}${original}`;
  if (code !== undefined && RETRYABLE_SMTP_CODES.has(code)) return { ok: false, retryable: true, reason };
  if (code === 'EAUTH' || code === 'ENOAUTH' || code === 'ECONFIG' || code === 'EENVELOPE' || code === 'EMESSAGE' || code === 'EREQUIRETLS') {
    return { ok: false, retryable: false, reason };
  }
  return { ok: false, retryable: true, reason };
}

async function sendViaSmtp(
  mime: Buffer,
  target: EmailConfig & { smtp: NonNullable<EmailConfig['smtp']> },
  context: SendContext,
): Promise<SendResult> {
  const { smtp } = target;
  // No pool: one connection per mail, so a transport per send costs nothing extra and never
  // holds a socket open across Lambda freezes.
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.tls === 'implicit',
    // requireTLS sends STARTTLS whatever the greeting offered, so a stripped offer fails too.
    requireTLS: smtp.tls === 'starttls',
    ignoreTLS: smtp.tls === 'none',
    tls: { minVersion: 'TLSv1.2', ...(smtp.ca === undefined ? {} : { ca: smtp.ca }) },
    ...(smtp.user !== undefined && smtp.pass !== undefined ? { auth: { user: smtp.user, pass: smtp.pass } } : {}),
    connectionTimeout: context.timeoutMs,
    greetingTimeout: context.timeoutMs,
    socketTimeout: context.timeoutMs,
    logger: false,
  });
  const deadline = deadlineSignal(context.timeoutMs);
  try {
    await transport.sendMail({
      envelope: { from: mailboxOf(target.from) ?? target.from, to: [...target.to, ...(target.cc ?? [])] },
      raw: mime,
      signal: deadline.signal,
    });
    return { ok: true };
  } catch (error) {
    return classifySmtpError(error, context.timeoutMs);
  } finally {
    deadline.cancel();
    transport.close();
  }
}

// ---- SES ----

// Clients live at module scope (one per region), created on first use.
const sesClients = new Map<string, SESv2Client>();
async function sesClient(region: string | undefined): Promise<SESv2Client> {
  const key = region ?? '';
  let client = sesClients.get(key);
  if (!client) {
    const { SESv2Client } = await import('@aws-sdk/client-sesv2');
    // Checked again: another send may have created it while the module loaded.
    client = sesClients.get(key) ?? new SESv2Client(region !== undefined ? { region } : {});
    sesClients.set(key, client);
  }
  return client;
}

const SES_ERRORS: AwsErrorRules = {
  retryable: new Set(['TooManyRequestsException', 'LimitExceededException', 'InternalServiceErrorException', 'ConcurrentModificationException']),
  permanent: new Set([
    'MessageRejected',
    'MailFromDomainNotVerifiedException',
    'AccountSuspendedException',
    'SendingPausedException',
    'BadRequestException',
    'NotFoundException',
  ]),
};

export function sesInput(mime: Buffer, target: EmailConfig): SendEmailCommandInput {
  return {
    FromEmailAddress: mailboxOf(target.from) ?? target.from,
    Destination: {
      ToAddresses: [...target.to],
      ...(target.cc !== undefined && target.cc.length > 0 ? { CcAddresses: [...target.cc] } : {}),
    },
    Content: { Raw: { Data: new Uint8Array(mime) } },
  };
}

async function sendViaSes(mime: Buffer, target: EmailConfig, context: SendContext): Promise<SendResult> {
  const deadline = deadlineSignal(context.timeoutMs);
  try {
    const [client, { SendEmailCommand }] = await Promise.all([sesClient(target.region), import('@aws-sdk/client-sesv2')]);
    await client.send(new SendEmailCommand(sesInput(mime, target)), { abortSignal: deadline.signal });
    return { ok: true };
  } catch (error) {
    return classifyAwsError('SES', error, SES_ERRORS, context.timeoutMs);
  } finally {
    deadline.cancel();
  }
}

export const emailChannel = defineChannel<EmailConfig, EmailMessage>({
  type: 'email',
  configSchema: emailConfigSchema,
  render: renderEmail,
  renderDigest: renderEmailDigest,
  async send(message, target, context) {
    let mime: Buffer;
    try {
      mime = await buildMime(message, target);
    } catch (error) {
      return { ok: false, retryable: false, reason: `could not build the mail: ${error instanceof Error ? error.name : 'unknown error'}` };
    }
    const { smtp } = target;
    return smtp !== undefined ? sendViaSmtp(mime, { ...target, smtp }, context) : sendViaSes(mime, target, context);
  },
});
