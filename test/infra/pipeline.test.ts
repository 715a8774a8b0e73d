// The synthesized Tocsin stack, built once with every option switched on and the real bundling:
// each resource property the pipeline relies on, least-privilege IAM per function, the
// pipeline's own alarms, and a clean cdk-nag AwsSolutions run.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validations, type App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUNDLES, packageAll } from '../../functions/package.ts';
import { STATE_TABLE_ACTIONS, type TocsinFunctionName } from '../../infra/tocsin-pipeline.ts';
import { TocsinStack } from '../../infra/tocsin-stack.ts';
import {
  actionsOf,
  allPolicyStatements,
  logicalId,
  referencedIds,
  resource,
  resources,
  statementsOf,
  stringProperty,
  testApp,
  type Statement,
} from './template.ts';

const ROUTING_FILE = new URL('./routing.yaml', import.meta.url).pathname;
const SES_IDENTITY = 'arn:aws:ses:eu-west-1:123456789012:identity/example.com';
const OTHER_TOPIC = 'arn:aws:sns:eu-west-1:210987654321:prod-alarms';
const AZURE_TENANT = '7f1c2a4e-0b5d-4c3e-9a8f-1d2e3f4a5b6c';
const AZURE_IDENTITY = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const GCP_SERVICE_ACCOUNT = '112233445566778899001';
const FUNCTION_NAMES: readonly TocsinFunctionName[] = ['sns-ingest', 'http-ingest', 'dispatch', 'deliver', 'reminders'];

let app: App;
let stack: TocsinStack;
let template: Template;
const ids: Record<string, string> = {};
const id = (name: string): string => {
  const value = ids[name];
  if (value === undefined) throw new Error(`no logical id recorded for ${name}`);
  return value;
};

beforeAll(() => {
  app = testApp({ bundle: true });
  stack = new TocsinStack(app, 'TocsinTest', {
    pipeline: {
      config: ROUTING_FILE,
      alarmEmail: 'oncall@example.com',
      allowedTopicArns: [OTHER_TOPIC],
      sesIdentityArn: SES_IDENTITY,
      forwarders: {
        azure: {
          iamUser: true,
          federation: { tenantId: AZURE_TENANT, principalObjectId: AZURE_IDENTITY, audience: 'api://tocsin-forwarder' },
        },
        gcp: { iamUser: true, federation: { serviceAccountUniqueId: GCP_SERVICE_ACCOUNT, audience: 'https://tocsin' } },
      },
    },
  });
  // The same plugin as infra/app.ts: synthesis (inside Template.fromStack) fails on any finding.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  template = Template.fromStack(stack);

  const p = stack.pipeline;
  const named: Record<string, IConstruct> = {
    incidentsQueue: p.incidentsQueue,
    incidentsDlq: p.incidentsDeadLetterQueue,
    deliveriesQueue: p.deliveriesQueue,
    deliveriesDlq: p.deliveriesDeadLetterQueue,
    rejectedQueue: p.rejectedQueue,
    rejectedBucket: p.rejectedPayloadsBucket,
    table: p.stateTable,
    configParameter: p.configParameter,
    secret: p.channelSecret,
    topicKey: p.topicKey,
    alertTopic: p.alertTopic,
    healthTopic: p.healthTopic!,
    alertEventsDlq: p.alertEventsDeadLetterQueue,
    remindersSchedule: p.remindersSchedule,
  };
  for (const name of FUNCTION_NAMES) {
    const fn = p.functions[name];
    named[name] = fn;
    named[`${name}:role`] = fn.role ?? fn;
    named[`${name}:logs`] = fn.logGroup;
  }
  for (const [cloud, principals] of Object.entries({ azure: p.forwarders.azure, gcp: p.forwarders.gcp })) {
    if (principals.user) named[`${cloud}:user`] = principals.user;
    if (principals.role) named[`${cloud}:role`] = principals.role;
  }
  for (const [name, construct] of Object.entries(named)) ids[name] = logicalId(stack, construct);
  // Five esbuild bundles and a cdk-nag pass: seconds on a quiet machine, over a minute on a busy one.
}, 240_000);

