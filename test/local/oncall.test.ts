// The on-call workflow on the real `tocsin start` process and the `tocsin` CLI: silences hold
// what they match (recorded, visible, nobody told) and let the rest through; a resolve is told
// whenever its firing was; a silence or maintenance window that ends while what it held still
// fires tells it then; reminders come on a timer even when the source sent the alarm once
// (CloudWatch), also after a restart, and stop when acknowledged; auto-resolve fires once.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliSuite } from '../helpers/cli-suite.ts';
import type { IncidentRecord } from '../../shared/dedup/record.ts';
import type { HistoryEntry } from '../../shared/local/history.ts';
import { alertmanagerGroup, closedPortUrl, spawnCli, startCli, waitFor, type RunningCli } from '../helpers/cli-process.ts';

const suite = cliSuite('tocsin-oncall-');

let scenario = 0;
async function setUp(extraLines: readonly string[]): Promise<string[]> {
  scenario += 1;
  const config = join(suite.dir, `tocsin-${String(scenario)}.yaml`);
  await writeFile(config, ['channels:', `  hook: { type: webhook, url: "${suite.receiver.url}/hook" }`, 'routes:', '  - channels: [hook]', ...extraLines, ''].join('\n'));
  suite.receiver.requests.length = 0;
  return ['--config', config, '--data', join(suite.dir, `data-${String(scenario)}`)];
}

async function start(args: readonly string[]): Promise<RunningCli> {
  const cli = await startCli(args);
  suite.running.add(cli);
  return cli;
}

async function stop(cli: RunningCli): Promise<void> {
  cli.child.kill('SIGTERM');
  expect(await cli.exited).toBe(0);
  suite.running.delete(cli);
}

/** Runs `tocsin ARGS` to its end. */
async function tocsin(args: readonly string[]): Promise<{ code: number | string; output: string }> {
  const process_ = spawnCli(args);
  const code = await process_.exited;
  return { code, output: process_.output() };
}

