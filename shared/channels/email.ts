// The email channel: one mail per notice with a plain-text and an HTML part, sent through SMTP
// (when `smtp` is configured, e.g. a relay or a local test server) or else Amazon SES v2. Both
// paths send the same MIME message, built with nodemailer's MailComposer. SMTP requires TLS
// unless the config says `tls: none` (see SMTP_TLS_MODES).
//
// Subject: `[<SEVERITY>] <status>: <title>`, status being `firing`, `firing (reminder)` for a
// re-notification, `resolved` or `flapping` (text.ts statusWord), e.g.
// `[CRITICAL] resolved: CPU high on web-1`. The title is reduced to one line (no CR/LF can
// reach a header) and cut to 200 characters. Everything in the HTML part is escaped; links
// become anchors only for http(s) URLs.
//
// Threading: each incident episode (fingerprint + startsAt) is one thread. The opened mail's
// Message-ID is `<tocsin.<h>.<startsAt unix s>.opened@<from domain>>` (h: 24 hex of the
// sha256 of the fingerprint, since a fingerprint's `:` may not appear in a Message-ID); every
// later mail of the episode carries In-Reply-To and References = that id, so the resolved
// mail threads under the opened one. Resolved: `....resolved@…`, deterministic so a
// re-sent mail is recognisable as the same message; reminders and flapping notices repeat
// within an episode, so theirs end with the send time (`....renotified.<unix ms>@…`).
import { createHash } from 'node:crypto';
import { SendEmailCommand, SESv2Client, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import nodemailer from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { z } from 'zod';
import { defineChannel, type DeliveryEvent, type SendContext, type SendResult } from './channel.ts';
import type { Incident, IncidentLink } from '../incident.ts';
import { classifyAwsError, type AwsErrorRules } from './aws-errors.ts';
import { formatMetric, oneLine, statusWord, truncate } from './text.ts';

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

const smtpSchema = z
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

export const emailConfigSchema = z.strictObject({
  type: z.literal('email'),
  from: z.string().refine((from) => mailboxOf(from) !== undefined, 'expected one address, e.g. alerts@example.com or "Tocsin <alerts@example.com>"'),
  to: z.array(z.email()).min(1),
  cc: z.array(z.email()).optional(),
  /** Send through this SMTP server instead of SES. */
  smtp: smtpSchema.optional(),
  /** SES region (ignored with `smtp`); default: the function's own (AWS_REGION). */
  region: z.string().min(1).optional(),
});
export type EmailConfig = z.infer<typeof emailConfigSchema>;

export interface EmailMessage {
  readonly event: DeliveryEvent;
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

interface Field {
  readonly name: string;
  readonly value: string;
}

function fieldsOf(incident: Incident): Field[] {
  const { source, resource } = incident;
  const fields: Field[] = [
    { name: 'Severity', value: incident.severity },
    { name: 'Status', value: incident.status },
    {
      name: 'Source',
      value: [
        `${source.kind} (${source.cloud})`,
        source.account !== undefined ? `account ${source.account}` : undefined,
        source.region !== undefined ? `region ${source.region}` : undefined,
      ]
        .filter((part) => part !== undefined)
        .join(', '),
    },
    { name: 'Rule', value: source.rule },
  ];
  if (resource && (resource.name ?? resource.id ?? resource.type) !== undefined) {
    const described = [resource.name, resource.type !== undefined ? `(${resource.type})` : undefined]
      .filter((part) => part !== undefined)
      .join(' ');
    const id = resource.id !== undefined && resource.id !== resource.name ? resource.id : undefined;
    fields.push({ name: 'Resource', value: [described, id].filter((part) => part !== undefined && part !== '').join(' ') });
  }
  fields.push({ name: 'Started', value: incident.startsAt });
  if (incident.endsAt !== undefined) fields.push({ name: 'Ended', value: incident.endsAt });
  const metric = formatMetric(incident.metric);
  if (metric !== undefined) fields.push({ name: 'Metric', value: metric });
  fields.push({ name: 'Fingerprint', value: incident.fingerprint });
  return fields.map((field) => ({ name: field.name, value: truncate(oneLine(field.value), VALUE_MAX) }));
}

const EVENT_NOTE: Readonly<Record<DeliveryEvent, string | undefined>> = {
  opened: undefined,
  renotified: 'Reminder: this incident is still firing.',
  resolved: undefined,
  flapping: 'This incident is flapping (changing state often). Notices pause until it is stable.',
};

function labelRows(incident: Incident): { rows: [string, string][]; hidden: number } {
  const keys = Object.keys(incident.labels).sort();
  const rows = keys
    .slice(0, LABELS_MAX)
    .map((key): [string, string] => [truncate(oneLine(key), VALUE_MAX), truncate(oneLine(incident.labels[key] ?? ''), VALUE_MAX)]);
  return { rows, hidden: keys.length - rows.length };
}

function isWebLink(link: IncidentLink): boolean {
  try {
    const { protocol } = new URL(link.url);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

export function renderEmail(event: DeliveryEvent, incident: Incident): EmailMessage {
  const headline = `[${incident.severity.toUpperCase()}] ${statusWord(event)}`;
  const subject = `${headline}: ${truncate(oneLine(incident.title), SUBJECT_TITLE_MAX)}`;
  const bodyTitle = truncate(oneLine(incident.title), BODY_TITLE_MAX);
  const note = EVENT_NOTE[event];
  const summary = incident.summary !== undefined && incident.summary.trim() !== '' ? truncate(incident.summary.trim(), SUMMARY_MAX) : undefined;
  const fields = fieldsOf(incident);
  const labels = labelRows(incident);
  const links = incident.links.slice(0, LINKS_MAX).map((link) => ({ title: truncate(oneLine(link.title), VALUE_MAX), url: link.url, web: isWebLink(link) }));

  const width = Math.max(...fields.map((field) => field.name.length)) + 2;
  const text = [
    `${headline}: ${bodyTitle}`,
    '',
    ...(note !== undefined ? [note, ''] : []),
    ...(summary !== undefined ? [summary, ''] : []),
    ...fields.map((field) => `${`${field.name}:`.padEnd(width)}${field.value}`),
    ...(labels.rows.length > 0
      ? ['', 'Labels', ...labels.rows.map(([key, value]) => `  ${key}: ${value}`), ...(labels.hidden > 0 ? [`  (+${labels.hidden} more)`] : [])]
      : []),
    ...(links.length > 0 ? ['', 'Links', ...links.map((link) => `  ${link.title}: ${link.url}`)] : []),
    '',
    '-- ',
    'Sent by Tocsin.',
    '',
  ].join('\n');

  const cell = 'style="padding:2px 12px 2px 0;vertical-align:top;text-align:left"';
  const html = [
    '<!DOCTYPE html>',
    `<html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    '<body style="font-family:sans-serif">',
    `<h2>${escapeHtml(headline)}: ${escapeHtml(bodyTitle)}</h2>`,
    ...(note !== undefined ? [`<p><strong>${escapeHtml(note)}</strong></p>`] : []),
    ...(summary !== undefined ? [`<p style="white-space:pre-wrap">${escapeHtml(summary)}</p>`] : []),
    '<table>',
    ...fields.map((field) => `<tr><th ${cell}>${escapeHtml(field.name)}</th><td ${cell}>${escapeHtml(field.value)}</td></tr>`),
    '</table>',
    ...(labels.rows.length > 0
      ? [
          '<h3>Labels</h3>',
          '<table>',
          ...labels.rows.map(([key, value]) => `<tr><th ${cell}>${escapeHtml(key)}</th><td ${cell}>${escapeHtml(value)}</td></tr>`),
          ...(labels.hidden > 0 ? [`<tr><td colspan="2">(+${labels.hidden} more)</td></tr>`] : []),
          '</table>',
        ]
      : []),
    ...(links.length > 0
      ? [
          '<h3>Links</h3>',
          '<ul>',
          ...links.map((link) =>
            link.web
              ? `<li><a href="${escapeHtml(link.url)}">${escapeHtml(link.title)}</a></li>`
              : `<li>${escapeHtml(link.title)}: ${escapeHtml(link.url)}</li>`,
          ),
          '</ul>',
        ]
      : []),
    '<p style="color:#888">Sent by Tocsin.</p>',
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

/** The complete MIME message (RFC 5322, CRLF line ends) for one mail to the channel's recipients. */
export async function buildMime(message: EmailMessage, target: EmailConfig, now: Date = new Date()): Promise<Buffer> {
  const domain = (mailboxOf(target.from) ?? '').split('@').pop()?.toLowerCase() ?? 'tocsin.local';
  const local = message.uniquePerSend ? `${message.messageIdLocal}.${now.getTime()}` : message.messageIdLocal;
  const root = message.threadRootLocal !== undefined ? `<${message.threadRootLocal}@${domain}>` : undefined;
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
  try {
    await transport.sendMail({
      envelope: { from: mailboxOf(target.from) ?? target.from, to: [...target.to, ...(target.cc ?? [])] },
      raw: mime,
      signal: AbortSignal.timeout(context.timeoutMs),
    });
    return { ok: true };
  } catch (error) {
    return classifySmtpError(error, context.timeoutMs);
  } finally {
    transport.close();
  }
}

// ---- SES ----

// Clients live at module scope (one per region), created on first use.
const sesClients = new Map<string, SESv2Client>();
function sesClient(region: string | undefined): SESv2Client {
  const key = region ?? '';
  let client = sesClients.get(key);
  if (!client) {
    client = new SESv2Client(region !== undefined ? { region } : {});
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
  try {
    await sesClient(target.region).send(new SendEmailCommand(sesInput(mime, target)), {
      abortSignal: AbortSignal.timeout(context.timeoutMs),
    });
    return { ok: true };
  } catch (error) {
    return classifyAwsError('SES', error, SES_ERRORS, context.timeoutMs);
  }
}

export const emailChannel = defineChannel<EmailConfig, EmailMessage>({
  type: 'email',
  configSchema: emailConfigSchema,
  render: renderEmail,
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
