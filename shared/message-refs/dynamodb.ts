// Message refs on the DynamoDB state table (shared/dedup/table.ts): one item per incident and
// channel, `pk = message#<fingerprint>#<channel>`, with `ref` and the table's TTL attribute. A get
// is one consistent GetItem, a put one unconditional PutItem (the last message posted wins).
import {
  GetItemCommand,
  PutItemCommand,
  type DynamoDBClient,
  type GetItemCommandOutput,
  type PutItemCommandOutput,
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
  send(command: PutItemCommand): Promise<PutItemCommandOutput>;
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
      new PutItemCommand({
        TableName: this.#table,
        Item: {
          [PARTITION_KEY]: { S: messageRefId(key) },
          fingerprint: { S: key.fingerprint },
          channel: { S: key.channel },
          ref: { S: ref },
          updatedAt: { S: now.toISOString() },
          [TTL_ATTRIBUTE]: { N: String(epochSecondsOf(now) + this.#ttlSeconds) },
        },
      }),
    );
  }
}
