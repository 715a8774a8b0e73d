// Rate state on the DynamoDB state table (shared/dedup/table.ts): one item per target
// (`pk = rate#<type>#<hash>`) or daily cap (`pk = cap#<channel>`), the state as JSON in `state`
// and a `version` for optimistic writes. An update is one consistent GetItem and one
// conditional UpdateItem (the version unchanged), tried again when another deliver wrote in
// between: deliver's grant on the state table is GetItem and UpdateItem only.
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  UpdateItemCommand,
  type DynamoDBClient,
  type GetItemCommandOutput,
  type UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PARTITION_KEY, TTL_ATTRIBUTE } from '../dedup/table.ts';
import type { RateLimitStore, RateState } from './rate-limit.ts';

export interface DynamoDbRateLimitOptions {
  readonly client: DynamoDBClient | DynamoDBDocumentClient;
  readonly tableName: string;
}

interface CommandSender {
  send(command: GetItemCommand): Promise<GetItemCommandOutput>;
  send(command: UpdateItemCommand): Promise<UpdateItemCommandOutput>;
}

/** Concurrent deliveries to one target race for its item; this many rounds, then the error. */
const UPDATE_ROUNDS = 10;

export class RateStateContentionError extends Error {
  override readonly name = 'RateStateContentionError';
}

export class DynamoDbRateLimitStore implements RateLimitStore {
  readonly #client: CommandSender;
  readonly #table: string;

  constructor(options: DynamoDbRateLimitOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async update<T>(key: string, change: (state: RateState | undefined) => { readonly state: RateState; readonly result: T }, expiresAtMs: number): Promise<T> {
    const Key = { [PARTITION_KEY]: { S: key } };
    for (let round = 1; round <= UPDATE_ROUNDS; round += 1) {
      const { Item } = await this.#client.send(new GetItemCommand({ TableName: this.#table, Key, ConsistentRead: true }));
      const version = Item?.['version']?.N;
      const text = Item?.['state']?.S;
      const { state, result } = change(text === undefined ? undefined : (JSON.parse(text) as RateState));
      try {
        await this.#client.send(
          new UpdateItemCommand({
            TableName: this.#table,
            Key,
            UpdateExpression: 'SET #state = :state, #version = :next, #ttl = :ttl',
            ConditionExpression: version === undefined ? 'attribute_not_exists(#version)' : '#version = :version',
            ExpressionAttributeNames: { '#state': 'state', '#version': 'version', '#ttl': TTL_ATTRIBUTE },
            ExpressionAttributeValues: {
              ':state': { S: JSON.stringify(state) },
              ':next': { N: String(Number(version ?? 0) + 1) },
              ':ttl': { N: String(Math.ceil(expiresAtMs / 1000)) },
              ...(version === undefined ? {} : { ':version': { N: version } }),
            },
          }),
        );
        return result;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    throw new RateStateContentionError(`rate state ${key.split('#')[0] ?? ''} kept changing under ${String(UPDATE_ROUNDS)} concurrent updates`);
  }
}
