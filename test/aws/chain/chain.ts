// The AWS pipeline chained the way AWS runs it, for tests: the packaged bundles
// (functions/package.ts) in Lambda containers with the environment infra/ gives each function;
// SNS events into sns-ingest (asynchronous invoke: two retries, then the function's dead-letter
// queue), function URL events into http-ingest, and SQS event source mappings feeding dispatch
// and deliver (batches, ReportBatchItemFailures). Behind them: SQS, SSM, Secrets Manager and S3
// stand-ins speaking the services' wire protocols, dynalite for the state table, and real HTTP
// receivers for a webhook and a Slack incoming webhook. Time is a virtual clock (clock.ts).
//
//   const chain = await startChain();            // once per file (it packages the bundles)
//   await chain.publish(fixtureEvent);           // an SNS event into sns-ingest
//   await chain.http({ path, headers, body });   // a function URL request into http-ingest
//   await chain.runUntilIdle();                  // pump the queues until nothing is visible
//   chain.advance(60_000);                       // move time (visibility, retry delays)
//   await chain.settle();                        // pump, jump to the next redelivery, repeat
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLES, packageAll } from '../../../functions/package.ts';
import { deliveryQueueSettings } from '../../../infra/delivery-window.ts';
import { startDynalite, type RunningDynalite } from '../../helpers/dynalite.ts';
import { startRecorder, type HttpRecorder, type RecordedRequest, type Reply } from '../../helpers/http-recorder.ts';
import { httpEvent, type HttpEventOptions } from '../support.ts';
import { VirtualClock } from './clock.ts';
import { ParameterStoreStandIn, SecretsManagerStandIn } from './config-store.ts';
import { LambdaFunction, type InvokeOutcome } from './lambda.ts';
import { S3StandIn } from './s3.ts';
import { SnsHttpsStandIn } from './sns-https.ts';
import { makeSigner, signSnsMessage, TOPIC_ARN as HTTPS_TOPIC_ARN, type TestSigner } from '../../helpers/sns-signer.ts';
import { ACCOUNT, REGION, SqsStandIn, type ReceivedMessage } from './sqs.ts';

export const CONFIG_PARAMETER = '/tocsin/config';
export const SECRET_NAME = 'tocsin-channels';
export const STATE_TABLE = 'tocsin-state';
export const REJECTED_BUCKET = 'tocsin-rejected-payloads';
export const INGEST_TOKEN = 'chain-ingest-token-4d9a17c3b2';
export const ALARM_TOPIC_ARN = 'arn:aws:sns:eu-central-1:210987654321:tocsin-alarms';
/** The Slack webhook path carries the secret part of its URL. */
export const SLACK_PATH = '/services/T0CHAIN01/B0CHAIN02/chainSecretPart0123456789';

/** As infra/tocsin-pipeline.ts sets them (MAX_RECEIVE_COUNT for incidents, the config's window for deliveries, 6 × the consumer's timeout). */
export const QUEUES = {
  incidents: 'tocsin-incidents',
  incidentsDlq: 'tocsin-incidents-dlq',
  deliveries: 'tocsin-deliveries',
  deliveriesDlq: 'tocsin-deliveries-dlq',
  rejected: 'tocsin-rejected',
} as const;
export const MAX_RECEIVE_COUNT = 5;
export const TIMEOUT_SECONDS = { 'sns-ingest': 10, 'http-ingest': 10, dispatch: 30, deliver: 30, reminders: 60 } as const;

export type FunctionName = keyof typeof TIMEOUT_SECONDS;

/** The default routing config: every incident to a webhook and to Slack. */
export function defaultConfig(webhookUrl: string): Record<string, unknown> {
  return {
    ingest: { token: '${TOCSIN_INGEST_TOKEN}' },
    channels: {
      audit: { type: 'webhook', url: webhookUrl },
      'ops-chat': { type: 'slack', webhookUrl: '${SLACK_WEBHOOK_URL}' },
    },
    routes: [{ channels: ['audit', 'ops-chat'] }],
  };
}

export interface ChainOptions {
  /** The config document (as infra stores it); default: defaultConfig(webhook URL). */
  readonly config?: (urls: { webhook: string; slack: string }) => Record<string, unknown>;
  /** The channel secret's keys; default: the ingest token and the Slack webhook URL. */
  readonly secret?: (urls: { webhook: string; slack: string }) => Record<string, string>;
  /** Parallel batches per event source mapping (Lambda scales out up to maxConcurrency). */
  readonly concurrency?: Partial<Record<'dispatch' | 'deliver', number>>;
  /** Extra environment per function (on top of infra's). */
  readonly environment?: Partial<Record<FunctionName, Record<string, string>>>;
}

