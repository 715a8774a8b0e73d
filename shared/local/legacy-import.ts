// One-time import of what earlier versions kept in files: the JSON snapshot of the incident store
// (`state.json`) and the spool folder of rejected payloads (`spool/`, a `.payload` and a
// `.meta.json` per request). After a successful import the file or folder is renamed with an
// `.imported` suffix, so it is never imported twice and nothing is deleted.
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { MemoryIncidentStore } from '../dedup/memory-store.ts';
import type { SqliteIncidentStore } from '../dedup/sqlite-store.ts';
import type { DedupSettings } from '../dedup/settings.ts';
import { formatIssues } from '../zod-issues.ts';
import type { LocalDatabase } from './database.ts';
import type { RejectedPayloads } from './rejected.ts';

export interface ImportReport {
  readonly records: number;
  readonly markers: number;
  readonly rejected: number;
  /** One line per thing imported, for the start-up log. */
  readonly lines: readonly string[];
}

const spoolMetaSchema = z.object({
  receivedAt: z.string(),
  path: z.string(),
  status: z.int(),
  reason: z.string(),
  message: z.string(),
  rejections: z.array(z.object({ source: z.string(), reason: z.string() })).optional(),
  contentType: z.string().optional(),
  truncated: z.boolean(),
});

/** Imports `<dataDir>/state.json` and `<dataDir>/spool/` if they are there. Throws naming the file on bad input. */
export function importLegacyFiles(
  dataDir: string,
  targets: { readonly database: LocalDatabase; readonly store: SqliteIncidentStore; readonly rejected: RejectedPayloads; readonly settings: DedupSettings },
): ImportReport {
  const lines: string[] = [];
  let records = 0;
  let markers = 0;
  let rejected = 0;

  const stateFile = join(dataDir, 'state.json');
  if (existsSync(stateFile)) {
    let snapshot: unknown;
    try {
      snapshot = JSON.parse(readFileSync(stateFile, 'utf8')) as unknown;
    } catch (error) {
      throw new Error(`${stateFile} (the old incident snapshot) is not valid JSON (${error instanceof Error ? error.message : String(error)}); move it away to start without it`, { cause: error });
    }
    let state;
    try {
      state = MemoryIncidentStore.fromJSON(snapshot, { settings: targets.settings }).toJSON();
    } catch (error) {
      throw new Error(`${stateFile} (the old incident snapshot): ${error instanceof Error ? error.message : String(error)}; move it away to start without it`, { cause: error });
    }
    targets.store.importSnapshot(state.records, state.markers);
    renameSync(stateFile, `${stateFile}.imported`);
    records = state.records.length;
    markers = state.markers.length;
    lines.push(`imported ${String(records)} incident(s) and ${String(markers)} delivery marker(s) from ${stateFile} (now ${stateFile}.imported)`);
  }

  const spoolDir = join(dataDir, 'spool');
  if (existsSync(spoolDir)) {
    const metas = readdirSync(spoolDir).filter((name) => name.endsWith('.meta.json')).sort();
    const entries = metas.map((name) => {
      const file = join(spoolDir, name);
      const parsed = spoolMetaSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')) as unknown);
      if (!parsed.success) throw new Error(`${file} (an old spool entry): ${formatIssues(parsed.error)}`);
      const payloadFile = file.slice(0, -'.meta.json'.length) + '.payload';
      return { meta: parsed.data, body: readFileSync(payloadFile) };
    });
    targets.database.transaction(() => {
      for (const { meta, body } of entries) targets.rejected.add(meta, body);
    });
    renameSync(spoolDir, `${spoolDir}.imported`);
    rejected = entries.length;
    lines.push(`imported ${String(rejected)} rejected payload(s) from ${spoolDir} (now ${spoolDir}.imported)`);
  }
  return { records, markers, rejected, lines };
}
