// Kept apart from admin.ts so the CLI can recognise it without loading the database code.

/** Thrown for answers a person must read (not found, unauthorized…): the message says it all. */
export class AdminError extends Error {
  override readonly name = 'AdminError';
}
