// Builds one deployable bundle per cloud function with esbuild, into <out>/<cloud>/<function>/:
//   aws/{sns-ingest,http-ingest,dispatch,deliver,reminders}/index.mjs   Lambda, Node 22, handler `index.handler`
//   azure/monitor-ingest/{index.mjs,host.json,package.json}   Azure Functions v4 app (Node 22)
//   gcp/monitoring-ingest/{index.mjs,package.json}            Cloud Functions gen2 (Node 22)
// Bundles are ESM, minified and tree-shaken, for node22, with a linked source map (set
// NODE_OPTIONS=--enable-source-maps to use it). The AWS SDK is bundled, so the code runs on the
// SDK version the tests ran with, not the Lambda runtime's.
// Code splitting is on: what the code imports with `import()` (the S3 client, the email and SMS
// channels' SDK clients and nodemailer, the YAML parser, the SDK's rarer credential providers)
// goes to chunks/ next to index.mjs and is read only when a run needs it, so a cold start loads
// index.mjs and the chunks it imports statically (`startBytes`), not the whole folder.
//
// What stays outside a bundle, and why:
// - Azure: `@azure/functions`. It talks to the Functions host through `@azure/functions-core`, a
//   module the host's Node worker provides at run time, so it cannot be bundled; the app's
//   package.json lists it and the deployment installs it (remote build, or `npm install
//   --omit=dev` in the folder before zipping).
// - GCP: `@google-cloud/functions-framework`, which Cloud Build installs from package.json and
//   which starts the server; and `express`, which the entry imports to patch the framework's
//   app. A bundled copy would be a second Express that the framework never uses, so express is
//   listed too, at the installed version (it satisfies the framework's range, so npm installs a
//   single copy).
//
// Usage: node functions/package.ts [--out DIR] [--cloud aws|azure|gcp|local] [--quiet]   (default:
// dist, every cloud; `local` is `tocsin` itself, dist/local/tocsin/index.mjs, which `npm start`
// builds and runs). Prints the bundle sizes; exits non-zero when a build fails. The CDK app deploys the
// AWS bundles this builds (infra/packaged-code.ts), so what is measured is what ships.
import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type Metafile, type Plugin } from 'esbuild';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

// ESM output needs `require` for the CommonJS dependencies that load Node built-ins.
const ESM_REQUIRE_BANNER =
  "import { createRequire as __tocsinCreateRequire } from 'node:module'; const require = __tocsinCreateRequire(import.meta.url);";

/**
 * `import { z } from 'zod'` carries `z.locales`, every translation of zod's messages (about 300 KB
 * minified), which no bundler can drop from a namespace object. Tocsin never switches zod's
 * locale (zod registers English itself), so the locale index is cut down to English.
 * Tocsin's own code imports `* as z`, whose unused parts (locales included) esbuild drops; the
 * plugin stays for any module, ours or a dependency's, that takes the namespace as a value.
 */
export const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: "export { default as en } from './en.js';\n",
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

/** Where a name a module imports is defined: the file, and the name it has there. */
interface Origin {
  readonly file: string;
  readonly name: string;
}

const IDENTIFIER = String.raw`[A-Za-z_$][\w$]*`;
const NAMED_LIST = String.raw`\{([^{}]*)\}`;
const SPECIFIER = String.raw`"([^"\n]+)"`;
const IMPORT_NAMED = new RegExp(String.raw`^import\s*${NAMED_LIST}\s*from\s*${SPECIFIER};?`, 'gm');
const EXPORT_FROM = new RegExp(String.raw`^export\s*${NAMED_LIST}\s*from\s*${SPECIFIER};?`, 'gm');
const EXPORT_STAR = new RegExp(String.raw`^export\s*\*\s*from\s*${SPECIFIER};?`, 'gm');
const EXPORT_DECLARED = new RegExp(String.raw`^export\s+(?:async\s+)?(?:function\*?|class|const|let|var)\s+(${IDENTIFIER})`, 'gm');
const EXPORT_LOCAL = new RegExp(String.raw`^export\s*${NAMED_LIST}\s*;?\s*$`, 'gm');

