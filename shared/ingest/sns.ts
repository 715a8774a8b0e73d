// Amazon SNS over HTTP(S): the message envelope, its signature check and subscription
// confirmation. The AWS SDK v3 has no verifier, and AWS's older JavaScript validator only knows
// SignatureVersion "1", so this implements the documented algorithm for versions 1 and 2
// (docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html).
//
// Over HTTP anything SNS-shaped must prove it came from SNS (snsShapeOf): an envelope without
// a signature is refused, and a Lambda SNS event (`Records[].Sns`) is never accepted at all;
// only Lambda itself delivers those, to sns-ingest. Beyond the signature:
// - the certificate must be `https://sns.<region>.amazonaws.com/SimpleNotificationService-<hex>.pem`
//   (`.amazonaws.com.cn` in China; GovCloud regions are `us-gov-*`), nothing else on amazonaws.com;
// - Timestamp must be within SNS_FRESHNESS: SNS stops retrying an HTTP/S delivery after at most
//   3,600 s (a hard limit of its delivery policies), so an older message is a replay; plus 5
//   minutes either way for clock drift;
// - a Notification's MessageId is remembered for that window once its incidents are committed
//   (SnsReplayGuard), and the same MessageId again is refused as a replay;
// - a certificate download that fails is remembered for FAILED_CERTIFICATE_TTL_MS, and the
//   message is answered 503 (SNS retries; the raw bytes are kept), never a 4xx that would make
//   SNS drop a real alarm.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import * as z from 'zod';

export const SNS_MESSAGE_TYPES = ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'] as const;

export const snsHttpMessageSchema = z.looseObject({
  Type: z.enum(SNS_MESSAGE_TYPES),
  MessageId: z.string().min(1),
  TopicArn: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w.-]+$/, 'not an SNS topic ARN'),
  Message: z.string(),
  Timestamp: z.string().min(1),
  SignatureVersion: z.enum(['1', '2']),
  Signature: z.string().min(1),
  SigningCertURL: z.string().min(1),
  Subject: z.string().nullish(),
  Token: z.string().optional(),
  SubscribeURL: z.string().optional(),
  UnsubscribeURL: z.string().optional(),
});
export type SnsHttpMessage = z.infer<typeof snsHttpMessageSchema>;

/** Keys only an SNS HTTP message has; any one of them makes a body "SNS-shaped". */
const SNS_HTTP_KEYS = ['TopicArn', 'SignatureVersion', 'Signature', 'SigningCertURL', 'SubscribeURL', 'UnsubscribeURL'] as const;

/**
 * Whether a body claims to come from SNS: `lambda` for a Lambda SNS event (`Records` holding an
 * `Sns` record or an `aws:sns` event source), `http` for an SNS HTTP message (an SNS `Type` or
 * any SNS-only key), else undefined. Deliberately broad: a claim is enough to require proof.
 * Cheap; never throws.
 */
export function snsShapeOf(payload: unknown): 'lambda' | 'http' | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const record = payload as Record<string, unknown>;
  const records = record['Records'];
  if (Array.isArray(records)) {
    const claimsSns = records.some((item: unknown) => {
      if (typeof item !== 'object' || item === null) return false;
      const entry = item as Record<string, unknown>;
      const source = entry['EventSource'] ?? entry['eventSource'];
      return 'Sns' in entry || (typeof source === 'string' && source.toLowerCase().includes('sns'));
    });
    if (claimsSns) return 'lambda';
  }
  const type = record['Type'];
  if (typeof type === 'string' && (SNS_MESSAGE_TYPES as readonly string[]).includes(type)) return 'http';
  return SNS_HTTP_KEYS.some((key) => key in record) ? 'http' : undefined;
}

/** True for a body that claims to be an SNS HTTP message (cheap; never throws). */
export function looksLikeSnsHttpMessage(payload: unknown): boolean {
  return snsShapeOf(payload) === 'http';
}

/** The signature fields an SNS HTTP message cannot be checked without. */
export function isUnsigned(payload: unknown): boolean {
  if (typeof payload !== 'object' || payload === null) return true;
  const record = payload as Record<string, unknown>;
  return !(['SignatureVersion', 'Signature', 'SigningCertURL'] as const).every((key) => typeof record[key] === 'string' && record[key] !== '');
}

