import { describe, expect, it } from 'vitest';
import {
  codePointLength,
  oneLine,
  severityEmoji,
  shortFingerprint,
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

describe('severity emoji', () => {
  it('maps every severity to its emoji', () => {
    expect([severityEmoji('critical'), severityEmoji('error'), severityEmoji('warning'), severityEmoji('info')]).toEqual([
      '🔴',
      '🟠',
      '🟡',
      '🔵',
    ]);
  });
});

describe('shortFingerprint', () => {
  it('keeps the start of the hash after the kind', () => {
    expect(shortFingerprint('cloudwatch:0f1e2d3c4b5a69788796a5b4c3d2e1f0')).toBe('0f1e2d3c4b5a');
    expect(shortFingerprint('azure-monitor:abcdef', 4)).toBe('abcd');
    expect(shortFingerprint('plain')).toBe('plain');
  });
});
