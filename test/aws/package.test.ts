// The packager: every bundle is built into a temporary folder, and each AWS bundle is imported in
// a fresh `node` process with an empty environment (the handlers read their settings lazily, so
// importing one needs no AWS setting at all) and must export a `handler` function.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLES, packageAll, sizeTable, type BundleResult } from '../../functions/package.ts';
import { PACKAGING_HOOK_TIMEOUT_MS } from './chain/chain.ts';

const run = promisify(execFile);
const PACKAGER = join(import.meta.dirname, '..', '..', 'functions', 'package.ts');

describe('functions/package.ts', () => {
  let outDir: string;
  let results: BundleResult[];

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'tocsin-package-'));
    results = await packageAll(outDir);
  }, PACKAGING_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('builds one non-empty ESM bundle with a linked source map per function', async () => {
    expect(results.map((result) => `${result.cloud}/${result.name}`)).toEqual([
      'aws/sns-ingest',
      'aws/http-ingest',
      'aws/dispatch',
      'aws/deliver',
      'aws/reminders',
      'azure/monitor-ingest',
      'gcp/monitoring-ingest',
    ]);
    for (const result of results) {
      expect(result.file).toBe(join(outDir, result.cloud, result.name, 'index.mjs'));
      const info = await stat(result.file);
      expect(info.size).toBe(result.bytes);
      expect(result.bytes).toBeGreaterThan(10_000);
      const code = await readFile(result.file, 'utf8');
      expect(code.startsWith("import { createRequire as __tocsinCreateRequire } from 'node:module';")).toBe(true);
      expect(code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map')).toBe(true);
      expect((await stat(`${result.file}.map`)).size).toBeGreaterThan(0);
    }
  });

  it('bundles only English from zod’s locales', async () => {
    const dir = join(outDir, 'aws', 'deliver');
    const files = (await readdir(dir, { recursive: true })).filter((file) => file.endsWith('.mjs'));
    const deliver = (await Promise.all(files.map((file) => readFile(join(dir, file), 'utf8')))).join('\n');
    // German and Japanese messages of zod's "invalid input" text.
    expect(deliver).toContain('Invalid input');
    expect(deliver).not.toContain('Ungültige Eingabe');
    expect(deliver).not.toContain('無効な入力');
  });

  it('leaves what a run may never need out of what a cold start loads', async () => {
    for (const result of results.filter((bundle) => bundle.cloud === 'aws')) {
      expect(result.startBytes).toBeGreaterThanOrEqual(result.bytes);
      expect(result.totalBytes).toBeGreaterThan(result.startBytes);
    }
    // The chunks index.mjs imports statically, transitively: none may hold the S3 client, the
    // SES or SNS client, nodemailer's SMTP transport or the YAML parser (each found by a string
    // only that library's code has).
    const startCode = async (name: string): Promise<string> => {
      const dir = join(outDir, 'aws', name);
      const seen = new Set<string>();
      const read = async (file: string): Promise<string> => {
        if (seen.has(file)) return '';
        seen.add(file);
        const code = await readFile(join(dir, file), 'utf8');
        const imports = [...code.matchAll(/(?:^|[;}\s])import\s*(?:[\w$]+\s*,?\s*)?(?:\{[^}]*\}\s*)?from\s*"\.\/([^"]+)"/g)].map((match) => join(file, '..', match[1] ?? ''));
        return [code, ...(await Promise.all(imports.map(read)))].join('\n');
      };
      return read('index.mjs');
    };
    for (const name of ['sns-ingest', 'http-ingest', 'dispatch', 'deliver', 'reminders']) {
      const code = await startCode(name);
      expect(code, name).not.toContain('s3-object-lambda');
      expect(code, name).not.toContain('email.global');
      expect(code, name).not.toContain('Greeting never received');
      expect(code, name).not.toContain('YAMLParseError');
    }
  });

  it.each(['sns-ingest', 'http-ingest', 'dispatch', 'deliver', 'reminders'])('aws/%s imports in a bare node process and exports handler', async (name) => {
    const url = pathToFileURL(join(outDir, 'aws', name, 'index.mjs')).href;
    const script = `const m = await import(${JSON.stringify(url)}); if (typeof m.handler !== 'function') process.exit(3);`;
    // No AWS_REGION, no queue URLs, no credentials: importing must not need them.
    const { stderr } = await run(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env['PATH'] ?? '' }, cwd: outDir });
    expect(stderr).toBe('');
  });

  it('keeps @azure/functions outside the Azure bundle and ships host.json and package.json with it', async () => {
    const dir = join(outDir, 'azure', 'monitor-ingest');
    const code = await readFile(join(dir, 'index.mjs'), 'utf8');
    expect(code).toMatch(/from\s*"@azure\/functions"/);
    expect(await readFile(join(dir, 'host.json'), 'utf8')).toBe(await readFile(join(import.meta.dirname, '..', '..', 'functions', 'azure', 'host.json'), 'utf8'));
    const installed = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', 'node_modules', '@azure', 'functions', 'package.json'), 'utf8')) as { version: string };
    expect(JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))).toMatchObject({
      type: 'module',
      main: 'index.mjs',
      dependencies: { '@azure/functions': installed.version },
    });
  });

  it('keeps the functions framework and express outside the GCP bundle and pins both', async () => {
    const dir = join(outDir, 'gcp', 'monitoring-ingest');
    const code = await readFile(join(dir, 'index.mjs'), 'utf8');
    expect(code).toMatch(/from\s*"@google-cloud\/functions-framework"/);
    expect(code).toMatch(/from\s*"express"/);
    const versionOf = async (name: string): Promise<string> =>
      (JSON.parse(await readFile(join(import.meta.dirname, '..', '..', 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    expect(JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))).toMatchObject({
      type: 'module',
      main: 'index.mjs',
      dependencies: { '@google-cloud/functions-framework': await versionOf('@google-cloud/functions-framework'), express: await versionOf('express') },
    });
  });

  it('prints a size table with bytes and KiB per bundle and the total', () => {
    const table = sizeTable(results, outDir).split('\n');
    expect(table[0]).toMatch(/^bundle\s+file\s+bytes\s+KiB\s+start KiB\s+all KiB$/);
    const kib = (bytes: number): string => (bytes / 1024).toFixed(1);
    const deliver = results.find((result) => result.name === 'deliver')!;
    expect(table).toContainEqual(
      expect.stringMatching(
        new RegExp(`^aws/deliver\\s+aws/deliver/index\\.mjs\\s+${String(deliver.bytes)}\\s+${kib(deliver.bytes)}\\s+${kib(deliver.startBytes)}\\s+${kib(deliver.totalBytes)}$`),
      ),
    );
    const total = results.reduce((sum, result) => sum + result.bytes, 0);
    expect(table.at(-1)).toMatch(new RegExp(`^total\\s+${String(total)}\\s+${kib(total)}\\s`));
    expect(table).toHaveLength(2 + BUNDLES.length + 1);
  });

  it('rejects when a bundle does not build', async () => {
    await expect(packageAll(outDir, [{ cloud: 'aws', name: 'broken', entry: 'functions/aws/does-not-exist.ts', external: [] }])).rejects.toThrow(/Could not resolve|does-not-exist/);
  });

  it('exits non-zero from the command line when packaging fails', async () => {
    const blocker = join(outDir, 'not-a-directory');
    await writeFile(blocker, 'x');
    const failure = run(process.execPath, [PACKAGER, '--out', blocker], { env: { PATH: process.env['PATH'] ?? '' } });
    await expect(failure).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('packaging failed') as unknown });
  });
});
