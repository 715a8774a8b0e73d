// Fingerprints: a stable hash of the parts that identify "this problem on this resource".
// Each source documents which parts it passes. The format is part of the store's keys, so
// changing it (or the parts) re-opens every open incident: treat it as a versioned contract.
import { createHash } from 'node:crypto';

/** `<kind>:<first 32 hex of sha256 over the parts, each length-prefixed>` */
export function fingerprintOf(kind: string, parts: readonly string[]): string {
  const hash = createHash('sha256');
  hash.update(kind);
  for (const part of parts) {
    // Length-prefixing keeps ("ab","c") and ("a","bc") apart.
    hash.update(`\u0000${part.length}:${part}`);
  }
  return `${kind}:${hash.digest('hex').slice(0, 32)}`;
}

/** Labels in a canonical order, for sources whose identity is a label set (Prometheus). */
export function canonicalLabels(labels: Readonly<Record<string, string>>): string[] {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key] ?? ''}`);
}
