// SMS sizing (3GPP TS 23.038). A segment holds 140 bytes: 160 GSM-7 septets, or 70 UCS-2
// code units. A message is GSM-7 only if every character is in the default alphabet or its
// extension table (whose characters cost two septets: ESC + char); one other character —
// an emoji, a CJK letter, a typographic quote — switches the WHOLE message to UCS-2.
// Long messages are split into segments of 153 septets / 67 units (the rest is the
// concatenation header).

export type SmsEncoding = 'GSM-7' | 'UCS-2';

const GSM7_BASIC = new Set(
  Array.from(
    '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
      '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
  ),
);
const GSM7_EXTENSION = new Set(Array.from('\f^{}\\[~]|€'));

export const SINGLE_SEGMENT_UNITS: Readonly<Record<SmsEncoding, number>> = { 'GSM-7': 160, 'UCS-2': 70 };
export const MULTI_SEGMENT_UNITS: Readonly<Record<SmsEncoding, number>> = { 'GSM-7': 153, 'UCS-2': 67 };

/** Septets one character costs in GSM-7: 1, 2 (extension table) or undefined (not in GSM-7). */
export function gsm7Septets(char: string): 1 | 2 | undefined {
  if (GSM7_BASIC.has(char)) return 1;
  if (GSM7_EXTENSION.has(char)) return 2;
  return undefined;
}

export function isGsm7(text: string): boolean {
  for (const char of text) if (gsm7Septets(char) === undefined) return false;
  return true;
}

export function smsEncodingOf(text: string): SmsEncoding {
  return isGsm7(text) ? 'GSM-7' : 'UCS-2';
}

/** Units one character costs: septets for GSM-7, UTF-16 code units (2 for an emoji) for UCS-2. */
export function charUnits(char: string, encoding: SmsEncoding): number {
  return encoding === 'GSM-7' ? (gsm7Septets(char) ?? 1) : char.length;
}

/** Length in the units of the message's own encoding. */
export function smsUnits(text: string, encoding: SmsEncoding = smsEncodingOf(text)): number {
  if (encoding === 'UCS-2') return text.length;
  let units = 0;
  for (const char of text) units += charUnits(char, 'GSM-7');
  return units;
}

export interface SmsSize {
  readonly encoding: SmsEncoding;
  readonly units: number;
  readonly segments: number;
}

export function smsSize(text: string): SmsSize {
  const encoding = smsEncodingOf(text);
  const units = smsUnits(text, encoding);
  const segments =
    units <= SINGLE_SEGMENT_UNITS[encoding] ? 1 : Math.ceil(units / MULTI_SEGMENT_UNITS[encoding]);
  return { encoding, units, segments };
}

export function fitsOneSegment(text: string): boolean {
  return smsSize(text).segments === 1;
}

// Typographic characters that alert titles often carry (copied from Azure, Grafana or a
// runbook) and that have a plain GSM-7 look-alike: replacing them keeps a 160-char budget
// instead of 70. Letters with no GSM-7 form are left alone.
const TRANSLITERATIONS: Readonly<Record<string, string>> = {
  '\u2018': "'", // ‘
  '\u2019': "'", // ’
  '\u201a': "'", // ‚
  '\u201b': "'", // ‛
  '\u2032': "'", // ′
  '\u201c': '"', // “
  '\u201d': '"', // ”
  '\u201e': '"', // „
  '\u2033': '"', // ″
  '\u00ab': '"', // «
  '\u00bb': '"', // »
  '\u2010': '-', // ‐
  '\u2011': '-', // non-breaking hyphen
  '\u2012': '-', // ‒
  '\u2013': '-', // –
  '\u2014': '-', // —
  '\u2212': '-', // minus sign
  '\u2026': '...', // …
  '\u00a0': ' ', // no-break space
  '\u2007': ' ', // figure space
  '\u2009': ' ', // thin space
  '\u202f': ' ', // narrow no-break space
  '\u2022': '*', // •
  '\u00b7': '.', // ·
  '\u2192': '->', // →
  '\u2265': '>=', // ≥
  '\u2264': '<=', // ≤
  '\u00d7': 'x', // ×
  '\u00b0': ' deg', // ° (°C reads "deg C")
  '`': "'",
};
const TRANSLITERABLE = new RegExp(`[${Object.keys(TRANSLITERATIONS).join('')}]`, 'gu');

/** Replaces typographic punctuation with its GSM-7 look-alike; other characters are kept. */
export function transliterateToGsm7(text: string): string {
  return text.replace(TRANSLITERABLE, (char) => TRANSLITERATIONS[char] ?? char);
}

/**
 * The longest prefix of `text` (whole code points) costing at most `budget` units in
 * `encoding`. For GSM-7, returns undefined if a non-GSM-7 character comes before the budget
 * runs out (the message could not stay GSM-7).
 */
export function prefixWithinUnits(text: string, budget: number, encoding: SmsEncoding): string | undefined {
  let used = 0;
  let end = 0;
  for (const char of text) {
    if (used >= budget) break;
    if (encoding === 'GSM-7' && gsm7Septets(char) === undefined) return undefined;
    const cost = charUnits(char, encoding);
    if (used + cost > budget) break;
    used += cost;
    end += char.length;
  }
  return text.slice(0, end);
}
