// dynalite (DynamoDB on in-memory LevelDB) on 127.0.0.1, started by a test: no mock of DynamoDB.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { createTableInput } from '../../shared/dedup/dynamodb-store.ts';

// dynalite is CommonJS with no types: one factory returning an http.Server.
const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

export interface RunningDynalite {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  /** Creates a table shaped like the store's (pk string hash key) and waits until ACTIVE. */
  createTable(name: string): Promise<void>;
  close(): Promise<void>;
}

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
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}
