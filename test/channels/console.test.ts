import { describe, expect, it, vi } from 'vitest';
import {
  consoleChannel,
  createConsoleChannel,
  renderConsoleLine,
  shouldColour,
  type ConsoleConfig,
  type ConsoleOutput,
} from '../../shared/channels/console.ts';
import { firing, resolved, SOURCE_KINDS_UNDER_TEST } from '../fixtures/channels/incidents.ts';

class CapturedOutput implements ConsoleOutput {
  readonly writes: string[] = [];
  readonly isTTY: boolean;
  failWith: Error | undefined;
  constructor(isTTY: boolean) {
    this.isTTY = isTTY;
  }
  write(text: string, callback: (error?: Error | null) => void): boolean {
    if (this.failWith) {
      callback(this.failWith);
      return false;
    }
    this.writes.push(text);
    callback(null);
    return true;
  }
}

function setup(isTTY = false, env: Record<string, string | undefined> = {}) {
  const stdout = new CapturedOutput(isTTY);
  const stderr = new CapturedOutput(isTTY);
  const channel = createConsoleChannel({ streams: () => ({ stdout, stderr }), env });
  return { stdout, stderr, channel };
}

const TIMEOUT = { timeoutMs: 1_000, deliveryId: 'test-delivery-id' };

describe('console channel rendering', () => {
  it('renders one line with time, event, severity, title, source and short fingerprint', () => {
    expect(renderConsoleLine('opened', firing('cloudwatch'))).toBe(
      '2026-11-25T10:00:00.000Z OPENED     [ERROR] CPU high on web-1 (cloudwatch/123456789012) fp=0f1e2d3c4b5a',
    );
  });

  it('marks resolved notices and uses the end time', () => {
    expect(renderConsoleLine('resolved', resolved('alertmanager'))).toBe(
      '2026-11-25T10:35:00.000Z RESOLVED   [CRITICAL] HighErrorRate on checkout (alertmanager) fp=abcdefabcdef',
    );
  });

  it('names reminders and flapping notices', () => {
    expect(renderConsoleLine('renotified', firing('grafana'))).toBe(
      '2026-11-25T07:00:00.000Z RENOTIFIED [INFO] Disk usage (grafana) fp=0123456789ab',
    );
    expect(renderConsoleLine('flapping', firing('azure-monitor'))).toBe(
      '2026-11-25T09:30:00.000Z FLAPPING   [CRITICAL] Sev0 DB down on sql-prod (azure-monitor/00000000-1111-2222-3333-444444444444) fp=111122223333',
    );
  });

  it('prints times in UTC whatever offset the source used', () => {
    expect(renderConsoleLine('opened', firing('gcp-monitoring'))).toMatch(/^2026-11-25T07:00:00\.000Z OPENED /);
  });

  it.each(SOURCE_KINDS_UNDER_TEST)('renders %s incidents, firing and resolved, as one line', (kind) => {
    for (const [event, incident] of [
      ['opened', firing(kind)],
      ['resolved', resolved(kind)],
    ] as const) {
      const line = renderConsoleLine(event, incident);
      expect(line).not.toMatch(/[\r\n]/);
      expect(line).toContain(incident.title);
      expect(line).toContain(`(${kind}`);
    }
  });

  it('keeps a hostile title on one line without control characters', () => {
    const line = renderConsoleLine('opened', firing('alertmanager', { title: 'a\r\nFAKE 2026 RESOLVED\u001b[2J <script>' }));
    expect(line).toContain('] a FAKE 2026 RESOLVED [2J <script> (alertmanager)');
    // eslint-disable-next-line no-control-regex -- asserting their absence
    expect(line).not.toMatch(/[\u0000-\u001f]/);
  });

  it('cuts very long titles to 300 characters', () => {
    const line = renderConsoleLine('opened', firing('grafana', { title: 'x'.repeat(5_000) }));
    expect(line).toContain(` ${'x'.repeat(299)}… (grafana)`);
    expect(line.length).toBeLessThan(400);
  });

  it('keeps emoji in titles intact', () => {
    expect(renderConsoleLine('opened', firing('grafana', { title: '🔥 Disk full 💾' }))).toContain('[INFO] 🔥 Disk full 💾 (grafana)');
  });
});

