// Upgrading a database written before silences and scheduled reminders: the migration adds the
// new tables and gives every firing record a timer, so the first start reminds what is due
// (the record carries no reminder time of its own yet) and sets its next one.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../shared/config/index.ts';
import type { Incident } from '../../shared/incident.ts';
import { LocalDatabase } from '../../shared/local/database.ts';
import { LocalPipeline } from '../../shared/local/pipeline.ts';
import { waitFor } from '../helpers/cli-process.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tocsin-timers-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const incident: Incident = {
  schemaVersion: 1,
  fingerprint: 'alertmanager:00000000000000000000000000000abc',
  status: 'firing',
  severity: 'error',
  title: 'probe',
  source: { kind: 'alertmanager', cloud: 'other', rule: 'Probe' },
  startsAt: '2026-11-25T10:00:00.000Z',
  labels: {},
  links: [],
};

describe('upgrading a database from before scheduled reminders', () => {
  it('gives each firing record a timer, and the first start reminds it', async () => {
    const file = join(dir, 'tocsin.db');
    const config = validateConfig({ channels: { console: { type: 'console' } }, routes: [{ channels: ['console'] }], defaults: { renotifyAfter: '1h' } });
    // A record as the old code wrote it: told two hours ago, no reminder time.
    const told = new Date(Date.now() - 2 * 3_600_000).toISOString();
    const old = {
      fingerprint: incident.fingerprint,
      version: 1,
      status: 'firing',
      incident,
      episodeStartedAt: incident.startsAt,
      lastEventTime: incident.startsAt,
      occurrences: 1,
      firstSeen: told,
      lastSeen: told,
      lastNotifiedAt: told,
      transitionId: 'v1.1',
      changes: [],
      flapping: false,
    };
    LocalDatabase.open({ file }).close();
    const raw = new DatabaseSync(file);
    // The schema just before the migration that adds silences and timers (the fourth); every newer table dropped too.
    raw.exec('DROP TABLE silences; DROP TABLE record_timers; DROP TABLE rate_limits; DROP TABLE digest_groups; DROP TABLE digest_pending; PRAGMA user_version = 3');
    raw.prepare('INSERT INTO records (fingerprint, status, last_seen, expires_at, record) VALUES (?, ?, ?, NULL, ?)').run(old.fingerprint, 'firing', told, JSON.stringify(old));
    raw.close();

    const database = LocalDatabase.open({ file });
    const lines: string[] = [];
    const pipeline = new LocalPipeline({ config, database, log: (line) => lines.push(line) });
    pipeline.start();
    await waitFor(() => pipeline.store.get(incident.fingerprint)?.reminders === 1, 10_000, 'the reminder');
    const record = pipeline.store.get(incident.fingerprint);
    expect(Date.parse(record?.nextReminderAt ?? '')).toBeGreaterThan(Date.now() + 3_000_000);
    // The reminder's delivery may or may not be recorded yet: the decision is what is asserted.
    expect(pipeline.history.of(incident.fingerprint).filter((entry) => entry.kind === 'decision')).toEqual([
      expect.objectContaining({ kind: 'decision', action: 'renotified', trigger: 'timer', channels: ['console'] }),
    ]);
    await pipeline.stop(1_000);
    database.close();
    expect(lines.filter((line) => line.includes('failed'))).toEqual([]);
  });
});
