// AWS Lambda behind a function URL (or an API Gateway HTTP API, payload format 2.0): the HTTP
// front door for Alertmanager, Grafana, SNS over HTTPS, Azure Monitor and Cloud Monitoring.
// Same routes and answers as the local server (functions/local/server.ts): the shared ingest
// step authenticates (token from the config), limits the size, checks SNS signatures and
// normalizes; incidents go to INCIDENTS_QUEUE_URL, rejected payloads' bytes to
// REJECTED_QUEUE_URL. Every answer is JSON; none carries a stack trace. The URL is public, so a
// config without `ingest.token` closes it: every request gets 503 (the stack never deploys one
// without, this is the second lock), and the log says why once per container.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { TocsinConfig } from '../../shared/config/schema.ts';
import { ingestAndForward, type ForwardSinks } from '../../shared/ingest/forward.ts';
import { confirmSubscription, SnsReplayGuard, SnsVerifier, type CertificateFetcher, type SubscriptionConfirmer } from '../../shared/ingest/sns.ts';
import { loadConfigFromEnv } from '../../shared/runtime/config.ts';
import { allowedTopicArns } from '../../shared/runtime/env.ts';
import { httpEventSchema } from '../../shared/runtime/events.ts';
import { createLogger, createMetrics, describeError, MetricBatch, MetricUnit } from '../../shared/runtime/observability.ts';
import { ingestSinksFromEnv } from '../../shared/runtime/queues.ts';
import { formatIssues } from '../../shared/zod-issues.ts';
import { ingestEndpointFor, INGEST_ROUTES } from '../../shared/ingest/routes.ts';

const logger = createLogger('http-ingest');
const metrics = createMetrics();

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' } as const;

export interface HttpResult {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

// Module scope: downloaded SNS signing certificates (and committed SNS MessageIds) stay cached
// while the container is warm.
let snsVerifier = new SnsVerifier();
let snsReplay = new SnsReplayGuard();
let confirm: SubscriptionConfirmer = confirmSubscription;
let loggedNoToken = false;

export interface SnsHooks {
  readonly fetchCertificate?: CertificateFetcher;
  readonly confirm?: SubscriptionConfirmer;
}

/** For tests: where SNS signing certificates come from and how subscriptions are confirmed. */
export function setSnsHooks(hooks: SnsHooks | undefined): void {
  snsVerifier = new SnsVerifier(hooks?.fetchCertificate ? { fetchCertificate: hooks.fetchCertificate } : {});
  snsReplay = new SnsReplayGuard();
  confirm = hooks?.confirm ?? confirmSubscription;
  loggedNoToken = false;
}

function json(statusCode: number, body: Readonly<Record<string, unknown>>, headers: Readonly<Record<string, string>> = {}): HttpResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

export async function handleHttpEvent(event: unknown): Promise<HttpResult> {
  const receivedAt = new Date();
  const parsed = httpEventSchema.safeParse(event);
  if (!parsed.success) {
    // Not a client mistake: the function is wired to something that is not a function URL or
    // an HTTP API with payload format 2.0.
    logger.error('unsupported event shape', { issues: formatIssues(parsed.error) });
    return json(500, { error: 'internal', message: 'unsupported event; see the function log' });
  }
  const request = parsed.data;
  const method = request.requestContext.http.method.toUpperCase();
  const path = request.rawPath.replace(/\/+$/, '') || '/';

  if (path === '/healthz') {
    if (method !== 'GET') return json(405, { error: 'method-not-allowed', message: `${path} accepts GET` }, { allow: 'GET' });
    return json(200, { status: 'ok' });
  }
  const endpoint = ingestEndpointFor(path);
  if (endpoint === undefined) {
    metrics.addMetric('IngestNotFound', MetricUnit.Count, 1);
    return json(404, { error: 'not-found', message: `no endpoint ${path}; ingest endpoints: ${Object.keys(INGEST_ROUTES).join(', ')}` });
  }
  if (method !== 'POST') {
    return json(405, { error: 'method-not-allowed', message: `${path} accepts POST` }, { allow: 'POST' });
  }

  let sinks: ForwardSinks;
  let config: TocsinConfig;
  let allowed: readonly string[] | undefined;
  try {
    sinks = ingestSinksFromEnv(process.env);
    allowed = allowedTopicArns(process.env);
    config = await loadConfigFromEnv(process.env);
  } catch (error) {
    // ConfigError and SDK errors name what is wrong, never a resolved secret.
    logger.error('configuration unavailable', describeError(error));
    metrics.addMetric('ConfigUnavailable', MetricUnit.Count, 1);
    return json(503, { error: 'config-unavailable', message: 'the ingest configuration could not be loaded; retry later' }, { 'retry-after': '30' });
  }

  const headers = new Map(Object.entries(request.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
  const body = Buffer.from(request.body ?? '', request.isBase64Encoded === true ? 'base64' : 'utf8');
  const answer = await ingestAndForward(
    {
      endpoint,
      authorization: headers.get('authorization'),
      queryToken: new URLSearchParams(request.rawQueryString ?? '').get('token'),
      body,
      receivedAt,
    },
    {
      token: config.ingest.token,
      requireToken: true,
      maxBodyBytes: config.ingest.maxBodyBytes,
      sns: { verifier: snsVerifier, allowedTopicArns: allowed, confirm, replay: snsReplay },
    },
    sinks,
  );

  const log = { path, status: answer.status, outcome: answer.outcome, reason: answer.reason, source: answer.source, incidents: answer.incidents, bytes: body.byteLength, error: answer.error };
  if (answer.reason === 'token-not-configured') {
    if (!loggedNoToken) logger.error('ingest is closed: the config has no ingest.token; every request is refused with 503 until one is set', log);
    loggedNoToken = true;
  } else if (answer.reason === 'certificate-unavailable') logger.warn('SNS signing certificate unavailable; asked SNS to retry, payload kept', log);
  else if (answer.reason === 'confirmation-failed') logger.warn('SNS subscription confirmation failed; asked SNS to send it again', log);
  else if (answer.outcome === 'unavailable') logger.error('ingest could not queue the payload', log);
  else if (answer.outcome === 'rejected') logger.warn('ingest rejected', log);
  else logger.info('ingest', log);
  const batch = new MetricBatch();
  batch.count('IngestRequests', { outcome: answer.outcome });
  if (answer.source !== undefined) batch.count('IncidentsAccepted', { source: answer.source }, answer.incidents);
  if (answer.outcome === 'rejected' && answer.reason !== undefined) batch.count('PayloadsRejected', { reason: answer.reason });
  if (answer.outcome === 'unavailable') batch.count('QueueFailures', { queue: 'ingest' });
  batch.publish();

  return { statusCode: answer.status, headers: answer.headers, body: JSON.stringify(answer.body) };
}

async function handleSafely(event: unknown): Promise<HttpResult> {
  metrics.addMetric('HttpRequests', MetricUnit.Count, 1);
  try {
    return await handleHttpEvent(event);
  } catch (error) {
    logger.error('unexpected error', { error });
    return json(500, { error: 'internal', message: 'internal error; see the function log' });
  }
}

export const handler = middy<unknown, HttpResult>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .handler(handleSafely);