describe('queues', () => {
  it.each([
    ['incidentsQueue', 'incidentsDlq', 'dispatch', 5],
    ['deliveriesQueue', 'deliveriesDlq', 'deliver', 17],
  ])('%s: SQS-managed encryption, redrive to its DLQ (incidents after 5 receives, deliveries after the config’s 12 attempts + 5), visibility 6x the consumer timeout', (queue, dlq, consumer, receives) => {
    const props = resource(template, id(queue)).Properties;
    expect(props['SqsManagedSseEnabled']).toBe(true);
    expect(props['RedrivePolicy']).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [id(dlq), 'Arn'] },
      maxReceiveCount: receives,
    });
    const timeout = resource(template, id(consumer)).Properties['Timeout'];
    expect(timeout).toBe(30);
    expect(props['VisibilityTimeout']).toBe(180);
  });

  it('keeps rejected bodies too large for a message in a private, encrypted, TLS-only bucket that forgets them after 14 days', () => {
    const props = resource(template, id('rejectedBucket')).Properties;
    expect(props['BucketEncryption']).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
    expect(props['PublicAccessBlockConfiguration']).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(props['OwnershipControls']).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(props['LifecycleConfiguration']).toEqual({ Rules: [{ ExpirationInDays: 14, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }] });
    const policy = Object.values(template.findResources('AWS::S3::BucketPolicy')).find((entry) => JSON.stringify(entry).includes(id('rejectedBucket')));
    expect(JSON.stringify(policy)).toContain('"aws:SecureTransport":"false"');
  });

  it.each(['incidentsDlq', 'deliveriesDlq', 'rejectedQueue'])('%s keeps messages 14 days, encrypted', (queue) => {
    const props = resource(template, id(queue)).Properties;
    expect(props['MessageRetentionPeriod']).toBe(14 * 24 * 3600);
    expect(props['SqsManagedSseEnabled']).toBe(true);
    expect(props['RedrivePolicy']).toBeUndefined();
  });

  it.each(['incidentsQueue', 'incidentsDlq', 'deliveriesQueue', 'deliveriesDlq', 'rejectedQueue'])(
    '%s refuses requests without TLS',
    (queue) => {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id(queue) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    },
  );
});

describe('state table and config', () => {
  it('is keyed by a pk string, on demand, with TTL on expiresAt, PITR and encryption at rest', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    expect(resources(template, 'AWS::DynamoDB::Table').size).toBe(1);
  });

  it('has the sparse due index the reminders function queries (keys only)', () => {
    const props = resource(template, id('table')).Properties;
    expect(props['GlobalSecondaryIndexes']).toEqual([
      {
        IndexName: 'due',
        KeySchema: [
          { AttributeName: 'dueShard', KeyType: 'HASH' },
          { AttributeName: 'dueAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ]);
    expect(props['AttributeDefinitions']).toEqual([
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'dueShard', AttributeType: 'S' },
      { AttributeName: 'dueAt', AttributeType: 'N' },
    ]);
  });

  it('stores the routing config as JSON, placeholders intact, in a standard-tier parameter', () => {
    const props = resource(template, id('configParameter')).Properties;
    expect(props['Type']).toBe('String');
    expect(props['Tier']).toBe('Standard');
    const stored: unknown = JSON.parse(stringProperty(props, 'Value'));
    expect(stored).toEqual(parseYaml(readFileSync(ROUTING_FILE, 'utf8')));
    expect(stringProperty(props, 'Value')).toContain('"webhookUrl":"${SLACK_WEBHOOK_URL}"');
  });

  it('creates the channel secret with a generated ingest token and no literal value', () => {
    const props = resource(template, id('secret')).Properties;
    expect(props['GenerateSecretString']).toEqual({
      SecretStringTemplate: '{}',
      GenerateStringKey: 'TOCSIN_INGEST_TOKEN',
      ExcludePunctuation: true,
      PasswordLength: 48,
    });
    expect(props['SecretString']).toBeUndefined();
  });
});

describe('topics', () => {
  it('encrypts both topics with a rotating key that CloudWatch may use', () => {
    for (const topic of ['alertTopic', 'healthTopic']) {
      expect(resource(template, id(topic)).Properties['KmsMasterKeyId']).toEqual({
        'Fn::GetAtt': [id('topicKey'), 'Arn'],
      });
    }
    const key = resource(template, id('topicKey')).Properties;
    expect(key['EnableKeyRotation']).toBe(true);
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Sid: 'AllowCloudWatchAlarmsToPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Resource: '*',
            // Only for alarms of this account and region (no confused deputy).
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:*']],
                },
              },
            },
          },
        ]),
      },
    });
  });

  it.each(['alertTopic', 'healthTopic'])('%s lets CloudWatch of this account publish, over TLS only', (topic) => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: id(topic) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: id(topic) },
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
          }),
        ]),
      },
    });
  });

  it('feeds the alert topic and the allowed topics to sns-ingest, and the health topic only to e-mail', () => {
    const subscriptions = [...resources(template, 'AWS::SNS::Subscription').values()].map((s) => s.Properties);
    const snsIngestArn = { 'Fn::GetAtt': [id('sns-ingest'), 'Arn'] };
    expect(subscriptions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Protocol: 'lambda', TopicArn: { Ref: id('alertTopic') }, Endpoint: snsIngestArn }),
        expect.objectContaining({ Protocol: 'lambda', TopicArn: OTHER_TOPIC, Endpoint: snsIngestArn }),
        expect.objectContaining({ Protocol: 'email', TopicArn: { Ref: id('healthTopic') }, Endpoint: 'oncall@example.com' }),
      ]),
    );
    expect(subscriptions).toHaveLength(3);
    const healthSubscribers = subscriptions.filter((s) => referencedIds(s['TopicArn']).has(id('healthTopic')));
    expect(healthSubscribers.map((s) => s['Protocol'])).toEqual(['email']);
  });
});

