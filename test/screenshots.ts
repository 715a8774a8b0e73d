// `npm run screenshots`: one PNG per channel, firing and resolved, into docs/screenshots/, from
// the renderers the rendering test drives (test/helpers/chromium.ts): the Teams card through
// Microsoft's adaptivecards renderer on the Teams light theme, the mail in chromium at phone
// width (375 × 667, what shows before scrolling), and page approximations of Slack, Google Chat
// and SMS (those services publish no renderer). The README shows them.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { renderEmail } from '../shared/channels/email.ts';
import { renderGoogleChat } from '../shared/channels/google-chat.ts';
import { renderSlack } from '../shared/channels/slack.ts';
import { renderSms } from '../shared/channels/sms.ts';
import { renderTeams } from '../shared/channels/teams.ts';
import type { DeliveryEvent } from '../shared/channels/channel.ts';
import type { Incident } from '../shared/incident.ts';
import { NOTICE_INCIDENTS, noticeResolved } from './fixtures/channels/incidents.ts';
import { TEAMS_PHONE_WIDTH, googleChatPage, launchChromium, layOutMail, renderTeamsCard, slackPage, smsPage } from './helpers/chromium.ts';

const OUT = join(import.meta.dirname, '..', 'docs', 'screenshots');
/** The incident shown: a critical CloudWatch alarm with a runbook in its description and a metric. */
const FIRING = NOTICE_INCIDENTS['cloudwatch-runbook']!;
const WIDTH = 420;

type Shot = (page: Page, event: DeliveryEvent, incident: Incident, file: string) => Promise<void>;

const shootElement = async (page: Page, selector: string, file: string): Promise<void> => {
  await page.locator(selector).screenshot({ path: file });
};

const SHOTS: Readonly<Record<string, Shot>> = {
  teams: async (page, event, incident, file) => {
    await page.setViewportSize({ width: TEAMS_PHONE_WIDTH + 32, height: 900 });
    await renderTeamsCard(page, renderTeams(event, incident).message, TEAMS_PHONE_WIDTH);
    await shootElement(page, '#host', file);
  },
  email: async (page, event, incident, file) => {
    await layOutMail(page, renderEmail(event, incident).html, 375, 667);
    await page.screenshot({ path: file });
  },
  slack: async (page, event, incident, file) => {
    await page.setContent(slackPage(renderSlack(event, incident).message, WIDTH));
    await shootElement(page, '#shot', file);
  },
  'google-chat': async (page, event, incident, file) => {
    await page.setContent(googleChatPage(renderGoogleChat(event, incident).message, WIDTH));
    await shootElement(page, '#shot', file);
  },
  sms: async (page, event, incident, file) => {
    await page.setContent(smsPage(renderSms(event, incident), 340));
    await shootElement(page, '#shot', file);
  },
};

await mkdir(OUT, { recursive: true });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ deviceScaleFactor: 1 });
  for (const [channel, shoot] of Object.entries(SHOTS)) {
    for (const [label, event, incident] of [
      ['firing', 'opened', FIRING],
      ['resolved', 'resolved', noticeResolved(FIRING)],
    ] as const) {
      const file = join(OUT, `${channel}-${label}.png`);
      await shoot(page, event, incident, file);
      process.stdout.write(`${file}\n`);
    }
  }
} finally {
  await browser.close();
}
