// The severity words alert authors write (a Prometheus `severity` label, a `severity=<level>`
// token in a CloudWatch alarm description), as the contract lists them. A Map, not an object:
// a lookup of `constructor` or `toString` must find nothing, not Object's own members.
import type { Severity } from '../incident.ts';

const SEVERITY_BY_WORD: ReadonlyMap<string, Severity> = new Map([
  ['critical', 'critical'],
  ['error', 'error'],
  ['high', 'error'],
  ['major', 'error'],
  ['warning', 'warning'],
  ['minor', 'warning'],
  ['info', 'info'],
  ['low', 'info'],
  ['none', 'info'],
]);

/** The severity a word names, case-insensitive and trimmed; undefined for any other word. */
export function severityFromWord(word: string): Severity | undefined {
  return SEVERITY_BY_WORD.get(word.trim().toLowerCase());
}
