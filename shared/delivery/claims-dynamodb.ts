// Delivery claims on the state table (shared/dedup/table.ts): one item per incident and channel,
// `pk` = cursor#<fingerprint>#<channel>, holding the cursor (`told`, the order of the last
// transition told) and the live claim (`claimToken`, `leaseUntil` in epoch ms).
//
// A claim is ONE conditional UpdateItem: it holds when no later-or-equal transition was told and
// no other lease is live. When it fails, DynamoDB returns the item with the failure
// (ReturnValuesOnConditionCheckFailure=ALL_OLD) and judgeClaim() says why, at no extra cost;
// dynalite ignores that option, so without an item the adapter reads it with one consistent
// GetItem. Completing is one more UpdateItem: two writes per delivery, and no read.
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type GetItemCommandOutput,
  type UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PARTITION_KEY, TTL_ATTRIBUTE } from '../dedup/table.ts';
import { epochSeconds } from '../dedup/record.ts';
import { CLAIM_LINE_TTL_SECONDS, claimLineId, judgeClaim, newClaim, type ClaimLine } from './claims.ts';
import type { ClaimResult, DeliveryClaim, DeliveryClaims, DeliveryKey } from './job.ts';

export interface DynamoDbClaimsOptions {
  readonly client: DynamoDBClient | DynamoDBDocumentClient;
  readonly tableName: string;
}

interface CommandSender {
  send(command: UpdateItemCommand): Promise<UpdateItemCommandOutput>;
  send(command: GetItemCommand): Promise<GetItemCommandOutput>;
}

type Item = Record<string, AttributeValue>;

const NAMES = {
  '#fingerprint': 'fingerprint',
  '#channel': 'channel',
  '#told': 'told',
  '#toldTransitionId': 'toldTransitionId',
  '#claimToken': 'claimToken',
  '#leaseUntil': 'leaseUntil',
  '#expiresAt': TTL_ATTRIBUTE,
} as const;

/** A claim can lose a race with a release in between; judged again this many times. */
const CLAIM_ROUNDS = 3;

function lineFromItem(item: Item | undefined): ClaimLine | undefined {
  if (item === undefined) return undefined;
  const lease = item['leaseUntil']?.N;
  return {
    told: item['told']?.S,
    toldTransitionId: item['toldTransitionId']?.S,
    token: item['claimToken']?.S,
    leaseUntilMs: lease === undefined ? undefined : Number(lease),
  };
}

function names(...keys: (keyof typeof NAMES)[]): Record<string, string> {
  return Object.fromEntries(keys.map((key) => [key, NAMES[key]]));
}

export class DynamoDbDeliveryClaims implements DeliveryClaims {
  readonly #client: CommandSender;
  readonly #table: string;

  constructor(options: DynamoDbClaimsOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async claim(key: DeliveryKey, order: string, leaseMs: number, now: Date): Promise<ClaimResult> {
    const nowMs = now.getTime();
    for (let round = 1; ; round += 1) {
      const claim = newClaim(key, order, leaseMs, now);
      try {
        await this.#client.send(
          new UpdateItemCommand({
            TableName: this.#table,
            Key: this.#key(key),
            UpdateExpression: 'SET #fingerprint = :fingerprint, #channel = :channel, #claimToken = :token, #leaseUntil = :until, #expiresAt = :ttl',
            ConditionExpression: '(attribute_not_exists(#told) OR #told < :order) AND (attribute_not_exists(#claimToken) OR #leaseUntil <= :now)',
            ExpressionAttributeNames: names('#fingerprint', '#channel', '#claimToken', '#leaseUntil', '#expiresAt', '#told'),
            ExpressionAttributeValues: {
              ':fingerprint': { S: key.fingerprint },
              ':channel': { S: key.channel },
              ':token': { S: claim.token },
              ':until': { N: String(claim.leaseUntilMs) },
              ':ttl': { N: String(epochSeconds(now) + CLAIM_LINE_TTL_SECONDS) },
              ':order': { S: order },
              ':now': { N: String(nowMs) },
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { status: 'claimed', claim };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const item = error.Item ?? (await this.#read(key));
        const refused = judgeClaim(lineFromItem(item), order, nowMs);
        if (refused !== undefined) return refused;
        // Released (or completed by an older transition) in between: try again.
        if (round >= CLAIM_ROUNDS) return { status: 'busy', leaseUntilMs: nowMs };
      }
    }
  }

  async complete(claim: DeliveryClaim, now: Date): Promise<boolean> {
    const values = {
      ':order': { S: claim.order },
      ':transition': { S: claim.transitionId },
      ':ttl': { N: String(epochSeconds(now) + CLAIM_LINE_TTL_SECONDS) },
    };
    const forward = '(attribute_not_exists(#told) OR #told < :order)';
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: this.#key(claim),
          UpdateExpression: 'SET #told = :order, #toldTransitionId = :transition, #expiresAt = :ttl REMOVE #claimToken, #leaseUntil',
          // `<=`: a slower copy of this same transition may have recorded it meanwhile.
          ConditionExpression: '#claimToken = :token AND (attribute_not_exists(#told) OR #told <= :order)',
          ExpressionAttributeNames: names('#told', '#toldTransitionId', '#expiresAt', '#claimToken', '#leaseUntil'),
          ExpressionAttributeValues: { ...values, ':token': { S: claim.token } },
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    // The lease ran out and another worker claimed the line: record what was sent all the same
    // (forward only), leaving its lease alone.
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: this.#key(claim),
          UpdateExpression: 'SET #told = :order, #toldTransitionId = :transition, #expiresAt = :ttl',
          ConditionExpression: forward,
          ExpressionAttributeNames: names('#told', '#toldTransitionId', '#expiresAt'),
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    return false;
  }

  async release(claim: DeliveryClaim): Promise<void> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: this.#key(claim),
          UpdateExpression: 'REMOVE #claimToken, #leaseUntil',
          ConditionExpression: '#claimToken = :token',
          ExpressionAttributeNames: names('#claimToken', '#leaseUntil'),
          ExpressionAttributeValues: { ':token': { S: claim.token } },
        }),
      );
    } catch (error) {
      // Someone else's lease by now: leave it.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  #key(key: { readonly fingerprint: string; readonly channel: string }): Item {
    return { [PARTITION_KEY]: { S: claimLineId(key) } };
  }

  async #read(key: DeliveryKey): Promise<Item | undefined> {
    const { Item } = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: this.#key(key), ConsistentRead: true }),
    );
    return Item;
  }
}
