// The CLI's operator commands (`tocsin history`, `tocsin dlq`): they ask the running server over
// HTTP, and when none answers they open the local database themselves (the server holds an
// exclusive lock on it while it runs, so both never write at once).
import { join, resolve } from 'node:path';
import { defaultConfig } from '../../shared/config/index.ts';
import { LocalDatabase } from '../../shared/local/database.ts';
import type { HistoryEntry } from '../../shared/local/history.ts';
import { LocalPipeline } from '../../shared/local/pipeline.ts';
import type { DeadLetterRow } from '../../shared/local/queues.ts';
import type { IncidentRecord } from '../../shared/dedup/record.ts';
import { AdminError } from './admin-error.ts';
import { DATABASE_FILE_NAME, DEFAULT_DATA_DIR } from './start.ts';

export interface AdminTarget {
  readonly url: string;
  readonly token?: string | undefined;
  readonly dataDir?: string | undefined;
}

export interface IncidentHistory {
  readonly fingerprint: string;
  readonly record: IncidentRecord | null;
  readonly history: HistoryEntry[];
}

function isConnectionRefused(error: unknown): boolean {
  const cause = error instanceof Error && 'cause' in error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return cause?.code === 'ECONNREFUSED';
}

// The caller names the answer's shape (the server's own JSON).
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
async function request<T>(target: AdminTarget, method: 'GET' | 'POST', path: string): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  if (target.token) headers['authorization'] = `Bearer ${target.token}`;
  const response = await fetch(new URL(path, target.url), { method, headers });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    body = { message: text };
  }
  if (response.status === 401) throw new AdminError(`${target.url} wants the ingest token: pass --token or set TOCSIN_INGEST_TOKEN`);
  return { status: response.status, body: body as T };
}

/** Runs `offline` on the local database when no server answers at the target URL. */
async function serverOrDatabase<T>(target: AdminTarget, online: () => Promise<T>, offline: (pipeline: LocalPipeline) => T): Promise<T> {
  try {
    return await online();
  } catch (error) {
    if (!isConnectionRefused(error)) throw error;
  }
  const file = join(resolve(target.dataDir ?? DEFAULT_DATA_DIR), DATABASE_FILE_NAME);
  const database = LocalDatabase.open({ file });
  try {
    return offline(new LocalPipeline({ config: defaultConfig(), database }));
  } finally {
    database.close();
  }
}

export function incidentHistory(target: AdminTarget, fingerprint: string): Promise<IncidentHistory> {
  return serverOrDatabase(
    target,
    async () => {
      const { status, body } = await request<IncidentHistory & { message?: string }>(target, 'GET', `/v1/incidents/${encodeURIComponent(fingerprint)}`);
      if (status === 404) throw new AdminError(`no incident ${fingerprint}`);
      if (status !== 200) throw new AdminError(`${target.url} answered ${String(status)}: ${body.message ?? ''}`);
      return body;
    },
    (pipeline) => {
      const found = pipeline.incident(fingerprint);
      if (!found) throw new AdminError(`no incident ${fingerprint}`);
      return { fingerprint, record: found.record ?? null, history: found.history };
    },
  );
}

export function deadLetters(target: AdminTarget): Promise<DeadLetterRow[]> {
  return serverOrDatabase(
    target,
    async () => (await request<{ deadLetters: DeadLetterRow[] }>(target, 'GET', '/v1/dead-letters?limit=10000')).body.deadLetters,
    (pipeline) => pipeline.deadLetters(10_000),
  );
}

export function redrive(target: AdminTarget): Promise<number> {
  return serverOrDatabase(
    target,
    async () => {
      const { status, body } = await request<{ redriven: number; message?: string }>(target, 'POST', '/v1/dead-letters/redrive');
      if (status !== 200) throw new AdminError(`${target.url} answered ${String(status)}: ${body.message ?? ''}`);
      return body.redriven;
    },
    (pipeline) => pipeline.database.transaction(() => pipeline.queues.redriveDeliveries(Date.now()) + pipeline.queues.redriveIncidents(Date.now())),
  );
}

/** The history as lines a person reads at 3 a.m. */
export function formatHistory(found: IncidentHistory): string {
  const lines: string[] = [];
  const record = found.record;
  if (record) {
    lines.push(`${found.fingerprint}  ${record.incident.title}`);
    lines.push(
      `  ${record.status} (${record.incident.severity}) since ${record.episodeStartedAt}; seen ${String(record.occurrences)} time(s), last ${record.lastSeen}${record.flapping ? '; flapping' : ''}`,
    );
  } else {
    lines.push(`${found.fingerprint}  (no live record: expired or never stored)`);
  }
  for (const entry of found.history) lines.push(`${entry.at}  ${describeEntry(entry)}`);
  return lines.join('\n');
}

function describeEntry(entry: HistoryEntry): string {
  switch (entry.kind) {
    case 'received':
      return `received   ${entry.status} on ${entry.path} (payload #${String(entry.payloadId)}, ${String(entry.bytes)} bytes)`;
    case 'decision':
      if (entry.action === 'suppressed') return `decided    suppressed: ${entry.reason ?? ''}`;
      return `decided    ${entry.action} → ${entry.channels && entry.channels.length > 0 ? entry.channels.join(', ') : 'no route matched'}`;
    case 'delivery': {
      const reason = entry.reason ? `: ${entry.reason}` : '';
      const next = entry.nextAttemptAt ? `; next attempt ${entry.nextAttemptAt}` : '';
      return `delivery   ${entry.channel} ${entry.event}: ${entry.outcome} (attempt ${String(entry.attempt)})${reason}${next}`;
    }
  }
}

export function formatDeadLetters(rows: readonly DeadLetterRow[]): string {
  if (rows.length === 0) return 'no dead letters';
  return rows
    .map((row) =>
      row.queue === 'deliveries'
        ? `#${String(row.id)} ${row.at} ${row.channel ?? ''} ${row.event ?? ''} "${row.title}" (${row.fingerprint}) after ${String(row.attempt)} attempt(s): ${row.reason}`
        : `#${String(row.id)} ${row.at} dispatch "${row.title}" (${row.fingerprint}): ${row.reason}`,
    )
    .join('\n');
}
