// Shared pieces of the source property suites (test/sources/*.property.test.ts): run parameters,
// fixture loading, JSON mutation arbitraries, and the property every source must keep whatever it
// is fed: schema-valid incidents, or a PayloadRejectedError that names a source and a reason,
// never anything else. Each suite keeps its own seeds, fixture lists and source-specific checks.
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { expect } from 'vitest';
import { PayloadRejectedError } from '../../shared/errors.ts';
import { incidentSchema, type Incident, type SourceKind } from '../../shared/incident.ts';
import type { NormalizeContext, RegisteredSource } from '../../shared/sources/source.ts';
import { jsonPaths, type JsonPath } from './fuzz.ts';

// ---------------------------------------------------------------------------------------------
// Run parameters

/** 200 runs from a fixed seed: the suites stay deterministic; bump a seed to explore other inputs. */
export const runs = (seed: number): fc.Parameters<unknown> => ({ numRuns: 200, seed });

/** FC_RUNS / FC_SEED explore further when set (a failure prints its seed); else 200 runs from one seed. */
export const envParameters = {
  numRuns: Number(process.env.FC_RUNS ?? 200),
  seed: Number(process.env.FC_SEED ?? 20261125),
} as const satisfies fc.Parameters<unknown>;

// ---------------------------------------------------------------------------------------------
// Fixtures

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** test/fixtures/<kind>/<name>.json, parsed. */
export function fixture(kind: SourceKind, name: string): Json {
  return JSON.parse(readFileSync(new URL(`../fixtures/${kind}/${name}.json`, import.meta.url), 'utf8')) as Json;
}

/** The names (without `.json`) of every fixture of a source, in directory order. */
export function fixtureNames(kind: SourceKind): string[] {
  return readdirSync(new URL(`../fixtures/${kind}/`, import.meta.url))
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length));
}

