// Ingest authentication: one shared secret, accepted the ways each alerting service can send
// it. Azure action groups and Cloud Monitoring webhooks cannot set headers, so the secret may
// also come as HTTP basic auth in the URL or as a `token` query parameter.
import { createHash, timingSafeEqual } from 'node:crypto';

export interface Credentials {
  readonly authorization?: string | undefined;
  readonly queryToken?: string | null | undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The expected secret's digest, kept for the next comparison (it is the same on every request). */
let expectedDigest: { readonly secret: string; readonly digest: Buffer } | undefined;

/** Constant-time comparison: hashing first makes both sides the same length. */
export function secretsEqual(given: string, expected: string): boolean {
  if (expectedDigest?.secret !== expected) expectedDigest = { secret: expected, digest: digest(expected) };
  return timingSafeEqual(digest(given), expectedDigest.digest);
}

/** The secret the caller presented, if any: bearer token, basic-auth password, or `?token=`. */
export function presentedSecret(credentials: Credentials): string | undefined {
  const header = credentials.authorization?.trim();
  if (header) {
    const [scheme, value = ''] = header.split(/\s+/, 2);
    if (scheme?.toLowerCase() === 'bearer') return value;
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      return colon === -1 ? decoded : decoded.slice(colon + 1);
    }
  }
  return credentials.queryToken ?? undefined;
}

/** True when no token is configured, or the caller presented the right one. */
export function isAuthorized(credentials: Credentials, expectedToken: string | undefined): boolean {
  if (expectedToken === undefined || expectedToken === '') return true;
  const given = presentedSecret(credentials);
  return given !== undefined && secretsEqual(given, expectedToken);
}
