// dynalite (DynamoDB on in-memory LevelDB) on 127.0.0.1, started by a test: no mock of DynamoDB.
// Plus two client middlewares the dedup tests use: a command counter, and an emulation of the
// one DynamoDB feature dynalite lacks that the store relies on.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  waitUntilTableExists,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { createTableInput, PARTITION_KEY } from '../../shared/dedup/index.ts';

// dynalite is CommonJS with no types: one factory returning an http.Server.
const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

export interface RunningDynalite {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  /** Creates a table shaped like the store's (createTableInput) and waits until ACTIVE. */
  createTable(name: string): Promise<void>;
  /** Requests the server has answered so far, by operation (`UpdateItem`: 3, ...), from any client or process. */
  calls(): Record<string, number>;
  close(): Promise<void>;
}

/** A client for the local endpoint: fake static credentials, no SDK-level retries. */
export function dynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

export async function startDynalite(): Promise<RunningDynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const calls = new Map<string, number>();
  server.on('request', (request: { headers: Record<string, string | string[] | undefined> }) => {
    const operation = String(request.headers['x-amz-target'] ?? '').split('.').at(-1) ?? '';
    calls.set(operation, (calls.get(operation) ?? 0) + 1);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  const client = dynamoClient(endpoint);
  return {
    endpoint,
    client,
    async createTable(name) {
      await client.send(new CreateTableCommand(createTableInput(name)));
      await waitUntilTableExists({ client, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.2 }, { TableName: name });
    },
    calls: () => Object.fromEntries(calls),
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}

export interface CommandCounts {
  /** Commands sent so far, by name (`UpdateItemCommand`: 2, ...), failed ones included. */
  snapshot(): Record<string, number>;
  reset(): void;
}

/** Counts every command the client sends (each `send`, before it reaches the wire). */
export function countCommands(client: DynamoDBClient): CommandCounts {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => (args) => {
      const name = String(context.commandName);
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands', priority: 'high' },
  );
  return {
    snapshot: () => Object.fromEntries(counts),
    reset: () => {
      counts.clear();
    },
  };
}

interface WriteInput {
  readonly TableName?: string;
  readonly Key?: Record<string, AttributeValue>;
  readonly Item?: Record<string, AttributeValue>;
  readonly ReturnValuesOnConditionCheckFailure?: string;
}

/**
 * Makes the client behave as real DynamoDB does with ReturnValuesOnConditionCheckFailure=ALL_OLD
 * (dynalite ignores the option): a failed conditional write's error carries the stored item.
 * The item is read through a separate client, so the commands counted on `client` are exactly
 * what the code under test sends to real DynamoDB.
 */
export function emulateReturnValuesOnConditionCheckFailure(client: DynamoDBClient, endpoint: string): DynamoDBClient {
  const reader = dynamoClient(endpoint);
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        const input = args.input as WriteInput;
        if (error instanceof ConditionalCheckFailedException && error.Item === undefined && input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD') {
          const key = input.Key ?? (input.Item?.[PARTITION_KEY] ? { [PARTITION_KEY]: input.Item[PARTITION_KEY] } : undefined);
          if (key) error.Item = (await reader.send(new GetItemCommand({ TableName: input.TableName, Key: key, ConsistentRead: true }))).Item;
        }
        throw error;
      }
    },
    // Below the counter: the emulated read is not one of the commands counted.
    { step: 'initialize', name: 'emulateReturnValuesOnConditionCheckFailure', priority: 'low' },
  );
  return reader;
}
