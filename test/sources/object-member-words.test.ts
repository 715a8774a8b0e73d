// Words from a payload that happen to name Object.prototype members (`constructor`, `toString`,
// `hasOwnProperty`, `valueOf`) are just unknown words: a lookup table keyed by payload text must
// not find Object's own function there and put it in an incident (or throw on it).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PayloadRejectedError } from '../../shared/errors.ts';
import { incidentSchema, type Incident, type SourceKind } from '../../shared/incident.ts';
import { normalize } from '../../shared/normalize.ts';

const MEMBER_WORDS = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__'];
const receivedAt = new Date('2026-11-25T12:00:00Z');

function fixtureText(source: SourceKind, name: string): string {
  return readFileSync(new URL(`../fixtures/${source}/${name}`, import.meta.url), 'utf8');
}

function incidentsOf(source: SourceKind, text: string): Incident[] {
  const incidents = normalize(JSON.parse(text), { receivedAt, source }).incidents;
  for (const incident of incidents) expect(incidentSchema.parse(incident)).toStrictEqual(incident);
  return incidents;
}

describe('payload words that name Object members', () => {
  it.each(MEMBER_WORDS)('cloudwatch: a `severity=%s` token is ignored; the state decides', (word) => {
    const text = fixtureText('cloudwatch', 'bare-anomaly-detection-alarm.json').replace(
      '"AlarmDescription": "Orders DB CPU outside its usual band"',
      `"AlarmDescription": "Orders DB CPU outside its usual band severity=${word}"`,
    );
    const [incident] = incidentsOf('cloudwatch', text);
    expect(incident?.severity).toBe(incidentsOf('cloudwatch', fixtureText('cloudwatch', 'bare-anomaly-detection-alarm.json'))[0]?.severity);
  });

  it.each(MEMBER_WORDS)('alertmanager: a `severity: %s` label maps to the default, warning', (word) => {
    const text = fixtureText('alertmanager', 'firing-group.json').replaceAll('"severity": "critical"', `"severity": ${JSON.stringify(word)}`);
    const [first] = incidentsOf('alertmanager', text);
    expect(first?.severity).toBe('warning');
    expect(first?.labels.severity).toBe(word);
  });

  it.each(MEMBER_WORDS)('azure-monitor: an activity-log level of %s is kept as text, not thrown on', (word) => {
    const text = fixtureText('azure-monitor', 'activity-log-administrative.json').replace('"level": "Informational"', `"level": ${JSON.stringify(word)}`);
    const [incident] = incidentsOf('azure-monitor', text);
    expect(typeof incident?.severity).toBe('string');
  });

  it.each(MEMBER_WORDS)('azure-monitor: a log search v1 Severity of %s is refused with a reason', (word) => {
    const text = fixtureText('azure-monitor', 'log-search-v1-flat.json').replace('"Severity": "Warning"', `"Severity": ${JSON.stringify(word)}`);
    let error: unknown;
    try {
      normalize(JSON.parse(text), { receivedAt, source: 'azure-monitor' });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(PayloadRejectedError);
    expect((error as PayloadRejectedError).rejections[0]?.reason).toContain('expected "0"–"4", Critical, Error, Warning or Informational');
  });
});
