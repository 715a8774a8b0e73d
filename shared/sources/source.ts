// The one small interface every alert source implements. A source is pure: it validates a
// parsed payload with its zod schema and maps it to incidents; the receive time is an argument,
// never read from the clock. Also the few helpers every source's mapping uses (isRecord,
// nonEmpty, pruned).
import type * as z from 'zod';
import { PayloadRejectedError } from '../errors.ts';
import type { Incident, SourceKind } from '../incident.ts';
import { formatIssues } from '../zod-issues.ts';
import { parserFor } from './parser.ts';

export interface NormalizeContext {
  /** When Tocsin received the payload. Used only where the payload itself carries no time. */
  readonly receivedAt: Date;
}

export interface AlertSource<Payload> {
  readonly kind: SourceKind;
  /**
   * A cheap structural test: does this payload claim to be from this source (a `schemaId`,
   * a `version`, an envelope shape)? It must not throw, whatever it is given. Detection picks
   * the source; `schema` then says precisely what is wrong with a payload that was detected.
   */
  detect(payload: unknown): boolean;
  /** Validation at the edge. Inside `toIncidents` the payload's types are trusted. */
  readonly schema: z.ZodType<Payload>;
  /** One incident per alert in the payload (Alertmanager and Grafana may carry many). */
  toIncidents(payload: Payload, context: NormalizeContext): Incident[];
}

/** A registered source: the interface plus validate-then-map over unknown input. */
export interface RegisteredSource {
  readonly kind: SourceKind;
  detect(payload: unknown): boolean;
  readonly schema: z.ZodType;
  /** Validates and maps; throws PayloadRejectedError naming this source on bad input. */
  normalize(payload: unknown, context: NormalizeContext): Incident[];
}

export function defineSource<Payload>(source: AlertSource<Payload>): AlertSource<Payload> & RegisteredSource {
  // The parser (./parser.ts: zod's compiled parser locally, the runtime one on AWS) is built on
  // first use: a process that never sees a source does not carry its parser (about 3 MiB each
  // compiled).
  let compiled: z.ZodType<Payload> | undefined;
  return {
    ...source,
    normalize(payload: unknown, context: NormalizeContext): Incident[] {
      compiled ??= parserFor(source.schema);
      const parsed = compiled.safeParse(payload);
      if (!parsed.success) {
        throw new PayloadRejectedError(`payload rejected by source ${source.kind}`, [
          { source: source.kind, reason: formatIssues(parsed.error) },
        ]);
      }
      return source.toIncidents(parsed.data, context);
    },
  };
}

/** True when `value` is a non-null, non-array object (for `detect` functions). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The same object without its `undefined` properties: incidents travel through JSON and
 * DynamoDB's marshaller, which refuses `undefined` values.
 */
export function pruned<T extends object>(value: T): T {
  // A plain loop: this runs for every incident, and entries/filter/fromEntries cost ~10x more
  // (measured with bench/normalize.ts; see the README's Performance section).
  const out: Record<string, unknown> = {};
  for (const key in value) {
    const entry = value[key];
    if (entry !== undefined) out[key] = entry;
  }
  return out as T;
}

/** The trimmed text, or `undefined` when there is none. */
export function nonEmpty(value: string | null | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}
