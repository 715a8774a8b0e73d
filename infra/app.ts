// The CDK app behind `npm run synth` (cdk.json: `node infra/app.ts`). Synth needs no AWS
// credentials and no network: the stack is environment-agnostic unless the CLI knows the
// account (CDK_DEFAULT_ACCOUNT), and the functions are bundled by the local esbuild.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { pipelinePropsFromContext, TocsinStack } from './tocsin-stack.ts';

const app = new App();
const account = process.env['CDK_DEFAULT_ACCOUNT'];
const stackName: unknown = app.node.tryGetContext('tocsin:stackName');

new TocsinStack(app, typeof stackName === 'string' && stackName !== '' ? stackName : 'Tocsin', {
  description: 'Tocsin: multi-cloud alert normalization, dedup and notification',
  ...(account === undefined ? {} : { env: { account, region: process.env['CDK_DEFAULT_REGION'] } }),
  pipeline: pipelinePropsFromContext(app.node),
});

// cdk-nag's AWS Solutions rules run on every synth; a finding without a written
// acknowledgement fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