describe('functions', () => {
  const common = {
    POWERTOOLS_SERVICE_NAME: 'tocsin',
    POWERTOOLS_METRICS_NAMESPACE: 'Tocsin',
    NODE_OPTIONS: '--enable-source-maps',
  };

  it.each(FUNCTION_NAMES)('%s runs Node.js 22 on arm64 without X-Ray (no tracer), with its own retained log group', (name) => {
    const props = resource(template, id(name)).Properties;
    expect(props['Runtime']).toBe('nodejs22.x');
    expect(props['Architectures']).toEqual(['arm64']);
    expect(props['Handler']).toBe('index.handler');
    expect(props['TracingConfig']).toBeUndefined();
    expect(props['LoggingConfig']).toEqual({ LogGroup: { Ref: id(`${name}:logs`) } });
    expect(props['Role']).toEqual({ 'Fn::GetAtt': [id(`${name}:role`), 'Arn'] });
    expect(resource(template, id(`${name}:logs`)).Properties['RetentionInDays']).toBe(30);
    expect(resource(template, id(`${name}:logs`)).DeletionPolicy).toBe('Retain');
  });

  it('gives each function only the environment variables it reads', () => {
    const env = (name: string): unknown =>
      (resource(template, id(name)).Properties['Environment'] as { Variables?: unknown } | undefined)?.Variables;
    const allowedTopics = {
      'Fn::Join': [',', [{ Ref: id('alertTopic') }, OTHER_TOPIC]],
    };
    const queueUrl = (name: string): unknown => ({ Ref: id(name) });
    expect(env('sns-ingest')).toEqual({
      ...common,
      INCIDENTS_QUEUE_URL: queueUrl('incidentsQueue'),
      REJECTED_QUEUE_URL: queueUrl('rejectedQueue'),
      REJECTED_BUCKET_NAME: { Ref: id('rejectedBucket') },
      ALLOWED_TOPIC_ARNS: allowedTopics,
    });
    expect(env('http-ingest')).toEqual({
      ...common,
      INCIDENTS_QUEUE_URL: queueUrl('incidentsQueue'),
      REJECTED_QUEUE_URL: queueUrl('rejectedQueue'),
      REJECTED_BUCKET_NAME: { Ref: id('rejectedBucket') },
      ALLOWED_TOPIC_ARNS: allowedTopics,
      TOCSIN_CONFIG_PARAMETER: { Ref: id('configParameter') },
      TOCSIN_SECRET_ARN: { Ref: id('secret') },
    });
    const stateful = {
      ...common,
      DELIVERIES_QUEUE_URL: queueUrl('deliveriesQueue'),
      STATE_TABLE_NAME: { Ref: id('table') },
      TOCSIN_CONFIG_PARAMETER: { Ref: id('configParameter') },
      TOCSIN_SECRET_ARN: { Ref: id('secret') },
    };
    expect(env('dispatch')).toEqual({ ...stateful, INCIDENTS_DLQ_URL: queueUrl('incidentsDlq'), INCIDENTS_MAX_RECEIVE_COUNT: '5' });
    expect(env('deliver')).toEqual({ ...stateful, DELIVERIES_DLQ_URL: queueUrl('deliveriesDlq'), DELIVERIES_MAX_RECEIVE_COUNT: '17' });
    expect(env('reminders')).toEqual({ ...common, STATE_TABLE_NAME: { Ref: id('table') }, INCIDENTS_QUEUE_URL: queueUrl('incidentsQueue') });
  });

  it('deploys exactly the bundles `npm run package` builds: index.mjs, its chunks and their source maps', async () => {
    const packaged = await mkdtemp(join(tmpdir(), 'tocsin-pipeline-package-'));
    try {
      await packageAll(packaged, BUNDLES.filter((spec) => spec.cloud === 'aws'));
      const filesOf = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
      for (const name of FUNCTION_NAMES) {
        const code = resource(template, id(name)).Properties['Code'] as { S3Key?: unknown };
        expect(resource(template, id(name)).Properties['Handler']).toBe('index.handler');
        const hash = String(code.S3Key).replace(/\.zip$/, '');
        const assetDir = join(app.outdir, `asset.${hash}`);
        expect(existsSync(assetDir), `${name} asset ${assetDir}`).toBe(true);
        const files = filesOf(assetDir);
        expect(files).toEqual(filesOf(join(packaged, 'aws', name)));
        expect(files).toEqual(expect.arrayContaining(['index.mjs', 'index.mjs.map', 'chunks']));
        for (const file of files.filter((path) => path.endsWith('.mjs'))) {
          expect(readFileSync(join(assetDir, file), 'utf8'), `${name}/${file}`).toBe(readFileSync(join(packaged, 'aws', name, file), 'utf8'));
        }
      }
    } finally {
      await rm(packaged, { recursive: true, force: true });
    }
    // Four more esbuild bundles to compare with: seconds on a quiet machine, a minute on a busy one.
  }, 240_000);

  it('reserves 10 concurrent executions for http-ingest by default: a flood on its URL cannot starve dispatch and deliver', () => {
    expect(resource(template, id('http-ingest')).Properties['ReservedConcurrentExecutions']).toBe(10);
    for (const name of ['sns-ingest', 'dispatch', 'deliver', 'reminders'] as const) {
      expect(resource(template, id(name)).Properties['ReservedConcurrentExecutions']).toBeUndefined();
    }
  });

  it('puts http-ingest behind a public function URL (the function checks the ingest token)', () => {
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      TargetFunctionArn: { 'Fn::GetAtt': [id('http-ingest'), 'Arn'] },
    });
    expect(resources(template, 'AWS::Lambda::Url').size).toBe(1);
  });

  it('keeps sns-ingest events that fail every retry in their own dead-letter queue, apart from rejected payloads', () => {
    expect(resource(template, id('sns-ingest')).Properties['DeadLetterConfig']).toEqual({
      TargetArn: { 'Fn::GetAtt': [id('alertEventsDlq'), 'Arn'] },
    });
  });

  it('feeds dispatch and deliver from their queues with partial batch failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id('dispatch') },
      EventSourceArn: { 'Fn::GetAtt': [id('incidentsQueue'), 'Arn'] },
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id('deliver') },
      EventSourceArn: { 'Fn::GetAtt': [id('deliveriesQueue'), 'Arn'] },
      BatchSize: 5,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    expect(resources(template, 'AWS::Lambda::EventSourceMapping').size).toBe(2);
  });

  it('runs reminders every minute from an EventBridge rule, without retries (the next run looks again)', () => {
    const rule = resource(template, id('remindersSchedule')).Properties;
    expect(rule['ScheduleExpression']).toBe('rate(1 minute)');
    expect(rule['State']).toBe('ENABLED');
    expect(rule['Targets']).toEqual([
      {
        Id: 'Target0',
        Arn: { 'Fn::GetAtt': [id('reminders'), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
      },
    ]);
    expect(resources(template, 'AWS::Events::Rule').size).toBe(1);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [id('reminders'), 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [id('remindersSchedule'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id('reminders') },
      MaximumRetryAttempts: 0,
    });
    expect(resource(template, id('reminders')).Properties['Timeout']).toBe(60);
  });
});

