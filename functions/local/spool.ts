// The local dead-letter path: a rejected payload's raw bytes and the reason, one pair of files
// per request, so nothing a sender posted is lost. `tocsin replay DIR` sends them again.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceRejection } from '../../shared/errors.ts';

export interface SpoolEntryMeta {
  readonly id: string;
  readonly receivedAt: string;
  /** The request path the payload was posted to, so a replay goes to the same endpoint. */
  readonly path: string;
  readonly status: number;
  readonly reason: string;
  readonly message: string;
  readonly rejections?: readonly SourceRejection[] | undefined;
  readonly contentType?: string | undefined;
  /** True when the body exceeded the size limit and only its first part was kept. */
  readonly truncated: boolean;
  readonly bytes: number;
}

export const PAYLOAD_SUFFIX = '.payload';
export const META_SUFFIX = '.meta.json';

export class Spool {
  readonly directory: string;
  #ready: Promise<void> | undefined;
  #count = 0;

  constructor(directory: string) {
    this.directory = directory;
  }

  get written(): number {
    return this.#count;
  }

  async write(raw: Uint8Array, meta: Omit<SpoolEntryMeta, 'id' | 'bytes'>): Promise<SpoolEntryMeta> {
    this.#ready ??= mkdir(this.directory, { recursive: true }).then(() => undefined);
    await this.#ready;
    // Sortable by time, unique without coordination.
    const id = `${meta.receivedAt.replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
    const entry: SpoolEntryMeta = { id, bytes: raw.byteLength, ...meta };
    await writeFile(join(this.directory, `${id}${PAYLOAD_SUFFIX}`), raw);
    await writeFile(join(this.directory, `${id}${META_SUFFIX}`), `${JSON.stringify(entry, null, 2)}\n`);
    this.#count += 1;
    return entry;
  }

  async list(): Promise<SpoolEntryMeta[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch {
      return [];
    }
    const metas = names.filter((name) => name.endsWith(META_SUFFIX)).sort();
    return Promise.all(
      metas.map(async (name) => JSON.parse(await readFile(join(this.directory, name), 'utf8')) as SpoolEntryMeta),
    );
  }
}
