// Dedup and incident state: the pure decision, the store port, and its two adapters.
export {
  decide,
  DEFAULT_DEDUP_SETTINGS,
  type DedupDecision,
  type DedupResult,
  type DedupSettings,
  type IncidentRecord,
  type SuppressReason,
} from './decide.ts';
export type { ApplyResult, IncidentStore } from './store.ts';
export { MemoryIncidentStore, markerKey, type MemoryStoreOptions, type MemoryStoreSnapshot } from './memory-store.ts';
export { DynamoDbIncidentStore, createTableInput, DedupConflictError, PARTITION_KEY, TTL_ATTRIBUTE, type DynamoDbStoreOptions } from './dynamodb-store.ts';
