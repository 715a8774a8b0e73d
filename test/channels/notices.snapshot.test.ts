// Snapshot of every channel × event over the fixed notice incidents (test/fixtures/channels):
// what a person receives, one file per channel, reviewed like code. A change to a notice shows
// here as a diff; `npx vitest run -u test/channels/notices.snapshot.test.ts` accepts it.
import { describe, expect, it } from 'vitest';
import { DELIVERY_EVENTS, type DeliveryEvent } from '../../shared/channels/channel.ts';
import type { NoticeState } from '../../shared/channels/notice.ts';
import { renderEmail } from '../../shared/channels/email.ts';
import { renderGoogleChat } from '../../shared/channels/google-chat.ts';
import { renderSlack } from '../../shared/channels/slack.ts';
import { renderSms } from '../../shared/channels/sms.ts';
import { renderTeams } from '../../shared/channels/teams.ts';
import type { Incident } from '../../shared/incident.ts';
import { NOTICE_INCIDENTS, noticeResolved } from '../fixtures/channels/incidents.ts';

/** Each event with the incident as it arrives for it: resolved notices carry the end. */
function incidentFor(event: DeliveryEvent, incident: Incident): Incident {
  return event === 'resolved' ? noticeResolved(incident) : incident;
}

const CHANNELS: Readonly<Record<string, (event: DeliveryEvent, incident: Incident, state?: NoticeState) => string>> = {
  slack: (event, incident, state) => JSON.stringify(renderSlack(event, incident, state).message, null, 2),
  teams: (event, incident, state) => JSON.stringify(renderTeams(event, incident, state).message, null, 2),
  'google-chat': (event, incident, state) => JSON.stringify(renderGoogleChat(event, incident, state).message, null, 2),
  email: (event, incident, state) => {
    const mail = renderEmail(event, incident, state);
    return [`Subject: ${mail.subject}`, '', mail.text, '---- html ----', mail.html].join('\n');
  },
  sms: (event, incident, state) => {
    const sms = renderSms(event, incident, state);
    return `${sms.text}\n(${sms.encoding}, ${sms.units} units)`;
  },
};

const STATES: readonly (readonly [DeliveryEvent, NoticeState])[] = [
  ['renotified', { reminder: 3 }],
  ['resolved', { acknowledgedBy: 'alice' }],
  ['resolved', { acknowledgedBy: 'bob', silencedUntil: '2026-11-25T12:00:00.000Z' }],
];

describe('notice snapshots: every channel × event over the fixed incidents', () => {
  it.each(Object.keys(CHANNELS))('%s', async (channel) => {
    const render = CHANNELS[channel]!;
    const sections = Object.entries(NOTICE_INCIDENTS).flatMap(([name, incident]) =>
      DELIVERY_EVENTS.map((event) => `==== ${name} · ${event} ====\n${render(event, incidentFor(event, incident))}\n`),
    );
    // The pipeline's own state on the first incident: which reminder, who acknowledged, what holds it.
    const [name, incident] = Object.entries(NOTICE_INCIDENTS)[0]!;
    for (const [event, state] of STATES) {
      sections.push(`==== ${name} · ${event} · ${JSON.stringify(state)} ====\n${render(event, incidentFor(event, incident), state)}\n`);
    }
    await expect(sections.join('\n')).toMatchFileSnapshot(`__snapshots__/notices.${channel}.txt`);
  });
});
