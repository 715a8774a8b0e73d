// The construct as a library: each prop for bringing existing resources or tuning the functions,
// what it changes in the template and what it leaves at the default, and the stack's outputs.
// Bundling is skipped (pipeline.test.ts covers it); cdk-nag runs on every synth here too.
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct, IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { FUNCTION_NAMES, TocsinPipeline, type TocsinPipelineProps } from '../../infra/tocsin-pipeline.ts';
import { TocsinStack } from '../../infra/tocsin-stack.ts';
import { logicalId, resource, resources, statementsOf, testApp } from './template.ts';

const CONSOLE_ONLY = { channels: { log: { type: 'console' } }, routes: [{ channels: ['log'] }] };
const TABLE_ARN = 'arn:aws:dynamodb:eu-west-1:123456789012:table/platform-tocsin-state';
const TABLE_KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b';
const OPS_TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:platform-ops';
const PROD_ALARMS_ARN = 'arn:aws:sns:us-east-1:210987654321:prod-alarms';

interface Built {
  readonly stack: Stack;
  readonly pipeline: TocsinPipeline;
  readonly template: Template;
}

function build(props: (scope: Construct) => Partial<TocsinPipelineProps> = () => ({})): Built {
  const app = testApp({ bundle: false });
  const stack = new Stack(app, 'Api');
  const pipeline = new TocsinPipeline(stack, 'Pipeline', { config: CONSOLE_ONLY, ...props(stack) });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { stack, pipeline, template: Template.fromStack(stack) };
}

const props = (built: Built, construct: IConstruct): Record<string, unknown> => resource(built.template, logicalId(built.stack, construct)).Properties;
const variables = (built: Built, name: (typeof FUNCTION_NAMES)[number]): Record<string, unknown> =>
  (props(built, built.pipeline.functions[name])['Environment'] as { Variables: Record<string, unknown> }).Variables;

describe('defaults', () => {
  const built = build();
  const { stack, pipeline, template } = built;

  it('sizes the functions: ingest 256 MB / 10 s, dispatch 512 MB / 30 s, deliver 256 MB / 30 s, reminders 256 MB / 60 s, deliver batches of 5', () => {
    const sizes = Object.fromEntries(FUNCTION_NAMES.map((name) => [name, [props(built, pipeline.functions[name])['MemorySize'], props(built, pipeline.functions[name])['Timeout']]]));
    expect(sizes).toEqual({ 'sns-ingest': [256, 10], 'http-ingest': [256, 10], dispatch: [512, 30], deliver: [256, 30], reminders: [256, 60] });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: logicalId(stack, pipeline.functions.deliver) }, BatchSize: 5 });
    expect(props(built, pipeline.deliveriesQueue)['VisibilityTimeout']).toBe(180);
  });

  it('retains what holds data, and protects the retained table from deletion', () => {
    const held: IConstruct[] = [pipeline.stateTable, pipeline.channelSecret, pipeline.topicKey, pipeline.rejectedPayloadsBucket, ...FUNCTION_NAMES.map((name) => pipeline.logGroups[name])];
    for (const construct of held) expect(resource(template, logicalId(stack, construct)).DeletionPolicy, construct.node.path).toBe('Retain');
    expect(props(built, pipeline.stateTable)['DeletionProtectionEnabled']).toBe(true);
  });

  it('publishes metrics to the Tocsin namespace, and the alarm reads them there', () => {
    for (const name of FUNCTION_NAMES) expect(variables(built, name)['POWERTOOLS_METRICS_NAMESPACE']).toBe('Tocsin');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ChannelUnavailable', Namespace: 'Tocsin' });
  });

  it('leaves the resolved TTL to the config (no TOCSIN_RESOLVED_TTL_SECONDS forcing 7 days)', () => {
    for (const name of ['dispatch', 'deliver'] as const) expect(variables(built, name)).not.toHaveProperty('TOCSIN_RESOLVED_TTL_SECONDS');
  });

  it('creates the table, the topic key and the health topic, and exposes every created resource', () => {
    expect(pipeline.stateTable).toBeInstanceOf(dynamodb.Table);
    expect(pipeline.topicKey).toBeInstanceOf(kms.Key);
    expect(pipeline.healthTopic).toBeInstanceOf(sns.Topic);
    expect(Object.keys(pipeline.logGroups).sort()).toEqual([...FUNCTION_NAMES].sort());
    expect(resources(template, 'AWS::DynamoDB::Table').size).toBe(1);
    expect(resources(template, 'AWS::KMS::Key').size).toBe(1);
    expect(resources(template, 'AWS::SNS::Topic').size).toBe(2);
    // Queues: incidents, deliveries, their DLQs, rejected, alert events.
    expect(resources(template, 'AWS::SQS::Queue').size).toBe(6);
    for (const group of resources(template, 'AWS::Logs::LogGroup').values()) expect(group.Properties['KmsKeyId']).toBeUndefined();
  });

  it('gives the alert topic subscription its own dead-letter queue, apart from the rejected payloads', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: logicalId(stack, pipeline.alertTopic) },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack, pipeline.alertEventsDeadLetterQueue), 'Arn'] } },
    });
    expect(props(built, pipeline.functions['sns-ingest'])['DeadLetterConfig']).toEqual({
      TargetArn: { 'Fn::GetAtt': [logicalId(stack, pipeline.alertEventsDeadLetterQueue), 'Arn'] },
    });
  });
});

