// The deployable stack: one TocsinPipeline, its settings read from CDK context (`cdk.json` or
// `cdk synth -c tocsin:alarmEmail=ops@example.com`), and the outputs an operator needs.
import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct, Node } from 'constructs';
import { z } from 'zod';
import { formatIssues } from '../shared/zod-issues.ts';
import { TocsinPipeline, type TocsinPipelineProps } from './tocsin-pipeline.ts';

export interface TocsinStackProps extends StackProps {
  readonly pipeline: TocsinPipelineProps;
}

export class TocsinStack extends Stack {
  readonly pipeline: TocsinPipeline;

  constructor(scope: Construct, id: string, props: TocsinStackProps) {
    super(scope, id, props);
    const pipeline = new TocsinPipeline(this, 'Pipeline', props.pipeline);
    this.pipeline = pipeline;

    new CfnOutput(this, 'HttpIngestUrl', {
      value: pipeline.httpIngestUrl.url,
      description: 'Webhook base URL for Alertmanager, Grafana, Azure Monitor and Cloud Monitoring',
    });
    new CfnOutput(this, 'AlertTopicArn', {
      value: pipeline.alertTopic.topicArn,
      description: 'Point CloudWatch alarm actions here',
    });
    if (pipeline.healthTopic !== undefined) new CfnOutput(this, 'HealthTopicArn', { value: pipeline.healthTopic.topicArn });
    new CfnOutput(this, 'StateTableName', { value: pipeline.stateTable.tableName });
    new CfnOutput(this, 'ChannelSecretArn', {
      value: pipeline.channelSecret.secretArn,
      description: 'Put channel credentials here as JSON keys (for example SLACK_WEBHOOK_URL)',
    });
    new CfnOutput(this, 'IngestTokenCommand', {
      value: Fn.join('', [
        'aws secretsmanager get-secret-value --secret-id ',
        pipeline.channelSecret.secretArn,
        ` --query SecretString --output text | jq -r .${pipeline.ingestTokenKey}`,
      ]),
      description: 'Prints the ingest token every webhook must send (bearer, basic-auth password or ?token=)',
    });
    new CfnOutput(this, 'IncidentsQueueUrl', { value: pipeline.incidentsQueue.queueUrl });
    new CfnOutput(this, 'RejectedQueueUrl', { value: pipeline.rejectedQueue.queueUrl });
    new CfnOutput(this, 'IncidentsDeadLetterQueueArn', { value: pipeline.incidentsDeadLetterQueue.queueArn });
    new CfnOutput(this, 'DeliveriesDeadLetterQueueArn', { value: pipeline.deliveriesDeadLetterQueue.queueArn });
    new CfnOutput(this, 'AlertEventsDeadLetterQueueArn', {
      value: pipeline.alertEventsDeadLetterQueue.queueArn,
      description: 'SNS events sns-ingest never handled (SNS could not invoke it, or it failed every retry)',
    });
    new CfnOutput(this, 'RejectedPayloadsBucketName', { value: pipeline.rejectedPayloadsBucket.bucketName });
    // Dead letters keep the work queue's message shape, with the reason as message attributes:
    // moving them back is SQS's standard redrive, named explicitly (deliver and dispatch send
    // them to the DLQ themselves, so SQS does not know their source queue).
    for (const [name, deadLetters, queue] of [
      ['Deliveries', pipeline.deliveriesDeadLetterQueue, pipeline.deliveriesQueue],
      ['Incidents', pipeline.incidentsDeadLetterQueue, pipeline.incidentsQueue],
    ] as const) {
      new CfnOutput(this, `Redrive${name}Command`, {
        value: Fn.join('', ['aws sqs start-message-move-task --source-arn ', deadLetters.queueArn, ' --destination-arn ', queue.queueArn]),
        description: `Moves the ${name.toLowerCase()} dead letters back to their queue, to be processed again`,
      });
    }
    for (const [cloud, principals] of [
      ['Azure', pipeline.forwarders.azure],
      ['Gcp', pipeline.forwarders.gcp],
    ] as const) {
      if (principals.user) new CfnOutput(this, `${cloud}ForwarderUserName`, { value: principals.user.userName });
      if (principals.role) new CfnOutput(this, `${cloud}ForwarderRoleArn`, { value: principals.role.roleArn });
    }
  }
}

