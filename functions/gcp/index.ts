// Google Cloud Functions (gen2, Node 22) entry: the Cloud Monitoring webhook channel posts here.
// Thin adapter: raw bytes in → shared ingest → incidents to the SQS incidents queue → answer.
// Deploy: gcloud functions deploy tocsin-monitoring-ingest --gen2 --runtime nodejs22
//   --trigger-http --allow-unauthenticated --entry-point monitoringIngest (see README).
// The URL is public, so TOCSIN_INGEST_TOKEN is required: without it every request is refused
// with 503 and the log says why, once.
import { Logger } from '@aws-lambda-powertools/logger';
import { http, type Request, type Response } from '@google-cloud/functions-framework';
import express from 'express';
import { ingestAndForward, type HttpAnswer } from '../../shared/ingest/forward.ts';
import { ForwarderSlot, forwarderFromEnv, type Forwarder, type KeylessIdentity } from '../../shared/ingest/forwarder.ts';
import { gcpMetadataIdentityToken } from '../../shared/ingest/web-identity.ts';

const logger = new Logger({ serviceName: 'tocsin-gcp-monitoring-ingest' });

/** Keyless: the runtime service account's ID token from the metadata server. */
export const GCP_IDENTITY: KeylessIdentity = {
  sessionName: 'tocsin-gcp-forwarder',
  tokenFor: (env, audience) => gcpMetadataIdentityToken(env, audience),
};

const slot = new ForwarderSlot(() => forwarderFromEnv(process.env, undefined, GCP_IDENTITY));
/** For tests: replace the forwarder (its sinks) built from the environment. */
export function setForwarder(next: Forwarder | undefined): void {
  slot.set(next);
}

function send(response: Response, answer: HttpAnswer): void {
  response.status(answer.status).set(answer.headers).send(JSON.stringify(answer.body));
}

export async function monitoringIngest(request: Request, response: Response): Promise<void> {
  const receivedAt = new Date();
  if (request.method !== 'POST') {
    response.status(405).set({ 'content-type': 'application/json; charset=utf-8', allow: 'POST' }).send(JSON.stringify({ error: 'method-not-allowed', message: 'POST the Cloud Monitoring notification here' }));
    return;
  }
  const forwarder = slot.get((reason) => {
    logger.error('forwarder misconfigured: refusing every request', { reason });
  });
  if (forwarder === undefined) {
    send(response, { status: 503, body: { error: 'misconfigured', message: 'the function is not configured; see its logs' }, headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': '60' }, outcome: 'unavailable', incidents: 0 });
    return;
  }
  // The framework has already parsed the body; rawBody holds the exact bytes, which is what
  // ingest wants (and what is kept if the payload is rejected).
  const raw: Buffer = request.rawBody ?? Buffer.alloc(0);
  const query = request.query['token'];
  const answer = await ingestAndForward(
    {
      endpoint: 'gcp-monitoring',
      authorization: request.get('authorization'),
      queryToken: typeof query === 'string' ? query : undefined,
      body: raw,
      receivedAt,
    },
    forwarder.settings,
    forwarder.sinks,
  );
  logger.info('ingest', { outcome: answer.outcome, status: answer.status, reason: answer.reason, source: answer.source, incidents: answer.incidents, bytes: raw.byteLength });
  send(response, answer);
}

// functions-framework parses JSON before the function runs and answers malformed JSON with
// Express's HTML error page (functions-framework-nodejs#686). Its body parser saves the raw
// bytes before parsing, so route such requests to the function, which then answers with the
// same JSON 400 as every other endpoint and keeps the payload.
type Handle = (this: unknown, req: Request, res: Response, callback?: (error?: unknown) => void) => void;
const application = express.application as unknown as { handle: Handle; __tocsinPatched?: boolean };
if (application.__tocsinPatched !== true) {
  const original = application.handle;
  application.handle = function handle(this: unknown, req, res, callback) {
    original.call(this, req, res, (error?: unknown) => {
      const isBodyError = typeof error === 'object' && error !== null && 'type' in error && typeof error.type === 'string' && error.type.startsWith('entity.');
      if (isBodyError && !res.headersSent) {
        monitoringIngest(req, res).catch(() => {
          if (!res.headersSent) res.status(500).set({ 'content-type': 'application/json; charset=utf-8' }).send('{"error":"internal","message":"internal error"}');
        });
        return;
      }
      if (callback) {
        callback(error);
        return;
      }
      if (res.headersSent) return;
      // What Express's final handler would do, in JSON and without a stack trace.
      const notFound = error === undefined;
      res
        .status(notFound ? 404 : 500)
        .set({ 'content-type': 'application/json; charset=utf-8' })
        .send(notFound ? '{"error":"not-found","message":"no such route"}' : '{"error":"internal","message":"internal error"}');
    });
  };
  application.__tocsinPatched = true;
}

http('monitoringIngest', monitoringIngest);
