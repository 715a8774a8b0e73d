// `tocsin replay`: with no target, the running server replays the rejected payloads it keeps in
// its database (each one that is now accepted is taken off the list in the same transaction).
// With a folder or file: old-style spool entries (a `.payload` and its `.meta.json`, sent to the
// endpoint they were first posted to; deleted once accepted, so a replay moves them) or fixture
// files (to the endpoint named by their folder, else the detecting one; never deleted).
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const PAYLOAD_SUFFIX = '.payload';
const META_SUFFIX = '.meta.json';

const FIXTURE_FOLDER_PATHS: Readonly<Record<string, string>> = {
  cloudwatch: '/v1/ingest/aws/sns',
  'azure-monitor': '/v1/ingest/azure/monitor',
  'gcp-monitoring': '/v1/ingest/gcp/monitoring',
  alertmanager: '/v1/ingest/alertmanager',
  grafana: '/v1/ingest/grafana',
  signalfx: '/v1/ingest/signalfx',
};

export interface ReplayResult {
  readonly file: string;
  readonly path: string;
  readonly status: number;
  readonly message?: string | undefined;
}

export interface ReplayOptions {
  readonly baseUrl: string;
  readonly token?: string | undefined;
  readonly onResult?: (result: ReplayResult) => void;
}

interface ReplayItem {
  readonly file: string;
  readonly path: string;
  /** A spool entry's meta file: removed with the payload once the server accepts it. */
  readonly meta?: string | undefined;
}

async function collect(target: string): Promise<ReplayItem[]> {
  const info = await stat(target);
  const files = info.isDirectory() ? (await readdir(target)).sort().map((name) => join(target, name)) : [target];
  const items: ReplayItem[] = [];
  for (const file of files) {
    if (file.endsWith(PAYLOAD_SUFFIX)) {
      const metaFile = file.slice(0, -PAYLOAD_SUFFIX.length) + META_SUFFIX;
      const meta = JSON.parse(await readFile(metaFile, 'utf8')) as { path?: unknown };
      items.push({ file, path: typeof meta.path === 'string' ? meta.path : '/v1/ingest', meta: metaFile });
    } else if (file.endsWith('.json') && !file.endsWith(META_SUFFIX)) {
      items.push({ file, path: FIXTURE_FOLDER_PATHS[basename(dirname(file))] ?? '/v1/ingest' });
    }
  }
  return items;
}

export async function replay(target: string, options: ReplayOptions): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  for (const item of await collect(target)) {
    const body = await readFile(item.file);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    let result: ReplayResult;
    try {
      const response = await fetch(new URL(item.path, options.baseUrl), { method: 'POST', headers, body });
      const text = await response.text();
      let message: string | undefined;
      try {
        const parsed = JSON.parse(text) as { message?: unknown; accepted?: unknown };
        message = typeof parsed.message === 'string' ? parsed.message : typeof parsed.accepted === 'number' ? `${String(parsed.accepted)} incident(s)` : undefined;
      } catch {
        message = undefined;
      }
      result = { file: item.file, path: item.path, status: response.status, message };
      if (item.meta !== undefined && response.status >= 200 && response.status < 300) {
        // Moved: the server has it now.
        await rm(item.file, { force: true });
        await rm(item.meta, { force: true });
      }
    } catch (error) {
      result = { file: item.file, path: item.path, status: 0, message: error instanceof Error ? error.message : 'request failed' };
    }
    options.onResult?.(result);
    results.push(result);
  }
  return results;
}

export interface StoredReplayResult {
  readonly replayed: number;
  readonly stillRejected: number;
  readonly results: readonly { readonly id: number; readonly path?: string; readonly status: number; readonly message?: string; readonly error?: string }[];
}

/** Asks the running server to replay every rejected payload it keeps. */
export async function replayStored(options: ReplayOptions): Promise<StoredReplayResult> {
  const headers: Record<string, string> = {};
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  const response = await fetch(new URL('/v1/rejected/all/replay', options.baseUrl), { method: 'POST', headers });
  const body = (await response.json()) as StoredReplayResult & { message?: string };
  if (response.status !== 200) throw new Error(`${options.baseUrl} answered ${String(response.status)}: ${body.message ?? ''}`);
  return body;
}
