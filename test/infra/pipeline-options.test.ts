// The construct's options: what changes when a prop is set or left out, and which props are
// refused at synth time. Bundling is skipped here (pipeline.test.ts covers it).
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { TocsinPipeline, type TocsinPipelineProps } from '../../infra/tocsin-pipeline.ts';
import {
  allPolicyStatements,
  logicalId,
  resource,
  resources,
  statementsOf,
  stringProperty,
  testApp,
} from './template.ts';

const CONSOLE_ONLY = {
  channels: { log: { type: 'console' } },
  routes: [{ channels: ['log'] }],
  defaults: { flap: { changes: 3, window: '10m' } },
};
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tocsin/channels-AbC123';

function build(props: Partial<TocsinPipelineProps> = {}): { stack: Stack; pipeline: TocsinPipeline; template: Template } {
  const app = testApp({ bundle: false });
  const stack = new Stack(app, 'Options');
  const pipeline = new TocsinPipeline(stack, 'Pipeline', { config: CONSOLE_ONLY, ...props });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { stack, pipeline, template: Template.fromStack(stack) };
}

const WITH_TOKEN = { ...CONSOLE_ONLY, ingest: { token: '${TOCSIN_INGEST_TOKEN}' } };

describe('a minimal pipeline (console channel, existing secret, no tracing, no forwarders)', () => {
  const { stack, pipeline, template } = build({ config: WITH_TOKEN, channelSecretArn: SECRET_ARN });

  it('uses the existing secret instead of creating one', () => {
    expect(resources(template, 'AWS::SecretsManager::Secret').size).toBe(0);
    for (const name of ['http-ingest', 'dispatch', 'deliver'] as const) {
      const fn = resource(template, logicalId(stack, pipeline.functions[name])).Properties;
      expect(fn['Environment']).toMatchObject({ Variables: { TOCSIN_SECRET_ARN: SECRET_ARN } });
      const role = logicalId(stack, pipeline.functions[name].role ?? pipeline);
      const read = statementsOf(template, role).filter((s) => s.Action.includes('secretsmanager:GetSecretValue'));
      expect(read.map((s) => s.Resource)).toEqual([SECRET_ARN]);
    }
  });

  it('grants no SMS, no SES and no "*" resource when no channel needs them and tracing is off', () => {
    const deliverRole = logicalId(stack, pipeline.functions.deliver.role ?? pipeline);
    const actions = statementsOf(template, deliverRole).flatMap((s) => s.Action);
    expect(actions.filter((a) => a.startsWith('sns:') || a.startsWith('ses:') || a.startsWith('xray:'))).toEqual([]);
    expect(allPolicyStatements(template).filter(({ statement }) => statement.Resource === '*')).toEqual([]);
    for (const fn of Object.values(pipeline.functions)) {
      expect(resource(template, logicalId(stack, fn)).Properties['TracingConfig']).toBeUndefined();
    }
  });

  it('creates no forwarder principal and no health subscription unless asked', () => {
    expect(resources(template, 'AWS::IAM::User').size).toBe(0);
    expect(resources(template, 'AWS::IAM::OIDCProvider').size).toBe(0);
    expect(resources(template, 'AWS::IAM::Role').size).toBe(5);
    const subscriptions = [...resources(template, 'AWS::SNS::Subscription').values()];
    expect(subscriptions.map((s) => s.Properties['Protocol'])).toEqual(['lambda']);
  });

  it('passes cdk-nag without the acknowledgements it does not need', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    const acknowledged = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.keys(m.data as Record<string, string>));
    // Besides the runtime (L1): the rejected-payloads bucket's access logs (S1) and the two
    // ingest roles' PutObject under rejected/ (IAM5 on that one prefix).
    expect(acknowledged.sort()).toEqual(
      [
        ...Array.from({ length: 5 }, () => 'Annotation::AwsSolutions-L1'),
        'Annotation::AwsSolutions-S1',
        'Annotation::AwsSolutions-SQS3',
        ...Array.from({ length: 2 }, () => `Annotation::AwsSolutions-IAM5[Resource::<${logicalId(stack, pipeline.rejectedPayloadsBucket)}.Arn>/rejected/*]`),
      ].sort(),
    );
  });
});

