// The config in the cloud: the SSM parameter TOCSIN_CONFIG_PARAMETER holds the config document
// (JSON, as infra writes it; YAML is accepted too), its `${NAME}` placeholders are filled from the
// Secrets Manager secret TOCSIN_SECRET_ARN, and the result is validated like a local file.
// A warm container reuses the resolved config for `maxAgeSeconds` (5 minutes by default), so a
// config change reaches every container within that time without a deploy. A failed load is
// not cached: the next invocation tries again.
// The parameter is read with the SSM client's GetParameter, as Powertools' getParameter did
// (WithDecryption false, its default), without Powertools parameters' code at every cold start.
// Its value cache is not needed: the loader reads the parameter only once its own cache of the
// config, set after the read, has expired.
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { awsSecretResolver, clearSecretCache } from '../config/aws-secrets.ts';
import { ConfigError, ConfigSourceError } from '../config/errors.ts';
import { parseConfigTextLoadingYaml, resolveConfig } from '../config/load.ts';
import type { TocsinConfig } from '../config/schema.ts';
import type { SecretResolver } from '../config/secrets.ts';
import { ENV, optionalEnv, positiveIntEnv, requireEnv, type Env } from './env.ts';

export const DEFAULT_CONFIG_MAX_AGE_SECONDS = 300;

/** Reads one SSM parameter's value (GetParameter with the container's SSM client by default). */
export type ParameterReader = (name: string, maxAgeSeconds: number) => Promise<string | undefined>;

let ssm: SSMClient | undefined;

const readParameter: ParameterReader = async (name) => {
  ssm ??= new SSMClient({});
  const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: false }));
  return Parameter?.Value;
};

export interface CloudConfigOptions {
  /** SSM parameter name (TOCSIN_CONFIG_PARAMETER). */
  readonly parameterName: string;
  /** Secrets Manager secret whose JSON keys fill `${NAME}` (TOCSIN_SECRET_ARN); none: placeholders are errors. */
  readonly secretArn?: string | undefined;
  readonly maxAgeSeconds?: number | undefined;
  readonly readParameter?: ParameterReader;
  /** A Secrets Manager provider with its own client (tests); defaults to the container's client. */
  readonly secretsProvider?: SecretsProvider;
  /** Clock for the cache; tests pass a fixed one. */
  readonly now?: () => number;
}

/** Without a secret, a placeholder cannot be filled: say where it would have come from. */
const noSecretResolver: SecretResolver = Object.assign(() => Promise.resolve(undefined), {
  describe: (name: string) => `secret key ${name} (no ${ENV.secretArn} is set)`,
});

export class CloudConfigLoader {
  readonly #options: CloudConfigOptions;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #resolver: SecretResolver;
  #cached: { readonly config: TocsinConfig; readonly expiresAt: number } | undefined;
  #pending: Promise<TocsinConfig> | undefined;

  constructor(options: CloudConfigOptions) {
    this.#options = options;
    const maxAgeSeconds = options.maxAgeSeconds ?? DEFAULT_CONFIG_MAX_AGE_SECONDS;
    this.#maxAgeMs = maxAgeSeconds * 1000;
    this.#now = options.now ?? Date.now;
    this.#resolver =
      options.secretArn === undefined
        ? noSecretResolver
        : awsSecretResolver({
            secretArn: options.secretArn,
            maxAgeSeconds,
            ...(options.secretsProvider ? { provider: options.secretsProvider } : {}),
          });
  }

  /** The resolved, validated config; throws ConfigError (or the SDK's error) when it cannot load. */
  load(): Promise<TocsinConfig> {
    const cached = this.#cached;
    if (cached !== undefined && this.#now() < cached.expiresAt) return Promise.resolve(cached.config);
    // Records of one batch load in parallel: one read for all of them.
    this.#pending ??= this.#load().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #load(): Promise<TocsinConfig> {
    const { parameterName } = this.#options;
    const sourceName = `SSM parameter ${parameterName}`;
    let text: string | undefined;
    try {
      text = await (this.#options.readParameter ?? readParameter)(parameterName, this.#maxAgeMs / 1000);
    } catch (error) {
      throw new ConfigSourceError(sourceName, error);
    }
    if (text === undefined || text.trim() === '') {
      throw new ConfigError([{ path: '(root)', message: 'the parameter is empty' }], sourceName);
    }
    const raw = await parseConfigTextLoadingYaml(text, sourceName);
    // One channel's missing secret key fails that channel's deliveries, not the whole pipeline.
    const config = await resolveConfig(raw, this.#resolver, { sourceName, isolateChannels: true });
    this.#cached = { config, expiresAt: this.#now() + this.#maxAgeMs };
    return config;
  }
}

let shared: { readonly key: string; readonly loader: CloudConfigLoader } | undefined;

/** The container's config loader, built from the environment at first use. */
export function configLoaderFromEnv(env: Env = process.env): CloudConfigLoader {
  const parameterName = requireEnv(env, ENV.configParameter);
  const secretArn = optionalEnv(env, ENV.secretArn);
  const maxAgeSeconds = positiveIntEnv(env, ENV.configMaxAgeSeconds) ?? DEFAULT_CONFIG_MAX_AGE_SECONDS;
  const key = JSON.stringify([parameterName, secretArn, maxAgeSeconds]);
  if (shared?.key !== key) shared = { key, loader: new CloudConfigLoader({ parameterName, secretArn, maxAgeSeconds }) };
  return shared.loader;
}

/** Loads (or reuses) the config named by the environment. */
export function loadConfigFromEnv(env: Env = process.env): Promise<TocsinConfig> {
  return configLoaderFromEnv(env).load();
}

/** For tests: forget the cached config and the cached secret values. */
export function resetConfigCache(): void {
  shared = undefined;
  clearSecretCache();
}
