// Message refs on the DynamoDB state table (shared/dedup/table.ts): one item per incident and
// channel, `pk = message#<fingerprint>#<channel>`, with `ref` and the table's TTL attribute. A get
// is one consistent GetItem, a put one unconditional UpdateItem that sets every attribute (the
// last message posted wins): deliver's grant on the state table is GetItem and UpdateItem only.
import {
  GetItemCommand,
  UpdateItemCommand,
  type DynamoDBClient,
  type GetItemCommandOutput,
  type UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PARTITION_KEY, TTL_ATTRIBUTE } from '../dedup/table.ts';
import { DEFAULT_MESSAGE_REF_TTL_SECONDS, epochSecondsOf, messageRefId, type MessageRefKey, type MessageRefs, type MessageRefsOptions } from './port.ts';

export interface DynamoDbMessageRefsOptions extends MessageRefsOptions {
  readonly client: DynamoDBClient | DynamoDBDocumentClient;
  readonly tableName: string;
}

/** The two commands used, typed for either client (their `send` unions are not callable as is). */
interface CommandSender {
  send(command: GetItemCommand): Promise<GetItemCommandOutput>;
  send(command: UpdateItemCommand): Promise<UpdateItemCommandOutput>;
}

export class DynamoDbMessageRefs implements MessageRefs {
  readonly #client: CommandSender;
  readonly #table: string;
  readonly #now: () => Date;
  readonly #ttlSeconds: number;

  constructor(options: DynamoDbMessageRefsOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#now = options.now ?? (() => new Date());
    this.#ttlSeconds = options.ttlSeconds ?? DEFAULT_MESSAGE_REF_TTL_SECONDS;
  }

  async get(key: MessageRefKey): Promise<string | undefined> {
    const { Item } = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: { [PARTITION_KEY]: { S: messageRefId(key) } }, ConsistentRead: true }),
    );
    const ref = Item?.ref?.S;
    const expiresAt = Item?.[TTL_ATTRIBUTE]?.N;
    // An expired item may linger until DynamoDB's TTL deletes it: it no longer counts.
    if (ref === undefined || (expiresAt !== undefined && Number(expiresAt) <= epochSecondsOf(this.#now()))) return undefined;
    return ref;
  }

  async put(key: MessageRefKey, ref: string): Promise<void> {
    const now = this.#now();
    await this.#client.send(
      new UpdateItemCommand({
        TableName: this.#table,
        Key: { [PARTITION_KEY]: { S: messageRefId(key) } },
        UpdateExpression: 'SET fingerprint = :fingerprint, channel = :channel, #ref = :ref, updatedAt = :updatedAt, #ttl = :ttl',
        ExpressionAttributeNames: { '#ref': 'ref', '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: {
          ':fingerprint': { S: key.fingerprint },
          ':channel': { S: key.channel },
          ':ref': { S: ref },
          ':updatedAt': { S: now.toISOString() },
          ':ttl': { N: String(epochSecondsOf(now) + this.#ttlSeconds) },
        },
      }),
    );
  }
}
