// The routing config as infra sees it: a document to check for shape and store as JSON in SSM.
// The handlers validate it fully (channel fields, durations) with shared/config at cold start,
// after `${NAME}` placeholders are filled from the channel secret; at synth time those values
// are unknown, so this only checks what can be checked without them: the structure, and that
// every route names channels that exist.
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
