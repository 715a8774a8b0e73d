// Snapshot of every channel × event over the fixed notice incidents (test/fixtures/channels):
// what a person receives, one file per channel, reviewed like code. A change to a notice shows
// here as a diff; `npx vitest run -u test/channels/notices.snapshot.test.ts` accepts it.
import { describe, expect, it } from 'vitest';
import { DELIVERY_EVENTS, type DeliveryEvent } from '../../shared/channels/channel.ts';
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

const CHANNELS: Readonly<Record<string, (event: DeliveryEvent, incident: Incident) => string>> = {
  slack: (event, incident) => JSON.stringify(renderSlack(event, incident).message, null, 2),
  teams: (event, incident) => JSON.stringify(renderTeams(event, incident).message, null, 2),
  'google-chat': (event, incident) => JSON.stringify(renderGoogleChat(event, incident).message, null, 2),
  email: (event, incident) => {
    const mail = renderEmail(event, incident);
    return [`Subject: ${mail.subject}`, '', mail.text, '---- html ----', mail.html].join('\n');
  },
  sms: (event, incident) => {
    const sms = renderSms(event, incident);
    return `${sms.text}\n(${sms.encoding}, ${sms.units} units)`;
  },
};

describe('notice snapshots: every channel × event over the fixed incidents', () => {
  it.each(Object.keys(CHANNELS))('%s', async (channel) => {
    const render = CHANNELS[channel]!;
    const sections = Object.entries(NOTICE_INCIDENTS).flatMap(([name, incident]) =>
      DELIVERY_EVENTS.map((event) => `==== ${name} · ${event} ====\n${render(event, incidentFor(event, incident))}\n`),
    );
    await expect(sections.join('\n')).toMatchFileSnapshot(`__snapshots__/notices.${channel}.txt`);
  });
});