describe('tuning', () => {
  const built = build(() => ({
    functionProps: {
      deliver: { memorySize: 1024, timeout: Duration.seconds(60), reservedConcurrentExecutions: 4 },
      dispatch: { timeout: Duration.seconds(45) },
      'http-ingest': { reservedConcurrentExecutions: 25 },
    },
    deliverBatchSize: 2,
    removalPolicy: RemovalPolicy.DESTROY,
    metricsNamespace: 'Tocsin/staging',
  }));
  const { stack, pipeline, template } = built;

  it('applies memory, timeout and reserved concurrency per function and keeps the others at their defaults', () => {
    expect(props(built, pipeline.functions.deliver)).toMatchObject({ MemorySize: 1024, Timeout: 60, ReservedConcurrentExecutions: 4 });
    expect(props(built, pipeline.functions.dispatch)).toMatchObject({ MemorySize: 512, Timeout: 45 });
    expect(props(built, pipeline.functions.dispatch)['ReservedConcurrentExecutions']).toBeUndefined();
    expect(props(built, pipeline.functions['http-ingest'])['ReservedConcurrentExecutions']).toBe(25);
    expect(props(built, pipeline.functions['sns-ingest'])).toMatchObject({ MemorySize: 256, Timeout: 10 });
  });

  it('sizes each queue’s visibility timeout from its consumer’s timeout, and deliver’s batch from deliverBatchSize', () => {
    expect(props(built, pipeline.deliveriesQueue)['VisibilityTimeout']).toBe(360);
    expect(props(built, pipeline.incidentsQueue)['VisibilityTimeout']).toBe(270);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: logicalId(stack, pipeline.functions.deliver) }, BatchSize: 2 });
  });

  it('destroys what holds data with removalPolicy DESTROY, and drops the table’s deletion protection', () => {
    for (const construct of [pipeline.stateTable, pipeline.channelSecret, pipeline.topicKey, pipeline.rejectedPayloadsBucket, pipeline.logGroups.deliver]) {
      expect(resource(template, logicalId(stack, construct)).DeletionPolicy, construct.node.path).toBe('Delete');
    }
    expect(props(built, pipeline.stateTable)['DeletionProtectionEnabled']).toBe(false);
  });

  it('threads metricsNamespace to every function and to the alarm on deliver’s metric', () => {
    for (const name of FUNCTION_NAMES) expect(variables(built, name)['POWERTOOLS_METRICS_NAMESPACE']).toBe('Tocsin/staging');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ChannelUnavailable', Namespace: 'Tocsin/staging' });
  });
});

