// The routing config as infra sees it: a document to check for shape and store as JSON in SSM.
// The handlers validate it fully (channel fields, durations) with shared/config at cold start,
// after `${NAME}` placeholders are filled from the channel secret; at synth time those values
// are unknown, so this only checks what can be checked without them: the structure, that
// every route names channels that exist, and that ingest has a token (withIngestToken).
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { formatIssues } from '../shared/zod-issues.ts';

/** A path to a YAML or JSON file, or the config itself as a plain object. */
export type ConfigSource = string | Readonly<Record<string, unknown>>;

const channelNameList = z.array(z.string().min(1)).min(1, 'a route needs at least one channel');

const configShape = z.looseObject({
  ingest: z.looseObject({}).optional(),
  channels: z.record(z.string().min(1), z.looseObject({ type: z.string().min(1, 'channel type is empty') })),
  routes: z.array(z.looseObject({ channels: channelNameList, continue: z.boolean().optional() })).min(1),
  defaults: z.looseObject({}).optional(),
});

export interface ConfigDocument {
  /** The parsed document (placeholders such as `${SLACK_WEBHOOK_URL}` kept verbatim). */
  readonly document: Readonly<Record<string, unknown>>;
  /** The channel types in use, for granting only the permissions they need (SMS, SES). */
  readonly channelTypes: ReadonlySet<string>;
}

export class ConfigDocumentError extends Error {
  override readonly name = 'ConfigDocumentError';
}

function readDocument(source: ConfigSource): { value: unknown; origin: string } {
  if (typeof source !== 'string') return { value: source, origin: 'config object' };
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (error) {
    throw new ConfigDocumentError(`cannot read config file ${source}: ${(error as Error).message}`);
  }
  try {
    // YAML is a superset of JSON, so one parser reads both.
    return { value: parseYaml(text) as unknown, origin: source };
  } catch (error) {
    throw new ConfigDocumentError(`config file ${source} is not valid YAML/JSON: ${(error as Error).message}`);
  }
}

/** Reads and checks the config's structure; throws ConfigDocumentError naming the path at fault. */
export function loadConfigDocument(source: ConfigSource): ConfigDocument {
  const { value, origin } = readDocument(source);
  const parsed = configShape.safeParse(value);
  if (!parsed.success) {
    throw new ConfigDocumentError(`${origin}: ${formatIssues(parsed.error)}`);
  }
  const names = new Set(Object.keys(parsed.data.channels));
  parsed.data.routes.forEach((route, index) => {
    for (const name of route.channels) {
      if (!names.has(name)) {
        throw new ConfigDocumentError(`${origin}: routes[${index}].channels: unknown channel "${name}"`);
      }
    }
  });
  const channelTypes = new Set(Object.values(parsed.data.channels).map((channel) => channel.type));
  return { document: parsed.data, channelTypes };
}

/** The key the generated channel secret holds the ingest token under. */
export const GENERATED_TOKEN_KEY = 'TOCSIN_INGEST_TOKEN';
const PLACEHOLDER = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/**
 * The config with an ingest token, or why it cannot have one. The function URL is public, so a
 * config without `ingest.token` gets `${TOCSIN_INGEST_TOKEN}`, which the generated secret holds;
 * with an existing secret the token's key cannot be known, so synth stops and says what to add.
 * A literal token is refused: the SSM parameter is plain text.
 */
export function withIngestToken(
  document: Readonly<Record<string, unknown>>,
  source: ConfigSource,
  existingSecretArn: string | undefined,
): { document: Readonly<Record<string, unknown>>; tokenKey: string } {
  const where = typeof source === 'string' ? source : 'the config';
  const ingest = typeof document['ingest'] === 'object' && document['ingest'] !== null ? (document['ingest'] as Record<string, unknown>) : {};
  const token = ingest['token'];
  if (token === undefined) {
    if (existingSecretArn !== undefined) {
      throw new ConfigDocumentError(
        `${where} has no ingest.token, so the public http-ingest URL would take alerts from anyone: add  ingest: { token: "\${${GENERATED_TOKEN_KEY}}" }  to it and the key ${GENERATED_TOKEN_KEY} (a long random value) to the secret ${existingSecretArn}, or leave out channelSecretArn and the stack generates one`,
      );
    }
    return { document: { ...document, ingest: { ...ingest, token: `\${${GENERATED_TOKEN_KEY}}` } }, tokenKey: GENERATED_TOKEN_KEY };
  }
  if (typeof token !== 'string' || token.trim() === '') {
    throw new ConfigDocumentError(
      `${where}: ingest.token is ${typeof token === 'string' ? 'empty' : 'not a string'}; remove it to have the stack generate one, or write "\${${GENERATED_TOKEN_KEY}}"`,
    );
  }
  const key = PLACEHOLDER.exec(token.trim())?.[1];
  if (key === undefined) {
    throw new ConfigDocumentError(`${where}: ingest.token must be a \${NAME} placeholder filled from the channel secret (for example "\${${GENERATED_TOKEN_KEY}}"); a literal token would be stored in plain text in the SSM parameter`);
  }
  return { document, tokenKey: key };
}