/** Any graphemes, plus raw code points (which include lone surrogates JSON can carry). */
export const anyText = (minLength: number, maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(fc.string({ minLength, maxLength, unit: 'grapheme' }), fc.string({ minLength, maxLength, unit: 'binary' }));

// ---------------------------------------------------------------------------------------------
// Mutation: a chain of changes at paths picked up front (Alertmanager, Grafana, Cloud Monitoring)

/** The value at `path` replaced, or deleted when `replacement` is undefined. */
export interface JsonChange {
  readonly path: JsonPath;
  readonly replacement: Json | undefined;
}

/** One to three changes at paths of `payload`: each a deletion or arbitrary JSON. */
export function jsonChanges(payload: Json): fc.Arbitrary<JsonChange[]> {
  return fc.array(
    fc.record({
      path: fc.constantFrom(...jsonPaths(payload)),
      replacement: fc.option(fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>, { nil: undefined }),
    }),
    { minLength: 1, maxLength: 3 },
  );
}

/** One of `payloads` with changes for it; `applyChanges` makes the mutated payload. */
export function fixtureChanges(payloads: readonly Json[]): fc.Arbitrary<{ payload: Json; changes: JsonChange[] }> {
  return fc.nat({ max: payloads.length - 1 }).chain((index) => {
    const payload = payloads[index]!;
    return fc.record({ payload: fc.constant(payload), changes: jsonChanges(payload) });
  });
}

/** `payload` with `changes` applied in turn (the input is never changed). */
export function applyChanges(payload: Json, changes: readonly JsonChange[]): Json {
  return changes.reduce<Json>((current, { path, replacement }) => replacedAt(current, path, replacement), payload);
}

/**
 * Replaces (or, with `undefined`, deletes) the value at `path` in a copy of `root`. The paths were
 * picked before any change, so one may no longer exist: the copy is then left as it is. A deleted
 * array element leaves a hole.
 */
function replacedAt(root: Json, path: JsonPath, replacement: Json | undefined): Json {
  if (path.length === 0) return replacement ?? null;
  const copy = structuredClone(root);
  let parent: Json = copy;
  for (const key of path.slice(0, -1)) {
    if (parent === null || typeof parent !== 'object') return copy;
    parent = (parent as Record<string, Json>)[key] ?? null;
  }
  if (parent === null || typeof parent !== 'object') return copy;
  const last = path[path.length - 1]!;
  if (replacement === undefined) Reflect.deleteProperty(parent, last);
  else (parent as Record<string, Json>)[last] = replacement;
  return copy;
}

// ---------------------------------------------------------------------------------------------
// Mutation: one change at a path of the current tree (CloudWatch, Azure Monitor)

/** As a replacement: remove the value instead. */
export const DELETE = Symbol('delete');

/**
 * A copy of `root` with the value at `path` (a path of `root` itself) replaced, or removed for
 * DELETE: a removed array element is spliced out, and a removed root leaves `undefined`.
 */
export function splicedAt(root: unknown, path: JsonPath, replacement: unknown): unknown {
  if (path.length === 0) return replacement === DELETE ? undefined : replacement;
  const copy = structuredClone(root);
  let parent: unknown = copy;
  for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[key];
  const last = path[path.length - 1]!;
  if (Array.isArray(parent) && typeof last === 'number') {
    if (replacement === DELETE) parent.splice(last, 1);
    else parent[last] = replacement;
  } else if (typeof parent === 'object' && parent !== null) {
    const record = parent as Record<string | number, unknown>;
    if (replacement === DELETE) Reflect.deleteProperty(record, last);
    else record[last] = replacement;
  }
  return copy;
}

// ---------------------------------------------------------------------------------------------
// The property every input must satisfy

/** Every incident passes the incident schema (the failure says which issue). Returns `incidents`. */
export function expectSchemaValid(incidents: Incident[]): Incident[] {
  for (const incident of incidents) {
    const parsed = incidentSchema.safeParse(incident);
    expect(parsed.success, parsed.error?.message).toBe(true);
  }
  return incidents;
}

export interface RejectionRule {
  /** The source every rejection must name; without it any non-empty name (shared normalize() asks them all). */
  readonly source?: SourceKind;
  /** Exactly one rejection (one source's own normalize), rather than at least one. */
  readonly single?: boolean;
}

/**
 * Runs a normalize: its incidents must be schema-valid (and are returned), or it must throw a
 * PayloadRejectedError with named, non-blank reasons (undefined is returned). Anything else thrown
 * is a bug and is rethrown as it is, so the failure shows its own stack.
 */
export function expectMappedOrRejected(run: () => Incident[], rule: RejectionRule = {}): Incident[] | undefined {
  let incidents: Incident[];
  try {
    incidents = run();
  } catch (error) {
    if (!(error instanceof PayloadRejectedError)) throw error;
    const { rejections } = error;
    if (rule.single === true) expect(rejections).toHaveLength(1);
    else expect(rejections.length).toBeGreaterThan(0);
    for (const rejection of rejections) {
      if (rule.source === undefined) expect(rejection.source).not.toBe('');
      else expect(rejection.source).toBe(rule.source);
      expect(rejection.reason.trim()).not.toBe('');
    }
    return undefined;
  }
  return expectSchemaValid(incidents);
}

/** `expectMappedOrRejected` for one source: valid incidents, or one rejection naming that source. */
export function mappedOrRejectedBy(source: RegisteredSource, context: NormalizeContext): (payload: unknown) => Incident[] | undefined {
  return (payload) => expectMappedOrRejected(() => source.normalize(payload, context), { source: source.kind, single: true });
}

/** Arbitrary JSON goes through `check` (an `expectMappedOrRejected` form) without failing it. */
export function assertJsonMappedOrRejected(check: (payload: unknown) => unknown, parameters: fc.Parameters<unknown>): void {
  fc.assert(
    fc.property(fc.jsonValue(), (payload) => {
      check(payload);
    }),
    parameters,
  );
}

/** detect() answers true or false for anything at all, and never throws. */
export function assertDetectNeverThrows(source: Pick<RegisteredSource, 'detect'>, parameters: fc.Parameters<unknown>): void {
  fc.assert(
    fc.property(fc.anything(), (payload) => {
      expect(typeof source.detect(payload)).toBe('boolean');
    }),
    parameters,
  );
}
