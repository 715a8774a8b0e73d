// The dedup store and the delivery claims on the state table (STATE_TABLE_NAME), one per container and settings, so its
// record cache (which saves DynamoDB reads) stays warm across invocations. A config reload with
// the same dedup settings keeps the same store.
import { DynamoDbIncidentStore } from '../dedup/dynamodb-store.ts';
import { DynamoDbDeliveryClaims } from '../delivery/claims-dynamodb.ts';
import { DynamoDbMessageRefs } from '../message-refs/dynamodb.ts';
import { DynamoDbRateLimitStore } from '../delivery/rate-limit-dynamodb.ts';
import type { DedupSettings } from '../dedup/settings.ts';
import { dynamoDbClient } from './clients.ts';
import { ENV, positiveIntEnv, requireEnv, type Env } from './env.ts';

let current: { readonly key: string; readonly store: DynamoDbIncidentStore } | undefined;

/** The config's dedup settings, with `TOCSIN_RESOLVED_TTL_SECONDS` (set by infra) taking precedence. */
export function dedupSettingsFromEnv(settings: DedupSettings, env: Env = process.env): DedupSettings {
  const resolvedTtlSeconds = positiveIntEnv(env, ENV.resolvedTtlSeconds);
  return resolvedTtlSeconds === undefined ? settings : { ...settings, resolvedTtlSeconds };
}

export function incidentStoreFromEnv(settings: DedupSettings, env: Env = process.env): DynamoDbIncidentStore {
  const tableName = requireEnv(env, ENV.stateTableName);
  const effective = dedupSettingsFromEnv(settings, env);
  const key = JSON.stringify([tableName, effective]);
  if (current?.key !== key) {
    current = { key, store: new DynamoDbIncidentStore({ client: dynamoDbClient(), tableName, settings: effective }) };
  }
  return current.store;
}

let claims: { readonly tableName: string; readonly claims: DynamoDbDeliveryClaims } | undefined;

/** The delivery claims on the state table (STATE_TABLE_NAME). */
export function deliveryClaimsFromEnv(env: Env = process.env): DynamoDbDeliveryClaims {
  const tableName = requireEnv(env, ENV.stateTableName);
  if (claims?.tableName !== tableName) claims = { tableName, claims: new DynamoDbDeliveryClaims({ client: dynamoDbClient(), tableName }) };
  return claims.claims;
}

/** For tests: forget the store (and its record cache) and the claims. */
export function resetIncidentStore(): void {
  current = undefined;
  claims = undefined;
}

/** The message refs (Slack bot mode) on the same state table (STATE_TABLE_NAME). */
export function messageRefsFromEnv(env: Env = process.env): DynamoDbMessageRefs {
  return new DynamoDbMessageRefs({ client: dynamoDbClient(), tableName: requireEnv(env, ENV.stateTableName) });
}

/** Rate limits per channel target and the SMS daily count, on the same state table (STATE_TABLE_NAME). */
export function rateLimitStoreFromEnv(env: Env = process.env): DynamoDbRateLimitStore {
  return new DynamoDbRateLimitStore({ client: dynamoDbClient(), tableName: requireEnv(env, ENV.stateTableName) });
}
