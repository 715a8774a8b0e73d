// The local pipeline with a Slack channel in bot mode: the message ref lives in the SQLite
// database, so after a restart the resolve still edits the message posted before it (chat.update
// on a local Slack Web API) and replies in its thread.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocal, type RunningLocal } from '../../functions/local/start.ts';
import { validateConfig } from '../../shared/config/index.ts';
import { startFakeSlack, type FakeSlack } from '../helpers/slack-api.ts';

const TOKEN = 'xoxb-3333-4444-SecretLocalToken';
const CHANNEL = 'C0LOCAL123';
const firing = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'alertmanager', 'crashlooping-pod.json'), 'utf8');
const resolved = JSON.stringify(
  (() => {
    const payload = JSON.parse(firing) as { status: string; alerts: { status: string; endsAt: string }[] };
    payload.status = 'resolved';
    for (const alert of payload.alerts) Object.assign(alert, { status: 'resolved', endsAt: '2026-11-25T07:20:00Z' });
    return payload;
  })(),
);

describe('local pipeline, Slack bot mode', () => {
  let slack: FakeSlack;
  let dataDir: string;
  beforeAll(async () => {
    slack = await startFakeSlack({ token: TOKEN, channels: [CHANNEL] });
    dataDir = await mkdtemp(join(tmpdir(), 'tocsin-slack-bot-'));
  });
  afterAll(async () => {
    await slack.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const start = (): Promise<RunningLocal> =>
    startLocal({
      port: 0,
      dataDir,
      log: () => undefined,
      config: validateConfig({
        channels: { 'ops-chat': { type: 'slack', botToken: TOKEN, channelId: CHANNEL, apiUrl: slack.apiUrl } },
        routes: [{ channels: ['ops-chat'] }],
      }),
    });
  async function ingest(local: RunningLocal, body: string): Promise<void> {
    const response = await fetch(`${local.url}/v1/ingest/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(response.status).toBe(202);
    expect(await local.pipeline.drain(10_000)).toBe(true);
  }

  it('edits the message posted before a restart when the alert resolves', async () => {
    const first = await start();
    await ingest(first, firing);
    await first.stop();
    const [original] = slack.topLevel(CHANNEL);
    expect(original?.text).toMatch(/^🟠 ERROR: /);

    const second = await start();
    try {
      await ingest(second, resolved);
    } finally {
      await second.stop();
    }
    expect(slack.topLevel(CHANNEL)).toHaveLength(1);
    expect(original).toMatchObject({ edits: 1, text: expect.stringMatching(/^✅ RESOLVED: /) as unknown });
    expect(slack.replies(CHANNEL, original!.ts).map((reply) => reply.text)).toEqual([original!.text]);
  });
});