/** `a, b as c` → [['a', 'a'], ['b', 'c']] (name there, name here); undefined when not that simple. */
function namedList(list: string): [string, string][] | undefined {
  const pairs: [string, string][] = [];
  for (const item of list.split(',').map((part) => part.trim())) {
    if (item === '') continue;
    const match = new RegExp(String.raw`^(${IDENTIFIER})(?:\s+as\s+(${IDENTIFIER}))?$`).exec(item);
    if (match?.[1] === undefined) return undefined;
    pairs.push([match[1], match[2] ?? match[1]]);
  }
  return pairs;
}

/**
 * Imports from the AWS SDK's index files ("barrels": `@smithy/core/protocols`,
 * `@aws-sdk/core/protocols`, ...) are pointed at the files that define the names.
 * esbuild's code splitting places code by file: a file that an entry reaches through an index
 * counts as reached from that entry, even when the entry uses nothing from it. The clients and
 * credential providers loaded on demand (S3, STS, SSO, ...) use files of the same indexes (the
 * XML and query protocols, checksums, streams), so without this their code lands in chunks a cold
 * start loads: about 55–70 KiB and 75 modules per AWS function. Same modules, same code; only
 * the route by which a file is found changes. Anything this cannot follow is left as written.
 */
// Shared by every build of a run: the SDK resolves the same way in each bundle.
const sdkResolved = new Map<string, Promise<string | undefined>>();
const sdkExports = new Map<string, Promise<Map<string, Origin>>>();

