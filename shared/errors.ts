// Tocsin's own typed errors. Anything the normalizers reject is a PayloadRejectedError that
// says which source(s) looked at the payload and why each one refused it.

export class TocsinError extends Error {
  override readonly name: string = 'TocsinError';
}

export interface SourceRejection {
  /** The source kind that looked at the payload, or `json` when the bytes were not JSON. */
  source: string;
  /** Why it refused: the zod issues with their paths, or a sentence. */
  reason: string;
}

export class PayloadRejectedError extends TocsinError {
  override readonly name = 'PayloadRejectedError';
  readonly rejections: readonly SourceRejection[];

  constructor(summary: string, rejections: readonly SourceRejection[]) {
    const detail = rejections.map((r) => `  ${r.source}: ${r.reason}`).join('\n');
    super(detail ? `${summary}\n${detail}` : summary);
    this.rejections = rejections;
  }

  /** A JSON-safe body for a 4xx answer. */
  toJSON(): { error: string; rejections: readonly SourceRejection[] } {
    return { error: this.message.split('\n')[0] ?? this.message, rejections: this.rejections };
  }
}
