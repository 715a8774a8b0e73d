// Ingest then forward: what every cloud front door does after `ingest` — incidents to the
// incidents queue, the raw bytes of a rejected payload to the rejected queue (so nothing is
// lost), and one HTTP answer. A queue outage is our problem, not the sender's: 503, which
// Azure action groups, SNS and Cloud Monitoring all retry.
import type { Incident } from '../incident.ts';
import { ingest, type IngestOutcome, type IngestRequest, type IngestSettings, type RejectReason, type UnavailableReason } from './ingest.ts';

/** The incidents queue message: the incident, never the raw payload, so messages stay small. */
export interface IncidentMessage {
  readonly incident: Incident;
  readonly receivedAt: string;
}

/**
 * The rejected queue message: enough to see what was wrong and to replay it. The bytes travel
 * inline (`bodyBase64`) unless they would not fit in a queue message: then they are stored
 * whole as an object (`bodyObject`, S3 in AWS) and `bodyBase64` is empty.
 */
export interface RejectedPayload {
  readonly receivedAt: string;
  readonly endpoint: string;
  readonly status: number;
  readonly reason: RejectReason | UnavailableReason;
  readonly message: string;
  readonly rejections?: readonly { source: string; reason: string }[] | undefined;
  readonly truncated: boolean;
  readonly bodyBase64: string;
  readonly bodyObject?: RejectedBodyObject | undefined;
}

/** Where the bytes of a rejected payload too large for a queue message are kept. */
export interface RejectedBodyObject {
  readonly bucket: string;
  readonly key: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface Sink<T> {
  send(items: readonly T[]): Promise<void>;
}

export interface ForwardSinks {
  readonly incidents: Sink<IncidentMessage>;
  readonly rejected: Sink<RejectedPayload>;
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;
  /** What happened, for logs and metrics. */
  readonly outcome: IngestOutcome['kind'] | 'unavailable';
  readonly reason?: RejectReason | UnavailableReason | 'queue-unavailable' | undefined;
  readonly incidents: number;
  readonly source?: string | undefined;
  /** Why the queue refused, for the log (the queue error's name and message; never a body). */
  readonly error?: string | undefined;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

export async function ingestAndForward(request: IngestRequest, settings: IngestSettings, sinks: ForwardSinks): Promise<HttpAnswer> {
  const outcome = await ingest(request, settings);
  const keep = async (kept: Extract<IngestOutcome, { keepRaw: boolean }>): Promise<void> => {
    if (!kept.keepRaw) return;
    const bytes = typeof request.body === 'string' ? Buffer.from(request.body) : Buffer.from(request.body);
    await sinks.rejected.send([
      {
        receivedAt: request.receivedAt.toISOString(),
        endpoint: request.endpoint,
        status: kept.status,
        reason: kept.reason,
        message: kept.body.message,
        rejections: kept.body.rejections,
        truncated: request.bodyTooLarge === true || bytes.byteLength > settings.maxBodyBytes,
        bodyBase64: bytes.subarray(0, settings.maxBodyBytes).toString('base64'),
      },
    ]);
  };
  try {
    switch (outcome.kind) {
      case 'accepted': {
        const receivedAt = request.receivedAt.toISOString();
        await sinks.incidents.send(outcome.incidents.map((incident) => ({ incident, receivedAt })));
        outcome.onCommitted?.();
        return { status: 202, body: outcome.body, headers: JSON_HEADERS, outcome: 'accepted', incidents: outcome.incidents.length, source: outcome.source };
      }
      case 'acknowledged':
        return { status: 200, body: outcome.body, headers: JSON_HEADERS, outcome: 'acknowledged', incidents: 0 };
      case 'rejected': {
        await keep(outcome);
        const headers = outcome.status === 401 ? { ...JSON_HEADERS, 'www-authenticate': 'Bearer realm="tocsin", Basic realm="tocsin"' } : JSON_HEADERS;
        return { status: outcome.status, body: { ...outcome.body, kept: outcome.keepRaw }, headers, outcome: 'rejected', reason: outcome.reason, incidents: 0 };
      }
      case 'unavailable': {
        await keep(outcome);
        return {
          status: 503,
          body: { ...outcome.body, kept: outcome.keepRaw },
          headers: { ...JSON_HEADERS, 'retry-after': String(outcome.retryAfterSeconds) },
          outcome: 'unavailable',
          reason: outcome.reason,
          incidents: 0,
        };
      }
    }
  } catch (error) {
    return {
      status: 503,
      body: { error: 'queue-unavailable', message: 'could not queue the payload; retry later' },
      headers: { ...JSON_HEADERS, 'retry-after': '5' },
      outcome: 'unavailable',
      reason: 'queue-unavailable',
      incidents: 0,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    };
  }
}