const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]);
const stringList = z.union([
  z.array(z.string().min(1)),
  z.string().transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  ),
]);
const positiveInt = z.coerce.number().int().positive();
/** Context may hold an object (cdk.json) or its JSON text (`-c key='{"…"}'`). */
const jsonObject = z.union([
  z.record(z.string(), z.unknown()),
  z.string().transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not valid JSON' });
      return z.NEVER;
    }
  }),
]);

const forwardersSchema = z.strictObject({
  azure: z
    .strictObject({
      iamUser: z.boolean().optional(),
      federation: z
        .strictObject({
          tenantId: z.string(),
          principalObjectId: z.string(),
          audience: z.string().min(1),
          existingProviderArn: z.string().optional(),
        })
        .optional(),
    })
    .optional(),
  gcp: z
    .strictObject({
      iamUser: z.boolean().optional(),
      federation: z
        .strictObject({ serviceAccountUniqueId: z.string(), audience: z.string().min(1).optional() })
        .optional(),
    })
    .optional(),
});

const contextSchema = z.object({
  'tocsin:config': z.string().min(1).default('infra/default-config.yaml'),
  'tocsin:configParameterName': z.string().min(1).optional(),
  'tocsin:channelSecretArn': z.string().min(1).optional(),
  'tocsin:allowedTopicArns': stringList.optional(),
  'tocsin:alarmEmail': z.email().optional(),
  'tocsin:renotifyAfterMinutes': positiveInt.optional(),
  'tocsin:resolvedTtlDays': positiveInt.optional(),
  'tocsin:maxQueueAgeMinutes': positiveInt.optional(),
  // X-Ray was on without a tracer in the functions: only Lambda's own segment, at a cost.
  'tocsin:tracing': flag
    .refine((on) => !on, 'X-Ray tracing is not offered: the functions carry no tracer, so it would record only Lambda\'s own segment; leave tocsin:tracing out')
    .optional(),
  'tocsin:metricsNamespace': z.string().min(1).optional(),
  'tocsin:removalPolicy': z.enum(['retain', 'destroy']).optional(),
  'tocsin:deliverBatchSize': positiveInt.max(10).optional(),
  'tocsin:deliverMaxConcurrency': positiveInt.min(2).optional(),
  'tocsin:sesIdentityArn': z.string().min(1).optional(),
  'tocsin:httpIngestReservedConcurrency': z.union([z.literal('none'), positiveInt]).optional(),
  'tocsin:forwarders': jsonObject.pipe(forwardersSchema).optional(),
});

const CONTEXT_KEYS = Object.keys(contextSchema.shape);

/** The pipeline settings from the `tocsin:*` context keys; throws naming the key at fault. */
export function pipelinePropsFromContext(node: Node): TocsinPipelineProps {
  const raw: Record<string, unknown> = {};
  for (const key of CONTEXT_KEYS) {
    const value: unknown = node.tryGetContext(key);
    if (value !== undefined) raw[key] = value;
  }
  const parsed = contextSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid Tocsin context: ${formatIssues(parsed.error)}`);
  const c = parsed.data;
  return {
    config: c['tocsin:config'],
    configParameterName: c['tocsin:configParameterName'],
    channelSecretArn: c['tocsin:channelSecretArn'],
    allowedTopicArns: c['tocsin:allowedTopicArns'],
    alarmEmail: c['tocsin:alarmEmail'],
    renotifyAfter: minutes(c['tocsin:renotifyAfterMinutes']),
    resolvedTtl: c['tocsin:resolvedTtlDays'] === undefined ? undefined : Duration.days(c['tocsin:resolvedTtlDays']),
    maxQueueAge: minutes(c['tocsin:maxQueueAgeMinutes']),
    metricsNamespace: c['tocsin:metricsNamespace'],
    removalPolicy: c['tocsin:removalPolicy'] === undefined ? undefined : c['tocsin:removalPolicy'] === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    deliverBatchSize: c['tocsin:deliverBatchSize'],
    deliverMaxConcurrency: c['tocsin:deliverMaxConcurrency'],
    sesIdentityArn: c['tocsin:sesIdentityArn'],
    httpIngestReservedConcurrency: c['tocsin:httpIngestReservedConcurrency'],
    forwarders: c['tocsin:forwarders'],
  };
}

function minutes(value: number | undefined): Duration | undefined {
  return value === undefined ? undefined : Duration.minutes(value);
}
