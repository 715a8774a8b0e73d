// Run first by `npm test`: the system programs the suite drives for real. Without one, the run
// stops at once with one line naming it and the command that installs it, rather than failing
// deep inside a test (or skipping it quietly).
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

interface SystemProgram {
  readonly command: string;
  /** Where the tests find it instead of PATH, if set. */
  readonly override?: string;
  readonly debianPackage: string;
  readonly usedBy: string;
}

const REQUIRED: readonly SystemProgram[] = [
  { command: 'prometheus-alertmanager', override: 'ALERTMANAGER_BIN', debianPackage: 'prometheus-alertmanager', usedBy: 'the Alertmanager end-to-end test' },
  { command: 'chromium', override: 'CHROMIUM_BIN', debianPackage: 'chromium', usedBy: 'the incidents page test and the notice rendering tests (headless, through playwright-core), and npm run screenshots' },
];

function onPath(command: string): boolean {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // Not in this one.
    }
  }
  return false;
}

const missing = REQUIRED.filter((program) => !(program.override !== undefined && process.env[program.override]) && !onPath(program.command));
for (const program of missing) {
  process.stderr.write(`npm test needs ${program.command} (${program.usedBy}); install it with: sudo apt-get install -y ${program.debianPackage}\n`);
}
if (missing.length > 0) process.exit(1);