describe('IAM', () => {
  const CONSUME = [
    'sqs:ChangeMessageVisibility',
    'sqs:DeleteMessage',
    'sqs:GetQueueAttributes',
    'sqs:GetQueueUrl',
    'sqs:ReceiveMessage',
  ];
  const LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
  const CONFIG = ['secretsmanager:GetSecretValue', 'ssm:GetParameter'];

  it('grants no "*" or "service:*" action anywhere', () => {
    const statements = allPolicyStatements(template);
    expect(statements.length).toBeGreaterThan(10);
    for (const { policyId, statement } of statements) {
      for (const action of statement.Action) {
        expect(action, policyId).not.toBe('*');
        expect(action, policyId).not.toMatch(/^[a-z0-9-]+:\*$/);
      }
    }
  });

  it('uses "*" as a resource only for SMS', () => {
    const wildcardActions = allPolicyStatements(template)
      .filter(({ statement }) => statement.Resource === '*')
      .flatMap(({ statement }) => statement.Action);
    expect([...new Set(wildcardActions)].sort()).toEqual(['sns:Publish']);
  });

  it('gives the function roles no AWS-managed policy and only Lambda as trusted principal', () => {
    for (const name of FUNCTION_NAMES) {
      const props = resource(template, id(`${name}:role`)).Properties;
      expect(props['ManagedPolicyArns']).toBeUndefined();
      expect(props['AssumeRolePolicyDocument']).toEqual({
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
        Version: '2012-10-17',
      });
    }
  });

  const reached = (statements: readonly Statement[]): string[] =>
    [...new Set(statements.flatMap((statement) => [...referencedIds(statement.Resource)]))].sort();
  const idsOf = (...names: string[]): string[] => names.map(id).sort();

  /** The one S3 statement: PutObject under rejected/ of the rejected-payloads bucket, nothing else. */
  const expectRejectedObjectsOnly = (statements: ReturnType<typeof statementsOf>): void => {
    const s3 = statements.filter((statement) => statement.Action.some((action) => action.startsWith('s3:')));
    expect(s3.map((statement) => statement.Action)).toEqual([['s3:PutObject']]);
    expect(s3[0]?.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [id('rejectedBucket'), 'Arn'] }, '/rejected/*']] });
  };

  it('sns-ingest only sends to the incidents and rejected queues (and, as Lambda, its own DLQ) and writes rejected bodies', () => {
    const statements = statementsOf(template, id('sns-ingest:role'));
    expect(actionsOf(statements)).toEqual([...LOGS, 's3:PutObject', 'sqs:SendMessage'].sort());
    expect(reached(statements)).toEqual(idsOf('sns-ingest:logs', 'incidentsQueue', 'rejectedQueue', 'rejectedBucket', 'alertEventsDlq'));
    expectRejectedObjectsOnly(statements);
  });

  it('http-ingest also reads the config and the secret (for the ingest token)', () => {
    const statements = statementsOf(template, id('http-ingest:role'));
    expect(actionsOf(statements)).toEqual([...LOGS, ...CONFIG, 's3:PutObject', 'sqs:SendMessage'].sort());
    expect(reached(statements)).toEqual(
      idsOf('http-ingest:logs', 'incidentsQueue', 'rejectedQueue', 'rejectedBucket', 'configParameter', 'secret'),
    );
    expectRejectedObjectsOnly(statements);
  });

  it('dispatch reaches only the incidents queue and its DLQ, the deliveries queue, the table, the config and the secret', () => {
    const statements = statementsOf(template, id('dispatch:role'));
    expect(actionsOf(statements)).toEqual(
      [...LOGS, ...CONFIG, ...CONSUME, 'sqs:SendMessage', ...STATE_TABLE_ACTIONS].sort(),
    );
    expect(reached(statements)).toEqual(
      idsOf('dispatch:logs', 'incidentsQueue', 'incidentsDlq', 'deliveriesQueue', 'table', 'configParameter', 'secret'),
    );
    const consume = statements.find((s) => s.Action.includes('sqs:ReceiveMessage'));
    expect(referencedIds(consume?.Resource)).toEqual(new Set([id('incidentsQueue')]));
    const send = statements.find((s) => s.Action.includes('sqs:SendMessage'));
    expect(referencedIds(send?.Resource)).toEqual(new Set([id('deliveriesQueue'), id('incidentsDlq')]));
  });

  it('deliver reaches only the deliveries queue and its DLQ, the table, the config, the secret, SMS and the SES identity', () => {
    const statements = statementsOf(template, id('deliver:role'));
    expect(actionsOf(statements)).toEqual(
      [
        ...LOGS,
        ...CONFIG,
        ...CONSUME,
        'sqs:SendMessage',
        ...STATE_TABLE_ACTIONS,
        'sns:Publish',
        'ses:SendEmail',
        'ses:SendRawEmail',
      ].sort(),
    );
    expect(reached(statements)).toEqual(idsOf('deliver:logs', 'deliveriesQueue', 'deliveriesDlq', 'table', 'configParameter', 'secret'));
    expect(statements.find((s) => s.Sid === 'SendSms')).toEqual({
      Sid: 'SendSms',
      Effect: 'Allow',
      Action: ['sns:Publish'],
      Resource: '*',
    });
    expect(statements.find((s) => s.Sid === 'SendEmail')).toEqual({
      Sid: 'SendEmail',
      Effect: 'Allow',
      Action: ['ses:SendEmail', 'ses:SendRawEmail'],
      Resource: SES_IDENTITY,
    });
  });

  it('reminders may only Query the due index and send to the incidents queue (no record read or written)', () => {
    const statements = statementsOf(template, id('reminders:role'));
    expect(actionsOf(statements)).toEqual([...LOGS, 'dynamodb:Query', 'sqs:SendMessage'].sort());
    expect(reached(statements)).toEqual(idsOf('reminders:logs', 'incidentsQueue', 'table'));
    const query = statements.filter((s) => s.Action.includes('dynamodb:Query'));
    expect(query).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:Query'],
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id('table'), 'Arn'] }, '/index/due']] },
      },
    ]);
    const send = statements.find((s) => s.Action.includes('sqs:SendMessage'));
    expect(send?.Resource).toEqual({ 'Fn::GetAtt': [id('incidentsQueue'), 'Arn'] });
  });

  it('grants no table action the code does not use (no Scan, ConditionCheckItem or DeleteItem; Query on the due index only)', () => {
    const actions = allPolicyStatements(template).flatMap(({ statement }) => statement.Action);
    expect(actions.filter((action) => action.startsWith('dynamodb:')).sort()).toEqual(
      [...STATE_TABLE_ACTIONS, ...STATE_TABLE_ACTIONS, 'dynamodb:Query'].sort(),
    );
    expect([...STATE_TABLE_ACTIONS]).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
  });

  it('lets deliver send only to its dead-letter queue and back to the deliveries queue (a job waiting for its rate-limit slot)', () => {
    const sends = statementsOf(template, id('deliver:role')).filter((s) => s.Action.includes('sqs:SendMessage'));
    expect(sends).toHaveLength(1);
    expect(referencedIds(sends[0]?.Resource)).toEqual(new Set([id('deliveriesQueue'), id('deliveriesDlq')]));
  });

  it('keeps the SMS grant off every topic and endpoint ARN with a deny', () => {
    const statements = statementsOf(template, id('deliver:role'));
    expect(statements.find((s) => s.Sid === 'SmsOnlyNotTopics')).toEqual({
      Sid: 'SmsOnlyNotTopics',
      Effect: 'Deny',
      Action: ['sns:Publish'],
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sns:*:*:*']] },
    });
    // No other role may publish to SNS at all.
    for (const name of ['sns-ingest', 'http-ingest', 'dispatch', 'reminders'] as const) {
      expect(actionsOf(statementsOf(template, id(`${name}:role`))).filter((action) => action.startsWith('sns:'))).toEqual([]);
    }
  });

  it('scopes the table actions to the table itself, without index or stream wildcards', () => {
    for (const name of ['dispatch', 'deliver']) {
      const table = statementsOf(template, id(`${name}:role`)).filter((s) => s.Action.includes('dynamodb:UpdateItem'));
      expect(table).toHaveLength(1);
      expect(table[0]?.Resource).toEqual({ 'Fn::GetAtt': [id('table'), 'Arn'] });
    }
  });
});