async function post(cli: RunningCli, path: string, body: unknown): Promise<string[]> {
  const response = await fetch(`${cli.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  expect(response.status).toBe(202);
  return ((await response.json()) as { fingerprints: string[] }).fingerprints;
}

async function incident(cli: RunningCli, fingerprint: string): Promise<{ record: IncidentRecord; history: HistoryEntry[] }> {
  return (await (await fetch(`${cli.url}/v1/incidents/${encodeURIComponent(fingerprint)}`)).json()) as { record: IncidentRecord; history: HistoryEntry[] };
}

async function queuesEmpty(cli: RunningCli): Promise<boolean> {
  const health = (await (await fetch(`${cli.url}/healthz`)).json()) as { queues: { incidents: number; deliveriesReady: number; deliveriesDelayed: number } };
  return health.queues.incidents + health.queues.deliveriesReady + health.queues.deliveriesDelayed === 0;
}

const told = (event: string, fingerprint: string): number =>
  suite.receiver.requests.filter((notice) => notice.status < 300 && notice.event === event && notice.fingerprint === fingerprint).length;

function cloudwatchAlarm(name: string, state: 'ALARM' | 'OK', time: string): unknown {
  return {
    AlarmName: name,
    AlarmDescription: `${name} on orders-db`,
    AWSAccountId: '111122223333',
    NewStateValue: state,
    NewStateReason: 'Threshold Crossed: 1 datapoint [91.2 (25/11/26 01:55:00)] was greater than the threshold (80.0).',
    StateChangeTime: time,
    Region: 'EU (Ireland)',
    AlarmArn: `arn:aws:cloudwatch:eu-west-1:111122223333:alarm:${name}`,
    OldStateValue: state === 'ALARM' ? 'OK' : 'ALARM',
    Trigger: {
      MetricName: 'CPUUtilization',
      Namespace: 'AWS/RDS',
      StatisticType: 'Statistic',
      Statistic: 'AVERAGE',
      Unit: null,
      Dimensions: [{ value: 'orders-db', name: 'DBInstanceIdentifier' }],
      Period: 300,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 80,
      TreatMissingData: 'missing',
      EvaluateLowSampleCountPercentile: '',
    },
  };
}

const NOW = (): string => new Date().toISOString();

describe('silences on the real server and CLI', () => {
  it('hold a matching alert (recorded, shown with the silence) and let others through; a told firing has its resolve told; expiring tells what it held', async () => {
    const args = await setUp(['defaults: { renotifyAfter: 0 }']);
    const server = await start(args);
    const add = await tocsin(['silence', 'add', 'instance=held', '--for', '1h', '--by', 'tester', '--comment', 'planned work', '--url', server.url]);
    expect(add.code, add.output).toBe(0);
    const silenceId = /silence (\S+) until/.exec(add.output)?.[1] ?? '';

    const startsAt = NOW();
    const [held = '', free = ''] = await post(server, '/v1/ingest/alertmanager', alertmanagerGroup(['held', 'free'], 'firing', startsAt));
    await waitFor(() => told('opened', free) === 1, 15_000, 'the unsilenced alert told');
    await waitFor(() => queuesEmpty(server), 15_000, 'the queues to empty');
    expect(told('opened', held)).toBe(0);
    const shown = await incident(server, held);
    expect(shown.record).toMatchObject({ status: 'firing', untold: true, held: { kind: 'silence', id: silenceId } });
    expect(shown.history.find((entry) => entry.kind === 'decision')).toMatchObject({ action: 'suppressed', reason: 'silenced', held: { id: silenceId } });
    // The API never hides it.
    const listed = (await (await fetch(`${server.url}/v1/incidents?status=firing`)).json()) as { incidents: IncidentRecord[] };
    expect(listed.incidents.map((record) => record.fingerprint).sort()).toEqual([held, free].sort());
    const list = await tocsin(['silence', 'list', '--url', server.url]);
    expect(list.output).toContain(silenceId);
    expect(list.output).toContain('instance=held');

    // Told, then silenced: its resolve is still told.
    expect((await tocsin(['silence', 'add', 'instance=free', '--for', '1h', '--by', 'tester', '--comment', 'too late', '--url', server.url])).code).toBe(0);
    await post(server, '/v1/ingest/alertmanager', alertmanagerGroup(['free'], 'resolved', startsAt, NOW()));
    await waitFor(() => told('resolved', free) === 1, 15_000, 'the resolve of a told firing');

    // The silence ends while what it held still fires: told now, and its resolve after it.
    const expire = await tocsin(['silence', 'expire', silenceId, '--url', server.url]);
    expect(expire.code, expire.output).toBe(0);
    await waitFor(() => told('opened', held) === 1, 15_000, 'the held alert told once its silence ended');
    expect((await incident(server, held)).record.untold).toBeUndefined();
    await post(server, '/v1/ingest/alertmanager', alertmanagerGroup(['held'], 'resolved', startsAt, NOW()));
    await waitFor(() => told('resolved', held) === 1, 15_000, 'its resolve');
    await waitFor(() => queuesEmpty(server), 15_000, 'the queues to empty');
    expect(suite.receiver.requests.filter((notice) => notice.status < 300).map((notice) => `${notice.event}:${notice.fingerprint === held ? 'held' : 'free'}`)).toEqual([
      'opened:free',
      'resolved:free',
      'opened:held',
      'resolved:held',
    ]);
    await stop(server);
  }, 90_000);

  it('a silence that runs out and a maintenance window that closes tell what they held then; a held firing that resolves is never told', async () => {
    const until = new Date(Date.now() + 25_000).toISOString();
    const args = await setUp([
      'defaults: { renotifyAfter: 0 }',
      'maintenance:',
      `  - { name: db-upgrade, match: ["instance=~maint.*"], once: { from: "${new Date(Date.now() - 60_000).toISOString()}", to: "${until}" } }`,
      // Started every minute, open an hour: open now, whatever the time.
      '  - { name: cron-hourly, match: ["instance=cron-held"], cron: { schedule: "* * * * *", duration: 1h, timeZone: Europe/Berlin } }',
    ]);
    const server = await start(args);
    expect(server.output()).toMatch(/maintenance:\n\s+db-upgrade: instance=~"maint\.\*"; once .* \(open now, until/);
    expect(server.output()).toMatch(/\n\s+cron-hourly: instance=cron-held; cron "\* \* \* \* \*" for 1h Europe\/Berlin \(open now, until /);
    const [cronHeld = ''] = await post(server, '/v1/ingest/alertmanager', alertmanagerGroup(['cron-held'], 'firing', NOW()));
    expect((await tocsin(['silence', 'add', 'instance=brief', '--for', '2s', '--by', 'tester', '--comment', 'short', '--url', server.url])).code).toBe(0);
    const startsAt = NOW();
    const [maint = '', brief = '', gone = ''] = await post(server, '/v1/ingest/alertmanager', alertmanagerGroup(['maint-1', 'brief', 'maint-gone'], 'firing', startsAt));
    await waitFor(() => queuesEmpty(server), 15_000, 'the queues to empty');
    expect((await incident(server, maint)).record.held).toMatchObject({ kind: 'maintenance', id: 'db-upgrade' });
    expect((await incident(server, cronHeld)).record.held).toMatchObject({ kind: 'maintenance', id: 'cron-hourly' });
    // Resolved while held: nobody heard it fire, nobody hears it end.
    await post(server, '/v1/ingest/alertmanager', alertmanagerGroup(['maint-gone'], 'resolved', startsAt, NOW()));
    await waitFor(() => told('opened', brief) === 1, 15_000, 'the alert told when its silence ran out');
    await waitFor(() => told('opened', maint) === 1, Date.parse(until) - Date.now() + 15_000, 'the alert told when the window closed');
    await waitFor(() => queuesEmpty(server), 15_000, 'the queues to empty');
    expect(told('opened', gone) + told('resolved', gone)).toBe(0);
    expect(told('opened', cronHeld)).toBe(0);
    await stop(server);
  }, 90_000);

  it('refuses to start with a cron window it cannot use, naming the window, the field and the problem', async () => {
    const args = await setUp(['maintenance:', '  - { name: nightly, match: ["env=prod"], cron: { schedule: "30 25 * * *", duration: 45m } }']);
    const process_ = spawnCli(['start', ...args]);
    expect(await process_.exited).not.toBe(0);
    expect(process_.output()).toContain('maintenance[0].cron.schedule: hour: 25 is out of range 0-23');
  });
});

describe('reminders, acknowledgement and auto-resolve on the real server', () => {
  it('a CloudWatch alarm sent once is re-notified every renotifyAfter, again after a restart; acknowledging stops it', async () => {
    const args = await setUp(['defaults: { renotifyAfter: 2s }']);
    const first = await start(args);
    const [acked = ''] = await post(first, '/v1/ingest/aws/sns', cloudwatchAlarm('orders-db-cpu-high', 'ALARM', NOW()));
    const [control = ''] = await post(first, '/v1/ingest/aws/sns', cloudwatchAlarm('orders-db-disk-low', 'ALARM', NOW()));
    await waitFor(() => told('renotified', acked) >= 1 && told('renotified', control) >= 1, 20_000, 'a first reminder');
    const { record, history } = await incident(first, acked);
    // On time: a reminder is decided renotifyAfter after the notice before it, not before.
    const decisions = history.filter((entry) => entry.kind === 'decision' && entry.action !== 'suppressed');
    expect(decisions.map((entry) => (entry.kind === 'decision' ? `${entry.action}${entry.trigger ? `/${entry.trigger}` : ''}` : ''))).toEqual(
      expect.arrayContaining(['opened', 'renotified/timer']),
    );
    for (let index = 1; index < decisions.length; index += 1) {
      expect(Date.parse(decisions[index]?.at ?? '') - Date.parse(decisions[index - 1]?.at ?? '')).toBeGreaterThanOrEqual(2_000);
    }
    expect(record.reminders).toBeGreaterThanOrEqual(1);

    // A restart: the reminders are driven by the database, not by a timer that died with the process.
    await stop(first);
    const before = told('renotified', acked);
    const second = await start(args);
    await waitFor(() => told('renotified', acked) > before, 20_000, 'a reminder after the restart');

    const ack = await tocsin(['ack', acked, '--by', 'alice', '--url', second.url]);
    expect(ack.code, ack.output).toBe(0);
    expect(ack.output).toContain('acknowledged by alice');
    await waitFor(() => queuesEmpty(second), 15_000, 'the queues to empty');
    const afterAck = told('renotified', acked);
    const controlAtAck = told('renotified', control);
    await waitFor(() => told('renotified', control) >= controlAtAck + 2, 20_000, 'two more reminders of the unacknowledged alarm');
    expect(told('renotified', acked)).toBe(afterAck);
    expect((await incident(second, acked)).record).toMatchObject({ acknowledged: { by: 'alice' } });
    expect((await incident(second, acked)).record.nextReminderAt).toBeUndefined();

    // The resolve is still told.
    await post(second, '/v1/ingest/aws/sns', cloudwatchAlarm('orders-db-cpu-high', 'OK', NOW()));
    await waitFor(() => told('resolved', acked) === 1, 15_000, 'the resolve of an acknowledged alarm');
    // The notices say the pipeline's state: each reminder its number, the resolve who acknowledged.
    const notices = suite.receiver.requests.filter((notice) => notice.status < 300 && notice.fingerprint === acked);
    const reminders = notices.filter((notice) => notice.event === 'renotified').map((notice) => notice.state?.['reminder']);
    expect(reminders).toEqual(reminders.map((_, index) => index + 1));
    expect(notices.find((notice) => notice.event === 'resolved')?.state).toEqual({ acknowledgedBy: 'alice' });
    expect(notices.find((notice) => notice.event === 'opened')?.state).toBeUndefined();
    await stop(second);
  }, 120_000);

  it('auto-resolve: an alert never resolved by its source is resolved after autoResolveAfter, once, and says so', async () => {
    const args = await setUp(['defaults: { renotifyAfter: 0, autoResolveAfter: 2s }']);
    const server = await start(args);
    const startsAt = NOW();
    const [fingerprint = ''] = await post(server, '/v1/ingest/alertmanager', alertmanagerGroup(['stateless'], 'firing', startsAt));
    await waitFor(() => told('resolved', fingerprint) === 1, 20_000, 'the auto-resolve');
    const { record, history } = await incident(server, fingerprint);
    expect(record.status).toBe('resolved');
    expect(record.incident.summary).toMatch(/^Auto-resolved: nothing heard from alertmanager for 2s/);
    expect(record.autoResolveAt).toBeUndefined();
    // The same firing arriving late is stale: no second episode, no second resolve.
    await post(server, '/v1/ingest/alertmanager', alertmanagerGroup(['stateless'], 'firing', startsAt));
    await waitFor(() => queuesEmpty(server), 15_000, 'the queues to empty');
    const after = await incident(server, fingerprint);
    const decisions = after.history.flatMap((entry) => (entry.kind === 'decision' ? [entry.reason ?? entry.action] : []));
    expect(decisions).toEqual([
      'opened',
      'resolved',
      'stale',
    ]);
    expect(history.filter((entry) => entry.kind === 'decision' && entry.trigger === 'timer')).toHaveLength(1);
    expect(told('opened', fingerprint)).toBe(1);
    expect(told('resolved', fingerprint)).toBe(1);
    await stop(server);
  }, 90_000);
});

describe('the silence and acknowledge API', () => {
  it('sits behind the token, says what is wrong with a request, and the CLI reaches the database when no server runs', async () => {
    const token = 'oncall-test-token-0123456789';
    const args = await setUp(['ingest: { token: "oncall-test-token-0123456789" }']);
    const dataDir = args[3] ?? '';
    const server = await start(args);
    const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; message: string }> => {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const answer = (await response.json()) as { message?: string };
      return { status: response.status, message: answer.message ?? '' };
    };
    const good = { matchers: ['alertname=DiskFull'], duration: '1h', createdBy: 'tester', comment: 'known' };

    expect((await fetch(`${server.url}/v1/silences`)).status).toBe(401);
    expect((await fetch(`${server.url}/v1/silences`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(good) })).status).toBe(401);
    expect(await call('POST', '/v1/silences', { ...good, matchers: ['alertname=~(disk'] })).toMatchObject({ status: 400, message: expect.stringMatching(/^matchers\[0\]: alertname=~"\(disk": invalid regular expression/) as string });
    expect(await call('POST', '/v1/silences', { ...good, matchers: [] })).toMatchObject({ status: 400, message: expect.stringContaining('at least one matcher') as string });
    expect(await call('POST', '/v1/silences', { ...good, createdBy: ' ' })).toMatchObject({ status: 400, message: expect.stringContaining('createdBy') as string });
    expect(await call('POST', '/v1/silences', { ...good, duration: undefined, endsAt: '2001-01-01T00:00:00Z' })).toMatchObject({ status: 400, message: expect.stringContaining('in the past') as string });
    expect(await call('POST', '/v1/silences', { ...good, endsAt: '2999-01-01T00:00:00Z' })).toMatchObject({ status: 400, message: expect.stringContaining('either endsAt or duration') as string });
    expect(await call('POST', '/v1/silences', '{"matchers":', {})).toMatchObject({ status: 400, message: 'the body is not valid JSON' });
    expect((await call('POST', '/v1/silences', JSON.stringify(good), { 'content-type': 'text/plain' })).status).toBe(415);
    const created = await fetch(`${server.url}/v1/silences`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(good) });
    expect(created.status).toBe(201);
    const { silence } = (await created.json()) as { silence: { id: string; endsAt: string } };
    expect((await call('POST', '/v1/silences/no-such-id/expire')).status).toBe(404);

    expect((await call('POST', '/v1/incidents/alertmanager:nothing/ack', { by: 'alice' })).status).toBe(404);
    const [fingerprint = ''] = await (async () => {
      const response = await fetch(`${server.url}/v1/ingest/alertmanager`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: alertmanagerGroup(['api'], 'resolved', NOW(), NOW()),
      });
      return ((await response.json()) as { fingerprints: string[] }).fingerprints;
    })();
    await waitFor(async () => (await call('GET', `/v1/incidents/${fingerprint}`)).status === 200, 15_000, 'the resolve recorded');
    expect(await call('POST', `/v1/incidents/${fingerprint}/ack`, { by: 'alice' })).toMatchObject({ status: 409, message: expect.stringContaining('is resolved') as string });
    expect(await call('POST', `/v1/incidents/${fingerprint}/ack`, {})).toMatchObject({ status: 400, message: expect.stringContaining('by') as string });
    // A browser on another site cannot create one, even with the token.
    expect((await call('POST', '/v1/silences', good, { origin: 'https://evil.example' })).status).toBe(403);
    await stop(server);

    // No server: the CLI uses the database in --data.
    const offline = ['--url', await closedPortUrl(), '--data', dataDir];
    const listed = await tocsin(['silence', 'list', ...offline]);
    expect(listed.code, listed.output).toBe(0);
    expect(listed.output).toContain(silence.id);
    const expired = await tocsin(['silence', 'expire', silence.id, ...offline]);
    expect(expired.code, expired.output).toBe(0);
    expect((await tocsin(['silence', 'list', ...offline])).output).toBe('no silences\n');
    expect((await tocsin(['silence', 'list', '--all', ...offline])).output).toContain(`${silence.id}  expired`);
    const bad = await tocsin(['silence', 'add', 'severity=~[', '--for', '1h', '--by', 'me', '--comment', 'x', ...offline]);
    expect(bad.code).toBe(2);
    expect(bad.output).toContain('invalid regular expression');
  }, 90_000);
});
