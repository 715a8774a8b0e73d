import { describe, expect, it } from 'vitest';
import {
  codePointLength,
  eventEmoji,
  formatLabels,
  formatMetric,
  oneLine,
  severityEmoji,
  shortFingerprint,
  statusWord,
  truncate,
} from '../../shared/channels/text.ts';

describe('truncate', () => {
  it('keeps text that fits, including exactly at the limit', () => {
    expect(truncate('hello', 10)).toBe('hello');
    expect(truncate('hello', 5)).toBe('hello');
  });

  it('cuts to the limit with the marker, dropping whitespace before it', () => {
    expect(truncate('hello world', 8)).toBe('hello w…');
    expect(truncate('hello world', 7)).toBe('hello…');
    expect(truncate('abcdefghij', 6, '...')).toBe('abc...');
  });

  it('counts code points, so an emoji is never split into a lone surrogate', () => {
    const text = '🔥🔥🔥🔥🔥';
    expect(text.length).toBe(10);
    expect(truncate(text, 5)).toBe(text);
    const cut = truncate(text, 3);
    expect(cut).toBe('🔥🔥…');
  });

  it('returns only (part of) the marker when the limit is that small', () => {
    expect(truncate('abcdef', 1)).toBe('…');
    expect(truncate('abcdef', 2, '...')).toBe('..');
    expect(truncate('abcdef', 0)).toBe('');
  });

  it('never exceeds the limit', () => {
    for (let max = 0; max < 20; max++) {
      expect(codePointLength(truncate('The quick 🦊 jumps over the lazy 🐶', max))).toBeLessThanOrEqual(max);
    }
  });
});

describe('oneLine', () => {
  it('turns CR/LF, tabs and runs of spaces into single spaces and trims', () => {
    expect(oneLine('  a\r\nb\tc   d \n')).toBe('a b c d');
  });

  it('removes terminal escapes and other control characters', () => {
    expect(oneLine('red\u001b[31m text\u0007\u0085x\u2028y')).toBe('red [31m text x y');
  });
});

describe('severity and status words', () => {
  it('maps every severity to its emoji', () => {
    expect([severityEmoji('critical'), severityEmoji('error'), severityEmoji('warning'), severityEmoji('info')]).toEqual([
      '🔴',
      '🟠',
      '🟡',
      '🔵',
    ]);
  });

  it('leads resolved and flapping notices with their own emoji', () => {
    expect(eventEmoji('resolved', 'critical')).toBe('✅');
    expect(eventEmoji('flapping', 'critical')).toBe('⚠️');
    expect(eventEmoji('opened', 'warning')).toBe('🟡');
    expect(eventEmoji('renotified', 'error')).toBe('🔁');
  });

  it('names each delivery event', () => {
    expect(statusWord('opened')).toBe('firing');
    expect(statusWord('renotified')).toBe('firing (reminder)');
    expect(statusWord('resolved')).toBe('resolved');
    expect(statusWord('flapping')).toBe('flapping');
  });
});

describe('formatLabels', () => {
  it('lists labels sorted by key', () => {
    expect(formatLabels({ team: 'web', env: 'prod', alertname: 'X' })).toBe('alertname=X, env=prod, team=web');
  });

  it('returns an empty string for no labels', () => {
    expect(formatLabels({})).toBe('');
  });

  it('caps the count and says how many were left out', () => {
    expect(formatLabels({ a: '1', b: '2', c: '3', d: '4' }, { maxLabels: 2, separator: ' ' })).toBe('a=1 b=2 (+2 more)');
  });

  it('cuts long values and keeps each label on one line', () => {
    expect(formatLabels({ k: 'x'.repeat(50), 'multi\nline': 'a\r\nb' }, { maxValueLength: 10 })).toBe(
      `k=${'x'.repeat(9)}…, multi line=a b`,
    );
  });
});

describe('formatMetric', () => {
  it('says name, value, unit and threshold', () => {
    expect(
      formatMetric({ namespace: 'AWS/EC2', name: 'CPUUtilization', value: 92.5, unit: 'Percent', threshold: 80, operator: '>' }),
    ).toBe('AWS/EC2 CPUUtilization = 92.5 Percent (threshold > 80)');
  });

  it('works with partial metrics', () => {
    expect(formatMetric({ name: 'errors' })).toBe('errors');
    expect(formatMetric({ value: 3, threshold: 1 })).toBe('value = 3 (threshold 1)');
  });

  it('is undefined when there is nothing to say', () => {
    expect(formatMetric(undefined)).toBeUndefined();
    expect(formatMetric({ unit: 'Count' })).toBeUndefined();
  });
});

describe('shortFingerprint', () => {
  it('keeps the start of the hash after the kind', () => {
    expect(shortFingerprint('cloudwatch:0f1e2d3c4b5a69788796a5b4c3d2e1f0')).toBe('0f1e2d3c4b5a');
    expect(shortFingerprint('azure-monitor:abcdef', 4)).toBe('abcd');
    expect(shortFingerprint('plain')).toBe('plain');
  });
});