export const sdkDeepImports: Plugin = {
  name: 'sdk-deep-imports',
  setup(pluginBuild) {
    const resolveFrom = (specifier: string, importer: string): Promise<string | undefined> => {
      const key = `${specifier.startsWith('.') ? dirname(importer) : ''}\0${specifier}`;
      let pending = sdkResolved.get(key);
      if (pending === undefined) {
        pending = pluginBuild
          .resolve(specifier, { kind: 'import-statement', resolveDir: dirname(importer), importer })
          .then((result) => (result.errors.length === 0 && !result.external && result.path.endsWith('.js') ? result.path : undefined));
        sdkResolved.set(key, pending);
      }
      return pending;
    };
    // Every name a module exports, with where it is defined (re-exports followed). The SDK's indexes
    // re-export without cycles (checked over every bundle); on one, a name would stay on the index.
    const originsOf = (file: string, seen: ReadonlySet<string> = new Set()): Promise<Map<string, Origin>> => {
      if (seen.has(file)) return Promise.resolve(new Map<string, Origin>());
      let pending = sdkExports.get(file);
      if (pending === undefined) {
        pending = (async () => {
          const origins = new Map<string, Origin>();
          const code = await readFile(file, 'utf8');
          const inner = new Set([...seen, file]);
          for (const match of code.matchAll(EXPORT_DECLARED)) if (match[1] !== undefined) origins.set(match[1], { file, name: match[1] });
          for (const match of code.matchAll(EXPORT_LOCAL)) {
            for (const [, exported] of namedList(match[1] ?? '') ?? []) origins.set(exported, { file, name: exported });
          }
          for (const match of code.matchAll(EXPORT_FROM)) {
            const target = await resolveFrom(match[2] ?? '', file);
            const pairs = namedList(match[1] ?? '');
            if (target === undefined || pairs === undefined) continue;
            const there = await originsOf(target, inner);
            for (const [name, exported] of pairs) origins.set(exported, there.get(name) ?? { file: target, name });
          }
          for (const match of code.matchAll(EXPORT_STAR)) {
            const target = await resolveFrom(match[1] ?? '', file);
            if (target === undefined) continue;
            for (const [name, origin] of await originsOf(target, inner)) if (name !== 'default' && !origins.has(name)) origins.set(name, origin);
          }
          return origins;
        })();
        sdkExports.set(file, pending);
      }
      return pending;
    };
    const rewrite = async (statement: string, keyword: 'import' | 'export', list: string, specifier: string, importer: string): Promise<string> => {
      const pairs = namedList(list);
      const target = pairs === undefined ? undefined : await resolveFrom(specifier, importer);
      if (pairs === undefined || target === undefined) return statement;
      const origins = await originsOf(target);
      const byFile = new Map<string, string[]>();
      for (const [name, local] of pairs) {
        const origin = origins.get(name) ?? { file: target, name };
        const names = byFile.get(origin.file) ?? [];
        names.push(origin.name === local ? local : `${origin.name} as ${local}`);
        byFile.set(origin.file, names);
      }
      if (byFile.size === 1 && byFile.has(target)) return statement;
      return [...byFile].map(([file, names]) => `${keyword} { ${names.join(', ')} } from ${JSON.stringify(file)};`).join('\n');
    };
    pluginBuild.onLoad({ filter: /[\\/]node_modules[\\/]@(?:smithy|aws-sdk)[\\/].*[\\/]dist-es[\\/].*\.js$/ }, async (args) => {
      const code = await readFile(args.path, 'utf8');
      // Package indexes are reached by package specifiers (`@smithy/core/protocols`); a relative
      // import names a file of the same package, which the package's own index re-exports.
      const statements = [
        ...[...code.matchAll(IMPORT_NAMED)].map((match) => ({ match, keyword: 'import' as const, list: match[1], specifier: match[2] })),
        ...[...code.matchAll(EXPORT_FROM)].map((match) => ({ match, keyword: 'export' as const, list: match[1], specifier: match[2] })),
      ]
        .filter(({ specifier }) => specifier !== undefined && !specifier.startsWith('.'))
        .sort((a, b) => a.match.index - b.match.index);
      if (statements.length === 0) return undefined;
      let out = '';
      let at = 0;
      for (const { match, keyword, list, specifier } of statements) {
        out += code.slice(at, match.index) + (await rewrite(match[0], keyword, list ?? '', specifier ?? '', args.path));
        at = match.index + match[0].length;
      }
      out += code.slice(at);
      return out === code ? undefined : { contents: out, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

/**
 * An AWS SDK client reads one field of its package.json, `version` (for the user agent), through a
 * default import, which brings in the whole file: 2–3 KiB per client at every cold start (SQS,
 * DynamoDB, SSM, Secrets Manager in dispatch). So does Tocsin's own webhook channel (its user agent,
 * 2.6 KiB of our package.json). Imports of a package.json from the SDK's dist-es code and from
 * shared/ get `{ version }` only; every such import reads `.version` alone.
 */
export const sdkPackageVersions: Plugin = {
  name: 'sdk-package-versions',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /(?:^|\/)package\.json$/ }, (args) => {
      const fromSdk = /[\\/]node_modules[\\/]@aws-sdk[\\/][^\\/]+[\\/]dist-es[\\/]/.test(args.importer);
      if (!fromSdk && !args.importer.startsWith(join(REPO_ROOT, 'shared'))) return undefined;
      return { path: resolve(args.resolveDir, args.path), namespace: 'sdk-package-version' };
    });
    pluginBuild.onLoad({ filter: /.*/, namespace: 'sdk-package-version' }, async (args) => ({
      contents: JSON.stringify({ version: (await readPackageJson(args.path)).version }),
      loader: 'json',
    }));
  },
};

/**
 * The AWS bundles parse alert payloads with zod's runtime parser (shared/sources/parser-runtime.ts)
 * instead of its compiled one (shared/sources/parser.ts): same answers, without the compiler's
 * code (about 29 KiB) in what a cold start loads or the compilation at a container's first payload,
 * which a Lambda container, parsing a few payloads in its life, never earns back.
 */
export const runtimeSourceParsers: Plugin = {
  name: 'runtime-source-parsers',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.\/parser\.ts$/ }, (args) => {
      if (!/[\\/]shared[\\/]sources[\\/]source\.ts$/.test(args.importer)) return undefined;
      return { path: join(dirname(args.importer), 'parser-runtime.ts') };
    });
  },
};

