// The pinned fingerprints of every source fixture (test/fixtures/fingerprints.golden.json): how
// the stability test computes them, and the command that re-pins them after a deliberate,
// announced change to a source's fingerprint parts or to the encoding (and after merging a
// branch that added fixtures):
//
//   node test/helpers/fingerprint-golden.ts          # rewrite the golden file
//   node test/helpers/fingerprint-golden.ts --check  # exit 1 and list what differs
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SOURCE_KINDS, type SourceKind } from '../../shared/incident.ts';
import { normalizeBytes } from '../../shared/normalize.ts';

export const FIXTURES = new URL('../fixtures/', import.meta.url);
export const GOLDEN_FILE = new URL('fingerprints.golden.json', FIXTURES);
const RECEIVED_AT = new Date('2026-11-25T00:00:00Z');

/** The fixture files of one source kind (the folder may not exist yet for a new source). */
export function fixtureFiles(kind: SourceKind): string[] {
  try {
    return readdirSync(new URL(`${kind}/`, FIXTURES)).filter((name) => name.endsWith('.json')).sort();
  } catch {
    return [];
  }
}

/** A fixture's fingerprints today; undefined for a fixture of a rejected payload. */
export function fingerprintsOf(kind: SourceKind, file: string): string[] | undefined {
  const bytes = readFileSync(new URL(`${kind}/${file}`, FIXTURES));
  try {
    return normalizeBytes(bytes, { receivedAt: RECEIVED_AT, source: kind }).incidents.map((incident) => incident.fingerprint);
  } catch {
    return undefined;
  }
}

/** Every fixture's fingerprints, keyed `<kind>/<file>`, in a stable order. */
export function currentFingerprints(): Record<string, string[]> {
  const all: Record<string, string[]> = {};
  for (const kind of SOURCE_KINDS) {
    for (const file of fixtureFiles(kind)) {
      const fingerprints = fingerprintsOf(kind, file);
      if (fingerprints !== undefined) all[`${kind}/${file}`] = fingerprints;
    }
  }
  return all;
}

export function pinnedFingerprints(): Record<string, string[]> {
  return JSON.parse(readFileSync(GOLDEN_FILE, 'utf8')) as Record<string, string[]>;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const current = currentFingerprints();
  const pinned = pinnedFingerprints();
  const changed = [...new Set([...Object.keys(current), ...Object.keys(pinned)])]
    .filter((key) => JSON.stringify(current[key]) !== JSON.stringify(pinned[key]))
    .sort();
  if (process.argv.includes('--check')) {
    for (const key of changed) process.stdout.write(`${key}: ${JSON.stringify(pinned[key])} -> ${JSON.stringify(current[key])}\n`);
    process.exitCode = changed.length > 0 ? 1 : 0;
  } else {
    writeFileSync(GOLDEN_FILE, `${JSON.stringify(current, null, 2)}\n`);
    process.stdout.write(`pinned ${String(Object.keys(current).length)} fixtures (${String(changed.length)} changed) in ${fileURLToPath(GOLDEN_FILE)}\n`);
  }
}
