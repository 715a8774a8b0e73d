// Silence and maintenance-window matchers: Alertmanager's four operators over incident fields
// and labels, a missing label as "", anchored regexes, and clear errors.
import { describe, expect, it } from 'vitest';
import type { Incident } from '../../shared/incident.ts';
import { allMatch, formatMatcher, MatcherError, matcherMatches, parseMatcher } from '../../shared/silences/matchers.ts';

const incident: Incident = {
  schemaVersion: 1,
  fingerprint: 'alertmanager:0123456789abcdef0123456789abcdef',
  status: 'firing',
  severity: 'critical',
  title: 'HighErrorRate on api',
  source: { kind: 'alertmanager', cloud: 'other', rule: 'HighErrorRate', region: 'eu-west-1' },
  startsAt: '2026-11-25T10:00:00Z',
  labels: { alertname: 'HighErrorRate', env: 'prod', source: 'label-value', team: '' },
  links: [],
};

const matches = (text: string): boolean => matcherMatches(parseMatcher(text), incident);

describe('matchers', () => {
  it.each([
    ['severity=critical', true],
    ['severity!=critical', false],
    ['source=alertmanager', true],
    ['cloud=other', true],
    ['account=', true],
    ['region=~eu-.*', true],
    ['rule=HighErrorRate', true],
    ['fingerprint=alertmanager:0123456789abcdef0123456789abcdef', true],
    ['env=prod', true],
    ['env=~prod|staging', true],
    ['env=~pro', false],
    ['env!~prod|staging', false],
    ['missing=', true],
    ['missing!=x', true],
    ['missing=~.*', true],
    ['team=', true],
    ['label:source=label-value', true],
    ['source=label-value', false],
    ['env="prod"', true],
    [' env = prod ', true],
  ])('%s → %s', (text, expected) => {
    expect(matches(text)).toBe(expected);
  });

  it('refuses what is not a matcher, and broken regexes, saying why', () => {
    expect(() => parseMatcher('env')).toThrow(MatcherError);
    expect(() => parseMatcher('env')).toThrow('"env" is not a matcher; write name=value, name!=value, name=~regex or name!~regex');
    expect(() => parseMatcher('env=~a)|(b')).toThrow('env=~"a)|(b": invalid regular expression (Unmatched \')\')');
    expect(() => parseMatcher('label:=x')).toThrow(MatcherError);
  });

  it('an empty list matches nothing; every matcher must hold', () => {
    expect(allMatch([], incident)).toBe(false);
    expect(allMatch([parseMatcher('env=prod'), parseMatcher('severity=critical')], incident)).toBe(true);
    expect(allMatch([parseMatcher('env=prod'), parseMatcher('severity=info')], incident)).toBe(false);
  });

  it('prints back what it parsed', () => {
    for (const text of ['env=prod', 'label:source!=x', 'rule=~"orders db .*"', 'team=""']) expect(formatMatcher(parseMatcher(text))).toBe(text);
  });
});