/** Where a bundle runs; `local` is `tocsin` itself, which `npm start` runs bundled. */
export type Cloud = 'aws' | 'azure' | 'gcp' | 'local';

export interface BundleSpec {
  readonly cloud: Cloud;
  readonly name: string;
  /** Entry file, relative to the repository root. */
  readonly entry: string;
  /** Packages left out of the bundle (installed next to it at deploy time). */
  readonly external: readonly string[];
  /** Writes the files the platform needs besides the bundle. */
  readonly extras?: (dir: string) => Promise<void>;
  /** Keep names (whitespace and syntax are still minified): readable stack traces without a map. */
  readonly keepNames?: boolean;
}

export interface BundleResult {
  readonly cloud: Cloud;
  readonly name: string;
  /** Absolute path of index.mjs. */
  readonly file: string;
  /** index.mjs alone. */
  readonly bytes: number;
  /** What a cold start loads: index.mjs and the chunks it imports statically, transitively. */
  readonly startBytes: number;
  /** Every .mjs file of the bundle, the chunks loaded on demand included. */
  readonly totalBytes: number;
}

interface PackageJson {
  readonly name?: string;
  readonly version: string;
}

async function readPackageJson(path: string): Promise<PackageJson> {
  return JSON.parse(await readFile(path, 'utf8')) as PackageJson;
}

/** The exact version installed in this repository (what the tests ran against). */
async function installedVersion(name: string): Promise<string> {
  return (await readPackageJson(join(REPO_ROOT, 'node_modules', name, 'package.json'))).version;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

async function appPackageJson(name: string, dependencies: readonly string[]): Promise<Record<string, unknown>> {
  const root = await readPackageJson(join(REPO_ROOT, 'package.json'));
  const pinned: Record<string, string> = {};
  for (const dependency of dependencies) pinned[dependency] = await installedVersion(dependency);
  return {
    name,
    version: root.version,
    private: true,
    description: 'Tocsin bundle generated by functions/package.ts; do not edit',
    type: 'module',
    main: 'index.mjs',
    engines: { node: '>=22' },
    dependencies: pinned,
  };
}

const AWS_FUNCTIONS = ['sns-ingest', 'http-ingest', 'dispatch', 'deliver', 'reminders'] as const;

export const BUNDLES: readonly BundleSpec[] = [
  ...AWS_FUNCTIONS.map((name): BundleSpec => ({ cloud: 'aws', name, entry: `functions/aws/${name}.ts`, external: [] })),
  {
    cloud: 'azure',
    name: 'monitor-ingest',
    entry: 'functions/azure/monitor-ingest.ts',
    external: ['@azure/functions'],
    extras: async (dir) => {
      await copyFile(join(REPO_ROOT, 'functions', 'azure', 'host.json'), join(dir, 'host.json'));
      await writeJson(join(dir, 'package.json'), await appPackageJson('tocsin-azure-monitor-ingest', ['@azure/functions']));
    },
  },
  {
    cloud: 'gcp',
    name: 'monitoring-ingest',
    entry: 'functions/gcp/index.ts',
    external: ['@google-cloud/functions-framework', 'express'],
    extras: async (dir) => {
      await writeJson(
        join(dir, 'package.json'),
        await appPackageJson('tocsin-gcp-monitoring-ingest', ['@google-cloud/functions-framework', 'express']),
      );
    },
  },
];

/**
 * `tocsin` (the local pipeline and its CLI) as one bundle, for `npm start`: running the
 * TypeScript sources directly costs Node's type stripping and ~100 module loads on every start
 * (about 35 MiB and most of a second here), where one compiled bundle with its dependencies costs
 * neither. `npm run tocsin` and the bin keep running the sources; both are the same code.
 */
export const LOCAL_BUNDLE: BundleSpec = { cloud: 'local', name: 'tocsin', entry: 'functions/local/tocsin.js', external: [], keepNames: true };

async function bundle(spec: BundleSpec, outDir: string): Promise<BundleResult> {
  const dir = join(outDir, spec.cloud, spec.name);
  // Only this function's own folder is replaced: stale files from an older build must not ship.
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'index.mjs');
  const { metafile } = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: { index: join(REPO_ROOT, spec.entry) },
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: spec.keepNames !== true,
    treeShaking: true,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'linked',
    // Module-first resolution: smaller bundles for packages that ship both (style.md, "Bundles").
    mainFields: ['module', 'main'],
    external: [...spec.external],
    banner: { js: ESM_REQUIRE_BANNER },
    plugins: [zodEnglishOnly, sdkDeepImports, sdkPackageVersions, ...(spec.cloud === 'aws' ? [runtimeSourceParsers] : [])],
    metafile: true,
    logLevel: 'warning',
  });
  await spec.extras?.(dir);
  const sizes = loadedBytes(metafile, file);
  return { cloud: spec.cloud, name: spec.name, file, bytes: (await stat(file)).size, ...sizes };
}

