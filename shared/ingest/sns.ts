// Amazon SNS over HTTP(S): the message envelope, its signature check and subscription
// confirmation. The AWS SDK v3 has no verifier, and AWS's older JavaScript validator only knows
// SignatureVersion "1", so this implements the documented algorithm for versions 1 and 2.
// Lambda SNS events come from AWS itself and need none of this.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

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

/** True for a body that claims to be an SNS HTTP message (cheap; never throws). */
export function looksLikeSnsHttpMessage(payload: unknown): boolean {
  if (typeof payload !== 'object' || payload === null) return false;
  const record = payload as Record<string, unknown>;
  return (
    typeof record['Type'] === 'string' &&
    (SNS_MESSAGE_TYPES as readonly string[]).includes(record['Type']) &&
    typeof record['TopicArn'] === 'string' &&
    'SignatureVersion' in record
  );
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

const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

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
  return options.pem === true ? parsed.pathname.endsWith('.pem') : true;
}

export type CertificateFetcher = (url: string) => Promise<string>;

export const fetchCertificate: CertificateFetcher = async (url) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000), redirect: 'error' });
  if (!response.ok) throw new Error(`certificate download failed with HTTP ${String(response.status)}`);
  return response.text();
};

export type SnsVerification = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface SnsVerifierOptions {
  readonly fetchCertificate?: CertificateFetcher;
  /** Certificates are cached by URL (SNS rotates them rarely, and each has its own URL). */
  readonly maxCachedCertificates?: number;
}

export class SnsVerifier {
  readonly #fetch: CertificateFetcher;
  readonly #cache = new Map<string, Promise<KeyObject>>();
  readonly #maxCached: number;

  constructor(options: SnsVerifierOptions = {}) {
    this.#fetch = options.fetchCertificate ?? fetchCertificate;
    this.#maxCached = options.maxCachedCertificates ?? 32;
  }

  async verify(message: SnsHttpMessage): Promise<SnsVerification> {
    if (!isTrustedSnsUrl(message.SigningCertURL, { pem: true })) {
      return { ok: false, reason: 'SigningCertURL is not an https .pem URL on sns.<region>.amazonaws.com' };
    }
    let key: KeyObject;
    try {
      key = await this.#certificate(message.SigningCertURL);
    } catch {
      return { ok: false, reason: 'signing certificate could not be loaded' };
    }
    const algorithm = message.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256';
    const signature = Buffer.from(message.Signature, 'base64');
    const valid = verify(algorithm, Buffer.from(stringToSign(message), 'utf8'), key, signature);
    return valid ? { ok: true } : { ok: false, reason: 'SNS signature does not match the message' };
  }

  #certificate(url: string): Promise<KeyObject> {
    const cached = this.#cache.get(url);
    if (cached) return cached;
    const loading = this.#fetch(url).then((pem) => createPublicKey(pem));
    // A failed download must not poison the cache.
    loading.catch(() => this.#cache.delete(url));
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
