// Every channel renders every incident of every source fixture, firing and resolved notices
// alike, within its destination's limits and with the incident's title in it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DELIVERY_EVENTS } from '../../shared/channels/channel.ts';
import { renderConsoleLine } from '../../shared/channels/console.ts';
import { renderEmail } from '../../shared/channels/email.ts';
import { GOOGLE_CHAT_MAX_BODY_BYTES, renderGoogleChat } from '../../shared/channels/google-chat.ts';
import { SLACK_LIMITS, renderSlack } from '../../shared/channels/slack.ts';
import { renderSms } from '../../shared/channels/sms.ts';
import { TEAMS_MAX_BODY_BYTES, escapeTeamsMarkdown, renderTeams } from '../../shared/channels/teams.ts';
import { SOURCE_KINDS, type Incident } from '../../shared/incident.ts';
import { normalizeBytes } from '../../shared/normalize.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const receivedAt = new Date('2026-11-25T02:00:00.000Z');

const cases: [string, Incident][] = SOURCE_KINDS.flatMap((kind) =>
  readdirSync(join(FIXTURES, kind))
    .filter((file) => file.endsWith('.json') && !file.startsWith('rejected-'))
    .flatMap((file) => normalizeBytes(readFileSync(join(FIXTURES, kind, file)), { receivedAt, source: kind }).incidents.map((incident, index): [string, Incident] => [`${kind}/${file}#${String(index)}`, incident])),
);

const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));
/** The first 40 characters of the title, as any channel shows it (Slack and HTML escape &<>). */
const titleStart = (incident: Incident): string => incident.title.slice(0, 40).replace(/[&<>].*$/s, '');

describe('every channel renders every fixture', () => {
  it('has fixtures of every source, firing and resolved', () => {
    for (const kind of SOURCE_KINDS) {
      const statuses = new Set(cases.filter(([, incident]) => incident.source.kind === kind).map(([, incident]) => incident.status));
      expect([kind, [...statuses].sort()]).toEqual([kind, ['firing', 'resolved']]);
    }
  });

  describe.each(cases)('%s', (_name, incident) => {
    it.each(DELIVERY_EVENTS)('%s', (event) => {
      const slack = renderSlack(event, incident).message;
      expect(slack.blocks.length + slack.attachments[0].blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
      expect(slack.text.length).toBeLessThanOrEqual(SLACK_LIMITS.textChars);
      expect(JSON.stringify(slack)).toContain(titleStart(incident));

      const teams = renderTeams(event, incident).message;
      expect(bytes(teams)).toBeLessThanOrEqual(TEAMS_MAX_BODY_BYTES);
      expect(JSON.stringify(teams)).toContain(JSON.stringify(escapeTeamsMarkdown(titleStart(incident))).slice(1, -1));

      const chat = renderGoogleChat(event, incident).message;
      expect(bytes(chat)).toBeLessThanOrEqual(GOOGLE_CHAT_MAX_BODY_BYTES);

      const sms = renderSms(event, incident);
      expect(Buffer.byteLength(sms.text)).toBeLessThanOrEqual(1_600);
      expect(Array.from({ length: sms.text.length }, (_, index) => sms.text.charCodeAt(index)).filter((code) => code < 0x20)).toEqual([]);

      const mail = renderEmail(event, incident);
      expect(mail.subject).not.toMatch(/[\r\n]/);
      // Resolved reads as resolved from the first word; anything else names the severity.
      const over = event === 'resolved' || (incident.status === 'resolved' && event !== 'flapping');
      expect(mail.subject).toMatch(over ? /^✅ (\[TEST\] )?RESOLVED: / : new RegExp(`^\\S+ (\\[TEST\\] )?(STILL FIRING · |FLAPPING · )?${incident.severity.toUpperCase()}: `));
      expect(mail.text).toContain(incident.title.slice(0, 40));

      const line = renderConsoleLine(event, incident);
      expect(line).not.toContain('\n');
      expect(line).toContain(incident.fingerprint.split(':')[1]!.slice(0, 12));
    });
  });
});
