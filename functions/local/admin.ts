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
import { LocalSilences, type SilenceView } from '../../shared/local/silences.ts';
import { makeSilence, newSilenceSchema, silenceState, type NewSilence, type Silence } from '../../shared/silences/silence.ts';
import { formatIssues } from '../../shared/zod-issues.ts';
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
async function request<T>(target: AdminTarget, method: 'GET' | 'POST', path: string, json?: unknown): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  if (target.token) headers['authorization'] = `Bearer ${target.token}`;
  if (json !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(new URL(path, target.url), { method, headers, ...(json === undefined ? {} : { body: JSON.stringify(json) }) });
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
async function serverOrDatabase<T>(target: AdminTarget, online: () => Promise<T>, offline: (pipeline: LocalPipeline) => T | Promise<T>): Promise<T> {
  try {
    return await online();
  } catch (error) {
    if (!isConnectionRefused(error)) throw error;
  }
  const file = join(resolve(target.dataDir ?? DEFAULT_DATA_DIR), DATABASE_FILE_NAME);
  const database = LocalDatabase.open({ file });
  try {
    return await offline(new LocalPipeline({ config: defaultConfig(), database }));
  } finally {
    database.close();
  }
}

function failed(target: AdminTarget, status: number, body: { message?: string }): AdminError {
  return new AdminError(`${target.url} answered ${String(status)}: ${body.message ?? ''}`);
}

/** Creates a silence (validated here too, so the database path says the same as the server). */
export function addSilence(target: AdminTarget, input: NewSilence): Promise<Silence> {
  return serverOrDatabase(
    target,
    async () => {
      const { status, body } = await request<{ silence: Silence; message?: string }>(target, 'POST', '/v1/silences', input);
      if (status !== 201) throw failed(target, status, body);
      return body.silence;
    },
    async (pipeline) => {
      const parsed = newSilenceSchema.safeParse(input);
      if (!parsed.success) throw new AdminError(formatIssues(parsed.error, 5));
      const silence = makeSilence(parsed.data, LocalSilences.newId(), new Date());
      if ('problem' in silence) throw new AdminError(silence.problem);
      await pipeline.addSilence(silence);
      return silence;
    },
  );
}

export function listSilences(target: AdminTarget, all: boolean): Promise<SilenceView[]> {
  return serverOrDatabase(
    target,
    async () => {
      const { status, body } = await request<{ silences: SilenceView[]; message?: string }>(target, 'GET', `/v1/silences?limit=10000${all ? '&state=all' : ''}`);
      if (status !== 200) throw failed(target, status, body);
      return body.silences;
    },
    (pipeline) => pipeline.silences.list(Date.now(), { includeExpired: all, limit: 10_000 }),
  );
}

export function expireSilence(target: AdminTarget, id: string): Promise<Silence> {
  return serverOrDatabase(
    target,
    async () => {
      const { status, body } = await request<{ silence: Silence; message?: string }>(target, 'POST', `/v1/silences/${encodeURIComponent(id)}/expire`);
      if (status === 404) throw new AdminError(`no silence ${id}`);
      if (status !== 200) throw failed(target, status, body);
      return body.silence;
    },
    async (pipeline) => {
      const silence = await pipeline.expireSilence(id);
      if (!silence) throw new AdminError(`no silence ${id}`);
      return silence;
    },
  );
}

/** Acknowledges a firing incident as `by`, or takes the acknowledgement back (`by` undefined). */
export function acknowledgeIncident(target: AdminTarget, fingerprint: string, by: string | undefined): Promise<IncidentRecord> {
  const path = `/v1/incidents/${encodeURIComponent(fingerprint)}/${by === undefined ? 'unack' : 'ack'}`;
  return serverOrDatabase(
    target,
    async () => {
      const { status, body } = await request<{ record: IncidentRecord; message?: string }>(target, 'POST', path, by === undefined ? undefined : { by });
      if (status === 404) throw new AdminError(`no incident ${fingerprint}`);
      if (status !== 200) throw failed(target, status, body);
      return body.record;
    },
    async (pipeline) => {
      const outcome = await pipeline.acknowledge(fingerprint, by);
      if (outcome.kind === 'not-found') throw new AdminError(`no incident ${fingerprint}`);
      if (outcome.kind === 'not-firing') throw new AdminError(`${fingerprint} is ${outcome.record.status}: only a firing incident can be acknowledged`);
      return outcome.record;
    },
  );
}

export function formatSilences(silences: readonly SilenceView[]): string {
  if (silences.length === 0) return 'no silences';
  const now = Date.now();
  return silences
    .map((silence) => {
      const state = silenceState(silence, now);
      const when = state === 'pending' ? `from ${silence.startsAt} until ${silence.endsAt}` : state === 'active' ? `until ${silence.endsAt}` : `ended ${silence.endsAt}`;
      return `${silence.id}  ${state.padEnd(7)} ${when}  ${silence.matchers.join(' ')}  — ${silence.createdBy}: ${silence.comment}`;
    })
    .join('\n');
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
    case 'decision': {
      const timer = entry.trigger === 'timer' ? ' (scheduled)' : '';
      if (entry.action === 'suppressed') {
        const held = entry.held ? ` by ${entry.held.kind} ${entry.held.id}${entry.held.until ? ` until ${entry.held.until}` : ''}` : '';
        return `decided    suppressed: ${entry.reason ?? ''}${held}${timer}`;
      }
      const channels = entry.channels?.map((channel) => (entry.grouped?.includes(channel) === true ? `${channel} (in a digest)` : channel));
      return `decided    ${entry.action}${timer} → ${channels && channels.length > 0 ? channels.join(', ') : 'no route matched'}`;
    }
    case 'ack':
      return entry.acknowledged ? `acknowledged by ${entry.by ?? '?'}` : 'acknowledgement taken back';
    case 'delivery': {
      const reason = entry.reason ? `: ${entry.reason}` : '';
      const next = entry.nextAttemptAt ? `; next attempt ${entry.nextAttemptAt}` : '';
      const digest = entry.digest ? ` ${entry.digest}` : '';
      return `delivery   ${entry.channel} ${entry.event}${digest}: ${entry.outcome} (attempt ${String(entry.attempt)})${reason}${next}`;
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
