// Fingerprints: a stable hash of the parts that identify "this problem on this resource".
// Each source documents which parts it passes. The format is part of the store's keys, so
// changing it (or the parts) re-opens every open incident: treat it as a versioned contract.
//
// Encoding (unambiguous: two different part lists never give the same input): the kind, then
// each part as NUL, its length in UTF-16 code units, `:`, the part. A label set is one part, the
// JSON of its [key, value] pairs sorted by key (labelSetPart), so no key or value containing
// `=`, `,` or a quote can make two label sets read alike.
import { hash } from 'node:crypto';

/** `<kind>:<first 32 hex of sha256 over the parts, each length-prefixed>` */
export function fingerprintOf(kind: string, parts: readonly string[]): string {
  let input = kind;
  for (const part of parts) {
    // Length-prefixing keeps ("ab","c") and ("a","bc") apart.
    input += `\u0000${part.length}:${part}`;
  }
  // One-shot crypto.hash over the whole input: the same digest as streaming the pieces into
  // createHash, at a fraction of the cost for inputs this small.
  return `${kind}:${hash('sha256', input, 'hex').slice(0, 32)}`;
}

/**
 * A label set as one fingerprint part: `[["k1","v1"],["k2","v2"]]`, sorted by key. JSON keeps
 * `{"a=b":"c"}` and `{"a":"b=c"}` apart, which `key=value` strings did not.
 */
export function labelSetPart(labels: Readonly<Record<string, string>>): string {
  const pairs: [string, string][] = [];
  for (const key of Object.keys(labels).sort()) pairs.push([key, labels[key] ?? '']);
  return JSON.stringify(pairs);
}