describe('settings', () => {
  const { stack, pipeline, template } = build({
    renotifyAfter: Duration.minutes(90),
    resolvedTtl: Duration.days(3),
    maxQueueAge: Duration.minutes(10),
    deliverMaxConcurrency: 4,
    configParameterName: '/tocsin/prod/config',
    httpIngestReservedConcurrency: 20,
    logRetention: logs.RetentionDays.THREE_MONTHS,
  });

  it('writes renotifyAfter into the stored config and keeps the other defaults', () => {
    const parameter = resource(template, logicalId(stack, pipeline.configParameter)).Properties;
    expect(parameter['Name']).toBe('/tocsin/prod/config');
    expect(JSON.parse(stringProperty(parameter, 'Value'))).toEqual({
      ...CONSOLE_ONLY,
      // The config had no token: the one in the generated secret is required.
      ingest: { token: '${TOCSIN_INGEST_TOKEN}' },
      defaults: { flap: { changes: 3, window: '10m' }, renotifyAfter: '90m' },
    });
  });

  it('passes the resolved TTL to dispatch and deliver in seconds', () => {
    for (const fn of [pipeline.functions.dispatch, pipeline.functions.deliver]) {
      expect(resource(template, logicalId(stack, fn)).Properties['Environment']).toMatchObject({
        Variables: { TOCSIN_RESOLVED_TTL_SECONDS: String(3 * 24 * 3600) },
      });
    }
  });

  it('applies the queue-age threshold, deliver concurrency, ingest reservation and log retention', () => {
    const ageAlarms = [...resources(template, 'AWS::CloudWatch::Alarm').values()].filter(
      (a) => a.Properties['MetricName'] === 'ApproximateAgeOfOldestMessage',
    );
    expect(ageAlarms.map((a) => a.Properties['Threshold'])).toEqual([600]);
    // The deliveries queue: ready messages unsent in each of the 10 minutes.
    const backlog = resource(template, logicalId(stack, pipeline.alarms.find((a) => a.node.id === 'DeliveriesQueueBacklogAlarm')!)).Properties;
    expect(backlog).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Statistic: 'Minimum', EvaluationPeriods: 10 });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(stack, pipeline.functions.deliver) },
      ScalingConfig: { MaximumConcurrency: 4 },
    });
    expect(
      resource(template, logicalId(stack, pipeline.functions['http-ingest'])).Properties['ReservedConcurrentExecutions'],
    ).toBe(20);
    const retention = [...resources(template, 'AWS::Logs::LogGroup').values()].map((g) => g.Properties['RetentionInDays']);
    expect(retention).toEqual([90, 90, 90, 90, 90]);
  });
});

describe('http-ingest reservation', () => {
  const reservation = (props: Partial<TocsinPipelineProps>): unknown => {
    const { stack, pipeline, template } = build(props);
    return resource(template, logicalId(stack, pipeline.functions['http-ingest'])).Properties['ReservedConcurrentExecutions'];
  };
  it('is 10 by default, a given number, or none when asked', () => {
    expect(reservation({})).toBe(10);
    expect(reservation({ httpIngestReservedConcurrency: 3 })).toBe(3);
    expect(reservation({ httpIngestReservedConcurrency: 'none' })).toBeUndefined();
  });
});

describe('config size', () => {
  const channelsOfSize = (count: number): Record<string, unknown> => ({
    channels: Object.fromEntries(
      Array.from({ length: count }, (_, i) => [`hook-${i}`, { type: 'webhook', url: `https://hooks.example.com/tocsin/${i}` }]),
    ),
    routes: [{ channels: ['hook-0'] }],
  });

  it('moves a config above 4 KB to the advanced tier', () => {
    const config = channelsOfSize(80);
    const bytes = Buffer.byteLength(JSON.stringify(config));
    expect(bytes).toBeGreaterThan(4096);
    expect(bytes).toBeLessThanOrEqual(8192);
    const { stack, pipeline, template } = build({ config });
    expect(resource(template, logicalId(stack, pipeline.configParameter)).Properties['Tier']).toBe('Advanced');
  });

  it('refuses a config above 8 KB, the SSM limit', () => {
    expect(() => build({ config: channelsOfSize(200) })).toThrow(/bytes as JSON; an SSM parameter holds at most 8192/);
  });
});

describe('forwarder options', () => {
  it('trusts an existing OIDC provider for the Azure tenant instead of creating one', () => {
    const providerArn = 'arn:aws:iam::123456789012:oidc-provider/sts.windows.net/7f1c2a4e-0b5d-4c3e-9a8f-1d2e3f4a5b6c/';
    const { stack, pipeline, template } = build({
      forwarders: {
        azure: {
          federation: {
            tenantId: '7f1c2a4e-0b5d-4c3e-9a8f-1d2e3f4a5b6c',
            principalObjectId: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
            audience: 'api://tocsin-forwarder',
            existingProviderArn: providerArn,
          },
        },
      },
    });
    expect(resources(template, 'AWS::IAM::OIDCProvider').size).toBe(0);
    const role = pipeline.forwarders.azure.role;
    expect(role).toBeDefined();
    expect(resource(template, logicalId(stack, role!)).Properties['AssumeRolePolicyDocument']).toMatchObject({
      Statement: [{ Principal: { Federated: providerArn } }],
    });
    expect(pipeline.forwarders.azure.user).toBeUndefined();
    expect(pipeline.forwarders.gcp).toEqual({});
  });
});

describe('refused at synth time', () => {
  it('a secret ARN without its random suffix', () => {
    expect(() => build({ config: WITH_TOKEN, channelSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tocsin' })).toThrow(
      /channelSecretArn must be a complete secret ARN/,
    );
  });

  it('a re-notify interval that is not whole minutes', () => {
    expect(() => build({ renotifyAfter: Duration.seconds(90) })).toThrow(/whole number/);
  });

  it('an Azure tenant id that is not a GUID', () => {
    expect(() =>
      build({
        forwarders: {
          azure: { federation: { tenantId: 'contoso.onmicrosoft.com', principalObjectId: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', audience: 'api://x' } },
        },
      }),
    ).toThrow(/Azure tenant id "contoso.onmicrosoft.com" is not in the expected format/);
  });

  it('a GCP service account given by e-mail instead of unique id', () => {
    expect(() =>
      build({ forwarders: { gcp: { federation: { serviceAccountUniqueId: 'fwd@project.iam.gserviceaccount.com' } } } }),
    ).toThrow(/GCP service account unique id/);
  });

  it('a route to a channel the config does not define', () => {
    expect(() => build({ config: { channels: { log: { type: 'console' } }, routes: [{ channels: ['pager'] }] } })).toThrow(
      'config object: routes[0].channels: unknown channel "pager"',
    );
  });
});