/** The documented string to sign: `Key\nValue\n` for each present key, in a fixed order. */
export function stringToSign(message: SnsHttpMessage): string {
  const keys =
    message.Type === 'Notification'
      ? (['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const)
      : (['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const);
  let text = '';
  for (const key of keys) {
    const value = message[key];
    if (value === undefined || value === null) continue;
    text += `${key}\n${value}\n`;
  }
  return text;
}

/**
 * SNS's own endpoints: `sns.<region>.amazonaws.com` for the commercial and GovCloud
 * (`us-gov-west-1`) regions, `sns.cn-<area>-<n>.amazonaws.com.cn` for China. The region part is
 * a real region name (`eu-central-1`, `ap-southeast-3`, `us-gov-east-1`), so `sns.s3.amazonaws.com`
 * (an S3 bucket named "sns") or `sns.x.amazonaws.com` are not SNS.
 */
const SNS_HOST = /^sns\.(?:(?!cn-)[a-z]{2}(?:-gov)?-[a-z]+-\d{1,2}\.amazonaws\.com|cn-[a-z]+-\d{1,2}\.amazonaws\.com\.cn)$/;
/** SNS's signing certificates: `/SimpleNotificationService-<hex>.pem`, nothing else. */
const SNS_CERTIFICATE_PATH = /^\/SimpleNotificationService-[0-9a-f]{1,64}\.pem$/;

/**
 * A signing certificate (or subscribe URL) must come from SNS itself over https: anyone can
 * sign a message with a certificate they host, so the host is the trust anchor.
 */
export function isTrustedSnsUrl(url: string, options: { pem?: boolean } = {}): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'https:' || parsed.username || parsed.password || parsed.port) return false;
  if (!SNS_HOST.test(parsed.hostname)) return false;
  return options.pem === true ? SNS_CERTIFICATE_PATH.test(parsed.pathname) && parsed.search === '' && parsed.hash === '' : true;
}

/** SNS's longest HTTP/S retry period (a hard limit), and the clock drift allowed either way. */
export const SNS_FRESHNESS = { maxAgeMs: 3_600_000, clockSkewMs: 5 * 60_000 } as const;

/** Why a message's Timestamp is out of the window, or undefined when it is fresh. */
export function staleness(timestamp: string, receivedAt: Date): string | undefined {
  const sent = Date.parse(timestamp);
  if (!Number.isFinite(sent)) return 'SNS Timestamp is not a date';
  const age = receivedAt.getTime() - sent;
  if (age > SNS_FRESHNESS.maxAgeMs + SNS_FRESHNESS.clockSkewMs) {
    return `SNS message is older than SNS retries (${String(Math.round(age / 60_000))} min): a replay`;
  }
  if (-age > SNS_FRESHNESS.clockSkewMs) return 'SNS Timestamp is in the future';
  return undefined;
}

/**
 * MessageIds of notifications already committed, kept for the freshness window (after which
 * the Timestamp check refuses a replay anyway). Bounded: past `maxEntries` the oldest go first.
 * One per process (per warm Lambda container in AWS), so a replay that reaches another
 * container is caught only by dedup, which makes it a repeat of a known incident.
 */
export class SnsReplayGuard {
  readonly #expiries = new Map<string, number>();
  readonly #maxEntries: number;

  constructor(options: { maxEntries?: number } = {}) {
    this.#maxEntries = options.maxEntries ?? 50_000;
  }

  seen(messageId: string, now: Date): boolean {
    const expiry = this.#expiries.get(messageId);
    return expiry !== undefined && expiry > now.getTime();
  }

  remember(messageId: string, timestamp: string, now: Date): void {
    const sent = Date.parse(timestamp);
    const expiry = (Number.isFinite(sent) ? sent : now.getTime()) + SNS_FRESHNESS.maxAgeMs + 2 * SNS_FRESHNESS.clockSkewMs;
    this.#expiries.delete(messageId);
    this.#expiries.set(messageId, expiry);
    for (const [id, until] of this.#expiries) {
      if (this.#expiries.size <= this.#maxEntries && until > now.getTime()) break;
      this.#expiries.delete(id);
    }
  }
}

export type CertificateFetcher = (url: string) => Promise<string>;

export const fetchCertificate: CertificateFetcher = async (url) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000), redirect: 'error' });
  if (!response.ok) throw new Error(`certificate download failed with HTTP ${String(response.status)}`);
  return response.text();
};

