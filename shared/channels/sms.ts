// The SMS channel: one short text per notice, published through Amazon SNS to each phone number.
//
// Rendering aims at ONE segment (payloads.md, "Outbound limits"): `[CRIT] FIRING: <rule on
// resource> <best link>`, `[OK] RESOLVED after 1h 5m: …`, `[CRIT] FLAPPING, NOW RESOLVED: …`.
// The link is the notice's first ranked action (runbook first, never a generator URL while a
// better one exists); the title is cut to make room for it as long as 30 characters of it stay.
// Typographic punctuation is transliterated to GSM-7 and emoji dropped (keeps the 160-septet
// budget); a title that still holds other characters (CJK, ...) is sent as UCS-2 with a 70-unit
// budget — unless the cut falls before the first such character, then the message stays GSM-7.
// The title is what gets cut, with `...` (GSM-7) or `…` (UCS-2).
//
// Sending: one PublishCommand per number with SMSType Transactional (alerts are not marketing),
// SenderID when configured. All numbers must succeed; a failure names the number's index,
// never the number. Any retryable failure makes the whole delivery retryable (numbers that
// already got the text may get it again: SMS is at-least-once here).
// The SNS client loads on the first send: validating or rendering SMS config costs no SDK import.
import type { MessageAttributeValue, PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import * as z from 'zod';
import { defineChannel, type DeliveryEvent, type SendContext, type SendResult } from './channel.ts';
import type { Incident, Severity } from '../incident.ts';
import { classifyAwsError, type AwsErrorRules } from './aws-errors.ts';
import {
  SINGLE_SEGMENT_UNITS,
  fitsOneSegment,
  prefixWithinUnits,
  smsEncodingOf,
  smsUnits,
  transliterateToGsm7,
  type SmsEncoding,
} from './gsm7.ts';
import { buildNotice, fitDigestLines, moreLine, type ActionKind, type DigestNotice, type Notice, type NoticeState } from './notice.ts';
import { deadlineSignal } from './deadline.ts';
import { oneLine } from './text.ts';

export const smsConfigSchema = z.lazy(() =>
  z.strictObject({
    type: z.literal('sms'),
    phoneNumbers: z.array(z.e164()).min(1),
    /** Alphanumeric sender ID where the destination country supports one: 1–11 characters, at least one letter. */
    senderId: z
      .string()
      .regex(/^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$/, 'a sender ID is 1 to 11 letters or digits, at least one a letter')
      .optional(),
    /** SNS region; default: the function's own (AWS_REGION). */
    region: z.string().min(1).optional(),
  })
);
export type SmsConfig = z.infer<typeof smsConfigSchema>;

export interface SmsMessage {
  readonly text: string;
  readonly encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  readonly units: number;
}

const SEVERITY_TAG: Readonly<Record<Severity, string>> = {
  critical: 'CRIT',
  error: 'ERR',
  warning: 'WARN',
  info: 'INFO',
};

const CUT_MARKER: Readonly<Record<SmsEncoding, string>> = { 'GSM-7': '...', 'UCS-2': '…' };

const SMS_SKIPPED_ACTIONS: ReadonlySet<ActionKind> = new Set(['silence', 'generator', 'image']);

/** A link is worth cutting the title for only if this much of the title is left. */
const MIN_TITLE_WITH_LINK = 30;

// Emoji (with their joiners, variation selectors and skin tones) say nothing on a phone's lock
// screen that the words do not, and one of them would switch the whole text to UCS-2 (70 units).
const EMOJI = /\p{Extended_Pictographic}|\p{Emoji_Modifier}|\u200D|\uFE0F/gu;

function smsTitle(subject: string): string {
  return oneLine(transliterateToGsm7(subject).replace(EMOJI, ' '));
}

function smsPrefix(notice: Notice, severity: Severity): string {
  if (notice.event === 'flapping') return `[${SEVERITY_TAG[severity]}] FLAPPING, NOW ${notice.resolved ? 'RESOLVED' : 'FIRING'}: `;
  if (notice.resolved) return notice.duration === undefined ? '[OK] RESOLVED: ' : `[OK] RESOLVED after ${notice.duration}: `;
  return `[${SEVERITY_TAG[severity]}] ${notice.event === 'renotified' ? 'STILL FIRING' : 'FIRING'}: `;
}

export function renderSms(event: DeliveryEvent, incident: Incident, state?: NoticeState): SmsMessage {
  const notice = buildNotice(event, incident, state);
  const prefix = smsPrefix(notice, incident.severity);
  const title = smsTitle(`${notice.isTest ? '[TEST] ' : ''}${notice.subject}`);
  const whole = prefix + title;
  // The best page to open (runbook first); silencing, queries and images are for a bigger screen.
  const link = notice.actions.find((action) => !SMS_SKIPPED_ACTIONS.has(action.kind))?.url;
  const text = withLink(whole, prefix, title, link) ?? (fitsOneSegment(whole) ? whole : prefix + cutTitle(title, prefix, ''));
  const encoding = smsEncodingOf(text);
  return { text, encoding, units: smsUnits(text, encoding) };
}

/** Longest subject in a digest SMS: several must share 160 septets. */
const DIGEST_SUBJECT_CHARS = 40;

/**
 * A digest in one segment: `[CRIT] 12 ALERTS (10 firing, 2 resolved) alertname=HighCPU: <subject>;
 * OK <subject>; +9 more` — subjects worst first, each cut to 40 characters, as many as fit.
 * No links (there is room for none that would help).
 */
export function renderSmsDigest(digest: DigestNotice): SmsMessage {
  const worst = digest.digest.items[0]?.incident.severity ?? 'info';
  const tag = digest.tone === 'resolved' ? 'OK' : SEVERITY_TAG[worst];
  const group = digest.groupLine === '' ? '' : ` ${smsTitle(digest.groupLine)}`;
  const prefix = `[${tag}] ${String(digest.lines.length)} ALERTS (${digest.counts})${group}: `;
  const build = (encoding: SmsEncoding): string => {
    const budget = SINGLE_SEGMENT_UNITS[encoding] - smsUnits(prefix, encoding);
    const { shown, more } = fitDigestLines(
      digest.lines,
      budget,
      (line) => {
        const subject = smsTitle(line.subject);
        const cut = Array.from(subject).length > DIGEST_SUBJECT_CHARS ? `${Array.from(subject).slice(0, DIGEST_SUBJECT_CHARS - 1).join('').trimEnd()}${CUT_MARKER[encoding]}` : subject;
        return line.tone === 'resolved' ? `OK ${cut}` : cut;
      },
      (part) => smsUnits(`${part}; `, encoding),
    );
    return prefix + [...shown, ...(more > 0 ? [moreLine(more)] : [])].join('; ');
  };
  const gsm = build('GSM-7');
  const text = smsEncodingOf(gsm) === 'GSM-7' ? gsm : build('UCS-2');
  const encoding = smsEncodingOf(text);
  return { text, encoding, units: smsUnits(text, encoding) };
}

function withLink(whole: string, prefix: string, title: string, link: string | undefined): string | undefined {
  if (link === undefined) return undefined;
  const suffix = ` ${link}`;
  if (fitsOneSegment(whole + suffix)) return whole + suffix;
  const cut = cutTitle(title, prefix, suffix);
  return Array.from(cut).length >= MIN_TITLE_WITH_LINK ? prefix + cut + suffix : undefined;
}

/**
 * The title cut (with a marker) so that prefix + title + suffix fills one segment. The prefix
 * is ASCII but its brackets are GSM-7 extension characters: it costs 2 septets more in GSM-7.
 */
function cutTitle(title: string, prefix: string, suffix: string): string {
  // Stay GSM-7 when the characters that would force UCS-2 all fall after the cut.
  const gsmBudget = SINGLE_SEGMENT_UNITS['GSM-7'] - smsUnits(prefix + CUT_MARKER['GSM-7'] + suffix, 'GSM-7');
  const gsmCut = gsmBudget > 0 ? prefixWithinUnits(title, gsmBudget, 'GSM-7') : '';
  if (gsmCut !== undefined) return gsmCut.trimEnd() + CUT_MARKER['GSM-7'];
  const ucsBudget = SINGLE_SEGMENT_UNITS['UCS-2'] - smsUnits(prefix + CUT_MARKER['UCS-2'] + suffix, 'UCS-2');
  return (ucsBudget > 0 ? (prefixWithinUnits(title, ucsBudget, 'UCS-2') ?? '') : '').trimEnd() + CUT_MARKER['UCS-2'];
}

// Clients live at module scope (one per region), created on first use.
const clients = new Map<string, SNSClient>();
async function snsClient(region: string | undefined): Promise<SNSClient> {
  const key = region ?? '';
  let client = clients.get(key);
  if (!client) {
    const { SNSClient } = await import('@aws-sdk/client-sns');
    // Checked again: another send may have created it while the module loaded.
    client = clients.get(key) ?? new SNSClient(region !== undefined ? { region } : {});
    clients.set(key, client);
  }
  return client;
}

const SNS_ERRORS: AwsErrorRules = {
  retryable: new Set(['ThrottledException', 'InternalErrorException', 'KMSThrottlingException']),
  permanent: new Set([
    'InvalidParameterException',
    'InvalidParameterValueException',
    'OptedOutException',
    'AuthorizationErrorException',
    'EndpointDisabledException',
    'ValidationException',
    'NotFoundException',
  ]),
};

export function publishInput(message: SmsMessage, phoneNumber: string, target: SmsConfig): PublishCommandInput {
  const attributes: Record<string, MessageAttributeValue> = {
    'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
  };
  if (target.senderId !== undefined) {
    attributes['AWS.SNS.SMS.SenderID'] = { DataType: 'String', StringValue: target.senderId };
  }
  return { PhoneNumber: phoneNumber, Message: message.text, MessageAttributes: attributes };
}

async function publishToAll(message: SmsMessage, target: SmsConfig, context: SendContext): Promise<SendResult> {
  const [client, { PublishCommand }] = await Promise.all([snsClient(target.region), import('@aws-sdk/client-sns')]);
  const count = target.phoneNumbers.length;
  const results = await Promise.all(
    target.phoneNumbers.map(async (phoneNumber, index): Promise<SendResult> => {
      const deadline = deadlineSignal(context.timeoutMs);
      try {
        await client.send(new PublishCommand(publishInput(message, phoneNumber, target)), { abortSignal: deadline.signal });
        return { ok: true };
      } catch (error) {
        const failure = classifyAwsError('SNS', error, SNS_ERRORS, context.timeoutMs);
        return { ...failure, reason: `phone number #${index + 1} of ${count}: ${failure.reason}` };
      } finally {
        deadline.cancel();
      }
    }),
  );
  const failures = results.filter((result) => !result.ok);
  if (failures.length === 0) return { ok: true };
  return {
    ok: false,
    retryable: failures.some((failure) => failure.retryable),
    reason: failures.map((failure) => failure.reason).join('; '),
  };
}

export const smsChannel = defineChannel<SmsConfig, SmsMessage>({
  type: 'sms',
  configSchema: smsConfigSchema,
  // SMS: per phone number at most 20 an hour (a few at once), and 100 notices a day per channel;
  // past the cap one text says so and the rest go to the route's other channels.
  rateLimit: { defaults: { rate: { limit: 20, perMs: 3_600_000, burst: 5 }, dailyCap: 100 }, targets: (config) => config.phoneNumbers },
  render: renderSms,
  renderDigest: renderSmsDigest,
  send: publishToAll,
  // The daily cap's notice: Tocsin's own words.
  sendText(text, target, context) {
    const encoding = smsEncodingOf(text);
    return publishToAll({ text, encoding, units: smsUnits(text, encoding) }, target, context);
  },
});