/** The bytes a start loads (the entry and its static imports among the outputs) and all output code. */
function loadedBytes(metafile: Metafile, entryFile: string): { startBytes: number; totalBytes: number } {
  const outputs = new Map(Object.entries(metafile.outputs).map(([path, output]) => [resolve(REPO_ROOT, path), output]));
  const loaded = new Set<string>();
  const visit = (path: string): void => {
    const output = outputs.get(path);
    if (output === undefined || loaded.has(path)) return;
    loaded.add(path);
    for (const imported of output.imports) if (imported.kind === 'import-statement') visit(resolve(REPO_ROOT, imported.path));
  };
  visit(entryFile);
  const code = [...outputs].filter(([path]) => path.endsWith('.mjs'));
  const sum = (entries: readonly (readonly [string, { bytes: number }])[]): number => entries.reduce((total, [, output]) => total + output.bytes, 0);
  return { startBytes: sum(code.filter(([path]) => loaded.has(path))), totalBytes: sum(code) };
}

/** Builds every bundle into `outDir`; rejects on the first build error (esbuild has printed it). */
export async function packageAll(outDir: string, specs: readonly BundleSpec[] = BUNDLES): Promise<BundleResult[]> {
  const out = resolve(outDir);
  return Promise.all(specs.map((spec) => bundle(spec, out)));
}

/** One row per bundle: index.mjs, what a start loads, and every chunk (bytes and KiB each). */
export function sizeTable(results: readonly BundleResult[], base = process.cwd()): string {
  const kib = (bytes: number): string => (bytes / 1024).toFixed(1);
  const rows = results.map((result) => [
    `${result.cloud}/${result.name}`,
    relative(base, result.file),
    String(result.bytes),
    kib(result.bytes),
    kib(result.startBytes),
    kib(result.totalBytes),
  ]);
  const header = ['bundle', 'file', 'bytes', 'KiB', 'start KiB', 'all KiB'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column >= 2 ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0))).join('  ');
  const total = (key: 'bytes' | 'startBytes' | 'totalBytes'): number => results.reduce((sum, result) => sum + result[key], 0);
  return [
    line(header),
    line(widths.map((width) => '-'.repeat(width))),
    ...rows.map(line),
    line(['total', '', String(total('bytes')), kib(total('bytes')), kib(total('startBytes')), kib(total('totalBytes'))]),
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string', default: 'dist' }, cloud: { type: 'string' }, quiet: { type: 'boolean', default: false } } });
  const specs = values.cloud === undefined ? BUNDLES : [...BUNDLES, LOCAL_BUNDLE].filter((spec) => spec.cloud === values.cloud);
  if (specs.length === 0) {
    process.stderr.write(`packaging failed: no cloud ${values.cloud ?? ''} (aws, azure, gcp or local)\n`);
    process.exitCode = 2;
    return;
  }
  try {
    const results = await packageAll(values.out, specs);
    if (!values.quiet) process.stdout.write(`${sizeTable(results)}\n`);
  } catch (error) {
    // esbuild has already printed its errors with file and line; this says which step failed.
    process.stderr.write(`packaging failed: ${error instanceof Error ? error.message.split('\n')[0] ?? error.name : String(error)}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
