#!/usr/bin/env node
// The `tocsin` command's entry point. Plain JavaScript, so that on a Node.js too old to run
// TypeScript directly (type stripping needs 22.18) it can still say so in one line instead of
// failing with "Unknown file extension .ts".
const MINIMUM = [22, 18];
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < MINIMUM[0] || (major === MINIMUM[0] && minor < MINIMUM[1])) {
  process.stderr.write(
    `tocsin: needs Node.js ${MINIMUM.join('.')} or newer, this is ${process.version}; ` +
      'run it through npm (npm start, npx tocsin), which uses the Node 22 that npm install put in node_modules\n',
  );
  process.exit(2);
}
// node:sqlite says it is experimental on every start; that is known and accepted (README).
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const text = typeof warning === 'string' ? warning : warning instanceof Error ? warning.message : '';
  if (text.startsWith('SQLite is an experimental feature')) return;
  emitWarning(warning, ...rest);
};
// V8 told to favour memory over speed, before the program allocates anything. By default a
// flat-out minute of ingest grows the young generation to 32 MiB and lets garbage pile up in the
// old one until V8 decides to collect it (resident memory 82 -> ~130-140 MiB, nearly all of it
// garbage: a forced GC brought the heap back to its idle size); with it the young generation
// stays at 4-8 MiB and old space is collected sooner (~75-90 MiB). The price, measured at a fixed
// 400 requests/s: ~11-14% more CPU per duplicate alert (the cheapest request); none that could be
// told from noise for new alerts. Left alone when the command line or NODE_OPTIONS already says
// either way (--no-optimize-for-size to trade back).
const nodeFlags = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
if (!/optimize[-_]for[-_]size/.test(nodeFlags)) process.getBuiltinModule('node:v8').setFlagsFromString('--optimize-for-size');
await import('./cli.ts');
