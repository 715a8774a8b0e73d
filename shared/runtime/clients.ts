// AWS SDK clients, one of each per container: created at first use (so importing a handler needs
// no region or credentials) and reused by every later invocation, which keeps their connection
// pools and resolved credentials warm. Region, credentials and endpoints come from the SDK's
// default chain (AWS_REGION and the execution role on Lambda; AWS_ENDPOINT_URL_<SERVICE> for
// local endpoints).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

let sqs: SQSClient | undefined;
let dynamoDb: DynamoDBClient | undefined;

export function sqsClient(): SQSClient {
  sqs ??= new SQSClient({});
  return sqs;
}

export function dynamoDbClient(): DynamoDBClient {
  dynamoDb ??= new DynamoDBClient({});
  return dynamoDb;
}

/** For tests: drop the clients so the next use builds them from the current environment. */
export function resetClients(): void {
  sqs?.destroy();
  dynamoDb?.destroy();
  sqs = undefined;
  dynamoDb = undefined;
}
