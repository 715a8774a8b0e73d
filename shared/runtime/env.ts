// The cloud runtime's environment variables (the contract infra/ sets and the handlers read).
// Read lazily, at the first invocation that needs them, never at import: a bundle must load in
// a bare `node` process, and a missing setting must become a logged, answerable error instead
// of a crash during the Lambda init phase.
import { TocsinError } from '../errors.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** A setting the function needs is missing or unusable. The message names it, never its value. */
export class RuntimeSettingError extends TocsinError {
  override readonly name = 'RuntimeSettingError';
}

export const ENV = {
  incidentsQueueUrl: 'INCIDENTS_QUEUE_URL',
  deliveriesQueueUrl: 'DELIVERIES_QUEUE_URL',
  deliveriesDlqUrl: 'DELIVERIES_DLQ_URL',
  deliveriesMaxReceiveCount: 'DELIVERIES_MAX_RECEIVE_COUNT',
  incidentsDlqUrl: 'INCIDENTS_DLQ_URL',
  incidentsMaxReceiveCount: 'INCIDENTS_MAX_RECEIVE_COUNT',
  rejectedQueueUrl: 'REJECTED_QUEUE_URL',
  rejectedBucketName: 'REJECTED_BUCKET_NAME',
  stateTableName: 'STATE_TABLE_NAME',
  configParameter: 'TOCSIN_CONFIG_PARAMETER',
  secretArn: 'TOCSIN_SECRET_ARN',
  allowedTopicArns: 'ALLOWED_TOPIC_ARNS',
  resolvedTtlSeconds: 'TOCSIN_RESOLVED_TTL_SECONDS',
  configMaxAgeSeconds: 'TOCSIN_CONFIG_MAX_AGE_SECONDS',
} as const;

/** The value, trimmed; undefined when unset or blank. */
export function optionalEnv(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function requireEnv(env: Env, name: string): string {
  const value = optionalEnv(env, name);
  if (value === undefined) throw new RuntimeSettingError(`environment variable ${name} is not set`);
  return value;
}

/** A positive integer setting; undefined when unset. */
export function positiveIntEnv(env: Env, name: string): number | undefined {
  const value = optionalEnv(env, name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number <= 0) throw new RuntimeSettingError(`environment variable ${name} must be a positive integer`);
  return number;
}

/**
 * `ALLOWED_TOPIC_ARNS`, comma-separated. Unset or blank: undefined, which the SNS checks read as
 * "any topic" (the subscription itself, or the Lambda invoke permission, is then the gate).
 */
export function allowedTopicArns(env: Env): readonly string[] | undefined {
  const value = optionalEnv(env, ENV.allowedTopicArns);
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((arn) => arn.trim())
    .filter((arn) => arn !== '');
}