/**
 * `retryable`: the message could not be checked now (its certificate could not be fetched), so
 * it is neither genuine nor forged yet; the sender should try again.
 */
export type SnsVerification =
  | { readonly ok: true }
  | { readonly ok: false; readonly retryable: boolean; readonly reason: string };

export const UNTRUSTED_CERTIFICATE_URL = 'SigningCertURL is not an https SimpleNotificationService-<hex>.pem URL on sns.<region>.amazonaws.com';

/** A failed download is not retried for this long: forged messages cannot make us fetch again and again. */
export const FAILED_CERTIFICATE_TTL_MS = 10_000;

export interface SnsVerifierOptions {
  readonly fetchCertificate?: CertificateFetcher;
  /** Certificates are cached by URL (SNS rotates them rarely, and each has its own URL). */
  readonly maxCachedCertificates?: number;
  /** How long a failed download is remembered (kept short: SNS retries every 20 s by default). */
  readonly failedCertificateTtlMs?: number;
  readonly now?: () => number;
}

export class SnsVerifier {
  readonly #fetch: CertificateFetcher;
  readonly #cache = new Map<string, Promise<KeyObject>>();
  readonly #failed = new Map<string, number>();
  readonly #maxCached: number;
  readonly #failedTtlMs: number;
  readonly #now: () => number;

  constructor(options: SnsVerifierOptions = {}) {
    this.#fetch = options.fetchCertificate ?? fetchCertificate;
    this.#maxCached = options.maxCachedCertificates ?? 32;
    this.#failedTtlMs = options.failedCertificateTtlMs ?? FAILED_CERTIFICATE_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  async verify(message: SnsHttpMessage): Promise<SnsVerification> {
    if (!isTrustedSnsUrl(message.SigningCertURL, { pem: true })) {
      return { ok: false, retryable: false, reason: UNTRUSTED_CERTIFICATE_URL };
    }
    let key: KeyObject;
    try {
      key = await this.#certificate(message.SigningCertURL);
    } catch {
      return { ok: false, retryable: true, reason: 'the SNS signing certificate could not be fetched; retry later' };
    }
    const algorithm = message.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256';
    const signature = Buffer.from(message.Signature, 'base64');
    const valid = verify(algorithm, Buffer.from(stringToSign(message), 'utf8'), key, signature);
    return valid ? { ok: true } : { ok: false, retryable: false, reason: 'SNS signature does not match the message' };
  }

  #certificate(url: string): Promise<KeyObject> {
    const cached = this.#cache.get(url);
    if (cached) return cached;
    const failedUntil = this.#failed.get(url);
    if (failedUntil !== undefined && failedUntil > this.#now()) return Promise.reject(new Error('certificate download failed recently'));
    this.#failed.delete(url);
    const loading = this.#fetch(url).then((pem) => createPublicKey(pem));
    // A failed download must not poison the cache, but is remembered briefly.
    loading.catch(() => {
      this.#cache.delete(url);
      this.#failed.set(url, this.#now() + this.#failedTtlMs);
      if (this.#failed.size > this.#maxCached) {
        const oldest = this.#failed.keys().next();
        if (!oldest.done) this.#failed.delete(oldest.value);
      }
    });
    if (this.#cache.size >= this.#maxCached) {
      const oldest = this.#cache.keys().next();
      if (!oldest.done) this.#cache.delete(oldest.value);
    }
    this.#cache.set(url, loading);
    return loading;
  }
}

/** Topic allow-list: empty means "any topic" only when the operator said so explicitly. */
export function topicAllowed(topicArn: string, allowed: readonly string[] | undefined): boolean {
  if (allowed === undefined) return true;
  return allowed.includes(topicArn);
}

export type SubscriptionConfirmer = (subscribeUrl: string) => Promise<void>;

export const confirmSubscription: SubscriptionConfirmer = async (subscribeUrl) => {
  const response = await fetch(subscribeUrl, { signal: AbortSignal.timeout(5_000), redirect: 'error' });
  if (!response.ok) throw new Error(`subscription confirmation failed with HTTP ${String(response.status)}`);
};
