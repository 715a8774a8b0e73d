// awsSecretResolver against a real HTTP server on 127.0.0.1 speaking Secrets Manager's JSON
// protocol (the SDK client's endpoint points at it), so the Powertools provider, the SDK
// client and the resolver all run for real.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsSecretResolver } from '../../shared/config/aws-secrets.ts';
import { ConfigError } from '../../shared/config/errors.ts';
import { substitutePlaceholders } from '../../shared/config/secrets.ts';
import { startRecorder, type HttpRecorder } from '../helpers/http-recorder.ts';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tocsin-AbCdEf';

describe('awsSecretResolver', () => {
  let recorder: HttpRecorder;
  beforeAll(async () => {
    recorder = await startRecorder();
  });
  afterAll(async () => {
    await recorder.close();
  });
  beforeEach(() => {
    recorder.requests.length = 0;
  });

  const answerWith = (secretString: string): void => {
    recorder.respondWith(() => ({
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify({ ARN: SECRET_ARN, Name: 'tocsin', SecretString: secretString, VersionId: 'v1' }),
    }));
  };
  const provider = (): SecretsProvider =>
    new SecretsProvider({
      awsSdkV3Client: new SecretsManagerClient({
        endpoint: recorder.url,
        region: 'eu-west-1',
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' },
        maxAttempts: 1,
      }),
    });

  it('reads NAME → value from one secret, with one GetSecretValue call for many placeholders', async () => {
    answerWith(JSON.stringify({ SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x', TOKEN: 'tok' }));
    const resolver = awsSecretResolver({ secretArn: SECRET_ARN, provider: provider() });
    const result = await substitutePlaceholders({ url: '${SLACK_WEBHOOK_URL}', token: 'Bearer ${TOKEN}' }, resolver);
    expect(result.value).toEqual({ url: 'https://hooks.slack.com/services/T/B/x', token: 'Bearer tok' });
    expect(result.problems).toEqual([]);
    expect(recorder.requests).toHaveLength(1);
    expect(recorder.requests[0]!.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(JSON.parse(recorder.requests[0]!.body)).toEqual({ SecretId: SECRET_ARN });
  });

  it('reuses the secret while it is younger than maxAge', async () => {
    answerWith(JSON.stringify({ A: 'one' }));
    const resolver = awsSecretResolver({ secretArn: SECRET_ARN, provider: provider(), maxAgeSeconds: 300 });
    expect(await resolver('A')).toBe('one');
    expect(await resolver('A')).toBe('one');
    expect(recorder.requests).toHaveLength(1);
  });

  it('reports a name missing from the secret at its path, naming the key', async () => {
    answerWith(JSON.stringify({ OTHER: 'x' }));
    const resolver = awsSecretResolver({ secretArn: SECRET_ARN, provider: provider() });
    const result = await substitutePlaceholders({ channels: { ops: { webhookUrl: '${SLACK_WEBHOOK_URL}' } } }, resolver);
    expect(result.problems).toEqual([
      { path: 'channels.ops.webhookUrl', message: `key SLACK_WEBHOOK_URL of the Tocsin secret ${SECRET_ARN} is not set` },
    ]);
  });

  it('refuses a secret that is not a JSON object of strings, without quoting it', async () => {
    answerWith('https://hooks.slack.com/services/T/B/NOTJSONSECRET');
    const resolver = awsSecretResolver({ secretArn: SECRET_ARN, provider: provider() });
    const error = await resolver('A').then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      { path: '(secret)', message: `the Tocsin secret ${SECRET_ARN} must be a JSON object of NAME to string value` },
    ]);
    expect((error as ConfigError).message).not.toContain('NOTJSONSECRET');
  });

  it('lets a Secrets Manager failure through, naming the secret and the error code (the function cannot start without its secret)', async () => {
    recorder.respondWith(() => ({
      status: 400,
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify({ __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }),
    }));
    const resolver = awsSecretResolver({ secretArn: SECRET_ARN, provider: provider() });
    await expect(resolver('A')).rejects.toMatchObject({
      name: 'ConfigSourceError',
      code: 'ResourceNotFoundException',
      message: `Secrets Manager secret ${SECRET_ARN} could not be read: ResourceNotFoundException (HTTP 400)`,
    });
  });
});
