// The incidents page in a real browser (Debian's chromium through playwright-core, nothing
// downloaded), on the real `tocsin start` process with a token: the sign-in form sets a session
// cookie and drops the token from the address; open incidents come first with their state and
// timeline; alert text is shown as text, never as markup; clicking Acknowledge and creating a
// silence from the page work; another site's page cannot do either with the same browser.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentRecord } from '../../shared/dedup/record.ts';
import { alertmanagerGroup, startCli, startCountingReceiver, waitFor, type CountingReceiver, type RunningCli } from '../helpers/cli-process.ts';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'page-test-token-5f1c0e0b9d7a4e21';

let dir: string;
let receiver: CountingReceiver;
let server: RunningCli | undefined;
let browser: Browser | undefined;
let otherSite: Server | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tocsin-page-'));
  receiver = await startCountingReceiver();
});
afterAll(async () => {
  await browser?.close();
  server?.child.kill('SIGKILL');
  otherSite?.close();
  await receiver.close();
  await rm(dir, { recursive: true, force: true });
});

async function post(path: string, body: string): Promise<string[]> {
  const response = await fetch(`${server?.url ?? ''}${path}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body });
  expect(response.status).toBe(202);
  return ((await response.json()) as { fingerprints: string[] }).fingerprints;
}

async function api<T>(path: string): Promise<T> {
  return (await (await fetch(`${server?.url ?? ''}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as T;
}

function alertmanagerAlert(name: string, severity: string, summary: string): string {
  const body = JSON.parse(alertmanagerGroup([name], 'firing', new Date(Date.now() - 5 * 60_000).toISOString())) as {
    alerts: { labels: Record<string, string>; annotations: Record<string, string> }[];
  };
  for (const alert of body.alerts) {
    alert.labels['alertname'] = name;
    alert.labels['severity'] = severity;
    alert.annotations['summary'] = summary;
  }
  return JSON.stringify(body);
}

describe('the incidents page in headless chromium', () => {
  it('signs in, shows open incidents first with state and timeline, escapes alert text, acknowledges and silences by click', async () => {
    const config = join(dir, 'tocsin.yaml');
    await writeFile(config, ['ingest: { token: "' + TOKEN + '" }', 'channels:', `  hook: { type: webhook, url: "${receiver.url}/hook" }`, 'routes:', '  - channels: [hook]', 'server: { publicUrl: "https://tocsin.example.com/" }', ''].join('\n'));
    server = await startCli(['--config', config, '--data', join(dir, 'data')]);
    const [database = ''] = await post('/v1/ingest/alertmanager', alertmanagerAlert('DatabaseDown', 'critical', 'orders-db is not answering'));
    const [disk = ''] = await post('/v1/ingest/alertmanager', alertmanagerAlert('DiskAlmostFull', 'warning', 'disk 91% full <img src=x onerror="document.title=\'pwned\'">'));
    const [old = ''] = await post('/v1/ingest/alertmanager', alertmanagerGroup(['old'], 'resolved', new Date(Date.now() - 60_000).toISOString(), new Date().toISOString()));
    await waitFor(async () => (await api<{ incidents: IncidentRecord[] }>('/v1/incidents')).incidents.length === 3, 15_000, 'three incidents recorded');

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    const scriptErrors: string[] = [];
    page.on('pageerror', (error) => scriptErrors.push(error.message));

    // Not signed in: the sign-in form, never incident data.
    const first = await page.goto(`${server.url}/`);
    expect(first?.status()).toBe(401);
    expect(await page.content()).not.toContain('DatabaseDown');
    await page.fill('input[name=token]', TOKEN);
    await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type=submit]')]);
    expect(page.url()).toBe(`${server.url}/`);
    const cookies = await context.cookies();
    expect(cookies.find((cookie) => cookie.name === 'tocsin_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(JSON.stringify(cookies)).not.toContain(TOKEN);

    // Open incidents first, the most severe first; the resolved one after them.
    const rows = page.locator('#incidents tbody tr');
    const order = await Promise.all(Array.from({ length: await rows.count() }, (_, index) => rows.nth(index).getAttribute('data-fingerprint')));
    expect(order).toEqual([database, disk, old]);
    // With server.publicUrl, each notice links the incident's row on this page, which the link opens at.
    await waitFor(() => receiver.requests.some((notice) => notice.fingerprint === database), 15_000, 'the opened notice');
    const pageUrl = receiver.requests.find((notice) => notice.fingerprint === database)?.state?.['pageUrl'];
    expect(pageUrl).toBe(`https://tocsin.example.com/#incident-${database}`);
    await page.goto(`${server.url}/${new URL(String(pageUrl)).hash}`);
    expect(await page.locator(':target').getAttribute('data-fingerprint')).toBe(database);
    // Alert text is text.
    expect(await page.locator(`tr[data-fingerprint="${disk}"] .summary`).textContent()).toContain('<img src=x');
    expect(await page.locator('#incidents img').count()).toBe(0);
    expect(await page.title()).not.toBe('pwned');
    // The timeline: received, decided, delivered.
    await page.locator(`tr[data-fingerprint="${database}"] details summary`).click();
    await expect.poll(async () => page.locator(`tr[data-fingerprint="${database}"] ol.timeline`).textContent(), { timeout: 15_000 }).toMatch(/received firing[\s\S]*opened → hook/);

    // Acknowledge by click.
    await page.fill('#who', 'alice');
    await page.locator('#who').dispatchEvent('change');
    await Promise.all([page.waitForEvent('load'), page.locator(`tr[data-fingerprint="${database}"] button[data-action=ack]`).click()]);
    await expect.poll(async () => page.locator(`tr[data-fingerprint="${database}"] .state`).textContent()).toContain('acknowledged by alice');
    expect((await api<{ record: IncidentRecord }>(`/v1/incidents/${database}`)).record.acknowledged).toMatchObject({ by: 'alice' });

    // Create a silence from the page, prefilled with the incident's fingerprint.
    await page.locator(`tr[data-fingerprint="${disk}"] button[data-action=silence]`).click();
    expect(await page.inputValue('#silence-form textarea[name=matchers]')).toBe(`fingerprint=${disk}`);
    await page.fill('#silence-form input[name=duration]', '1h');
    await page.fill('#silence-form input[name=comment]', 'resizing the volume');
    await Promise.all([page.waitForEvent('load'), page.click('#silence-form button[type=submit]')]);
    const { silences } = await api<{ silences: { id: string; matchers: string[]; createdBy: string; comment: string }[] }>('/v1/silences');
    expect(silences).toEqual([expect.objectContaining({ matchers: [`fingerprint=${disk}`], createdBy: 'alice', comment: 'resizing the volume' })]);
    await expect.poll(async () => page.locator('#silences').textContent()).toContain('resizing the volume');
    expect(await page.locator(`tr[data-fingerprint="${disk}"] .state`).textContent()).toMatch(/silenced until/);
    expect(scriptErrors).toEqual([]);

    // A bad silence says why, on the page.
    await page.locator('#silences ~ button[data-action=silence]').click();
    await page.fill('#silence-form textarea[name=matchers]', 'severity=~[');
    await page.fill('#silence-form input[name=comment]', 'typo');
    await page.click('#silence-form button[type=submit]');
    await expect.poll(async () => page.locator('#message').textContent()).toMatch(/^400: matchers\[0\]: .*invalid regular expression/);

    await page.reload();
    const shot = process.env['TOCSIN_PAGE_SCREENSHOT'] ?? join(dir, 'incidents-page.png');
    await page.screenshot({ path: shot, fullPage: true });

    // Another site's page, in the same signed-in browser, can neither acknowledge nor silence.
    otherSite = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>other</title>'));
    await new Promise<void>((resolve) => otherSite?.listen(0, '127.0.0.1', resolve));
    const otherUrl = `http://localhost:${String((otherSite.address() as AddressInfo).port)}/`;
    const attacker = await context.newPage();
    await attacker.goto(otherUrl);
    const statuses = await attacker.evaluate(async ({ target, fingerprint }) => {
      const attempt = async (path: string, body: unknown): Promise<string> => {
        try {
          const response = await fetch(`${target}${path}`, { method: 'POST', credentials: 'include', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(body) });
          return response.type;
        } catch (error) {
          return String(error);
        }
      };
      return [await attempt(`/v1/incidents/${fingerprint}/unack`, {}), await attempt('/v1/silences', { matchers: ['cloud=aws'], duration: '1h', createdBy: 'evil', comment: 'x' })];
    }, { target: server.url, fingerprint: database });
    expect(statuses).toHaveLength(2);
    expect((await api<{ record: IncidentRecord }>(`/v1/incidents/${database}`)).record.acknowledged).toMatchObject({ by: 'alice' });
    expect((await api<{ silences: unknown[] }>('/v1/silences')).silences).toHaveLength(1);
    // And the cookie alone, without an Origin (not a browser page), changes nothing.
    const session = cookies.find((cookie) => cookie.name === 'tocsin_session')?.value ?? '';
    const bare = await fetch(`${server.url}/v1/incidents/${database}/unack`, { method: 'POST', headers: { cookie: `tocsin_session=${session}` } });
    expect(bare.status).toBe(403);
  }, 120_000);
});
