// Real renderers in Debian's chromium (driven by playwright-core; no browser is downloaded):
// Teams cards through Microsoft's `adaptivecards` renderer with the Teams light theme's colours,
// mail HTML as a phone or desktop browser lays it out, and simple page approximations of Slack,
// Google Chat and SMS (those services publish no renderer). Used by test/channels/rendering.test.ts
// and by `npm run screenshots` (test/screenshots.ts).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { GoogleChatMessage } from '../../shared/channels/google-chat.ts';
import type { SlackBlock, SlackMessage } from '../../shared/channels/slack.ts';
import type { SmsMessage } from '../../shared/channels/sms.ts';
import type { TeamsMessage } from '../../shared/channels/teams.ts';

export const CHROMIUM_BIN = process.env['CHROMIUM_BIN'] ?? '/usr/bin/chromium';

/** Chromium, or an error that names the Debian package (the same words as test/preflight.ts). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_BIN)) {
    throw new Error(`the rendering tests need Debian's chromium at ${CHROMIUM_BIN} (or set CHROMIUM_BIN); install it with: sudo apt-get install -y chromium`);
  }
  // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM_BIN, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

const require = createRequire(import.meta.url);
const ADAPTIVE_CARDS_JS = require.resolve('adaptivecards/dist/adaptivecards.min.js');
// Teams renders card text as markdown; the adaptivecards renderer uses markdown-it when present.
// (Its package exports no browser build, so the file is found beside its package.json.)
const MARKDOWN_IT_JS = join(dirname(require.resolve('markdown-it/package.json')), 'dist/browser/markdown-it.umd.min.js');
const PAGE_JS = new URL('chromium-page.js', import.meta.url).pathname;

// The Teams light theme's colours (foreground per colour name, background per container style),
// as in Microsoft's Teams light host config for Adaptive Cards.
const TEAMS_FOREGROUND = {
  default: { default: '#252424', subtle: '#BF252424' },
  dark: { default: '#252424', subtle: '#BF252424' },
  light: { default: '#FFFFFF', subtle: '#FFF3F2F1' },
  accent: { default: '#6264A7', subtle: '#8B8CC7' },
  good: { default: '#92C353', subtle: '#E592C353' },
  warning: { default: '#F8D22A', subtle: '#E5F8D22A' },
  attention: { default: '#C4314B', subtle: '#E5C4314B' },
};
const style = (backgroundColor: string) => ({ backgroundColor, foregroundColors: TEAMS_FOREGROUND });

export const TEAMS_LIGHT_HOST_CONFIG = {
  supportsInteractivity: true,
  fontFamily: "'Segoe UI', 'Noto Sans', 'DejaVu Sans', sans-serif",
  fontSizes: { small: 12, default: 14, medium: 14, large: 18, extraLarge: 24 },
  fontWeights: { lighter: 200, default: 400, bolder: 600 },
  spacing: { small: 8, default: 12, medium: 16, large: 20, extraLarge: 24, padding: 16 },
  separator: { lineThickness: 1, lineColor: '#EEEEEE' },
  containerStyles: {
    default: style('#FFFFFF'),
    emphasis: style('#F9F8F7'),
    accent: style('#C7DEF9'),
    good: style('#CCFFCC'),
    attention: style('#FFC5B2'),
    warning: style('#FFE2B2'),
  },
  actions: {
    maxActions: 6,
    spacing: 'Default',
    buttonSpacing: 8,
    showCard: { actionMode: 'Inline', inlineTopMargin: 16, style: 'emphasis' },
    actionsOrientation: 'Horizontal',
    actionAlignment: 'Left',
  },
  factSet: { title: { weight: 'Bolder', wrap: true }, value: { wrap: true }, spacing: 16 },
};

/** Width of a Teams card on a phone (a 360 px screen less the chat's margins). */
export const TEAMS_PHONE_WIDTH = 320;

export interface RenderedTeamsCard {
  /** Parse errors the renderer reported (unknown elements, bad values). */
  readonly errors: string[];
  /** The headline's colour and the background it is painted on, as CSS `rgb[a](...)`. */
  readonly title: { readonly text: string; readonly color: string; readonly background: string };
  readonly buttons: readonly { readonly text: string; readonly cut: boolean }[];
  /** Anchors the card text produced (markdown turned live): must be none. */
  readonly textLinks: number;
}