describe('forwarder principals', () => {
  const sendOnly = (principal: string): void => {
    expect(statementsOf(template, id(principal))).toEqual([
      {
        Sid: 'SendToTocsinQueues',
        Effect: 'Allow',
        Action: ['sqs:SendMessage'],
        Resource: [
          { 'Fn::GetAtt': [id('incidentsQueue'), 'Arn'] },
          { 'Fn::GetAtt': [id('rejectedQueue'), 'Arn'] },
        ],
      },
    ]);
  };

  it.each(['azure:user', 'gcp:user', 'azure:role', 'gcp:role'])('%s may only send to the incidents and rejected queues', sendOnly);

  it('creates no access key: the operator makes it outside the template', () => {
    expect(resources(template, 'AWS::IAM::AccessKey').size).toBe(0);
    expect(resources(template, 'AWS::IAM::User').size).toBe(2);
  });

  it('lets only the GCP service account assume the GCP role, through accounts.google.com', () => {
    expect(resource(template, id('gcp:role')).Properties['AssumeRolePolicyDocument']).toEqual({
      Statement: [
        {
          Action: 'sts:AssumeRoleWithWebIdentity',
          Effect: 'Allow',
          Principal: { Federated: 'accounts.google.com' },
          Condition: {
            StringEquals: {
              'accounts.google.com:aud': GCP_SERVICE_ACCOUNT,
              'accounts.google.com:sub': GCP_SERVICE_ACCOUNT,
              'accounts.google.com:oaud': 'https://tocsin',
            },
          },
        },
      ],
      Version: '2012-10-17',
    });
  });

  it('lets only the Azure managed identity assume the Azure role, through the tenant issuer', () => {
    const providers = [...resources(template, 'AWS::IAM::OIDCProvider')];
    expect(providers).toHaveLength(1);
    const [providerId, provider] = providers[0]!;
    expect(provider.Properties['Url']).toBe(`https://sts.windows.net/${AZURE_TENANT}/`);
    expect(provider.Properties['ClientIdList']).toEqual(['api://tocsin-forwarder']);
    expect(resource(template, id('azure:role')).Properties['AssumeRolePolicyDocument']).toEqual({
      Statement: [
        {
          Action: 'sts:AssumeRoleWithWebIdentity',
          Effect: 'Allow',
          Principal: { Federated: { Ref: providerId } },
          Condition: {
            StringEquals: {
              [`sts.windows.net/${AZURE_TENANT}/:aud`]: 'api://tocsin-forwarder',
              [`sts.windows.net/${AZURE_TENANT}/:sub`]: AZURE_IDENTITY,
            },
          },
        },
      ],
      Version: '2012-10-17',
    });
  });
});

