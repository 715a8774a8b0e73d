// `${NAME}` in the cloud: one Secrets Manager secret (TOCSIN_SECRET_ARN) holds a JSON object
// of NAME → value, which warm Lambdas reuse for `maxAgeSeconds`.
// One secret, not one per name: one IAM grant, one read per cold start, one place to rotate.
// There is deliberately no SSM fallback: a name missing from the secret is a config error.
// Kept out of ./index.ts so local and non-AWS bundles do not pull in the AWS SDK.
// Read with the Secrets Manager client's GetSecretValue and kept for maxAge, as Powertools'
// getSecret did (SecretString, else SecretBinary; its per-name cache), without Powertools
// parameters' code at every cold start. Tests may still pass a Powertools SecretsProvider.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod';
import { ConfigError, ConfigSourceError } from './errors.ts';
import type { SecretResolver } from './secrets.ts';

export interface AwsSecretResolverOptions {
  readonly secretArn: string;
  /** How long a warm function reuses the secret before reading it again. Default 5 minutes. */
  readonly maxAgeSeconds?: number;
  /** A provider with its own client (tests, other regions); defaults to the container's client. */
  readonly provider?: Pick<SecretsProvider, 'get'>;
}

let secretsManager: SecretsManagerClient | undefined;
const secretCache = new Map<string, { readonly value: unknown; readonly expiresAt: number }>();

/** GetSecretValue through the container's client, each secret's value kept for maxAge seconds. */
async function getSecret(secretId: string, maxAge: number): Promise<unknown> {
  const cached = secretCache.get(secretId);
  if (cached !== undefined && Date.now() < cached.expiresAt) return cached.value;
  secretsManager ??= new SecretsManagerClient({});
  const result = await secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }));
  const value = result.SecretString || result.SecretBinary;
  if (value !== undefined && maxAge > 0) secretCache.set(secretId, { value, expiresAt: Date.now() + maxAge * 1000 });
  return value;
}

/** For tests: forget the secret values read so far. */
export function clearSecretCache(): void {
  secretCache.clear();
}

const secretValuesSchema = z.record(z.string(), z.string());

export function awsSecretResolver(options: AwsSecretResolverOptions): SecretResolver {
  const maxAge = options.maxAgeSeconds ?? 300;
  const read = async (): Promise<Record<string, string>> => {
    let value: unknown;
    try {
      value = options.provider ? await options.provider.get(options.secretArn, { maxAge }) : await getSecret(options.secretArn, maxAge);
    } catch (error) {
      throw new ConfigSourceError(`Secrets Manager secret ${options.secretArn}`, error);
    }
    // Parsed here, not with Powertools' `transform: 'json'`: its error would quote the secret.
    let parsed: unknown;
    try {
      parsed = typeof value === 'string' ? JSON.parse(value) : undefined;
    } catch {
      parsed = undefined;
    }
    const values = secretValuesSchema.safeParse(parsed);
    if (!values.success) {
      throw new ConfigError([
        { path: '(secret)', message: `the Tocsin secret ${options.secretArn} must be a JSON object of NAME to string value` },
      ]);
    }
    return values.data;
  };
  // Placeholders are resolved in parallel: share one read between them (Powertools caches after).
  let pending: Promise<Record<string, string>> | undefined;
  const shared = (): Promise<Record<string, string>> => {
    pending ??= read().finally(() => {
      pending = undefined;
    });
    return pending;
  };
  return Object.assign(async (name: string) => (await shared())[name], {
    describe: (name: string) => `key ${name} of the Tocsin secret ${options.secretArn}`,
  });
}