describe('existing resources', () => {
  let opsTopic: sns.ITopic | undefined;
  let orgKey: kms.Key | undefined;
  let logsKey: kms.Key | undefined;
  const built = build((scope) => {
    opsTopic = sns.Topic.fromTopicArn(scope, 'OpsTopic', OPS_TOPIC_ARN);
    orgKey = new kms.Key(scope, 'OrgKey', { enableKeyRotation: true });
    logsKey = new kms.Key(scope, 'LogsKey', { enableKeyRotation: true });
    return {
      table: dynamodb.Table.fromTableAttributes(scope, 'Table', { tableArn: TABLE_ARN, encryptionKey: kms.Key.fromKeyArn(scope, 'TableKey', TABLE_KEY_ARN) }),
      encryptionKey: orgKey,
      alarmAction: opsTopic,
      alarmTopics: [sns.Topic.fromTopicArn(scope, 'ProdAlarms', PROD_ALARMS_ARN)],
      logsEncryptionKey: logsKey,
      resolvedTtl: Duration.days(2),
    };
  });
  const { stack, pipeline, template } = built;

  it('uses the given table: none created, the functions read and write it (and its key) by ARN', () => {
    expect(resources(template, 'AWS::DynamoDB::Table').size).toBe(0);
    for (const name of ['dispatch', 'deliver'] as const) {
      expect(variables(built, name)['STATE_TABLE_NAME']).toBe('platform-tocsin-state');
      const statements = statementsOf(template, logicalId(stack, pipeline.functions[name].role!));
      expect(statements.filter((s) => s.Resource === TABLE_ARN).flatMap((s) => s.Action).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
      expect(statements.filter((s) => s.Resource === TABLE_KEY_ARN).flatMap((s) => s.Action).sort()).toEqual(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']);
    }
  });

  it('encrypts the alert topic with the given key, and lets this account’s alarms use it', () => {
    expect(pipeline.topicKey).toBe(orgKey);
    expect(props(built, pipeline.alertTopic)['KmsMasterKeyId']).toEqual({ 'Fn::GetAtt': [logicalId(stack, orgKey!), 'Arn'] });
    const statements = (props(built, orgKey!)['KeyPolicy'] as { Statement: { Sid?: string }[] }).Statement;
    expect(statements.map((s) => s.Sid)).toContain('AllowCloudWatchAlarmsToPublish');
    // Only the given key and the logs key: no topic key of its own.
    expect(resources(template, 'AWS::KMS::Key').size).toBe(2);
  });

  it('sends every alarm and recovery to the given topic and creates no health topic', () => {
    expect(pipeline.healthTopic).toBe(opsTopic);
    expect(resources(template, 'AWS::SNS::Topic').size).toBe(1);
    const alarms = [...resources(template, 'AWS::CloudWatch::Alarm').values()];
    expect(alarms.length).toBeGreaterThan(10);
    for (const alarm of alarms) {
      expect(alarm.Properties['AlarmActions']).toEqual([OPS_TOPIC_ARN]);
      expect(alarm.Properties['OKActions']).toEqual([OPS_TOPIC_ARN]);
    }
  });

  it('subscribes sns-ingest to the given alarm topics and accepts messages from them', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'lambda', TopicArn: PROD_ALARMS_ARN });
    expect(variables(built, 'sns-ingest')['ALLOWED_TOPIC_ARNS']).toEqual({ 'Fn::Join': [',', [{ Ref: logicalId(stack, pipeline.alertTopic) }, PROD_ALARMS_ARN]] });
  });

  it('encrypts the log groups with the given key, which CloudWatch Logs may use for log groups only', () => {
    for (const group of resources(template, 'AWS::Logs::LogGroup').values()) {
      expect(group.Properties['KmsKeyId']).toEqual({ 'Fn::GetAtt': [logicalId(stack, logsKey!), 'Arn'] });
    }
    const statements = (props(built, logsKey!)['KeyPolicy'] as { Statement: { Sid?: string; Principal?: unknown; Condition?: unknown }[] }).Statement;
    const logs = statements.find((s) => s.Sid === 'AllowTocsinLogGroups');
    expect(logs?.Principal).toEqual({ Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } });
    expect(JSON.stringify(logs?.Condition)).toContain('kms:EncryptionContext:aws:logs:arn');
  });

  it('passes an explicit resolvedTtl to dispatch and deliver', () => {
    for (const name of ['dispatch', 'deliver'] as const) expect(variables(built, name)['TOCSIN_RESOLVED_TTL_SECONDS']).toBe(String(2 * 86_400));
  });
});

describe('an alarm action that is not a topic', () => {
  const action: cloudwatch.IAlarmAction = { bind: () => ({ alarmActionArn: 'arn:aws:ssm:eu-west-1:123456789012:opsitem:3#CATEGORY=Availability' }) };

  it('is used for every alarm, with no health topic', () => {
    const built = build(() => ({ alarmAction: action }));
    expect(built.pipeline.healthTopic).toBeUndefined();
    expect(resources(built.template, 'AWS::SNS::Topic').size).toBe(1);
    for (const alarm of resources(built.template, 'AWS::CloudWatch::Alarm').values()) {
      expect(alarm.Properties['AlarmActions']).toEqual(['arn:aws:ssm:eu-west-1:123456789012:opsitem:3#CATEGORY=Availability']);
    }
  });

  it('refuses alarmEmail, which would have no topic to subscribe to', () => {
    expect(() => build(() => ({ alarmAction: action, alarmEmail: 'ops@example.com' }))).toThrow(/alarmEmail needs a health topic/);
  });
});

