// Shared pieces of the AWS handler tests: a Lambda context, real-shaped SQS and function URL
// events, the mocked SQS / SSM / Secrets Manager clients (no local SQS or SSM exists; DynamoDB
// is dynalite, never mocked), and a capture of what the handlers print (logs and EMF metrics).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type SendMessageBatchCommandInput,
} from '@aws-sdk/client-sqs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { vi } from 'vitest';

export const REGION = 'eu-west-1';
export const ACCOUNT = '111122223333';
export const INCIDENTS_QUEUE_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/tocsin-incidents`;
export const REJECTED_QUEUE_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/tocsin-rejected`;
export const DELIVERIES_QUEUE_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/tocsin-deliveries`;
export const DELIVERIES_QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:tocsin-deliveries`;
export const DELIVERIES_DLQ_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/tocsin-deliveries-dlq`;
export const INCIDENTS_QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:tocsin-incidents`;
export const CONFIG_PARAMETER = '/tocsin/config';
export const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:tocsin-channels-AbCdEf`;

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

export function fixture(source: string, name: string): unknown {
  return JSON.parse(readFileSync(join(FIXTURES, source, name), 'utf8')) as unknown;
}

/**
 * What the Lambda runtime passes as the context. The deprecated callback-era `done`, `fail` and
 * `succeed` are left out (the handlers are async), hence the assertion.
 */
export function lambdaContext(functionName: string): Context {
  const deadline = Date.now() + 30_000;
  const context: Omit<Context, 'done' | 'fail' | 'succeed'> = {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/11/25/[$LATEST]2c1a0b9f1e2d4c3b8a7f6e5d4c3b2a19',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  return context as Context;
}

export interface SqsRecordOptions {
  readonly messageId: string;
  readonly receiveCount?: number;
  readonly queueArn: string;
}

/** One record of an SQS event as Lambda's event source mapping delivers it. */
export function sqsRecord(body: string, options: SqsRecordOptions) {
  return {
    messageId: options.messageId,
    receiptHandle: `AQEB${options.messageId}-receipt-${String(options.receiveCount ?? 1)}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: '1795571770000',
      SenderId: 'AROAEXAMPLE:tocsin-dispatch',
      ApproximateFirstReceiveTimestamp: '1795571770100',
    },
    messageAttributes: {},
    md5OfBody: '0123456789abcdef0123456789abcdef',
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn,
    awsRegion: REGION,
  };
}

export interface HttpEventOptions {
  readonly method?: string;
  readonly path: string;
  readonly query?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  readonly base64?: boolean;
}

/** A Lambda function URL event (payload format 2.0). */
export function httpEvent(options: HttpEventOptions) {
  const method = options.method ?? 'POST';
  const raw = options.body === undefined ? undefined : Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body, 'utf8');
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: options.path,
    rawQueryString: options.query ?? '',
    headers: {
      host: 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws',
      'user-agent': 'Alertmanager/0.25.0',
      'x-forwarded-proto': 'https',
      ...(raw ? { 'content-type': 'application/json', 'content-length': String(raw.byteLength) } : {}),
      ...options.headers,
    },
    ...(options.query ? { queryStringParameters: Object.fromEntries(new URLSearchParams(options.query)) } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghijklmnopqrstuvwxyz012345',
      domainName: 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws',
      domainPrefix: 'abcdefghijklmnopqrstuvwxyz012345',
      http: { method, path: options.path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'Alertmanager/0.25.0' },
      requestId: 'b9a8c7d6-e5f4-4321-9876-0123456789ab',
      routeKey: '$default',
      stage: '$default',
      time: '25/Nov/2026:01:56:11 +0000',
      timeEpoch: 1795571771000,
    },
    ...(raw === undefined ? {} : { body: options.base64 === true ? raw.toString('base64') : raw.toString('utf8'), isBase64Encoded: options.base64 === true }),
  };
}

/** Fake static credentials and the region, so the SDK clients never look further. */
export function stubAwsEnvironment(): void {
  vi.stubEnv('AWS_REGION', REGION);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAIOSFODNN7EXAMPLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
  vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'tocsin');
  vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'Tocsin');
}

/** SQS as aws-sdk-client-mock: every batch entry accepted, visibility changes and sends answered. */
export function mockSqs() {
  const sqs = mockClient(SQSClient);
  sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
    Successful: (input.Entries ?? []).map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id ?? ''}`, MD5OfMessageBody: 'x' })),
    Failed: [],
  }));
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
  sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1', MD5OfMessageBody: 'x' });
  return sqs;
}
export type SqsMock = ReturnType<typeof mockSqs>;

/** SendMessageBatch inputs to one queue, in order. */
export function batchInputsTo(sqs: SqsMock, queueUrl: string): SendMessageBatchCommandInput[] {
  return sqs
    .commandCalls(SendMessageBatchCommand)
    .map((call) => call.args[0].input)
    .filter((input) => input.QueueUrl === queueUrl);
}

/** The message bodies sent to one queue with SendMessageBatch, parsed. */
export function messagesTo(sqs: SqsMock, queueUrl: string): unknown[] {
  return batchInputsTo(sqs, queueUrl).flatMap((input) => (input.Entries ?? []).map((entry) => JSON.parse(entry.MessageBody ?? 'null') as unknown));
}

/** SSM holding the config document and Secrets Manager holding the `${NAME}` values. */
export function mockConfigStore(configDocument: unknown, secretValues: Record<string, string>) {
  const ssm = mockClient(SSMClient);
  ssm.on(GetParameterCommand, { Name: CONFIG_PARAMETER }).resolves({
    Parameter: { Name: CONFIG_PARAMETER, Type: 'String', Value: JSON.stringify(configDocument), Version: 3 },
  });
  const secrets = mockClient(SecretsManagerClient);
  secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({
    ARN: SECRET_ARN,
    Name: 'tocsin-channels',
    SecretString: JSON.stringify(secretValues),
    VersionId: 'v1',
  });
  return { ssm, secrets };
}

export interface OutputCapture {
  /** Every line written to stdout and stderr. */
  readonly text: () => string;
  /** Parsed JSON lines (Powertools logs and EMF metrics). */
  readonly records: () => Record<string, unknown>[];
  /** EMF metric lines: `{ name → value }` with their dimensions. */
  readonly metrics: () => { dimensions: Record<string, string>; values: Record<string, unknown>; namespace: string }[];
  restore(): void;
}

/** Captures what the handlers print (Powertools writes logs and EMF to stdout / stderr). */
export function captureOutput(): OutputCapture {
  const chunks: string[] = [];
  const capture = (chunk: unknown): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  const records = (): Record<string, unknown>[] =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    text: () => chunks.join(''),
    records,
    metrics: () =>
      records()
        .filter((record) => typeof record['_aws'] === 'object')
        .map((record) => {
          const aws = record['_aws'] as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
          const directive = aws.CloudWatchMetrics[0]!;
          const dimensions = Object.fromEntries((directive.Dimensions[0] ?? []).map((name) => [name, String(record[name])]));
          const values = Object.fromEntries(directive.Metrics.map((metric) => [metric.Name, record[metric.Name]]));
          return { dimensions, values, namespace: directive.Namespace };
        }),
    restore() {
      out.mockRestore();
      err.mockRestore();
    },
  };
}
