// normalize: raw bytes or parsed JSON in, incidents out, or a PayloadRejectedError that names
// each source that looked at the payload and why it refused.
import { PayloadRejectedError } from './errors.ts';
import type { Incident, SourceKind } from './incident.ts';
import { sources, sourceByKind } from './sources/index.ts';
import { formatIssues } from './zod-issues.ts';

export interface NormalizeOptions {
  readonly receivedAt: Date;
  /** Skip detection and use this source (an endpoint that knows its source passes it). */
  readonly source?: SourceKind | undefined;
}

export interface Normalized {
  readonly source: SourceKind;
  readonly incidents: Incident[];
}

export function normalize(payload: unknown, options: NormalizeOptions): Normalized {
  const context = { receivedAt: options.receivedAt };
  if (options.source) {
    return { source: options.source, incidents: sourceByKind(options.source).normalize(payload, context) };
  }
  const detected = sources.find((source) => source.detect(payload));
  if (detected) return { source: detected.kind, incidents: detected.normalize(payload, context) };

  // Nobody claimed it: say, per source, what its schema found wrong, so the sender can tell
  // which format was closest.
  const rejections = sources.map((source) => {
    const parsed = source.schema.safeParse(payload);
    return {
      source: source.kind,
      reason: parsed.success ? 'not detected as this source' : formatIssues(parsed.error, 2),
    };
  });
  throw new PayloadRejectedError('payload not recognised by any source', rejections);
}

/** Parses raw bytes as JSON first; bytes that are not JSON are rejected with the parser's reason. */
export function normalizeBytes(raw: string | Uint8Array, options: NormalizeOptions): Normalized {
  return normalize(parseJson(raw), options);
}

export function parseJson(raw: string | Uint8Array): unknown {
  // A view, not a copy, of the caller's bytes.
  const text = typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    // Checked only on failure: trimming a large valid body just to test it would copy it.
    if (text.trim() === '') throw new PayloadRejectedError('payload is empty', [{ source: 'json', reason: 'empty body' }]);
    const reason = error instanceof SyntaxError ? error.message : 'not valid JSON';
    throw new PayloadRejectedError('payload is not valid JSON', [{ source: 'json', reason }]);
  }
}
