// A deployment without an ingest secret is impossible by accident: `cdk synth` of a config
// without `ingest.token` either wires in the token it generates in Secrets Manager (and outputs
// how to read it), or, with an existing secret whose keys it cannot know, fails with a message
// that says what to add. Built the way `npm run synth` builds it: context → TocsinStack.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import { pipelinePropsFromContext, TocsinStack } from '../../infra/tocsin-stack.ts';
import { logicalId, resource, stringProperty, testApp } from './template.ts';

const dir = mkdtempSync(join(tmpdir(), 'tocsin-token-synth-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tocsin/channels-AbC123';

function configFile(name: string, ingest: string): string {
  const file = join(dir, name);
  writeFileSync(file, `${ingest}channels:\n  log: { type: console }\nroutes:\n  - channels: [log]\n`);
  return file;
}

/** What `cdk synth -c tocsin:config=FILE [-c tocsin:channelSecretArn=ARN]` builds. */
function synth(context: Record<string, string>): { stack: TocsinStack; template: Template } {
  const app = testApp({ bundle: false });
  for (const [key, value] of Object.entries(context)) app.node.setContext(key, value);
  const stack = new TocsinStack(app, 'TokenTest', { pipeline: pipelinePropsFromContext(app.node) });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { stack, template: Template.fromStack(stack) };
}

describe('cdk synth of a config without ingest.token', () => {
  const file = configFile('no-token.yaml', '');

  it('with the generated secret: requires its TOCSIN_INGEST_TOKEN, and outputs the command that prints it', () => {
    const { stack, template } = synth({ 'tocsin:config': file });
    const pipeline = stack.pipeline;
    const stored = JSON.parse(stringProperty(resource(template, logicalId(stack, pipeline.configParameter)).Properties, 'Value')) as unknown;
    expect(stored).toMatchObject({ ingest: { token: '${TOCSIN_INGEST_TOKEN}' } });
    expect(resource(template, logicalId(stack, pipeline.channelSecret)).Properties['GenerateSecretString']).toMatchObject({
      GenerateStringKey: 'TOCSIN_INGEST_TOKEN',
      PasswordLength: 48,
    });
    const outputs = template.toJSON() as { Outputs: Record<string, { Value: unknown; Description?: string }> };
    expect(outputs.Outputs['IngestTokenCommand']).toEqual({
      Value: {
        'Fn::Join': ['', ['aws secretsmanager get-secret-value --secret-id ', { Ref: logicalId(stack, pipeline.channelSecret) }, ' --query SecretString --output text | jq -r .TOCSIN_INGEST_TOKEN']],
      },
      Description: 'Prints the ingest token every webhook must send (bearer, basic-auth password or ?token=)',
    });
  });

  it('with an existing secret: synth fails and says exactly what to add, and where', () => {
    expect(() => synth({ 'tocsin:config': file, 'tocsin:channelSecretArn': SECRET_ARN })).toThrow(
      `${file} has no ingest.token, so the public http-ingest URL would take alerts from anyone: add  ingest: { token: "\${TOCSIN_INGEST_TOKEN}" }  to it and the key TOCSIN_INGEST_TOKEN (a long random value) to the secret ${SECRET_ARN}, or leave out channelSecretArn and the stack generates one`,
    );
  });
});

describe('cdk synth of a config with ingest.token', () => {
  it('keeps a placeholder of its own choosing and outputs how to read that key', () => {
    const file = configFile('own-key.yaml', 'ingest:\n  token: ${WEBHOOK_TOKEN}\n');
    const { stack, template } = synth({ 'tocsin:config': file, 'tocsin:channelSecretArn': SECRET_ARN });
    const stored = JSON.parse(stringProperty(resource(template, logicalId(stack, stack.pipeline.configParameter)).Properties, 'Value')) as unknown;
    expect(stored).toMatchObject({ ingest: { token: '${WEBHOOK_TOKEN}' } });
    expect(JSON.stringify((template.toJSON() as { Outputs: unknown }).Outputs)).toContain('jq -r .WEBHOOK_TOKEN');
  });

  it.each([
    ['a literal token (it would sit in plain text in SSM)', 'ingest:\n  token: hunter2hunter2\n', /ingest\.token must be a \$\{NAME\} placeholder filled from the channel secret/],
    ['an empty token', 'ingest:\n  token: ""\n', /ingest\.token is empty/],
    ['a token that is not a string', 'ingest:\n  token: 12345\n', /ingest\.token is not a string/],
  ])('refuses %s', (_name, ingest, message) => {
    expect(() => synth({ 'tocsin:config': configFile('bad-token.yaml', ingest) })).toThrow(message);
  });
});
