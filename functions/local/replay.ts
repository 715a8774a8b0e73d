// `tocsin replay`: re-send spooled payloads (to the endpoint they were first posted to) or
// fixture files (to the endpoint named by their folder, else the detecting one).
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { META_SUFFIX, PAYLOAD_SUFFIX, type SpoolEntryMeta } from './spool.ts';

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
}

async function collect(target: string): Promise<ReplayItem[]> {
  const info = await stat(target);
  const files = info.isDirectory() ? (await readdir(target)).sort().map((name) => join(target, name)) : [target];
  const items: ReplayItem[] = [];
  for (const file of files) {
    if (file.endsWith(PAYLOAD_SUFFIX)) {
      const meta = JSON.parse(await readFile(file.slice(0, -PAYLOAD_SUFFIX.length) + META_SUFFIX, 'utf8')) as SpoolEntryMeta;
      items.push({ file, path: meta.path });
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
    } catch (error) {
      result = { file: item.file, path: item.path, status: 0, message: error instanceof Error ? error.message : 'request failed' };
    }
    options.onResult?.(result);
    results.push(result);
  }
  return results;
}
