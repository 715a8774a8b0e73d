// Plain-text helpers every channel renders with, so a severity, an event or a label set reads
// the same on Slack, in a mail and on a phone. Lengths are counted in code points (never
// UTF-16 units) so a cut never splits an emoji into a lone surrogate.
import type { IncidentMetric, Severity } from '../incident.ts';

export const ELLIPSIS = '…';

/**
 * `text` cut to at most `max` code points, ending with `marker` when something was cut.
 * Whitespace before the marker is dropped, so a cut reads "CPU high on…", not "CPU high …".
 */
export function truncate(text: string, max: number, marker: string = ELLIPSIS): string {
  const points = Array.from(text);
  if (points.length <= max) return text;
  const markerPoints = Array.from(marker);
  if (max <= markerPoints.length) return markerPoints.slice(0, Math.max(0, max)).join('');
  return points.slice(0, max - markerPoints.length).join('').trimEnd() + marker;
}

/** Number of code points, the unit `truncate` counts in. */
export function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

// C0 and C1 control characters (CR, LF, tab, ESC of ANSI sequences, ...) and the Unicode line
// and paragraph separators: none may reach a one-line field (a mail subject, a log line).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_OR_SPACE_RUN = /[\s\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

// Bidirectional formatting controls: LRE, RLE, PDF, LRO, RLO (U+202A–U+202E), the isolates
// LRI, RLI, FSI, PDI (U+2066–U+2069), the marks LRM, RLM (U+200E, U+200F) and the Arabic letter
// mark (U+061C). An override makes `gnp.exe` show as `exe.png` (Trojan Source); no alert needs
// them, so every channel drops them (channel.ts, defineChannel).
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;

export function stripBidiControls(text: string): string {
  return text.replace(BIDI_CONTROLS, '');
}

/** One line of text: control characters and whitespace runs become one space; trimmed. */
export function oneLine(text: string): string {
  return text.replace(CONTROL_OR_SPACE_RUN, ' ').trim();
}

const SEVERITY_EMOJI: Readonly<Record<Severity, string>> = {
  critical: '🔴',
  error: '🟠',
  warning: '🟡',
  info: '🔵',
};

export function severityEmoji(severity: Severity): string {
  return SEVERITY_EMOJI[severity];
}

/**
 * A metric as facts, e.g. `AWS/EC2 CPUUtilization = 92.5 Percent (threshold > 80)`, for the
 * incident-tool channels' custom details; notices use metricInWords (./notice.ts).
 */
export function formatMetric(metric: IncidentMetric | undefined): string | undefined {
  if (!metric) return undefined;
  const name = [metric.namespace, metric.name].filter((part) => part !== undefined).join(' ');
  if (name === '' && metric.value === undefined) return undefined;
  const unit = metric.unit !== undefined ? ` ${metric.unit}` : '';
  let text = name === '' ? 'value' : name;
  if (metric.value !== undefined) text += ` = ${metric.value}${unit}`;
  if (metric.threshold !== undefined) {
    text += ` (threshold ${metric.operator !== undefined ? `${metric.operator} ` : ''}${metric.threshold})`;
  }
  return oneLine(text);
}

/** The hash part of a `<kind>:<hex>` fingerprint, cut to `length` characters, for people to quote. */
export function shortFingerprint(fingerprint: string, length = 12): string {
  const hash = fingerprint.slice(fingerprint.lastIndexOf(':') + 1);
  return hash.slice(0, length);
}