describe('the pipeline watches itself', () => {
  type AlarmProps = Record<string, unknown>;
  const alarms = (): AlarmProps[] => [...resources(template, 'AWS::CloudWatch::Alarm').values()].map((a) => a.Properties);
  const dimension = (alarm: AlarmProps): unknown => (alarm['Dimensions'] as { Value: unknown }[] | undefined)?.[0]?.Value;
  const alarmOn = (metric: string, target: unknown): AlarmProps => {
    const found = alarms().filter((a) => a['MetricName'] === metric && JSON.stringify(dimension(a)) === JSON.stringify(target));
    expect(found, `${metric} alarm on ${JSON.stringify(target)}`).toHaveLength(1);
    return found[0]!;
  };
  const queueName = (name: string): unknown => ({ 'Fn::GetAtt': [id(name), 'QueueName'] });

  it.each(['incidentsDlq', 'deliveriesDlq', 'rejectedQueue', 'alertEventsDlq'])('alarms as soon as %s holds a message', (queue) => {
    expect(alarmOn('ApproximateNumberOfMessagesVisible', queueName(queue))).toMatchObject({
      Namespace: 'AWS/SQS',
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms when the oldest message on the incidents queue is older than 5 minutes', () => {
    expect(alarmOn('ApproximateAgeOfOldestMessage', queueName('incidentsQueue'))).toMatchObject({
      Namespace: 'AWS/SQS',
      Threshold: 300,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms on deliveries ready to send but unsent for 5 minutes, not on retries waiting out their backoff', () => {
    // A retrying message is hidden (in flight) while it waits, so it never counts as visible; its
    // age grows through the whole retry window, so no age alarm watches this queue.
    expect(alarms().filter((a) => a['MetricName'] === 'ApproximateAgeOfOldestMessage')).toHaveLength(1);
    expect(
      alarms().find((a) => a['MetricName'] === 'ApproximateNumberOfMessagesVisible' && JSON.stringify(dimension(a)) === JSON.stringify(queueName('deliveriesQueue'))),
    ).toMatchObject({ Namespace: 'AWS/SQS', Statistic: 'Minimum', Period: 60, EvaluationPeriods: 5, Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it.each(FUNCTION_NAMES)('alarms on errors and throttles of %s', (name) => {
    for (const metric of ['Errors', 'Throttles']) {
      expect(alarmOn(metric, { Ref: id(name) })).toMatchObject({
        Namespace: 'AWS/Lambda',
        Statistic: 'Sum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  });

  it('alarms when http-ingest answers 5xx, which its Errors metric never shows (it catches errors)', () => {
    expect(alarmOn('Url5xxCount', { Ref: id('http-ingest') })).toMatchObject({
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: id('http-ingest') } }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms when deliver meets a channel whose secret key is missing (the ChannelUnavailable count deliver publishes)', () => {
    expect(alarms().find((alarm) => alarm['MetricName'] === 'ChannelUnavailable')).toMatchObject({
      Namespace: 'Tocsin',
      Dimensions: [{ Name: 'service', Value: 'tocsin' }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms when the reminders function has not run for 5 minutes (no data counts as not running)', () => {
    expect(alarmOn('Invocations', { Ref: id('reminders') })).toMatchObject({
      Namespace: 'AWS/Lambda',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'breaching',
    });
  });

  it('sends every alarm and its recovery to the health topic, never into the pipeline', () => {
    const all = alarms();
    expect(all).toHaveLength(4 + 2 + 2 * FUNCTION_NAMES.length + 2 + 1);
    for (const alarm of all) {
      expect(alarm['AlarmActions']).toEqual([{ Ref: id('healthTopic') }]);
      expect(alarm['OKActions']).toEqual([{ Ref: id('healthTopic') }]);
    }
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no error and no warning', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    const errors = report.violations.filter((v) => v.severity === 'error').map((v) => v.ruleName);
    const warnings = report.violations.filter((v) => v.severity !== 'error').map((v) => v.ruleName);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('gives every acknowledged finding a written reason of at least ten words', () => {
    const acknowledged: { path: string; rule: string; reason: string }[] = [];
    for (const construct of stack.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [rule, reason] of Object.entries(entry.data as Record<string, string>)) {
          acknowledged.push({ path: construct.node.path, rule, reason });
        }
      }
    }
    expect(acknowledged.map((a) => a.rule).sort()).toEqual(
      [
        ...FUNCTION_NAMES.map(() => 'Annotation::AwsSolutions-L1'),
        'Annotation::AwsSolutions-IAM5[Resource::*]',
        ...['sns-ingest', 'http-ingest'].map(() => `Annotation::AwsSolutions-IAM5[Resource::<${id('rejectedBucket')}.Arn>/rejected/*]`),
        'Annotation::AwsSolutions-S1',
        'Annotation::AwsSolutions-SQS3',
        'Annotation::AwsSolutions-SMG4',
      ].sort(),
    );
    for (const { path, rule, reason } of acknowledged) {
      expect(reason.split(/\s+/).filter((word) => /\w/.test(word)).length, `${rule} on ${path}`).toBeGreaterThanOrEqual(10);
    }
  });

  it('leaves no CDK warning or error annotation', () => {
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
  });
});
