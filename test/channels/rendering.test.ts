// Notices as people see them, through real renderers in Debian's chromium: the Teams card through
// Microsoft's adaptivecards renderer on the Teams light theme (headline contrast at least 4.5:1,
// no button cut at phone width, markdown in alert text never a live link), and the mail HTML at
// 375 and 600 px (no sideways scroll, the first action above the fold).
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERY_EVENTS, type DeliveryEvent } from '../../shared/channels/channel.ts';
import { TONE_HEX, TONE_TEXT_HEX } from '../../shared/channels/chat-format.ts';
import { renderEmail } from '../../shared/channels/email.ts';
import { renderTeams } from '../../shared/channels/teams.ts';
import { incidentSchema, type Incident } from '../../shared/incident.ts';
import { NOTICE_INCIDENTS, hugeChatIncident, noticeResolved } from '../fixtures/channels/incidents.ts';
import { TEAMS_PHONE_WIDTH, contrastRatio, hexToRgb, launchChromium, layOutMail, renderTeamsCard } from '../helpers/chromium.ts';

const incidentFor = (event: DeliveryEvent, incident: Incident): Incident => (event === 'resolved' ? noticeResolved(incident) : incident);

/** Every fixed incident under every event, plus the extremes: long ids, many links, a hostile title. */
const CASES: [string, DeliveryEvent, Incident][] = [
  ...Object.entries(NOTICE_INCIDENTS).flatMap(([name, incident]) => DELIVERY_EVENTS.map((event): [string, DeliveryEvent, Incident] => [name, event, incidentFor(event, incident)])),
  ['huge', 'opened', hugeChatIncident()],
  [
    'unbroken ids',
    'opened',
    incidentSchema.parse({
      ...NOTICE_INCIDENTS['azure-runbook'],
      title: `cpu-high-web on ${'/subscriptions/8d2f4a1c-5b3e-4f60-9a7b-c1d2e3f40516/resourcegroups/rg-shop-prod/providers/microsoft.compute/virtualmachines/'.repeat(3)}vm`,
      labels: { correlation: 'x'.repeat(400), [`k${'y'.repeat(200)}`]: 'v' },
    }),
  ],
  [
    'markdown in the text',
    'opened',
    incidentSchema.parse({
      ...NOTICE_INCIDENTS.alertmanager,
      title: 'Disk full [Re-authenticate](https://evil.example/login) **now**',
      summary: '[Runbook](https://evil.example/runbook) <https://evil.example> _x_',
      labels: { note: '[click](https://evil.example)' },
    }),
  ],
];

let browser: Browser | undefined;
let page: Page;

beforeAll(async () => {
  browser = await launchChromium();
  page = await browser.newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

describe('Teams card through the adaptivecards renderer, Teams light theme', () => {
  it.each(CASES)('%s · %s', async (_name, event, incident) => {
    const message = renderTeams(event, incident).message;
    const card = await renderTeamsCard(page, message, TEAMS_PHONE_WIDTH);
    expect(card.errors).toEqual([]);
    expect(card.title.text.length).toBeGreaterThan(0);
    // The headline reads on its banner: WCAG AA for text, computed from the rendered colours.
    expect(contrastRatio(card.title.color, card.title.background), `${card.title.color} on ${card.title.background}`).toBeGreaterThanOrEqual(4.5);
    // At most three buttons, none cut ("Alert …", "Se…") at phone width.
    expect(card.buttons.length).toBeLessThanOrEqual(3);
    expect(card.buttons.filter((button) => button.cut)).toEqual([]);
    // Markdown in alert text stays text: the renderer draws no link from it.
    expect(card.textLinks).toBe(0);
  });

  it('paints each tone on its own banner: resolved green, warning amber, critical red', async () => {
    const backgrounds = new Map<string, string>();
    for (const [name, event] of [
      ['azure-monitor', 'opened'],
      ['gcp-monitoring', 'opened'],
      ['grafana', 'opened'],
      ['azure-monitor', 'resolved'],
    ] as const) {
      const card = await renderTeamsCard(page, renderTeams(event, incidentFor(event, NOTICE_INCIDENTS[name]!)).message, TEAMS_PHONE_WIDTH);
      backgrounds.set(`${name} ${event}`, card.title.background);
    }
    expect(Object.fromEntries(backgrounds)).toEqual({
      'azure-monitor opened': 'rgb(255, 197, 178)',
      'gcp-monitoring opened': 'rgb(255, 226, 178)',
      'grafana opened': 'rgb(199, 222, 249)',
      'azure-monitor resolved': 'rgb(204, 255, 204)',
    });
  });
});

describe('mail HTML in chromium', () => {
  // A small phone (iPhone SE: 375 × 667) and a desktop reading pane 600 px wide, same fold.
  const VIEWPORTS = [
    { width: 375, height: 667 },
    { width: 600, height: 667 },
  ];

  describe.each(VIEWPORTS)('$width px', ({ width, height }) => {
    it.each(CASES)('%s · %s: no sideways scroll, first action above the fold', async (_name, event, incident) => {
      const mail = renderEmail(event, incident);
      const layout = await layOutMail(page, mail.html, width, height);
      expect(layout.scrollWidth).toBeLessThanOrEqual(layout.viewportWidth);
      if (incident.links.length > 0) {
        expect(layout.firstActionBottom).toBeDefined();
        expect(layout.firstActionBottom!).toBeLessThanOrEqual(height);
      }
    });
  });
});

describe('colours chosen for text read on white', () => {
  it('every tone text colour has at least 4.5:1 on white; the bars are decoration', () => {
    for (const [tone, hex] of Object.entries(TONE_TEXT_HEX)) {
      expect(contrastRatio(hexToRgb(hex), 'rgb(255, 255, 255)'), tone).toBeGreaterThanOrEqual(4.5);
    }
    // Teams' own Warning and Good text colours would not: the reason for the banners.
    expect(contrastRatio(hexToRgb('#F8D22A'), 'rgb(255, 255, 255)')).toBeLessThan(2);
    expect(Object.keys(TONE_HEX).sort()).toEqual(Object.keys(TONE_TEXT_HEX).sort());
  });
});
