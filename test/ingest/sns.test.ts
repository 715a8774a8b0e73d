import { beforeAll, describe, expect, it } from 'vitest';
import { ingest, type IngestSettings } from '../../shared/ingest/ingest.ts';
import { SnsVerifier, isTrustedSnsUrl, stringToSign, type SnsHttpMessage } from '../../shared/ingest/sns.ts';
import { CERT_URL, TOPIC_ARN, makeSigner, signSnsMessage, snsNotification, snsSubscriptionConfirmation, type TestSigner } from '../helpers/sns-signer.ts';

const alarm = {
  AlarmName: 'api-5xx-rate',
  AlarmDescription: 'API 5xx above 5%',
  AWSAccountId: '111122223333',
  NewStateValue: 'ALARM',
  NewStateReason: 'Threshold Crossed: 1 out of the last 1 datapoints [7.5 (25/11/26 01:55:00)] was greater than the threshold (5.0).',
  StateChangeTime: '2026-11-25T01:56:10.517+0000',
  Region: 'EU (Frankfurt)',
  AlarmArn: 'arn:aws:cloudwatch:eu-central-1:111122223333:alarm:api-5xx-rate',
  OldStateValue: 'OK',
  Trigger: {
    MetricName: '5XXError',
    Namespace: 'AWS/ApiGateway',
    StatisticType: 'Statistic',
    Statistic: 'AVERAGE',
    Unit: null,
    Dimensions: [{ value: 'orders-api', name: 'ApiName' }],
    Period: 60,
    EvaluationPeriods: 1,
    ComparisonOperator: 'GreaterThanThreshold',
    Threshold: 5,
    TreatMissingData: 'missing',
    EvaluateLowSampleCountPercentile: '',
  },
};

describe('SNS signature verification', () => {
  let signer: TestSigner;
  let other: TestSigner;
  let downloads: string[];
  let verifier: SnsVerifier;

  beforeAll(() => {
    signer = makeSigner();
    other = makeSigner('attacker.example.com');
    downloads = [];
    verifier = new SnsVerifier({
      fetchCertificate: (url) => {
        downloads.push(url);
        return Promise.resolve(signer.certificatePem);
      },
    });
  });

  it('builds the documented string to sign, Subject only when present', () => {
    const message = { ...snsNotification(alarm), SignatureVersion: '2', Signature: 'x', SigningCertURL: CERT_URL } as SnsHttpMessage;
    const text = stringToSign(message);
    expect(text.split('\n').filter((_, index) => index % 2 === 0).slice(0, 6)).toEqual(['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']);
    const { Subject: _subject, ...withoutSubject } = message;
    expect(stringToSign(withoutSubject as SnsHttpMessage)).not.toContain('Subject\n');
    const confirmation = { ...snsSubscriptionConfirmation(), Message: 'one line', SignatureVersion: '1', Signature: 'x', SigningCertURL: CERT_URL } as SnsHttpMessage;
    expect(stringToSign(confirmation).split('\n').filter((_, index) => index % 2 === 0).slice(0, 7)).toEqual([
      'Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type',
    ]);
  });

  it.each(['1', '2'] as const)('accepts a genuine SignatureVersion %s message and caches the certificate', async (version) => {
    const before = downloads.length;
    expect(await verifier.verify(signSnsMessage(signer, snsNotification(alarm), version))).toEqual({ ok: true });
    expect(await verifier.verify(signSnsMessage(signer, snsNotification(alarm), version))).toEqual({ ok: true });
    expect(downloads.length - before).toBeLessThanOrEqual(1);
  });

  it('rejects a message altered after signing', async () => {
    const signed = signSnsMessage(signer, snsNotification(alarm));
    const forged = { ...signed, Message: signed.Message.replace('ALARM', 'OK') };
    expect(await verifier.verify(forged)).toEqual({ ok: false, reason: 'SNS signature does not match the message' });
  });

  it('rejects a message signed by a key that is not the certificate’s', async () => {
    expect(await verifier.verify(signSnsMessage(other, snsNotification(alarm)))).toEqual({ ok: false, reason: 'SNS signature does not match the message' });
  });

  it('rejects a version 1 signature presented as version 2', async () => {
    const signed = signSnsMessage(signer, snsNotification(alarm), '1');
    expect((await verifier.verify({ ...signed, SignatureVersion: '2' })).ok).toBe(false);
  });

  it.each([
    ['a host off amazonaws.com', 'https://sns.eu-central-1.amazonaws.com.evil.example/cert.pem'],
    ['plain http', 'http://sns.eu-central-1.amazonaws.com/cert.pem'],
    ['a path that is not .pem', 'https://sns.eu-central-1.amazonaws.com/cert.txt'],
    ['another AWS service host', 'https://s3.amazonaws.com/sns/cert.pem'],
    ['credentials in the URL', 'https://user:pw@sns.eu-central-1.amazonaws.com/cert.pem'],
  ])('refuses a certificate URL with %s without downloading it', async (_name, url) => {
    const before = downloads.length;
    const result = await verifier.verify(signSnsMessage(signer, { ...snsNotification(alarm), SigningCertURL: url }));
    expect(result).toEqual({ ok: false, reason: 'SigningCertURL is not an https .pem URL on sns.<region>.amazonaws.com' });
    expect(downloads.length).toBe(before);
  });

  it('knows the SNS hosts, China regions included', () => {
    expect(isTrustedSnsUrl('https://sns.cn-north-1.amazonaws.com.cn/x.pem', { pem: true })).toBe(true);
    expect(isTrustedSnsUrl('https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription')).toBe(true);
    expect(isTrustedSnsUrl('https://sns.us-east-1.amazonaws.com:8443/x.pem', { pem: true })).toBe(false);
    expect(isTrustedSnsUrl('not a url')).toBe(false);
  });
});

