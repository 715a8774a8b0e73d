// Matchers for silences and maintenance windows, written the way Alertmanager's are:
// `name=value`, `name!=value`, `name=~regex`, `name!~regex`. A name is an incident field —
// `source`, `cloud`, `account`, `severity`, `fingerprint`, `region`, `rule` — or else a label;
// `label:name` always means the label (for a label called `source`, say). As in Alertmanager,
// a missing label counts as the empty string, and a regex must match the whole value.
import type { Incident } from '../incident.ts';

export const MATCHER_FIELDS = ['source', 'cloud', 'account', 'severity', 'fingerprint', 'region', 'rule'] as const;
export type MatcherField = (typeof MATCHER_FIELDS)[number];

export type MatchOperator = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  /** An incident field, or a label name. */
  readonly name: string;
  readonly isLabel: boolean;
  readonly operator: MatchOperator;
  readonly value: string;
}

/** A matcher with its regular expression compiled, ready to test incidents. */
export interface CompiledMatcher extends Matcher {
  readonly regex?: RegExp | undefined;
}

export class MatcherError extends Error {
  override readonly name = 'MatcherError';
}

// The operator is the first of these after a name; `!~` and `=~` before `!=` and `=`.
const MATCHER = /^\s*([A-Za-z_][A-Za-z0-9_.:/-]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s;

function unquote(text: string): string {
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
    try {
      return JSON.parse(text) as string;
    } catch {
      throw new MatcherError(`bad quoting in ${text}`);
    }
  }
  return text;
}

/** Parses `name<op>value` (the value may be double-quoted); throws MatcherError saying what is wrong. */
export function parseMatcher(text: string): CompiledMatcher {
  const match = MATCHER.exec(text);
  if (!match) throw new MatcherError(`"${text}" is not a matcher; write name=value, name!=value, name=~regex or name!~regex`);
  const [, rawName = '', operator = '=', rawValue = ''] = match;
  const forcedLabel = rawName.startsWith('label:');
  const name = forcedLabel ? rawName.slice('label:'.length) : rawName;
  if (name === '') throw new MatcherError(`"${text}": no label name after label:`);
  const isLabel = forcedLabel || !(MATCHER_FIELDS as readonly string[]).includes(name);
  return compileMatcher({ name, isLabel, operator: operator as MatchOperator, value: unquote(rawValue) });
}

export function compileMatcher(matcher: Matcher): CompiledMatcher {
  if (matcher.operator === '=' || matcher.operator === '!=') return { ...matcher };
  try {
    // Compiled alone first: wrapping could make a broken pattern such as `a)|(b` look valid.
    new RegExp(matcher.value);
    return { ...matcher, regex: new RegExp(`^(?:${matcher.value})$`) };
  } catch (error) {
    const detail = error instanceof Error ? (error.message.split(': ').at(-1) ?? error.message) : 'syntax error';
    throw new MatcherError(`${formatMatcher(matcher)}: invalid regular expression (${detail})`);
  }
}

export function formatMatcher(matcher: Matcher): string {
  const name = matcher.isLabel && (MATCHER_FIELDS as readonly string[]).includes(matcher.name) ? `label:${matcher.name}` : matcher.name;
  const value = /^[\w.:/@-]*$/.test(matcher.value) && matcher.value !== '' ? matcher.value : JSON.stringify(matcher.value);
  return `${name}${matcher.operator}${value}`;
}

function fieldValue(incident: Incident, matcher: Matcher): string {
  if (matcher.isLabel) return Object.hasOwn(incident.labels, matcher.name) ? (incident.labels[matcher.name] ?? '') : '';
  switch (matcher.name as MatcherField) {
    case 'source':
      return incident.source.kind;
    case 'cloud':
      return incident.source.cloud;
    case 'account':
      return incident.source.account ?? '';
    case 'severity':
      return incident.severity;
    case 'fingerprint':
      return incident.fingerprint;
    case 'region':
      return incident.source.region ?? '';
    case 'rule':
      return incident.source.rule;
  }
}

export function matcherMatches(matcher: CompiledMatcher, incident: Incident): boolean {
  const value = fieldValue(incident, matcher);
  switch (matcher.operator) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return matcher.regex?.test(value) === true;
    case '!~':
      return matcher.regex?.test(value) !== true;
  }
}

/** Every matcher holds (an empty list matches nothing: a silence must say what it silences). */
export function allMatch(matchers: readonly CompiledMatcher[], incident: Incident): boolean {
  return matchers.length > 0 && matchers.every((matcher) => matcherMatches(matcher, incident));
}
