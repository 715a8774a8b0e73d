// Fingerprints are the store's keys: a release that changes one re-opens (and re-pages) every
// open incident of that kind. These values were computed once and are pinned; a change here is
// a breaking change to announce, never a test to update in passing.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../shared/fingerprint.ts';
import { SOURCE_KINDS } from '../../shared/incident.ts';
import { normalizeBytes } from '../../shared/normalize.ts';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const pinned = JSON.parse(readFileSync(new URL('fingerprints.golden.json', FIXTURES), 'utf8')) as Record<string, string[]>;
const receivedAt = new Date('2026-11-25T00:00:00Z');

function fingerprintsOf(kind: (typeof SOURCE_KINDS)[number], file: string): string[] | undefined {
  const bytes = readFileSync(new URL(`${kind}/${file}`, FIXTURES));
  try {
    return normalizeBytes(bytes, { receivedAt, source: kind }).incidents.map((incident) => incident.fingerprint);
  } catch {
    return undefined; // a fixture of a rejected payload has no fingerprint
  }
}

describe('fingerprints are stable across releases', () => {
  it('the hash format itself: kind, then each part length-prefixed, SHA-256, 32 hex', () => {
    // sha256("alertmanager\u000014:alertname=Bare"), computed outside Node (Python's hashlib).
    expect(fingerprintOf('alertmanager', ['alertname=Bare'])).toBe('alertmanager:16abc6de8021e4488c40ad5ede3d4eeb');
  });

  for (const kind of SOURCE_KINDS) {
    it(`${kind}: every fixture gives its pinned fingerprints`, () => {
      const files = readdirSync(new URL(`${kind}/`, FIXTURES)).filter((name) => name.endsWith('.json'));
      let checked = 0;
      for (const file of files) {
        const actual = fingerprintsOf(kind, file);
        if (actual === undefined) continue;
        const key = `${kind}/${file}`;
        expect(pinned[key], `${key} is not pinned; add ${JSON.stringify({ [key]: actual })} to fingerprints.golden.json`).toBeDefined();
        expect(actual, key).toStrictEqual(pinned[key]);
        checked += 1;
      }
      expect(checked).toBeGreaterThan(0);
    });
  }
});