describe('ingest of SNS HTTP messages', () => {
  let signer: TestSigner;
  let confirmed: string[];
  let settings: IngestSettings;
  const receivedAt = new Date('2026-11-25T01:56:11.000Z');

  beforeAll(() => {
    signer = makeSigner();
    confirmed = [];
    settings = {
      maxBodyBytes: 256 * 1024,
      sns: {
        verifier: new SnsVerifier({ fetchCertificate: () => Promise.resolve(signer.certificatePem) }),
        allowedTopicArns: [TOPIC_ARN],
        confirm: (url) => {
          confirmed.push(url);
          return Promise.resolve();
        },
      },
    };
  });

  const post = (message: unknown) => ingest({ endpoint: 'aws-sns', body: JSON.stringify(message), receivedAt }, settings);

  it('confirms a subscription for an allowed topic by visiting its SubscribeURL', async () => {
    const message = signSnsMessage(signer, snsSubscriptionConfirmation());
    const outcome = await post(message);
    expect(outcome).toEqual({ kind: 'acknowledged', status: 200, body: { message: `subscribed to ${TOPIC_ARN}` } });
    expect(confirmed).toEqual([message.SubscribeURL]);
  });

  it('does not confirm a subscription for a topic outside the allow-list', async () => {
    const before = confirmed.length;
    const outcome = await post(signSnsMessage(signer, snsSubscriptionConfirmation('arn:aws:sns:eu-central-1:999999999999:someone-else')));
    expect(outcome).toMatchObject({ kind: 'rejected', status: 403, reason: 'forbidden-topic', keepRaw: false });
    expect(confirmed.length).toBe(before);
  });

  it('refuses a genuine notification replayed from another topic', async () => {
    const outcome = await post(signSnsMessage(signer, snsNotification(alarm, 'arn:aws:sns:eu-central-1:111122223333:other-topic')));
    expect(outcome).toMatchObject({ kind: 'rejected', status: 403, reason: 'forbidden-topic' });
  });

  it('refuses a forged notification with 403 and does not keep it', async () => {
    const signed = signSnsMessage(signer, snsNotification(alarm));
    const outcome = await post({ ...signed, Message: JSON.stringify({ ...alarm, NewStateValue: 'OK' }) });
    expect(outcome).toMatchObject({ kind: 'rejected', status: 403, reason: 'bad-signature', keepRaw: false });
  });

  it('normalizes a genuine notification to the CloudWatch incident', async () => {
    const outcome = await post(signSnsMessage(signer, snsNotification(alarm)));
    expect(outcome.kind).toBe('accepted');
    if (outcome.kind !== 'accepted') return;
    expect(outcome.source).toBe('cloudwatch');
    expect(outcome.incidents).toHaveLength(1);
    expect(outcome.incidents[0]).toMatchObject({ status: 'firing', source: { kind: 'cloudwatch', rule: 'api-5xx-rate', region: 'eu-central-1', account: '111122223333' } });
    expect(outcome.body).toEqual({ accepted: 1, source: 'cloudwatch', fingerprints: [outcome.incidents[0]!.fingerprint] });
  });

  it('acknowledges an UnsubscribeConfirmation without confirming anything', async () => {
    const before = confirmed.length;
    const message = { ...snsSubscriptionConfirmation(), Type: 'UnsubscribeConfirmation' as const };
    expect(await post(signSnsMessage(signer, message))).toEqual({ kind: 'acknowledged', status: 200, body: { message: `unsubscribed from ${TOPIC_ARN}` } });
    expect(confirmed.length).toBe(before);
  });

  it('accepts the bare alarm (raw message delivery, no envelope)', async () => {
    const outcome = await post(alarm);
    expect(outcome).toMatchObject({ kind: 'accepted', source: 'cloudwatch' });
  });
});

describe('ingest front door', () => {
  const receivedAt = new Date('2026-11-25T02:00:00.000Z');
  const settings: IngestSettings = { token: 's3cret-token', maxBodyBytes: 1024 };

  it('wants the token as bearer, basic-auth password or ?token=', async () => {
    const body = JSON.stringify(alarm).slice(0, 10);
    const unauthorized = await ingest({ endpoint: 'auto', body, receivedAt }, settings);
    expect(unauthorized).toMatchObject({ kind: 'rejected', status: 401, reason: 'unauthorized', keepRaw: false });
    expect(await ingest({ endpoint: 'auto', body, receivedAt, authorization: 'Bearer wrong' }, settings)).toMatchObject({ status: 401 });
    for (const credentials of [
      { authorization: 'Bearer s3cret-token' },
      { authorization: `Basic ${Buffer.from('tocsin:s3cret-token').toString('base64')}` },
      { queryToken: 's3cret-token' },
    ]) {
      // Authorised, so the (truncated) body is judged next: malformed, kept.
      expect(await ingest({ endpoint: 'auto', body, receivedAt, ...credentials }, settings)).toMatchObject({ status: 400, reason: 'malformed', keepRaw: true });
    }
  });

  it('answers 413 above the size limit and keeps what was read', async () => {
    const outcome = await ingest({ endpoint: 'auto', body: 'x'.repeat(2048), receivedAt, authorization: 'Bearer s3cret-token' }, settings);
    expect(outcome).toMatchObject({ kind: 'rejected', status: 413, reason: 'too-large', keepRaw: true, body: { error: 'too-large', message: 'body exceeds the 1024-byte limit' } });
  });

  it('never echoes the token in an error', async () => {
    const outcome = await ingest({ endpoint: 'auto', body: '{}', receivedAt, authorization: 'Bearer s3cret-token' }, settings);
    expect(JSON.stringify(outcome)).not.toContain('s3cret-token');
  });
});
