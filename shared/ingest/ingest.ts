// The ingest step every HTTP front door shares (local server, AWS http-ingest, Azure and GCP
// functions): authenticate, enforce the size limit, unwrap SNS, normalize. It answers with a
// status and a JSON body and says whether the raw bytes must be kept; forwarding the incidents
// and keeping the raw bytes is the caller's job, because each cloud does it differently.
// Fail closed: with `requireToken` and no token configured, every request is refused (503: the
// fault is ours, and the sender retries once it is fixed); anything SNS-shaped must carry a
// valid signature, and Lambda SNS events are never accepted over HTTP (see sns.ts).
import { PayloadRejectedError, type SourceRejection } from '../errors.ts';
import type { Incident, SourceKind } from '../incident.ts';
import { normalize, parseJson } from '../normalize.ts';
import { formatIssues } from '../zod-issues.ts';
import { isAuthorized } from './auth.ts';
import {
  isTrustedSnsUrl,
  isUnsigned,
  snsHttpMessageSchema,
  snsShapeOf,
  staleness,
  topicAllowed,
  type SnsReplayGuard,
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
  /** Refuses a Notification's MessageId seen again within the freshness window. */
  readonly replay?: SnsReplayGuard | undefined;
}

export interface IngestSettings {
  readonly token?: string | undefined;
  /**
   * Refuse everything when no token is configured (every cloud front door: reachable from
   * anywhere). Only the local server on a loopback address runs without one.
   */
  readonly requireToken?: boolean;
  readonly maxBodyBytes: number;
  /** Without it, SNS HTTP envelopes are refused (no way to check their signature). */
  readonly sns?: SnsSettings | undefined;
}

export type RejectReason =
  | 'unauthorized'
  | 'too-large'
  | 'malformed'
  | 'forbidden-topic'
  | 'bad-signature'
  | 'lambda-envelope'
  | 'stale-message'
  | 'replayed';

/** Our side cannot judge the request now; the sender should retry (503). */
export type UnavailableReason = 'token-not-configured' | 'certificate-unavailable' | 'confirmation-failed';

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
      /** Call once the incidents are committed (queued or stored): remembers an SNS MessageId. */
      readonly onCommitted?: (() => void) | undefined;
    }
  | { readonly kind: 'acknowledged'; readonly status: 200; readonly body: { readonly message: string } }
  | {
      readonly kind: 'rejected';
      readonly status: 400 | 401 | 403 | 409 | 413;
      readonly reason: RejectReason;
      readonly body: ErrorBody;
      /** Keep the raw payload (dead-letter / spool): true for authenticated callers' bad payloads. */
      readonly keepRaw: boolean;
    }
  | {
      readonly kind: 'unavailable';
      readonly status: 503;
      readonly reason: UnavailableReason;
      readonly body: ErrorBody;
      readonly retryAfterSeconds: number;
      /** Keep the raw payload: it may be a real alarm we could not check yet. */
      readonly keepRaw: boolean;
    };

function unavailable(reason: UnavailableReason, message: string, keepRaw: boolean, retryAfterSeconds: number): IngestOutcome {
  return { kind: 'unavailable', status: 503, reason, body: { error: reason, message }, retryAfterSeconds, keepRaw };
}

