// Snapshot of every channel's digest layout (shared/channels/notice.ts buildDigestNotice, one
// layout per channel): a small mixed digest over the fixed notice incidents, and a storm digest
// of 300 that must stay within each channel's limits with "+N more". Accept a change with
// `npx vitest run -u test/channels/digests.snapshot.test.ts`.
import { describe, expect, it } from 'vitest';
import { renderConsoleDigest } from '../../shared/channels/console.ts';
import { renderEmailDigest } from '../../shared/channels/email.ts';
import { GOOGLE_CHAT_MAX_BODY_BYTES, renderGoogleChatDigest } from '../../shared/channels/google-chat.ts';
import { buildDigestNotice, type DigestNotice } from '../../shared/channels/notice.ts';
import { SLACK_LIMITS, renderSlackDigest } from '../../shared/channels/slack.ts';
import { renderSmsDigest } from '../../shared/channels/sms.ts';
import { TEAMS_MAX_BODY_BYTES, renderTeamsDigest } from '../../shared/channels/teams.ts';
import { webhookChannel } from '../../shared/channels/webhook.ts';
import { digestOrder, type Digest, type DigestItem } from '../../shared/grouping/group.ts';
import { NOTICE_INCIDENTS, firing, noticeResolved } from '../fixtures/channels/incidents.ts';

function digestOf(items: DigestItem[]): Digest {
  return { groupId: 'g0123456789abcdef01234567', groupLabels: [{ key: 'alertname', value: 'HighCPU' }], sequence: 3, items: [...items].sort(digestOrder) };
}

const MIXED = digestOf(
  Object.values(NOTICE_INCIDENTS)
    .slice(0, 6)
    .map((incident, index): DigestItem =>
      index % 3 === 2
        ? { event: 'resolved', transitionId: 'v2.1', incident: noticeResolved(incident) }
        : { event: 'opened', transitionId: 'v1.1', incident },
    ),
);

const STORM = digestOf(
  Array.from({ length: 300 }, (_, index): DigestItem => ({
    event: 'opened',
    transitionId: 'v1.1',
    incident: firing('cloudwatch', {
      fingerprint: `cloudwatch:storm-${String(index).padStart(3, '0')}`,
      title: `Storm alarm ${String(index).padStart(3, '0')} on web-${String(index)}`,
      severity: index % 7 === 0 ? 'critical' : 'warning',
    }),
  })),
);

const CHANNELS: Readonly<Record<string, (digest: DigestNotice) => string>> = {
  console: (digest) => renderConsoleDigest(digest, new Date('2026-11-25T10:02:00Z')),
  slack: (digest) => JSON.stringify(renderSlackDigest(digest).message, null, 2),
  teams: (digest) => JSON.stringify(renderTeamsDigest(digest).message, null, 2),
  'google-chat': (digest) => JSON.stringify(renderGoogleChatDigest(digest).message, null, 2),
  email: (digest) => {
    const mail = renderEmailDigest(digest);
    return [`Subject: ${mail.subject}`, '', mail.text, '---- html ----', mail.html].join('\n');
  },
  sms: (digest) => {
    const sms = renderSmsDigest(digest);
    return `${sms.text}\n(${sms.encoding}, ${sms.units} units)`;
  },
};

describe('digest snapshots: every channel lays out a digest', () => {
  it.each(Object.keys(CHANNELS))('%s', async (channel) => {
    const render = CHANNELS[channel]!;
    await expect(`==== mixed ====\n${render(buildDigestNotice(MIXED))}\n`).toMatchFileSnapshot(`__snapshots__/digests.${channel}.txt`);
  });
});

describe('a digest of 300 stays within each channel limit and counts what it leaves out', () => {
  const notice = buildDigestNotice(STORM);

  it('orders worst first and says how many in the headline', () => {
    expect(notice.headline).toBe('🔴 300 alerts · 300 firing · alertname=HighCPU');
    expect(notice.lines[0]?.label).toBe('CRITICAL');
    expect(notice.lines.at(-1)?.label).toBe('WARNING');
  });

  it('slack: ≤50 blocks, sections ≤3000, header ≤150, "+N more"', () => {
    const { message } = renderSlackDigest(notice);
    expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    for (const block of message.blocks) {
      if (block.type === 'section' && 'text' in block) expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionChars);
      if (block.type === 'header') expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerChars);
    }
    const text = JSON.stringify(message);
    expect(text).toMatch(/\+\d+ more/);
    expect(text.length).toBeLessThan(SLACK_LIMITS.textChars);
  });

  it('teams and google chat: within their body limits, "+N more"', () => {
    const teams = JSON.stringify(renderTeamsDigest(notice).message);
    expect(Buffer.byteLength(teams)).toBeLessThanOrEqual(TEAMS_MAX_BODY_BYTES);
    expect(teams).toMatch(/\+\d+ more/);
    const chat = JSON.stringify(renderGoogleChatDigest(notice).message);
    expect(Buffer.byteLength(chat)).toBeLessThanOrEqual(GOOGLE_CHAT_MAX_BODY_BYTES);
    expect(chat).toMatch(/\+\d+ more/);
  });

  it('sms: one segment, "+N more"', () => {
    const sms = renderSmsDigest(notice);
    expect(sms.units).toBeLessThanOrEqual(sms.encoding === 'GSM-7' ? 160 : 70);
    expect(sms.text).toMatch(/^\[CRIT\] 300 ALERTS \(300 firing\) alertname=HighCPU: .*; \+\d+ more$/);
  });

  it('email lists 200 and counts the rest', () => {
    expect(renderEmailDigest(notice).text).toContain('+100 more');
  });

  it('webhook passes every incident on in full', () => {
    const rendered = webhookChannel.renderDigest?.(notice);
    const body = JSON.parse(rendered?.body ?? '{}') as { event: string; digest: { items: unknown[]; group: Record<string, string>; sequence: number } };
    expect(body.event).toBe('digest');
    expect(body.digest.items).toHaveLength(300);
    expect(body.digest.group).toEqual({ alertname: 'HighCPU' });
    expect(body.digest.sequence).toBe(3);
  });
});
