// AWS SDK clients, one of each per container: created at first use (so importing a handler needs
// no region or credentials) and reused by every later invocation, which keeps their connection
// pools and resolved credentials warm. Region, credentials and endpoints come from the SDK's
// default chain (AWS_REGION and the execution role on Lambda; AWS_ENDPOINT_URL_<SERVICE> for
// local endpoints).
// S3 is loaded on first use: only an oversized rejected payload needs it, and its client is the
// largest of the three (about 110 KiB of a bundle, and its import time on every cold start).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

let sqs: SQSClient | undefined;
let dynamoDb: DynamoDBClient | undefined;
let s3: Promise<S3Client> | undefined;

export function sqsClient(): SQSClient {
  sqs ??= new SQSClient({});
  return sqs;
}

export function dynamoDbClient(): DynamoDBClient {
  dynamoDb ??= new DynamoDBClient({});
  return dynamoDb;
}

export function s3Client(): Promise<S3Client> {
  s3 ??= import('@aws-sdk/client-s3').then(({ S3Client }) => new S3Client({}));
  return s3;
}

/** For tests: drop the clients so the next use builds them from the current environment. */
export function resetClients(): void {
  sqs?.destroy();
  dynamoDb?.destroy();
  void s3?.then((client) => {
    client.destroy();
  });
  sqs = undefined;
  dynamoDb = undefined;
  s3 = undefined;
}
