// A config that is wrong in several places says so all at once, one `path: message` line per
// problem, so a person fixes the file in one go. Messages never carry a resolved secret value.
import { TocsinError } from '../errors.ts';

export interface ConfigProblem {
  /** Where the problem is: `routes[2].channels[0]`, `channels.ops-chat.webhookUrl`, `line 3, column 7`. */
  readonly path: string;
  readonly message: string;
}

export class ConfigError extends TocsinError {
  override readonly name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];
  /** The file or parameter the config came from, when known. */
  readonly sourceName: string | undefined;

  constructor(problems: readonly ConfigProblem[], sourceName?: string) {
    const where = sourceName ? ` in ${sourceName}` : '';
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const lines = problems.map((problem) => `  ${problem.path}: ${problem.message}`);
    super([`invalid Tocsin config${where} (${count}):`, ...lines].join('\n'));
    this.problems = problems;
    this.sourceName = sourceName;
  }
}

/**
 * Where the config or a secret lives could not be read (SSM, Secrets Manager): names the
 * parameter or secret and the service's error code, never a value. Usually transient (an outage,
 * throttling) or a deployment slip (a deleted parameter); the caller answers 5xx or retries.
 */
export class ConfigSourceError extends TocsinError {
  override readonly name = 'ConfigSourceError';
  /** The service's error code (`ParameterNotFound`, `ResourceNotFoundException`, `ThrottlingException`). */
  readonly code: string;

  constructor(what: string, cause: unknown) {
    const code = errorCodeOf(cause);
    const status = httpStatusOf(cause);
    super(`${what} could not be read: ${code}${status === undefined ? '' : ` (HTTP ${String(status)})`}`, { cause });
    this.code = code;
  }
}

/** The AWS error code behind a failure; Powertools wraps the SDK's error as GetParameterError with it as the cause. */
function errorCodeOf(error: unknown): string {
  const inner = error instanceof Error && error.name === 'GetParameterError' && error.cause instanceof Error ? error.cause : error;
  return inner instanceof Error ? inner.name : typeof inner;
}

function httpStatusOf(error: unknown): number | undefined {
  const inner = error instanceof Error && error.name === 'GetParameterError' && error.cause !== undefined ? error.cause : error;
  const metadata = typeof inner === 'object' && inner !== null ? (inner as { $metadata?: { httpStatusCode?: unknown } }).$metadata : undefined;
  return typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}
