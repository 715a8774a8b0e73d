// `${NAME}` placeholders: any string in the config may hold them, and a SecretResolver fills
// them in — the environment locally, a Secrets Manager secret in AWS (./aws-secrets.ts).
// Resolution happens on the parsed document, before validation, so every field can take a
// secret and validation sees the real value. Errors name the path and the placeholder, never
// the value it resolved to. `$${NAME}` is the escape for a literal `${NAME}`.
import { formatPath } from '../zod-issues.ts';
import type { ConfigProblem } from './errors.ts';

export interface SecretResolver {
  (name: string): Promise<string | undefined>;
  /** How errors name where a value was looked for: `environment variable SLACK_WEBHOOK_URL`. */
  readonly describe?: (name: string) => string;
}

/** Reads `${NAME}` from environment variables (the local default). */
export function envResolver(env: Readonly<Record<string, string | undefined>> = process.env): SecretResolver {
  return Object.assign((name: string) => Promise.resolve(env[name]), {
    describe: (name: string) => `environment variable ${name}`,
  });
}

export interface Substituted {
  readonly value: unknown;
  readonly problems: readonly ConfigProblem[];
  /**
   * The original text of every string that held a placeholder, by formatted path, so later
   * messages can show `${NAME}` instead of the secret it resolved to.
   */
  readonly templates: ReadonlyMap<string, string>;
}

const PLACEHOLDER = /\$(\$?)\{([^{}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Replaces every `${NAME}` in the strings of `raw` (a parsed YAML/JSON document). */
export async function substitutePlaceholders(raw: unknown, resolver: SecretResolver): Promise<Substituted> {
  const names = new Set<string>();
  visitStrings(raw, [], (text) => {
    for (const [, escape, name] of text.matchAll(PLACEHOLDER)) {
      if (!escape && name !== undefined && NAME.test(name)) names.add(name);
    }
  });

  const values = new Map<string, string | undefined>();
  await Promise.all(
    [...names].map(async (name) => {
      values.set(name, await resolver(name));
    }),
  );

  const describe = resolver.describe ?? ((name: string) => `secret ${name}`);
  const problems: ConfigProblem[] = [];
  const templates = new Map<string, string>();
  const value = mapStrings(raw, [], (text, path) => {
    if (!text.includes('${')) return text;
    const where = formatPath(path);
    const problemsBefore = problems.length;
    const replaced = text.replace(PLACEHOLDER, (whole, escape: string, name: string) => {
      if (escape) return whole.slice(1);
      if (!NAME.test(name)) {
        problems.push({ path: where, message: `invalid placeholder \${${name}} (names use letters, digits and _)` });
        return whole;
      }
      const resolved = values.get(name);
      if (resolved === undefined || resolved === '') {
        problems.push({ path: where, message: `${describe(name)} is ${resolved === undefined ? 'not set' : 'empty'}` });
        return whole;
      }
      return resolved;
    });
    if (replaced !== text) templates.set(where, text);
    // Leave a failed string as written: validation then complains about the placeholder text,
    // and the loader drops that duplicate complaint in favour of the one above.
    return problems.length > problemsBefore ? text : replaced;
  });
  return { value, problems, templates };
}

function visitStrings(value: unknown, path: PropertyKey[], visit: (text: string, path: PropertyKey[]) => void): void {
  mapStrings(value, path, (text, at) => {
    visit(text, at);
    return text;
  });
}

function mapStrings(value: unknown, path: PropertyKey[], map: (text: string, path: PropertyKey[]) => string): unknown {
  if (typeof value === 'string') return map(value, path);
  if (Array.isArray(value)) return value.map((item: unknown, index) => mapStrings(item, [...path, index], map));
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, [...path, key], map)]));
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
