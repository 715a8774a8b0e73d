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
await import('./cli.ts');
