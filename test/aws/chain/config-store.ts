// SSM Parameter Store and Secrets Manager on 127.0.0.1, over the AWS JSON 1.1 protocol their SDK
// clients use: GetParameter (ParameterNotFound when absent) and GetSecretValue
// (ResourceNotFoundException when absent; throttling and outages on demand, as the service
// answers them: ThrottlingException 400 and InternalServiceError 500, which the SDK retries).
import { AwsServiceError, startAwsJsonServer, type AwsJsonServer } from './aws-json.ts';
import { ACCOUNT, REGION } from './sqs.ts';

export type SecretFault = 'throttling' | 'outage';

export class ParameterStoreStandIn {
  readonly #parameters = new Map<string, { value: string; version: number }>();
  #server: AwsJsonServer | undefined;

  async start(): Promise<void> {
    this.#server = await startAwsJsonServer({
      targetPrefix: 'AmazonSSM',
      contentType: 'application/x-amz-json-1.1',
      operations: {
        GetParameter: (input) => {
          const name = String(input['Name']);
          const parameter = this.#parameters.get(name);
          // SSM answers a missing parameter with an empty message.
          if (parameter === undefined) throw new AwsServiceError(400, 'ParameterNotFound', '');
          return {
            Parameter: {
              Name: name,
              Type: 'String',
              Value: parameter.value,
              Version: parameter.version,
              DataType: 'text',
              LastModifiedDate: 1_795_500_000,
              ARN: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${name.startsWith('/') ? '' : '/'}${name}`,
            },
          };
        },
      },
    });
  }

  get endpoint(): string {
    if (this.#server === undefined) throw new Error('the SSM stand-in is not started');
    return this.#server.endpoint;
  }

  get calls() {
    return this.#server?.calls ?? [];
  }

  put(name: string, value: string): void {
    this.#parameters.set(name, { value, version: (this.#parameters.get(name)?.version ?? 0) + 1 });
  }

  delete(name: string): void {
    this.#parameters.delete(name);
  }

  async close(): Promise<void> {
    await this.#server?.close();
  }
}

export class SecretsManagerStandIn {
  readonly #secrets = new Map<string, { arn: string; value: string; version: number }>();
  #fault: SecretFault | undefined;
  #server: AwsJsonServer | undefined;

  async start(): Promise<void> {
    this.#server = await startAwsJsonServer({
      targetPrefix: 'secretsmanager',
      contentType: 'application/x-amz-json-1.1',
      before: () => {
        if (this.#fault === 'throttling') throw new AwsServiceError(400, 'ThrottlingException', 'Rate exceeded');
        if (this.#fault === 'outage') throw new AwsServiceError(500, 'InternalServiceError', 'An error occurred on the server side.');
      },
      operations: {
        GetSecretValue: (input) => {
          const id = String(input['SecretId']);
          const found = [...this.#secrets.entries()].find(([name, secret]) => name === id || secret.arn === id);
          if (found === undefined) throw new AwsServiceError(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
          const [name, secret] = found;
          return { ARN: secret.arn, Name: name, VersionId: `v${String(secret.version)}`, SecretString: secret.value, VersionStages: ['AWSCURRENT'], CreatedDate: 1_795_500_000 };
        },
      },
    });
  }

  get endpoint(): string {
    if (this.#server === undefined) throw new Error('the Secrets Manager stand-in is not started');
    return this.#server.endpoint;
  }

  get calls() {
    return this.#server?.calls ?? [];
  }

  /** Stores a secret (its JSON text) under `name` and its complete ARN; returns the ARN. */
  put(name: string, value: string): string {
    const arn = this.#secrets.get(name)?.arn ?? `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`;
    this.#secrets.set(name, { arn, value, version: (this.#secrets.get(name)?.version ?? 0) + 1 });
    return arn;
  }

  delete(name: string): void {
    this.#secrets.delete(name);
  }

  /** Every request fails this way until cleared with `undefined`. */
  fail(fault: SecretFault | undefined): void {
    this.#fault = fault;
  }

  async close(): Promise<void> {
    await this.#server?.close();
  }
}