interface Mapping {
  readonly queue: string;
  readonly fn: LambdaFunction;
  readonly batchSize: number;
  readonly concurrency: number;
}

/** One event source mapping invocation: what was handed over and how it ended. */
export interface BatchRun {
  readonly fn: string;
  readonly messageIds: readonly string[];
  readonly outcome: InvokeOutcome<unknown>;
  /** Records reported failed (or all, when the invocation failed). */
  readonly failed: readonly string[];
}

export interface HttpAnswer {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly json: Record<string, unknown>;
}

/** Slack's answer to a good post: 200 `ok` as text/plain; a body that is not a message: 400. */
function slackReply(request: RecordedRequest): Reply {
  let message: unknown;
  try {
    message = JSON.parse(request.body);
  } catch {
    return { status: 400, headers: { 'content-type': 'text/plain' }, body: 'invalid_payload' };
  }
  const valid = typeof message === 'object' && message !== null && (typeof (message as { text?: unknown }).text === 'string' || Array.isArray((message as { blocks?: unknown }).blocks));
  if (request.method !== 'POST' || request.path !== SLACK_PATH) return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'no_service' };
  return valid ? { status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' } : { status: 400, headers: { 'content-type': 'text/plain' }, body: 'no_text' };
}

export class Chain {
  readonly clock: VirtualClock;
  readonly sqs: SqsStandIn;
  readonly ssm: ParameterStoreStandIn;
  readonly secrets: SecretsManagerStandIn;
  readonly s3: S3StandIn;
  readonly snsHttps: SnsHttpsStandIn;
  /** Signs SNS HTTP messages with the certificate snsHttps serves. */
  readonly snsSigner: TestSigner;
  readonly dynamo: RunningDynalite;
  readonly webhook: HttpRecorder;
  readonly slack: HttpRecorder;
  readonly functions: Readonly<Record<FunctionName, LambdaFunction>>;
  readonly secretArn: string;
  /** Every event source mapping invocation, in order. */
  readonly batches: BatchRun[] = [];
  readonly #mappings: readonly Mapping[];
  readonly #bundleDir: string;

