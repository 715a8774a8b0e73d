// Keyless AWS credentials for the forwarders outside AWS: an identity token from the platform the
// forwarder runs on (an Azure managed identity, a GCP service account) is exchanged for a role's
// short-lived credentials with STS AssumeRoleWithWebIdentity (the SDK's web-identity provider),
// and those are kept until shortly before they expire, so a busy function calls the token
// endpoint and STS about once an hour, not once per alert.
//
//   Azure Functions / App Service: GET $IDENTITY_ENDPOINT?resource=<audience>&api-version=2019-08-01
//     with X-IDENTITY-HEADER: $IDENTITY_HEADER → {"access_token", "expires_on" (epoch s), ...};
//     on a VM (no IDENTITY_ENDPOINT) the instance metadata service, with Metadata: true.
//   GCP (Cloud Functions, Cloud Run): GET http://metadata.google.internal/computeMetadata/v1/
//     instance/service-accounts/default/identity?audience=<audience> with Metadata-Flavor: Google
//     → the ID token as the body.
import { fromWebToken } from '@aws-sdk/credential-provider-web-identity';
import { z } from 'zod';

/** Temporary credentials as the SDK's providers return them (with their expiration). */
export type AwsCredentials = Awaited<ReturnType<ReturnType<typeof fromWebToken>>>;
export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

/** Credentials are renewed this long before they expire (the SDK's own margin is 5 minutes). */
export const REFRESH_MARGIN_MS = 5 * 60_000;
/** A token endpoint on the same host answers in milliseconds; one that hangs must not hold alerts. */
const TOKEN_TIMEOUT_MS = 5_000;

export class IdentityTokenError extends Error {
  override readonly name = 'IdentityTokenError';
}

/** Fetches a fresh identity token for the audience the AWS role trusts. */
export type IdentityTokenSource = () => Promise<string>;

type Fetch = typeof fetch;

async function getText(url: URL, headers: Record<string, string>, what: string, fetchImpl: Fetch): Promise<string> {
  let response: Response;
  try {
    response = await fetchImpl(url, { headers, signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS) });
  } catch (error) {
    throw new IdentityTokenError(`${what} at ${url.origin}${url.pathname} unreachable: ${(error as Error).message}`);
  }
  const text = await response.text();
  if (!response.ok) {
    // The body says why (no identity assigned, wrong audience); it holds no token.
    throw new IdentityTokenError(`${what} answered HTTP ${String(response.status)}: ${text.slice(0, 300)}`);
  }
  return text;
}

const azureTokenSchema = z.object({ access_token: z.string().min(1) });

/**
 * The Azure managed identity's access token for `audience` (the app registration's application
 * ID URI the AWS role's OIDC provider lists as client id). `clientId` picks a user-assigned
 * identity; without it the system-assigned one answers.
 */
export function azureManagedIdentityToken(
  env: Readonly<Record<string, string | undefined>>,
  audience: string,
  clientId?: string,
  fetchImpl: Fetch = fetch,
): IdentityTokenSource {
  const endpoint = env['IDENTITY_ENDPOINT'];
  const secret = env['IDENTITY_HEADER'];
  return async () => {
    let url: URL;
    let headers: Record<string, string>;
    if (endpoint !== undefined && endpoint !== '') {
      if (secret === undefined || secret === '') throw new IdentityTokenError('IDENTITY_ENDPOINT is set but IDENTITY_HEADER is not: is a managed identity assigned to the function app?');
      url = new URL(endpoint);
      url.searchParams.set('api-version', '2019-08-01');
      headers = { 'X-IDENTITY-HEADER': secret };
    } else {
      // A VM or a container with no App Service identity endpoint: the instance metadata service.
      url = new URL(`http://${env['AZURE_IMDS_HOST'] ?? '169.254.169.254'}/metadata/identity/oauth2/token`);
      url.searchParams.set('api-version', '2018-02-01');
      headers = { Metadata: 'true' };
    }
    url.searchParams.set('resource', audience);
    if (clientId !== undefined) url.searchParams.set('client_id', clientId);
    const text = await getText(url, headers, 'the Azure managed identity endpoint', fetchImpl);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new IdentityTokenError('the Azure managed identity endpoint answered with something other than JSON');
    }
    const parsed = azureTokenSchema.safeParse(body);
    if (!parsed.success) throw new IdentityTokenError('the Azure managed identity endpoint answered without an access_token');
    return parsed.data.access_token;
  };
}

/** The GCP service account's ID token for `audience`, from the metadata server. */
export function gcpMetadataIdentityToken(env: Readonly<Record<string, string | undefined>>, audience: string, fetchImpl: Fetch = fetch): IdentityTokenSource {
  // GCE_METADATA_HOST is the override Google's own client libraries honour (emulators, tests).
  const host = env['GCE_METADATA_HOST'] ?? 'metadata.google.internal';
  return async () => {
    const url = new URL(`http://${host}/computeMetadata/v1/instance/service-accounts/default/identity`);
    url.searchParams.set('audience', audience);
    // `full` adds the service account's e-mail to the token; the role checks sub/aud/oaud only.
    url.searchParams.set('format', 'full');
    const token = (await getText(url, { 'Metadata-Flavor': 'Google' }, 'the GCP metadata server', fetchImpl)).trim();
    if (token.split('.').length !== 3) throw new IdentityTokenError('the GCP metadata server answered with something other than a JWT');
    return token;
  };
}

export interface WebIdentitySettings {
  readonly roleArn: string;
  readonly token: IdentityTokenSource;
  /** Names the session in CloudTrail, e.g. `tocsin-azure-forwarder`. */
  readonly sessionName: string;
  readonly region: string;
  /** An STS endpoint other than the regional one (AWS_ENDPOINT_URL_STS). */
  readonly stsEndpoint?: string | undefined;
  /** For tests: the clock the cache compares expirations with. */
  readonly now?: () => number;
}

/**
 * A credential provider for the AWS SDK clients: assumes the role with a fresh token when there
 * are no credentials or they expire within REFRESH_MARGIN_MS, and otherwise hands back the ones it
 * has. Concurrent callers share one exchange; a failed one is not kept, so the next call retries.
 */
export function webIdentityCredentials(settings: WebIdentitySettings): AwsCredentialsProvider {
  const now = settings.now ?? Date.now;
  let current: AwsCredentials | undefined;
  let pending: Promise<AwsCredentials> | undefined;
  const fresh = (credentials: AwsCredentials | undefined): credentials is AwsCredentials =>
    credentials !== undefined && (credentials.expiration === undefined || credentials.expiration.getTime() - REFRESH_MARGIN_MS > now());
  const exchange = async (): Promise<AwsCredentials> => {
    const webIdentityToken = await settings.token();
    const provider = fromWebToken({
      roleArn: settings.roleArn,
      roleSessionName: settings.sessionName,
      webIdentityToken,
      clientConfig: { region: settings.region, ...(settings.stsEndpoint === undefined ? {} : { endpoint: settings.stsEndpoint }) },
    });
    return provider();
  };
  return async () => {
    if (fresh(current)) return current;
    pending ??= exchange().finally(() => {
      pending = undefined;
    });
    current = await pending;
    return current;
  };
}