describe('console channel sending', () => {
  it('writes the line and a newline to stdout by default, without colour when not a terminal', async () => {
    const { stdout, stderr, channel } = setup(false);
    const incident = firing('cloudwatch');
    await expect(channel.deliver('opened', incident, { type: 'console' }, TIMEOUT)).resolves.toEqual({ ok: true });
    expect(stdout.writes).toEqual([`${renderConsoleLine('opened', incident)}\n`]);
    expect(stderr.writes).toEqual([]);
  });

  it('writes to stderr when configured', async () => {
    const { stdout, stderr, channel } = setup(false);
    const incident = resolved('grafana');
    const toStderr: ConsoleConfig = { type: 'console', stream: 'stderr' };
    await expect(channel.deliver('resolved', incident, toStderr, TIMEOUT)).resolves.toEqual({ ok: true });
    expect(stderr.writes).toEqual([`${renderConsoleLine('resolved', incident)}\n`]);
    expect(stdout.writes).toEqual([]);
  });

  it('colours the line on a terminal: red opened, green resolved', async () => {
    const { stdout, channel } = setup(true);
    const incident = firing('cloudwatch');
    await channel.deliver('opened', incident, { type: 'console' }, TIMEOUT);
    await channel.deliver('resolved', resolved('cloudwatch'), { type: 'console' }, TIMEOUT);
    expect(stdout.writes[0]).toBe(`\u001b[31m${renderConsoleLine('opened', incident)}\u001b[0m\n`);
    expect(stdout.writes[1]).toBe(`\u001b[32m${renderConsoleLine('resolved', resolved('cloudwatch'))}\u001b[0m\n`);
  });

  it('honours NO_COLOR and TERM=dumb on a terminal', async () => {
    for (const env of [{ NO_COLOR: '1' }, { TERM: 'dumb' }]) {
      const { stdout, channel } = setup(true, env);
      await channel.deliver('opened', firing('grafana'), { type: 'console' }, TIMEOUT);
      expect(stdout.writes[0]).toBe(`${renderConsoleLine('opened', firing('grafana'))}\n`);
    }
  });

  it('reports a failed write as a failure instead of throwing', async () => {
    const { stdout, channel } = setup(false);
    stdout.failWith = Object.assign(new Error('broken pipe'), { code: 'EPIPE' });
    await expect(channel.deliver('opened', firing('grafana'), { type: 'console' }, TIMEOUT)).resolves.toEqual({
      ok: false,
      retryable: true,
      reason: 'write to stdout failed: EPIPE',
    });
  });

  it('rejects an unknown stream or extra keys in the config', async () => {
    expect(consoleChannel.configSchema.safeParse({ type: 'console', stream: 'stdlog' }).success).toBe(false);
    expect(consoleChannel.configSchema.safeParse({ type: 'console', colour: true }).success).toBe(false);
    const unknownStream = { type: 'console', stream: 'x' };
    await expect(consoleChannel.deliver('opened', firing(), unknownStream, TIMEOUT)).resolves.toEqual({
      ok: false,
      retryable: false,
      reason: 'invalid console channel config',
    });
  });

  it('the registered console channel writes to process.stdout, coloured only if that is a terminal', async () => {
    const writes: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      writes.push(String(chunk));
      const callback = rest.find((arg): arg is (error?: Error | null) => void => typeof arg === 'function');
      callback?.(null);
      return true;
    });
    try {
      await expect(consoleChannel.deliver('opened', firing('grafana'), { type: 'console' }, TIMEOUT)).resolves.toEqual({ ok: true });
    } finally {
      spy.mockRestore();
    }
    const line = renderConsoleLine('opened', firing('grafana'));
    expect(writes).toEqual([shouldColour(process.stdout, process.env) ? `\u001b[31m${line}\u001b[0m\n` : `${line}\n`]);
  });
});