  constructor(parts: {
    clock: VirtualClock;
    sqs: SqsStandIn;
    ssm: ParameterStoreStandIn;
    secrets: SecretsManagerStandIn;
    s3: S3StandIn;
    snsHttps: SnsHttpsStandIn;
    snsSigner: TestSigner;
    dynamo: RunningDynalite;
    webhook: HttpRecorder;
    slack: HttpRecorder;
    functions: Record<FunctionName, LambdaFunction>;
    secretArn: string;
    bundleDir: string;
    concurrency: ChainOptions['concurrency'];
  }) {
    this.clock = parts.clock;
    this.sqs = parts.sqs;
    this.ssm = parts.ssm;
    this.secrets = parts.secrets;
    this.s3 = parts.s3;
    this.snsHttps = parts.snsHttps;
    this.snsSigner = parts.snsSigner;
    this.dynamo = parts.dynamo;
    this.webhook = parts.webhook;
    this.slack = parts.slack;
    this.functions = parts.functions;
    this.secretArn = parts.secretArn;
    this.#bundleDir = parts.bundleDir;
    // As infra wires them: dispatch 10 per batch, deliver 5 per batch.
    this.#mappings = [
      { queue: QUEUES.incidents, fn: parts.functions.dispatch, batchSize: 10, concurrency: parts.concurrency?.dispatch ?? 1 },
      { queue: QUEUES.deliveries, fn: parts.functions.deliver, batchSize: 5, concurrency: parts.concurrency?.deliver ?? 1 },
    ];
  }

  /** The webhook URL the default config names; the Slack one is in the secret. */
  get urls(): { webhook: string; slack: string } {
    return { webhook: `${this.webhook.url}/tocsin`, slack: `${this.slack.url}${SLACK_PATH}` };
  }

  /** Replaces the config document in SSM (the functions see it after their cache expires or a cold start). */
  setConfig(document: Record<string, unknown>): void {
    this.ssm.put(CONFIG_PARAMETER, JSON.stringify(document));
  }

  setSecret(values: Record<string, string>): void {
    this.secrets.put(SECRET_NAME, JSON.stringify(values));
  }

  /** Every warm container dropped: the next invocations load config and secrets afresh. */
  async coldStart(): Promise<void> {
    await Promise.all(Object.values(this.functions).map((fn) => fn.recycle()));
  }

  /**
   * SNS invoking sns-ingest asynchronously: a failed invocation is retried twice, then the
   * event goes to the function's dead-letter queue (the rejected queue) with the error.
   */
  async publish(event: unknown): Promise<InvokeOutcome<{ accepted: number; rejected: number }>> {
    let outcome: InvokeOutcome<{ accepted: number; rejected: number }> | undefined;
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      outcome = await this.functions['sns-ingest'].invoke<{ accepted: number; rejected: number }>(event);
      if (outcome.ok) return outcome;
    }
    const failed = outcome as Extract<InvokeOutcome<unknown>, { ok: false }>;
    // What Lambda sends to an asynchronous function's DLQ: the event, and why in attributes.
    this.sqs.send(QUEUES.rejected, JSON.stringify(event), {
      RequestID: { DataType: 'String', StringValue: randomUUID() },
      ErrorCode: { DataType: 'Number', StringValue: '200' },
      ErrorMessage: { DataType: 'String', StringValue: failed.errorMessage },
    });
    return failed;
  }

  /** EventBridge's scheduled event to the reminders function (the rule fires every minute). */
  remind(): Promise<InvokeOutcome<{ sent: number; more: boolean }>> {
    return this.functions.reminders.invoke<{ sent: number; more: boolean }>({
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: ACCOUNT,
      time: new Date(this.clock.now()).toISOString(),
      region: REGION,
      resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/tocsin-reminders`],
      detail: {},
    });
  }

  /** A request to http-ingest's function URL; a function error is Lambda's 502. */
  async http(options: HttpEventOptions): Promise<HttpAnswer> {
    const outcome = await this.functions['http-ingest'].invoke<{ statusCode: number; headers?: Record<string, string>; body?: string }>(httpEvent(options));
    if (!outcome.ok) return { statusCode: 502, headers: { 'content-type': 'application/json' }, body: '{"Message":"Internal Server Error"}', json: { Message: 'Internal Server Error' } };
    const body = outcome.result.body ?? '';
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(body) as Record<string, unknown>;
    } catch {
      // not JSON: json stays empty
    }
    return { statusCode: outcome.result.statusCode, headers: outcome.result.headers ?? {}, body, json };
  }

  /** An SNS HTTP(S) subscription delivery (signed with snsSigner) through the function URL. */
  snsOverHttps(message: Parameters<typeof signSnsMessage>[1]): Promise<HttpAnswer> {
    const signed = signSnsMessage(this.snsSigner, message);
    return this.http({ path: '/v1/ingest/aws/sns', query: `token=${INGEST_TOKEN}`, headers: { 'x-amz-sns-message-type': signed.Type }, body: JSON.stringify(signed) });
  }

  /** An Alertmanager webhook through the function URL with the bearer token. */
  alertmanager(payload: unknown, token = INGEST_TOKEN): Promise<HttpAnswer> {
    return this.http({ path: '/v1/ingest/alertmanager', headers: { authorization: `Bearer ${token}` }, body: typeof payload === 'string' ? payload : JSON.stringify(payload) });
  }

  /**
   * Lambda's event source mappings: while a mapped queue has visible messages, receive batches
   * and invoke the consumer; delete what succeeded, leave failed records to come back after
   * their visibility timeout. Returns when no mapped queue has a visible message.
   */
  async runUntilIdle(maxRounds = 200): Promise<void> {
    for (let round = 0; ; round += 1) {
      if (round >= maxRounds) throw new Error(`queues still busy after ${String(maxRounds)} rounds`);
      let worked = false;
      for (const mapping of this.#mappings) {
        const batches: ReceivedMessage[][] = [];
        for (let slot = 0; slot < mapping.concurrency; slot += 1) {
          const batch = this.sqs.receive(mapping.queue, mapping.batchSize);
          if (batch.length === 0) break;
          batches.push(batch);
        }
        if (batches.length === 0) continue;
        worked = true;
        await Promise.all(batches.map((batch) => this.#invokeBatch(mapping, batch)));
      }
      if (!worked) return;
    }
  }

  /** An operator's "start DLQ redrive" (StartMessageMoveTask) on a dead-letter queue, to its source or to `destination`. */
  redrive(deadLetterQueue: string, destination?: string): void {
    this.sqs.startMessageMoveTask(deadLetterQueue, destination);
  }

  /** Moves the virtual clock. */
  advance(ms: number): void {
    this.clock.advance(ms);
  }

  /**
   * Runs until idle, then jumps the clock to the next message becoming visible again and runs
   * again, until the mapped queues are empty or the next redelivery is more than `withinMs` away.
   */
  async settle(withinMs = 24 * 3600_000): Promise<void> {
    const limit = this.clock.now() + withinMs;
    for (;;) {
      await this.runUntilIdle();
      const next = this.#mappings
        .map((mapping) => this.sqs.state(mapping.queue).nextVisibleAt)
        .filter((at): at is number => at !== undefined)
        .sort((a, b) => a - b)[0];
      if (next === undefined || next > limit) return;
      this.clock.advance(Math.max(0, next - this.clock.now()));
    }
  }

  async #invokeBatch(mapping: Mapping, batch: readonly ReceivedMessage[]): Promise<void> {
    const queue = this.sqs.queue(mapping.queue);
    const records = batch.map(({ message, receiptHandle }) => ({
      messageId: message.messageId,
      receiptHandle,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentAt),
        SenderId: 'AROAEXAMPLECHAIN:tocsin',
        ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? message.sentAt),
      },
      messageAttributes: Object.fromEntries(
        Object.entries(message.messageAttributes).map(([name, value]) => [
          name,
          { ...(value.BinaryValue === undefined ? { stringValue: value.StringValue } : { binaryValue: value.BinaryValue }), stringListValues: [], binaryListValues: [], dataType: value.DataType },
        ]),
      ),
      md5OfBody: message.md5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: REGION,
    }));
    const outcome = await mapping.fn.invoke<{ batchItemFailures?: { itemIdentifier?: string }[] } | null>({ Records: records });
    const ids = batch.map(({ message }) => message.messageId);
    let failed: string[];
    if (!outcome.ok) failed = ids;
    else {
      const reported = (outcome.result?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier ?? '');
      // An identifier that is not in the batch makes Lambda treat the whole batch as failed.
      failed = reported.every((id) => ids.includes(id)) ? reported : ids;
    }
    for (const { message, receiptHandle } of batch) {
      if (!failed.includes(message.messageId)) this.sqs.deleteMessage(mapping.queue, receiptHandle);
    }
    this.batches.push({ fn: mapping.fn.name, messageIds: ids, outcome, failed });
  }

  /** What the webhook receiver got, as `{event, incident}` bodies, in order. */
  webhookEvents(): { event: string; incident: { fingerprint: string; status: string; title: string } }[] {
    return this.webhook.requests.map((request) => JSON.parse(request.body) as { event: string; incident: { fingerprint: string; status: string; title: string } });
  }

  /** Every log line of every function, joined (to check that no secret leaks). */
  allLogText(): string {
    return Object.values(this.functions)
      .flatMap((fn) => fn.lines())
      .join('\n');
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.functions).map((fn) => fn.close()));
    await Promise.all([this.sqs.close(), this.ssm.close(), this.secrets.close(), this.s3.close(), this.snsHttps.close(), this.dynamo.close(), this.webhook.close(), this.slack.close()]);
    await rm(this.#bundleDir, { recursive: true, force: true });
  }
}

/**
 * For a beforeAll that packages bundles: ~13 s on a quiet machine, past 40 s when the whole
 * suite loads both cores, so the default hook timeout (60 s) was too tight.
 */
export const PACKAGING_HOOK_TIMEOUT_MS = 180_000;

/** Packages the AWS bundles into a temporary folder (once per test file). */
async function packageAwsBundles(): Promise<{ dir: string; bundles: Record<FunctionName, string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tocsin-chain-'));
  const results = await packageAll(dir, BUNDLES.filter((spec) => spec.cloud === 'aws'));
  const bundles = Object.fromEntries(results.map((result) => [result.name, result.file])) as Record<FunctionName, string>;
  return { dir, bundles };
}

export async function startChain(options: ChainOptions = {}): Promise<Chain> {
  const clock = new VirtualClock();
  const [{ dir, bundles }, dynamo, webhook, slack] = await Promise.all([packageAwsBundles(), startDynalite(), startRecorder(), startRecorder(slackReply)]);
  const sqs = new SqsStandIn(clock);
  const ssm = new ParameterStoreStandIn();
  const secrets = new SecretsManagerStandIn();
  const s3 = new S3StandIn();
  const snsSigner = makeSigner();
  const snsHttps = new SnsHttpsStandIn(snsSigner.certificatePem);
  await Promise.all([sqs.start(), ssm.start(), secrets.start(), s3.start(), snsHttps.start(), dynamo.createTable(STATE_TABLE)]);
  s3.createBucket(REJECTED_BUCKET);
  webhook.respondWith(() => ({ status: 200 }));

  const visibility = (fn: FunctionName): number => TIMEOUT_SECONDS[fn] * 6;
  sqs.createQueue(QUEUES.incidentsDlq);
  sqs.createQueue(QUEUES.deliveriesDlq);
  sqs.createQueue(QUEUES.rejected);
  const urls = { webhook: `${webhook.url}/tocsin`, slack: `${slack.url}${SLACK_PATH}` };
  const document = (options.config ?? ((u) => defaultConfig(u.webhook)))(urls);
  // The construct derives the deliveries queue's redrive limit from the config's retry window.
  const deliveryWindow = deliveryQueueSettings(document, 'chain config');
  const incidents = sqs.createQueue(QUEUES.incidents, { visibilityTimeoutSeconds: visibility('dispatch'), deadLetter: { queue: QUEUES.incidentsDlq, maxReceiveCount: MAX_RECEIVE_COUNT } });
  const deliveries = sqs.createQueue(QUEUES.deliveries, {
    visibilityTimeoutSeconds: visibility('deliver'),
    deadLetter: { queue: QUEUES.deliveriesDlq, maxReceiveCount: deliveryWindow.maxReceiveCount },
  });
  ssm.put(CONFIG_PARAMETER, JSON.stringify(document));
  const secretArn = secrets.put(SECRET_NAME, JSON.stringify(options.secret?.(urls) ?? { TOCSIN_INGEST_TOKEN: INGEST_TOKEN, SLACK_WEBHOOK_URL: urls.slack }));

  const base = (name: FunctionName, memory: number): Record<string, string> => ({
    PATH: process.env['PATH'] ?? '',
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'ASIACHAINTESTEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'chainTestSecretAccessKeyExample0000000000',
    AWS_SESSION_TOKEN: 'chain-test-session-token',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: `tocsin-${name}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memory),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_ENDPOINT_URL_SSM: ssm.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    POWERTOOLS_SERVICE_NAME: 'tocsin',
    POWERTOOLS_METRICS_NAMESPACE: 'Tocsin',
    NODE_OPTIONS: '--enable-source-maps',
  });
  const state = {
    DELIVERIES_QUEUE_URL: deliveries.url,
    STATE_TABLE_NAME: STATE_TABLE,
    TOCSIN_CONFIG_PARAMETER: CONFIG_PARAMETER,
    TOCSIN_SECRET_ARN: secretArn,
    TOCSIN_RESOLVED_TTL_SECONDS: String(7 * 24 * 3600),
  };
  const ingest = {
    INCIDENTS_QUEUE_URL: incidents.url,
    REJECTED_QUEUE_URL: sqs.queue(QUEUES.rejected).url,
    ALLOWED_TOPIC_ARNS: `${ALARM_TOPIC_ARN},${HTTPS_TOPIC_ARN}`,
    REJECTED_BUCKET_NAME: REJECTED_BUCKET,
  };
  // The environment infra/tocsin-pipeline.ts gives each function.
  const environments: Record<FunctionName, Record<string, string>> = {
    'sns-ingest': { ...base('sns-ingest', 256), ...ingest },
    'http-ingest': { ...base('http-ingest', 256), ...ingest, TOCSIN_CONFIG_PARAMETER: CONFIG_PARAMETER, TOCSIN_SECRET_ARN: secretArn },
    dispatch: { ...base('dispatch', 512), ...state, INCIDENTS_DLQ_URL: sqs.queue(QUEUES.incidentsDlq).url, INCIDENTS_MAX_RECEIVE_COUNT: String(MAX_RECEIVE_COUNT) },
    deliver: { ...base('deliver', 256), ...state, DELIVERIES_DLQ_URL: sqs.queue(QUEUES.deliveriesDlq).url, DELIVERIES_MAX_RECEIVE_COUNT: String(deliveryWindow.maxReceiveCount) },
    reminders: { ...base('reminders', 256), STATE_TABLE_NAME: STATE_TABLE, INCIDENTS_QUEUE_URL: incidents.url },
  };
  const functions = Object.fromEntries(
    (Object.keys(environments) as FunctionName[]).map((name) => [
      name,
      new LambdaFunction({ name: `tocsin-${name}`, bundle: bundles[name], environment: { ...environments[name], ...options.environment?.[name] }, timeoutMs: TIMEOUT_SECONDS[name] * 1000, clock, snsEndpoint: snsHttps.endpoint }),
    ]),
  ) as Record<FunctionName, LambdaFunction>;

  return new Chain({ clock, sqs, ssm, secrets, s3, snsHttps, snsSigner, dynamo, webhook, slack, functions, secretArn, bundleDir: dir, concurrency: options.concurrency });
}

export { ACCOUNT, REGION };
