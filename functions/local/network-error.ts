// Kept apart from guards.ts so the CLI can recognise it without loading the ingest code.

/** Thrown by startLocal: a non-loopback bind with no token would take alerts from anyone. */
export class NoTokenOnNetworkError extends Error {
  override readonly name = 'NoTokenOnNetworkError';
}