function rejected(
  status: 400 | 401 | 403 | 409 | 413,
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

export const UNAUTHORIZED_MESSAGE = 'missing or wrong ingest token (send it as a bearer token, basic-auth password or ?token=)';

/** The token is set to something (blank counts as unset). */
export function hasToken(token: string | undefined): token is string {
  return token !== undefined && token.trim() !== '';
}

export async function ingest(request: IngestRequest, settings: IngestSettings): Promise<IngestOutcome> {
  if (settings.requireToken === true && !hasToken(settings.token)) {
    return unavailable('token-not-configured', 'ingest is closed: no ingest token is configured on this endpoint (see its log)', false, 60);
  }
  if (!isAuthorized({ authorization: request.authorization, queryToken: request.queryToken }, settings.token)) {
    return rejected(401, 'unauthorized', UNAUTHORIZED_MESSAGE, false);
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

  switch (snsShapeOf(payload)) {
    case 'lambda':
      // Only Lambda delivers these (to sns-ingest); over HTTP they carry no signature to check,
      // so one would let anyone claim any topic.
      return rejected(403, 'lambda-envelope', 'a Lambda SNS event (Records[].Sns) is never accepted over HTTP; subscribe this URL to the topic over HTTPS instead', false);
    case 'http':
      if (request.endpoint !== 'aws-sns' && request.endpoint !== 'auto') {
        return rejected(400, 'malformed', 'an SNS message belongs on /v1/ingest/aws/sns (or /v1/ingest)', true);
      }
      return handleSnsEnvelope(payload, request, settings);
    case undefined:
      return normalizeOrReject(payload, request.endpoint, request.receivedAt);
  }
}

async function handleSnsEnvelope(payload: unknown, request: IngestRequest, settings: IngestSettings): Promise<IngestOutcome> {
  if (isUnsigned(payload)) {
    return rejected(403, 'bad-signature', 'an SNS message must carry SignatureVersion, Signature and SigningCertURL', false);
  }
  const parsed = snsHttpMessageSchema.safeParse(payload);
  if (!parsed.success) {
    return rejected(400, 'malformed', 'invalid SNS message', true, [{ source: 'sns', reason: formatIssues(parsed.error) }]);
  }
  const message = parsed.data;
  if (!settings.sns) {
    return rejected(403, 'bad-signature', 'SNS HTTP messages are not accepted on this endpoint', false);
  }
  const sns = settings.sns;
  if (!topicAllowed(message.TopicArn, sns.allowedTopicArns)) {
    return rejected(403, 'forbidden-topic', 'SNS topic is not in the allowed list', false);
  }
  const stale = staleness(message.Timestamp, request.receivedAt);
  if (stale !== undefined) return rejected(403, 'stale-message', stale, false);
  const verification = await sns.verifier.verify(message);
  if (!verification.ok) {
    // Not checkable now is not forged: 503, so SNS retries, and the bytes are kept meanwhile.
    if (verification.retryable) return unavailable('certificate-unavailable', verification.reason, true, 10);
    return rejected(403, 'bad-signature', verification.reason, false);
  }

  switch (message.Type) {
    case 'SubscriptionConfirmation': {
      const url = message.SubscribeURL;
      if (url === undefined || !isTrustedSnsUrl(url)) {
        return rejected(400, 'malformed', 'SubscribeURL is missing or not on sns.<region>.amazonaws.com', true);
      }
      try {
        await sns.confirm(url);
      } catch {
        // Our request to SNS failed: 503, so SNS sends the confirmation again (a 4xx would stop it).
        return unavailable('confirmation-failed', 'the subscription could not be confirmed with SNS; retry later', false, 20);
      }
      return { kind: 'acknowledged', status: 200, body: { message: `subscribed to ${message.TopicArn}` } };
    }
    case 'UnsubscribeConfirmation':
      return { kind: 'acknowledged', status: 200, body: { message: `unsubscribed from ${message.TopicArn}` } };
    case 'Notification': {
      if (sns.replay?.seen(message.MessageId, request.receivedAt) === true) {
        return rejected(409, 'replayed', `SNS MessageId ${message.MessageId} was already accepted`, false);
      }
      const outcome = normalizeOrReject(payload, 'cloudwatch', request.receivedAt);
      if (outcome.kind !== 'accepted' || sns.replay === undefined) return outcome;
      const replay = sns.replay;
      const onCommitted = (): void => {
        replay.remember(message.MessageId, message.Timestamp, request.receivedAt);
      };
      return { ...outcome, onCommitted };
    }
  }
}