/** Renders the card with the real renderer into a `width`-px column and measures it. */
export async function renderTeamsCard(page: Page, message: TeamsMessage, width: number): Promise<RenderedTeamsCard> {
  await page.setContent(`<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0;padding:16px;background:#F5F5F5"><div id="host" style="width:${width}px;background:#FFFFFF;border-radius:4px;overflow:hidden;box-shadow:0 1px 2px rgba(0,0,0,.2)"></div></body></html>`);
  await page.addScriptTag({ path: MARKDOWN_IT_JS });
  await page.addScriptTag({ path: ADAPTIVE_CARDS_JS });
  await page.addScriptTag({ path: PAGE_JS });
  // The measuring runs in the page (./chromium-page.js: DOM code, kept out of this Node program).
  const args = JSON.stringify({ card: message.attachments[0].content, hostConfig: TEAMS_LIGHT_HOST_CONFIG });
  return page.evaluate(`window.tocsinRenderTeamsCard(${args})`);
}

export interface MailLayout {
  /** Document width: more than the viewport means a sideways scroll. */
  readonly scrollWidth: number;
  readonly viewportWidth: number;
  /** Bottom edge of the first link (the first action), px from the top; undefined without one. */
  readonly firstActionBottom?: number;
  readonly firstActionText?: string;
}

/** Lays the mail HTML out in a `width` × `height` viewport, as a phone's or desktop's mail view does. */
export async function layOutMail(page: Page, html: string, width: number, height: number): Promise<MailLayout> {
  await page.setViewportSize({ width, height });
  await page.setContent(html);
  await page.addScriptTag({ path: PAGE_JS });
  return page.evaluate('window.tocsinMailLayout()');
}

// ---------------------------------------------------------------------------------------------
// Contrast (WCAG 2.x)

function channels(css: string): [number, number, number, number] {
  const match = /rgba?\(([^)]+)\)/.exec(css);
  if (match === null) throw new Error(`not a CSS rgb() colour: ${css}`);
  const [r = 0, g = 0, b = 0, a = 1] = match[1]!.split(/[ ,/]+/).filter((part) => part !== '').map(Number);
  return [r, g, b, a];
}