describe('refused at synth time', () => {
  it('a sendTimeout deliver cannot wait out, and accepts it once deliver’s timeout is raised', () => {
    const config = { ...CONSOLE_ONLY, defaults: { sendTimeout: '40s' } };
    expect(() => build(() => ({ config }))).toThrow(
      'the config: defaults.sendTimeout is 40 s, but deliver times out after 30 s and needs 5 s besides the send: lower sendTimeout or raise functionProps.deliver.timeout to at least 45 s',
    );
    expect(() => build(() => ({ config, functionProps: { deliver: { timeout: Duration.seconds(45) } } }))).not.toThrow();
  });

  it('a route that groups into digests (local only), naming the route and the keys', () => {
    const config = { ...CONSOLE_ONLY, routes: [{ channels: ['log'] }, { channels: ['log'], groupBy: ['source'], groupWait: '30s' }] };
    expect(() => build(() => ({ config }))).toThrow(
      'the config: routes[1].groupBy: grouping into digests runs in the local pipeline only; on AWS every notice would still go out on its own. Remove groupBy, groupWait from the routes you deploy, or run the local pipeline for this route',
    );
  });

  it.each([
    [{ deliverBatchSize: 11 }, /deliverBatchSize must be a whole number from 1 to 10/],
    [{ deliverBatchSize: 0 }, /deliverBatchSize must be a whole number from 1 to 10/],
    [{ functionProps: { deliver: { memorySize: 64 } } }, /functionProps.deliver.memorySize must be a whole number of MB from 128 to 10240/],
    [{ functionProps: { dispatch: { timeout: Duration.minutes(16) } } }, /functionProps.dispatch.timeout must be whole seconds from 1 s to 15 minutes/],
    [{ functionProps: { 'sns-ingest': { reservedConcurrentExecutions: -1 } } }, /reservedConcurrentExecutions must be a whole number/],
    [{ metricsNamespace: 'AWS/Lambda' }, /metricsNamespace "AWS\/Lambda" is not a CloudWatch namespace for custom metrics/],
    [{ resolvedTtl: Duration.millis(1500) }, /resolvedTtl must be a positive whole number of seconds/],
    [{ maxQueueAge: Duration.seconds(90) }, /maxQueueAge must be a whole number of minutes, at least 1/],
  ] as [Partial<TocsinPipelineProps>, RegExp][])('%o', (given, message) => {
    expect(() => build(() => given)).toThrow(message);
  });
});

describe('TocsinStack outputs', () => {
  it('name the dead-letter queues, the table and the bucket an operator reaches for', () => {
    const app = testApp({ bundle: false });
    const stack = new TocsinStack(app, 'Outputs', { pipeline: { config: CONSOLE_ONLY } });
    const outputs = Template.fromStack(stack).toJSON() as { Outputs: Record<string, { Value: unknown }> };
    const p = stack.pipeline;
    const ref = (construct: IConstruct, attribute?: string): unknown =>
      attribute === undefined ? { Ref: logicalId(stack, construct) } : { 'Fn::GetAtt': [logicalId(stack, construct), attribute] };
    expect(outputs.Outputs['IncidentsDeadLetterQueueArn']?.Value).toEqual(ref(p.incidentsDeadLetterQueue, 'Arn'));
    expect(outputs.Outputs['DeliveriesDeadLetterQueueArn']?.Value).toEqual(ref(p.deliveriesDeadLetterQueue, 'Arn'));
    expect(outputs.Outputs['AlertEventsDeadLetterQueueArn']?.Value).toEqual(ref(p.alertEventsDeadLetterQueue, 'Arn'));
    expect(outputs.Outputs['StateTableName']?.Value).toEqual(ref(p.stateTable));
    expect(outputs.Outputs['RejectedPayloadsBucketName']?.Value).toEqual(ref(p.rejectedPayloadsBucket));
    expect(outputs.Outputs['HealthTopicArn']?.Value).toEqual(ref(p.healthTopic!));
  });
});
