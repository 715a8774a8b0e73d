// The forwarders outside AWS (the Azure and GCP functions) and http-ingest inside it all send
// to the same SQS queues. This builds their ingest settings and sinks from environment
// variables, once per process. Credentials, in this order:
// - keyless: AWS_ROLE_ARN (without AWS_WEB_IDENTITY_TOKEN_FILE) and TOCSIN_TOKEN_AUDIENCE: the
//   adapter's identity token source (Azure managed identity, GCP metadata server) is exchanged
//   for the role's credentials, kept until near expiry (web-identity.ts);
// - otherwise the AWS SDK's default chain: access keys in app settings, or a token file.
// A forwarder is a public URL, so TOCSIN_INGEST_TOKEN is required: unset or blank, it refuses
// every request (ForwarderSlot reports why once) instead of taking alerts from anyone.
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsJobQueue } from '../queue/sqs.ts';
import type { ForwardSinks, IncidentMessage, RejectedPayload } from './forward.ts';
import { DEFAULT_MAX_BODY_BYTES, hasToken, type IngestSettings } from './ingest.ts';
import { webIdentityCredentials, type IdentityTokenSource } from './web-identity.ts';

/** How a forwarder proves who it is without an AWS key: its platform's identity token. */
export interface KeylessIdentity {
  /** Names the role session in CloudTrail, e.g. `tocsin-azure-forwarder`. */
  readonly sessionName: string;
  /** The token source for the audience TOCSIN_TOKEN_AUDIENCE names. */
  tokenFor(env: Readonly<Record<string, string | undefined>>, audience: string): IdentityTokenSource;
}

export class ForwarderConfigError extends Error {
  override readonly name = 'ForwarderConfigError';
}

export interface Forwarder {
  readonly settings: IngestSettings;
  readonly sinks: ForwardSinks;
}

export function forwarderFromEnv(env: Readonly<Record<string, string | undefined>>, client?: SQSClient, keyless?: KeylessIdentity): Forwarder {
  const incidentsUrl = env['INCIDENTS_QUEUE_URL'];
  const rejectedUrl = env['REJECTED_QUEUE_URL'];
  const token = env['TOCSIN_INGEST_TOKEN'];
  const missing = [
    incidentsUrl ? undefined : 'INCIDENTS_QUEUE_URL',
    rejectedUrl ? undefined : 'REJECTED_QUEUE_URL',
    hasToken(token) ? undefined : 'TOCSIN_INGEST_TOKEN',
  ].filter(Boolean);
  if (!incidentsUrl || !rejectedUrl || !hasToken(token)) {
    throw new ForwarderConfigError(`missing setting(s): ${missing.join(', ')}; every request is refused until they are set`);
  }
  const maxBodyBytes = env['TOCSIN_MAX_BODY_BYTES'] ? Number(env['TOCSIN_MAX_BODY_BYTES']) : DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) throw new ForwarderConfigError('TOCSIN_MAX_BODY_BYTES must be a positive integer');
  // The queue URL names the region (https://sqs.<region>.amazonaws.com/...); use it when
  // AWS_REGION is not set, which is the usual case on Azure and GCP.
  const region = env['AWS_REGION'] ?? /^https:\/\/sqs\.([a-z0-9-]+)\./.exec(incidentsUrl)?.[1];
  const roleArn = env['AWS_ROLE_ARN'];
  const usesKeyless = keyless !== undefined && roleArn !== undefined && roleArn !== '' && !env['AWS_WEB_IDENTITY_TOKEN_FILE'];
  let sqs = client;
  if (sqs === undefined && usesKeyless) {
    const audience = env['TOCSIN_TOKEN_AUDIENCE'];
    if (!audience) throw new ForwarderConfigError('AWS_ROLE_ARN is set, so the forwarder assumes it with its identity token, but TOCSIN_TOKEN_AUDIENCE (the audience the role trusts) is not set');
    if (!region) throw new ForwarderConfigError('set AWS_REGION: STS is called in the queues\' region, and INCIDENTS_QUEUE_URL does not name one');
    const credentials = webIdentityCredentials({
      roleArn,
      token: keyless.tokenFor(env, audience),
      sessionName: keyless.sessionName,
      region,
      stsEndpoint: env['AWS_ENDPOINT_URL_STS'] || undefined,
    });
    sqs = new SQSClient({ region, credentials });
  }
  sqs ??= new SQSClient(region ? { region } : {});
  return {
    settings: { token, requireToken: true, maxBodyBytes },
    sinks: {
      incidents: new SqsJobQueue<IncidentMessage>({ client: sqs, queueUrl: incidentsUrl }),
      rejected: new SqsJobQueue<RejectedPayload>({ client: sqs, queueUrl: rejectedUrl }),
    },
  };
}

/**
 * The process's forwarder, built on first use. A configuration problem is kept (app settings
 * changes restart the function app or deploy a new revision) and reported to `onProblem` once,
 * not on every refused request.
 */
export class ForwarderSlot {
  readonly #build: () => Forwarder;
  #current: Forwarder | ForwarderConfigError | undefined;
  #reported = false;

  constructor(build: () => Forwarder) {
    this.#build = build;
  }

  /** For tests: put a forwarder in place (undefined: build from the environment again). */
  set(next: Forwarder | undefined): void {
    this.#current = next;
    this.#reported = false;
  }

  /** The forwarder, or undefined when it cannot be built (and then `onProblem` was told, once). */
  get(onProblem: (reason: string) => void): Forwarder | undefined {
    if (this.#current === undefined) {
      try {
        this.#current = this.#build();
      } catch (error) {
        if (!(error instanceof ForwarderConfigError)) throw error;
        this.#current = error;
      }
    }
    if (!(this.#current instanceof ForwarderConfigError)) return this.#current;
    if (!this.#reported) onProblem(this.#current.message);
    this.#reported = true;
    return undefined;
  }
}
