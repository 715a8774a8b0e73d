// Azure Functions (v4 programming model, Node 22) entry: Azure Monitor action groups post here.
// Thin adapter: raw bytes in → shared ingest → incidents to the SQS incidents queue → answer.
// Auth level `function` (the action group's URL carries `?code=<function key>`), plus the
// Tocsin token (`&token=`, since action-group webhooks cannot set headers), which is required:
// without TOCSIN_INGEST_TOKEN every request is refused with 503 and the log says why, once.
// Action groups retry only 408/429/503/504 and then pause the endpoint for 15 minutes, so a
// client mistake must be a 4xx, and only our own outages a 503.
import { Logger } from '@aws-lambda-powertools/logger';
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { ingestAndForward } from '../../shared/ingest/forward.ts';
import { ForwarderSlot, forwarderFromEnv, type Forwarder, type KeylessIdentity } from '../../shared/ingest/forwarder.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../../shared/ingest/ingest.ts';
import { azureManagedIdentityToken } from '../../shared/ingest/web-identity.ts';

const logger = new Logger({ serviceName: 'tocsin-azure-monitor-ingest' });
const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

/** Keyless: the function app's managed identity (AZURE_CLIENT_ID picks a user-assigned one). */
export const AZURE_IDENTITY: KeylessIdentity = {
  sessionName: 'tocsin-azure-forwarder',
  tokenFor: (env, audience) => azureManagedIdentityToken(env, audience, env['AZURE_CLIENT_ID'] || undefined),
};

const slot = new ForwarderSlot(() => forwarderFromEnv(process.env, undefined, AZURE_IDENTITY));
/** For tests: replace the forwarder (its sinks) built from the app settings. */
export function setForwarder(next: Forwarder | undefined): void {
  slot.set(next);
}

export async function monitorIngest(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const receivedAt = new Date();
  const forwarder = slot.get((reason) => {
    logger.error('forwarder misconfigured: refusing every request', { invocationId: context.invocationId, reason });
  });
  if (forwarder === undefined) {
    return { status: 503, headers: { ...JSON_TYPE, 'retry-after': '60' }, jsonBody: { error: 'misconfigured', message: 'the function is not configured; see its logs' } };
  }
  // Refuse an oversized body before buffering it when the sender declared its length.
  const declared = Number(request.headers.get('content-length') ?? '0');
  const limit = forwarder.settings.maxBodyBytes || DEFAULT_MAX_BODY_BYTES;
  const tooLargeUpFront = Number.isFinite(declared) && declared > limit * 4;
  const raw = tooLargeUpFront ? Buffer.alloc(0) : Buffer.from(await request.arrayBuffer());
  const answer = await ingestAndForward(
    {
      endpoint: 'azure-monitor',
      authorization: request.headers.get('authorization') ?? undefined,
      queryToken: request.query.get('token'),
      body: raw,
      bodyTooLarge: tooLargeUpFront || raw.byteLength > limit,
      receivedAt,
    },
    forwarder.settings,
    forwarder.sinks,
  );
  logger.info('ingest', {
    invocationId: context.invocationId,
    outcome: answer.outcome,
    status: answer.status,
    reason: answer.reason,
    source: answer.source,
    incidents: answer.incidents,
    bytes: raw.byteLength,
  });
  return { status: answer.status, headers: answer.headers, body: JSON.stringify(answer.body) };
}

app.http('monitor-ingest', {
  methods: ['POST'],
  authLevel: 'function',
  route: 'v1/ingest/azure/monitor',
  handler: monitorIngest,
});
