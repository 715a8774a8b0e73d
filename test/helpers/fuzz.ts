// Helpers for the fuzz and fault-injection suites: run counts and seeds from the environment
// (so `npm run fuzz` can turn the same properties up), a seeded PRNG, and structure-aware
// mutation of real fixtures (drop, replace or retype one value at a random path, or cut bytes).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';

/** Runs per property: `FUZZ_RUNS` when set (the `fuzz` script sets 3000), else `fallback`. */
export function fuzzRuns(fallback = 150): number {
  const raw = process.env['FUZZ_RUNS'];
  const runs = raw === undefined ? Number.NaN : Number(raw);
  return Number.isInteger(runs) && runs > 0 ? runs : fallback;
}

/** The fast-check seed: `FC_SEED` when set, else 42, so every run is reproducible. */
export function fuzzSeed(): number {
  const seed = Number(process.env['FC_SEED'] ?? 42);
  return Number.isInteger(seed) ? seed : 42;
}

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** FNV-1a over a string: turns a key into a PRNG seed, independent of arrival order. */
export function hashSeed(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export type JsonPath = readonly (string | number)[];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every path in a parsed JSON document, the root (`[]`) first. */
export function jsonPaths(value: unknown, prefix: JsonPath = []): JsonPath[] {
  const paths: JsonPath[] = [prefix];
  if (Array.isArray(value)) {
    value.forEach((item: unknown, index) => paths.push(...jsonPaths(item, [...prefix, index])));
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) paths.push(...jsonPaths(item, [...prefix, key]));
  }
  return paths;
}

/** A value of another JSON type, chosen so a schema expecting the original type refuses it. */
export function retype(value: unknown): unknown {
  if (typeof value === 'string') return value.length > 0 && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : 42;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 0;
  if (value === null) return {};
  if (Array.isArray(value)) return Object.fromEntries(value.map((item: unknown, index) => [String(index), item]));
  if (isObject(value)) return Object.values(value);
  return null;
}

export type Mutation =
  | { readonly kind: 'drop' }
  | { readonly kind: 'replace'; readonly value: unknown }
  | { readonly kind: 'retype' };

/**
 * A copy of `document` with `mutation` applied at `path` (the input is never changed).
 * Dropping the root leaves `undefined`, which the caller serializes as an empty body.
 */
export function mutateAt(document: unknown, path: JsonPath, mutation: Mutation): unknown {
  const [head, ...rest] = path;
  if (head === undefined) {
    switch (mutation.kind) {
      case 'drop':
        return undefined;
      case 'replace':
        return mutation.value;
      case 'retype':
        return retype(document);
    }
  }
  if (Array.isArray(document) && typeof head === 'number') {
    const copy = Array.from(document as readonly unknown[]);
    if (rest.length === 0 && mutation.kind === 'drop') copy.splice(head, 1);
    else copy[head] = mutateAt(copy[head], rest, mutation);
    return copy;
  }
  if (isObject(document) && typeof head === 'string') {
    if (rest.length === 0 && mutation.kind === 'drop') return Object.fromEntries(Object.entries(document).filter(([key]) => key !== head));
    return { ...document, [head]: mutateAt(document[head], rest, mutation) };
  }
  return document;
}

export interface Fixture {
  /** `<source folder>/<file>`, for failure messages. */
  readonly name: string;
  readonly bytes: Buffer;
  readonly value: unknown;
}

/** Every JSON fixture under test/fixtures/<source>/, sorted by name (stable across machines). */
export function loadFixtures(root: string): Fixture[] {
  const fixtures: Fixture[] = [];
  for (const folder of readdirSync(root, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort()) {
    for (const file of readdirSync(join(root, folder)).filter((name) => name.endsWith('.json')).sort()) {
      const bytes = readFileSync(join(root, folder, file));
      fixtures.push({ name: `${folder}/${file}`, bytes, value: JSON.parse(bytes.toString('utf8')) as unknown });
    }
  }
  return fixtures;
}

export interface FuzzBody {
  /** What was done, for the counterexample fast-check prints. */
  readonly description: string;
  readonly bytes: Uint8Array;
}

/**
 * A fixture sent as is, or with one value dropped, replaced by arbitrary JSON or retyped at a
 * random path, or its bytes cut at a random point.
 */
export function mutatedFixtureArbitrary(fixtures: readonly Fixture[]): fc.Arbitrary<FuzzBody> {
  const fixture = fc.constantFrom(...fixtures);
  const pathOf = (chosen: Fixture, pick: number): JsonPath => {
    const paths = jsonPaths(chosen.value);
    return paths[pick % paths.length] ?? [];
  };
  const serialized = (value: unknown): Uint8Array => Buffer.from(value === undefined ? '' : JSON.stringify(value), 'utf8');
  return fc.oneof(
    fixture.map((chosen) => ({ description: `${chosen.name} as is`, bytes: chosen.bytes })),
    fc.tuple(fixture, fc.nat()).map(([chosen, pick]) => {
      const path = pathOf(chosen, pick);
      return { description: `${chosen.name} drop ${JSON.stringify(path)}`, bytes: serialized(mutateAt(chosen.value, path, { kind: 'drop' })) };
    }),
    fc.tuple(fixture, fc.nat(), fc.jsonValue({ maxDepth: 3 })).map(([chosen, pick, value]) => {
      const path = pathOf(chosen, pick);
      return {
        description: `${chosen.name} replace ${JSON.stringify(path)} with ${JSON.stringify(value)}`,
        bytes: serialized(mutateAt(chosen.value, path, { kind: 'replace', value })),
      };
    }),
    fc.tuple(fixture, fc.nat()).map(([chosen, pick]) => {
      const path = pathOf(chosen, pick);
      return { description: `${chosen.name} retype ${JSON.stringify(path)}`, bytes: serialized(mutateAt(chosen.value, path, { kind: 'retype' })) };
    }),
    fc.tuple(fixture, fc.nat()).map(([chosen, cut]) => {
      const at = cut % Math.max(1, chosen.bytes.byteLength);
      return { description: `${chosen.name} cut at byte ${at}`, bytes: chosen.bytes.subarray(0, at) };
    }),
  );
}
