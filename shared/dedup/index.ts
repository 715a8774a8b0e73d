// Dedup and incident state: the pure decision, the store port, and its two adapters.
export { CLOCK_SKEW_TOLERANCE_MS, decide, isStale, isTransitionId, orderingTime, transitionIdOf, transitionOrderOf, type DedupDecision, type DedupResult, type SuppressReason } from './decide.ts';
export { epochSeconds, incidentRecordSchema, isExpired, parseIncidentRecord, type IncidentRecord } from './record.ts';
export { DEFAULT_DEDUP_SETTINGS, type DedupSettings } from './settings.ts';
export { type ApplyResult, type IncidentStore, type StoreClockOptions } from './store.ts';
export { createTableInput, PARTITION_KEY, tableDefinition, TTL_ATTRIBUTE } from './table.ts';
export { MemoryIncidentStore, type MemoryStoreOptions, type MemoryStoreSnapshot } from './memory-store.ts';
export { DedupConflictError, DynamoDbIncidentStore, type DynamoDbStoreOptions } from './dynamodb-store.ts';