function luminance([r, g, b]: readonly number[]): number {
  const linear = (value: number): number => {
    const c = value / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * linear(r!) + 0.7152 * linear(g!) + 0.0722 * linear(b!);
}

/** Contrast ratio of text `foreground` (blended by its alpha) on an opaque `background`, both CSS rgb()/rgba(). */
export function contrastRatio(foreground: string, background: string): number {
  const [br, bg, bb] = channels(background);
  const [fr, fg, fb, alpha] = channels(foreground);
  const blend = (f: number, b: number): number => f * alpha + b * (1 - alpha);
  const text = luminance([blend(fr, br), blend(fg, bg), blend(fb, bb)]);
  const back = luminance([br, bg, bb]);
  return (Math.max(text, back) + 0.05) / (Math.min(text, back) + 0.05);
}

/** `#RRGGBB` as CSS `rgb(r, g, b)`. */
export function hexToRgb(hex: string): string {
  const value = Number.parseInt(hex.slice(1), 16);
  return `rgb(${(value >> 16) & 255}, ${(value >> 8) & 255}, ${value & 255})`;
}

// ---------------------------------------------------------------------------------------------
// Approximations of the channels that publish no renderer (for the screenshots only)

const escape = (text: string): string => text.replace(/[&<>"]/g, (char) => `&#${char.charCodeAt(0)};`);
/** Slack and Google Chat send text already escaped for their own markup (`&lt;`): shown as such. */
const slackText = (text: string): string =>
  text
    .split('\n')
    .map((line) => line.replace(/\*([^*]+)\*/g, '<b>$1</b>'))
    .join('<br>');

const PAGE = (body: string, width: number): string =>
  `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0;padding:16px;background:#F8F8F8;font:15px/1.4 'Noto Sans','DejaVu Sans',sans-serif;color:#1D1C1D"><div id="shot" style="width:${width}px">${body}</div></body></html>`;

function slackBlock(block: SlackBlock): string {
  switch (block.type) {
    case 'header':
      return `<div style="font-size:18px;font-weight:700;margin:4px 0">${block.text.text}</div>`;
    case 'context':
      return `<div style="font-size:13px;color:#616061;margin:4px 0">${block.elements.map((element) => slackText(element.text)).join(' ')}</div>`;
    case 'actions':
      return `<div style="margin:8px 0">${block.elements
        .map((button) => `<span style="display:inline-block;margin:0 8px 8px 0;padding:4px 12px;border-radius:4px;font-weight:700;font-size:14px;${button.style === 'primary' ? 'background:#007A5A;color:#fff;border:1px solid #007A5A' : 'border:1px solid #BBBBBB;background:#fff'}">${button.text.text}</span>`)
        .join('')}</div>`;
    default:
      return 'text' in block ? `<div style="margin:4px 0">${slackText(block.text.text)}</div>` : '';
  }
}

/** Slack's message layout approximated: blocks, then the attachment with its colour bar. */
export function slackPage(message: SlackMessage, width: number): string {
  const [attachment] = message.attachments;
  return PAGE(
    `<div style="background:#fff;padding:12px 16px;border-radius:6px">${message.blocks.map(slackBlock).join('')}<div style="border-left:4px solid ${attachment.color};padding-left:12px;margin-top:8px">${attachment.blocks.map(slackBlock).join('')}</div></div>`,
    width,
  );
}

/** Google Chat's card approximated: header title and subtitle, widgets, collapsed sections closed. */
export function googleChatPage(message: GoogleChatMessage, width: number): string {
  const { header, sections } = message.cardsV2[0].card;
  const widgets = sections
    .map((section) => {
      if (section.collapsible === true) return `<div style="border-top:1px solid #DADCE0;padding:10px 16px;color:#1A73E8;font-size:14px">${escape(section.header ?? 'Details')} ▾</div>`;
      return section.widgets
        .map((widget) => {
          if ('decoratedText' in widget) {
            const bottom = widget.decoratedText.bottomLabel === undefined ? '' : `<div style="font-size:12px;color:#5F6368">${widget.decoratedText.bottomLabel}</div>`;
            return `<div style="padding:6px 16px">${widget.decoratedText.text}${bottom}</div>`;
          }
          if ('textParagraph' in widget) return `<div style="padding:6px 16px">${widget.textParagraph.text}</div>`;
          return `<div style="padding:6px 16px">${widget.buttonList.buttons
            .map((button) => `<span style="display:inline-block;margin:0 8px 8px 0;padding:6px 16px;border-radius:18px;font-size:14px;font-weight:500;${button.type === 'FILLED' ? 'background:#1A73E8;color:#fff' : 'border:1px solid #DADCE0;color:#1A73E8'}">${escape(button.text)}</span>`)
            .join('')}</div>`;
        })
        .join('');
    })
    .join('');
  return PAGE(
    `<div style="background:#fff;border:1px solid #DADCE0;border-radius:8px;overflow:hidden"><div style="padding:14px 16px 6px"><div style="font-size:16px;font-weight:500;white-space:nowrap;overflow:hidden;text-overflow:ellipsis">${escape(header.title)}</div><div style="font-size:13px;color:#5F6368;white-space:nowrap;overflow:hidden;text-overflow:ellipsis">${escape(header.subtitle)}</div></div>${widgets}</div>`,
    width,
  );
}

/** The text as a phone shows it in a message bubble, with its encoding and size. */
export function smsPage(message: SmsMessage, width: number): string {
  return PAGE(
    `<div style="background:#fff;padding:16px;border-radius:12px"><div style="font-size:12px;color:#8E8E93;text-align:center;margin-bottom:8px">Text Message</div><div style="background:#E9E9EB;border-radius:18px;padding:8px 12px;max-width:80%;word-wrap:break-word">${escape(message.text)}</div><div style="font-size:11px;color:#8E8E93;margin-top:6px">${message.encoding}, ${message.units} units, 1 segment</div></div>`,
    width,
  );
}
