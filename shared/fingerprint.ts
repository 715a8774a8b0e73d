// Fingerprints: a stable hash of the parts that identify "this problem on this resource".
// Each source documents which parts it passes. The format is part of the store's keys, so
// changing it (or the parts) re-opens every open incident: treat it as a versioned contract.
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

/** Labels in a canonical order, for sources whose identity is a label set (Prometheus). */
export function canonicalLabels(labels: Readonly<Record<string, string>>): string[] {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key] ?? ''}`);
}
