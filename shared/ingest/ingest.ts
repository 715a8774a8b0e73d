// The ingest step every HTTP front door shares (local server, AWS http-ingest, Azure and GCP
// functions): authenticate, enforce the size limit, unwrap SNS, normalize. It answers with a
// status and a JSON body and says whether the raw bytes must be kept; forwarding the incidents
// and keeping the raw bytes is the caller's job, because each cloud does it differently.
import { PayloadRejectedError, type SourceRejection } from '../errors.ts';
import type { Incident, SourceKind } from '../incident.ts';
import { normalize, parseJson } from '../normalize.ts';
import { formatIssues } from '../zod-issues.ts';
import { isAuthorized } from './auth.ts';
import {
  isTrustedSnsUrl,
  looksLikeSnsHttpMessage,
  snsHttpMessageSchema,
  topicAllowed,
  type SnsVerifier,
  type SubscriptionConfirmer,
} from './sns.ts';

/** `auto` detects the source; `aws-sns` also handles SNS subscription messages and signatures. */
export type IngestEndpoint = SourceKind | 'auto' | 'aws-sns';

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

export interface IngestRequest {
  readonly endpoint: IngestEndpoint;
  /** The `Authorization` header, if any. */
  readonly authorization?: string | undefined;
  /** The `token` query parameter, if any. */
  readonly queryToken?: string | null | undefined;
  readonly body: Uint8Array | string;
  /** Set by the transport when the body was cut at the size limit. */
  readonly bodyTooLarge?: boolean;
  readonly receivedAt: Date;
}

export interface SnsSettings {
  readonly verifier: SnsVerifier;
  /** Undefined: any topic. Otherwise only these topics may subscribe and deliver. */
  readonly allowedTopicArns?: readonly string[] | undefined;
  readonly confirm: SubscriptionConfirmer;
}

export interface IngestSettings {
  readonly token?: string | undefined;
  readonly maxBodyBytes: number;
  /** Without it, SNS HTTP envelopes are refused (no way to check their signature). */
  readonly sns?: SnsSettings | undefined;
}

export type RejectReason = 'unauthorized' | 'too-large' | 'malformed' | 'forbidden-topic' | 'bad-signature';

export interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly rejections?: readonly SourceRejection[];
}

export type IngestOutcome =
  | {
      readonly kind: 'accepted';
      readonly status: 202;
      readonly source: SourceKind;
      readonly incidents: Incident[];
      readonly body: { readonly accepted: number; readonly source: SourceKind; readonly fingerprints: string[] };
    }
  | { readonly kind: 'acknowledged'; readonly status: 200; readonly body: { readonly message: string } }
  | {
      readonly kind: 'rejected';
      readonly status: 400 | 401 | 403 | 413;
      readonly reason: RejectReason;
      readonly body: ErrorBody;
      /** Keep the raw payload (dead-letter / spool): true for authenticated callers' bad payloads. */
      readonly keepRaw: boolean;
    };

function rejected(
  status: 400 | 401 | 403 | 413,
  reason: RejectReason,
  message: string,
  keepRaw: boolean,
  rejections?: readonly SourceRejection[],
): IngestOutcome {
  return {
    kind: 'rejected',
    status,
    reason,
    keepRaw,
    body: rejections ? { error: reason, message, rejections } : { error: reason, message },
  };
}

function accepted(source: SourceKind, incidents: Incident[]): IngestOutcome {
  return {
    kind: 'accepted',
    status: 202,
    source,
    incidents,
    body: { accepted: incidents.length, source, fingerprints: incidents.map((incident) => incident.fingerprint) },
  };
}

function normalizeOrReject(payload: unknown, endpoint: IngestEndpoint, receivedAt: Date): IngestOutcome {
  const source = endpoint === 'auto' ? undefined : endpoint === 'aws-sns' ? 'cloudwatch' : endpoint;
  try {
    const result = normalize(payload, { receivedAt, source });
    return accepted(result.source, result.incidents);
  } catch (error) {
    if (error instanceof PayloadRejectedError) {
      return rejected(400, 'malformed', error.toJSON().error, true, error.rejections);
    }
    throw error;
  }
}

export async function ingest(request: IngestRequest, settings: IngestSettings): Promise<IngestOutcome> {
  if (!isAuthorized({ authorization: request.authorization, queryToken: request.queryToken }, settings.token)) {
    return rejected(
      401,
      'unauthorized',
      'missing or wrong ingest token (send it as a bearer token, basic-auth password or ?token=)',
      false,
    );
  }
  const size = typeof request.body === 'string' ? Buffer.byteLength(request.body) : request.body.byteLength;
  if (request.bodyTooLarge === true || size > settings.maxBodyBytes) {
    return rejected(413, 'too-large', `body exceeds the ${String(settings.maxBodyBytes)}-byte limit`, true);
  }

  let payload: unknown;
  try {
    payload = parseJson(request.body);
  } catch (error) {
    if (error instanceof PayloadRejectedError) {
      return rejected(400, 'malformed', error.toJSON().error, true, error.rejections);
    }
    throw error;
  }

  if (looksLikeSnsHttpMessage(payload) && (request.endpoint === 'aws-sns' || request.endpoint === 'auto')) {
    return handleSnsEnvelope(payload, request, settings);
  }
  return normalizeOrReject(payload, request.endpoint, request.receivedAt);
}

async function handleSnsEnvelope(payload: unknown, request: IngestRequest, settings: IngestSettings): Promise<IngestOutcome> {
  const parsed = snsHttpMessageSchema.safeParse(payload);
  if (!parsed.success) {
    return rejected(400, 'malformed', 'invalid SNS message', true, [{ source: 'sns', reason: formatIssues(parsed.error) }]);
  }
  const message = parsed.data;
  if (!settings.sns) {
    return rejected(403, 'bad-signature', 'SNS HTTP messages are not accepted on this endpoint', false);
  }
  if (!topicAllowed(message.TopicArn, settings.sns.allowedTopicArns)) {
    return rejected(403, 'forbidden-topic', 'SNS topic is not in the allowed list', false);
  }
  const verification = await settings.sns.verifier.verify(message);
  if (!verification.ok) return rejected(403, 'bad-signature', verification.reason, false);

  switch (message.Type) {
    case 'SubscriptionConfirmation': {
      const url = message.SubscribeURL;
      if (url === undefined || !isTrustedSnsUrl(url)) {
        return rejected(400, 'malformed', 'SubscribeURL is missing or not on sns.<region>.amazonaws.com', true);
      }
      try {
        await settings.sns.confirm(url);
      } catch {
        // SNS retries the confirmation message; a 4xx here would stop it, so this is the one
        // place the answer is "try again" — reported as a 400 with a clear reason all the same.
        return rejected(400, 'malformed', 'subscription confirmation request to SNS failed; SNS will retry', false);
      }
      return { kind: 'acknowledged', status: 200, body: { message: `subscribed to ${message.TopicArn}` } };
    }
    case 'UnsubscribeConfirmation':
      return { kind: 'acknowledged', status: 200, body: { message: `unsubscribed from ${message.TopicArn}` } };
    case 'Notification':
      return normalizeOrReject(payload, 'cloudwatch', request.receivedAt);
  }
}
