// Bring your own stack: another CDK app that installed Tocsin imports the construct by package
// name (`tocsin/infra`, package.json exports → the compiled lib/) and drops it into its own stack
// with resources it already has. The app lives in a temporary directory whose node_modules/tocsin
// links to this checkout (as `npm link` or a workspace would), sharing one aws-cdk-lib; it is
// type-checked against the published declarations and synthesised by a real `node` child process.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

const TABLE_ARN = 'arn:aws:dynamodb:eu-west-1:123456789012:table/platform-alert-state';
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a';
const ONCALL_ARN = 'arn:aws:sns:eu-west-1:123456789012:platform-oncall';
const PROD_ALARMS_ARN = 'arn:aws:sns:eu-west-1:210987654321:prod-alarms';

const CONSUMER_APP = `
import { App, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { TocsinPipeline, type TocsinPipelineProps } from 'tocsin/infra';

const app = new App({ outdir: process.argv[2], context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new Stack(app, 'PlatformAlerts', { env: { account: '123456789012', region: 'eu-west-1' } });
const props: TocsinPipelineProps = {
  config: { channels: { log: { type: 'console' } }, routes: [{ channels: ['log'] }] },
  table: dynamodb.Table.fromTableArn(stack, 'AlertState', '${TABLE_ARN}'),
  encryptionKey: kms.Key.fromKeyArn(stack, 'PlatformKey', '${KEY_ARN}'),
  alarmAction: sns.Topic.fromTopicArn(stack, 'Oncall', '${ONCALL_ARN}'),
  alarmTopics: [sns.Topic.fromTopicArn(stack, 'ProdAlarms', '${PROD_ALARMS_ARN}')],
  functionProps: { deliver: { memorySize: 1024, timeout: Duration.seconds(40) } },
  removalPolicy: RemovalPolicy.DESTROY,
  metricsNamespace: 'PlatformAlerts',
};
const pipeline = new TocsinPipeline(stack, 'Tocsin', props);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
const template: unknown = app.synth().getStackByName('PlatformAlerts').template;
process.stdout.write(JSON.stringify({ template, deliverTimeout: pipeline.functions.deliver.timeout?.toSeconds() }));
`;

const resourceSchema = z.looseObject({ Type: z.string(), Properties: z.record(z.string(), z.unknown()).default({}) });
const outputSchema = z.object({
  template: z.object({ Resources: z.record(z.string(), resourceSchema) }),
  deliverTimeout: z.number(),
});

let dir: string;

beforeAll(async () => {
  // What `npm install` runs (prepare → build): the compiled library and its declarations.
  await run(process.execPath, [TSC, '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT });
  dir = mkdtempSync(join(tmpdir(), 'tocsin-consumer-'));
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules', 'tocsin'), 'dir');
  // The app's own copies of the peers: links to the same files, so one aws-cdk-lib is loaded.
  for (const name of ['aws-cdk-lib', 'constructs', 'cdk-nag']) symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name), 'dir');
  symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'platform-alerts', private: true, type: 'module', dependencies: { tocsin: '*' } }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2023', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], allowImportingTsExtensions: true },
      files: ['app.ts'],
    }),
  );
  writeFileSync(join(dir, 'app.ts'), CONSUMER_APP);
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("another CDK app importing 'tocsin/infra' by package name", () => {
  it('type-checks against the published declarations', async () => {
    await expect(run(process.execPath, [TSC, '-p', dir], { cwd: dir })).resolves.toBeDefined();
  }, 240_000);

  it('synthesises its own stack around its existing table, key and topics, cdk-nag clean', async () => {
    const { stdout } = await run(process.execPath, [join(dir, 'app.ts'), join(dir, 'cdk.out')], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
    const { template, deliverTimeout } = outputSchema.parse(JSON.parse(stdout));
    expect(deliverTimeout).toBe(40);
    const all = Object.values(template.Resources);
    const ofType = (type: string) => all.filter((r) => r.Type === type);

    // Nothing of its own where the app brought one: no table, no KMS key, one topic (alerts).
    expect(ofType('AWS::DynamoDB::Table')).toEqual([]);
    expect(ofType('AWS::KMS::Key')).toEqual([]);
    expect(ofType('AWS::SNS::Topic')).toHaveLength(1);
    expect(ofType('AWS::SNS::Topic')[0]?.Properties['KmsMasterKeyId']).toBe(KEY_ARN);

    const functions = ofType('AWS::Lambda::Function');
    expect(functions).toHaveLength(5);
    const deliver = functions.find((f) => f.Properties['MemorySize'] === 1024);
    expect(deliver?.Properties['Timeout']).toBe(40);
    for (const fn of functions) {
      expect(fn.Properties['Environment']).toMatchObject({ Variables: { POWERTOOLS_METRICS_NAMESPACE: 'PlatformAlerts' } });
    }
    expect(functions.filter((f) => JSON.stringify(f.Properties['Environment']).includes('"STATE_TABLE_NAME":"platform-alert-state"'))).toHaveLength(3); // dispatch, deliver, reminders

    for (const alarm of ofType('AWS::CloudWatch::Alarm')) expect(alarm.Properties['AlarmActions']).toEqual([ONCALL_ARN]);
    expect(ofType('AWS::SNS::Subscription').map((s) => s.Properties['TopicArn'])).toContainEqual(PROD_ALARMS_ARN);
    const grants = JSON.stringify(ofType('AWS::IAM::Policy'));
    expect(grants).toContain(TABLE_ARN);
    for (const group of ofType('AWS::Logs::LogGroup')) expect(group).toMatchObject({ DeletionPolicy: 'Delete' });
  }, 240_000);
});
