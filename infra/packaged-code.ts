// The Lambda functions' code is exactly what `npm run package` builds and `npm run bench`
// measures (functions/package.ts): one run of the packager per synth builds the four AWS
// bundles, and each function's asset is its folder (index.mjs, its chunks, source maps).
// The packager runs as a CDK local bundling step, so stacks that skip bundling (the
// `aws:cdk:bundling-stacks` context, as in the template tests) never build anything; no Docker.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where this process packaged the AWS bundles (once, at the first asset that needs them). */
let packagedDir: string | undefined;

function packagedBundles(): string {
  if (packagedDir === undefined) {
    const out = mkdtempSync(join(tmpdir(), 'tocsin-synth-'));
    process.once('exit', () => {
      rmSync(out, { recursive: true, force: true });
    });
    // Its size table is not wanted on every synth; esbuild's errors are.
    execFileSync(process.execPath, [join(REPO_ROOT, 'functions', 'package.ts'), '--out', out, '--cloud', 'aws'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    packagedDir = out;
  }
  return packagedDir;
}

/** The packaged bundle of functions/aws/<name>.ts; the handler is `index.handler`. */
export function packagedFunctionCode(name: string): lambda.Code {
  return lambda.Code.fromAsset(join(REPO_ROOT, 'functions', 'aws'), {
    // The hash of the bundle itself: a change that does not change the code redeploys nothing.
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the type, never pulled: local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('local-bundling-only'),
      // CDK caches bundling output by source path and bundling options, and tryBundle is not part
      // of the key: without an option naming the function, all four would get the first one's code.
      command: ['tocsin-bundle', name],
      local: {
        tryBundle(outputDir: string): boolean {
          cpSync(join(packagedBundles(), 'aws', name), outputDir, { recursive: true });
          return true;
        },
      },
    },
  });
}
