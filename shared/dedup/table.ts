// The state table both the DynamoDB store and infra/ rely on: one string hash key `pk`, TTL on
// `expiresAt` (epoch seconds), on-demand capacity. Incident records and delivery markers share it:
//   incident record:  pk = <fingerprint>                                   (no expiresAt while firing)
//   delivery marker:  pk = delivery#<fingerprint>#<transitionId>#<channel>  (always an expiresAt)
//   message ref:      pk = message#<fingerprint>#<channel>                  (always an expiresAt;
//                     shared/message-refs/dynamodb.ts)
//   rate state:       pk = rate#<channel type>#<hash of the target>, cap#<channel>  (always an
//                     expiresAt; shared/delivery/rate-limit-dynamodb.ts)
// Fingerprints are `<source kind>:<hex>` (shared/fingerprint.ts), so they never start with
// `delivery#`, `message#`, `rate#` or `cap#`.
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const PARTITION_KEY = 'pk';
export const TTL_ATTRIBUTE = 'expiresAt';
/**
 * The sparse index of records the scheduler must look at: only a firing record with a timer
 * (dueAtOf) carries `dueShard` ("due") and `dueAt` (epoch ms), so a query for what is due reads
 * those and nothing else, never the whole table.
 */
export const DUE_INDEX = 'due';
export const DUE_SHARD_ATTRIBUTE = 'dueShard';
export const DUE_AT_ATTRIBUTE = 'dueAt';
export const DUE_SHARD = 'due';

/** What infra must create (it adds point-in-time recovery and encryption). */
export const tableDefinition = {
  partitionKey: { name: PARTITION_KEY, type: 'S' },
  billingMode: 'PAY_PER_REQUEST',
  timeToLiveAttribute: TTL_ATTRIBUTE,
} as const;

/**
 * CreateTable input for the state table (tests, local tools). TTL is a separate
 * UpdateTimeToLive call, which infra makes (dynalite does not support it).
 */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: tableDefinition.billingMode,
    AttributeDefinitions: [
      { AttributeName: PARTITION_KEY, AttributeType: tableDefinition.partitionKey.type },
      { AttributeName: DUE_SHARD_ATTRIBUTE, AttributeType: 'S' },
      { AttributeName: DUE_AT_ATTRIBUTE, AttributeType: 'N' },
    ],
    KeySchema: [{ AttributeName: PARTITION_KEY, KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: DUE_INDEX,
        KeySchema: [
          { AttributeName: DUE_SHARD_ATTRIBUTE, KeyType: 'HASH' },
          { AttributeName: DUE_AT_ATTRIBUTE, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
  };
}
