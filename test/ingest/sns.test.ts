import { beforeAll, describe, expect, it } from 'vitest';
import { ingest, type IngestSettings } from '../../shared/ingest/ingest.ts';
import {
  FAILED_CERTIFICATE_TTL_MS,
  SnsReplayGuard,
  SnsVerifier,
  UNTRUSTED_CERTIFICATE_URL,
  isTrustedSnsUrl,
  snsShapeOf,
  stringToSign,
  type SnsHttpMessage,
} from '../../shared/ingest/sns.ts';
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
    expect(await verifier.verify(forged)).toEqual({ ok: false, retryable: false, reason: 'SNS signature does not match the message' });
  });

  it('rejects a message signed by a key that is not the certificate’s', async () => {
    expect(await verifier.verify(signSnsMessage(other, snsNotification(alarm)))).toEqual({ ok: false, retryable: false, reason: 'SNS signature does not match the message' });
  });

  it('rejects a version 1 signature presented as version 2', async () => {
    const signed = signSnsMessage(signer, snsNotification(alarm), '1');
    expect((await verifier.verify({ ...signed, SignatureVersion: '2' })).ok).toBe(false);
  });

  const PEM = 'SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem';
  it.each([
    ['a host off amazonaws.com', `https://sns.eu-central-1.amazonaws.com.evil.example/${PEM}`],
    ['plain http', `http://sns.eu-central-1.amazonaws.com/${PEM}`],
    ['a path that is not .pem', 'https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-9c64.txt'],
    ['another .pem on the SNS host', 'https://sns.eu-central-1.amazonaws.com/uploads/cert.pem'],
    ['a query after the .pem', `https://sns.eu-central-1.amazonaws.com/${PEM}?x=1`],
    ['another AWS service host', `https://s3.amazonaws.com/sns/${PEM}`],
    ['an S3 bucket named "sns"', `https://sns.s3.amazonaws.com/${PEM}`],
    ['an S3 bucket named "sns" in a region', `https://sns.s3.eu-central-1.amazonaws.com/${PEM}`],
    ['a made-up region', `https://sns.x.amazonaws.com/${PEM}`],
    ['a China region on .com', `https://sns.cn-north-1.amazonaws.com/${PEM}`],
    ['credentials in the URL', `https://user:pw@sns.eu-central-1.amazonaws.com/${PEM}`],
  ])('refuses a certificate URL with %s without downloading it', async (_name, url) => {
    const before = downloads.length;
    const result = await verifier.verify(signSnsMessage(signer, { ...snsNotification(alarm), SigningCertURL: url }));
    expect(result).toEqual({ ok: false, retryable: false, reason: UNTRUSTED_CERTIFICATE_URL });
    expect(downloads.length).toBe(before);
  });

  it.each([
    `https://sns.us-east-1.amazonaws.com/${PEM}`,
    `https://sns.eu-central-1.amazonaws.com/${PEM}`,
    `https://sns.ap-southeast-3.amazonaws.com/${PEM}`,
    `https://sns.il-central-1.amazonaws.com/${PEM}`,
    `https://sns.us-gov-west-1.amazonaws.com/${PEM}`,
    `https://sns.cn-north-1.amazonaws.com.cn/${PEM}`,
    `https://sns.cn-northwest-1.amazonaws.com.cn/${PEM}`,
  ])('trusts the SNS certificate URL %s', (url) => {
    expect(isTrustedSnsUrl(url, { pem: true })).toBe(true);
  });

  it('knows the SNS hosts for subscribe URLs too', () => {
    expect(isTrustedSnsUrl('https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription')).toBe(true);
    expect(isTrustedSnsUrl('https://sns.s3.amazonaws.com/?Action=ConfirmSubscription')).toBe(false);
    expect(isTrustedSnsUrl(`https://sns.us-east-1.amazonaws.com:8443/${PEM}`, { pem: true })).toBe(false);
    expect(isTrustedSnsUrl('not a url')).toBe(false);
  });
});

describe('SNS certificate downloads that fail', () => {
  it('are a retryable failure, remembered for a short while, then tried again', async () => {
    let now = 1_000_000;
    let attempts = 0;
    const signer = makeSigner();
    const verifier = new SnsVerifier({
      now: () => now,
      fetchCertificate: () => {
        attempts += 1;
        return attempts === 1 ? Promise.reject(new Error('HTTP 503')) : Promise.resolve(signer.certificatePem);
      },
    });
    const message = signSnsMessage(signer, snsNotification(alarm));
    const unavailable = { ok: false, retryable: true, reason: 'the SNS signing certificate could not be fetched; retry later' };
    expect(await verifier.verify(message)).toEqual(unavailable);
    // Within the window: answered from memory, no second download.
    for (let i = 0; i < 20; i += 1) expect(await verifier.verify(message)).toEqual(unavailable);
    expect(attempts).toBe(1);
    now += FAILED_CERTIFICATE_TTL_MS + 1;
    expect(await verifier.verify(message)).toEqual({ ok: true });
    expect(attempts).toBe(2);
  });
});

describe('what counts as SNS-shaped', () => {
  it.each([
    ['a Lambda SNS event', { Records: [{ EventSource: 'aws:sns', Sns: { Type: 'Notification', Message: '{}' } }] }, 'lambda'],
    ['a Lambda SNS record without EventSource', { Records: [{ Sns: {} }] }, 'lambda'],
    ['an event source spelled otherwise', { Records: [{ eventSource: 'AWS:SNS' }] }, 'lambda'],
    ['an SNS envelope with its signature removed', { Type: 'Notification', TopicArn: 'arn:aws:sns:eu-central-1:111122223333:t', Message: '{}' }, 'http'],
    ['an SNS Type alone', { Type: 'SubscriptionConfirmation' }, 'http'],
    ['a TopicArn alone', { TopicArn: 'x', Message: '{}' }, 'http'],
    ['a signature alone', { Signature: 'x' }, 'http'],
    ['an S3 event batch', { Records: [{ eventSource: 'aws:s3', s3: {} }] }, undefined],
    ['a bare CloudWatch alarm', alarm, undefined],
    ['an Alertmanager group', { version: '4', alerts: [] }, undefined],
    ['an array', [{ Type: 'Notification' }], undefined],
  ])('%s', (_name, payload, shape) => {
    expect(snsShapeOf(payload)).toBe(shape);
  });
});

describe('ingest of SNS HTTP messages', () => {
  let signer: TestSigner;
  let confirmed: string[];
  let settings: IngestSettings;
  let certificateFails = false;
  const receivedAt = new Date('2026-11-25T01:56:11.000Z');
  const sent = '2026-11-25T01:56:10.600Z';

  beforeAll(() => {
    signer = makeSigner();
    confirmed = [];
    settings = {
      maxBodyBytes: 256 * 1024,
      sns: {
        verifier: new SnsVerifier({
          fetchCertificate: () => (certificateFails ? Promise.reject(new Error('unreachable')) : Promise.resolve(signer.certificatePem)),
          failedCertificateTtlMs: 0,
        }),
        allowedTopicArns: [TOPIC_ARN],
        confirm: (url) => {
          confirmed.push(url);
          return Promise.resolve();
        },
        replay: new SnsReplayGuard(),
      },
    };
  });

  const post = (message: unknown, endpoint: 'aws-sns' | 'auto' | 'alertmanager' = 'aws-sns', at = receivedAt) =>
    ingest({ endpoint, body: JSON.stringify(message), receivedAt: at }, settings);
  const notification = (topicArn = TOPIC_ARN, timestamp = sent) => signSnsMessage(signer, snsNotification(alarm, topicArn, timestamp));

  it('confirms a subscription for an allowed topic by visiting its SubscribeURL', async () => {
    const message = signSnsMessage(signer, snsSubscriptionConfirmation(TOPIC_ARN, sent));
    const outcome = await post(message);
    expect(outcome).toEqual({ kind: 'acknowledged', status: 200, body: { message: `subscribed to ${TOPIC_ARN}` } });
    expect(confirmed).toEqual([message.SubscribeURL]);
  });

  it('answers 503 when visiting the SubscribeURL fails, so SNS sends the confirmation again', async () => {
    const failing: IngestSettings = { ...settings, sns: { ...settings.sns!, confirm: () => Promise.reject(new Error('ETIMEDOUT')) } };
    const outcome = await ingest({ endpoint: 'aws-sns', body: JSON.stringify(signSnsMessage(signer, snsSubscriptionConfirmation(TOPIC_ARN, sent))), receivedAt }, failing);
    expect(outcome).toMatchObject({ kind: 'unavailable', status: 503, reason: 'confirmation-failed', retryAfterSeconds: 20 });
  });

  it('does not confirm a subscription for a topic outside the allow-list', async () => {
    const before = confirmed.length;
    const outcome = await post(signSnsMessage(signer, snsSubscriptionConfirmation('arn:aws:sns:eu-central-1:999999999999:someone-else', sent)));
    expect(outcome).toMatchObject({ kind: 'rejected', status: 403, reason: 'forbidden-topic', keepRaw: false });
    expect(confirmed.length).toBe(before);
  });

  it('refuses a genuine notification replayed from another topic', async () => {
    const outcome = await post(notification('arn:aws:sns:eu-central-1:111122223333:other-topic'));
    expect(outcome).toMatchObject({ kind: 'rejected', status: 403, reason: 'forbidden-topic' });
  });

  it('refuses a forged notification with 403 and does not keep it', async () => {
    const signed = notification();
    const outcome = await post({ ...signed, Message: JSON.stringify({ ...alarm, NewStateValue: 'OK' }) });
    expect(outcome).toMatchObject({ kind: 'rejected', status: 403, reason: 'bad-signature', keepRaw: false });
  });

  it('normalizes a genuine notification to the CloudWatch incident', async () => {
    const outcome = await post(notification());
    expect(outcome.kind).toBe('accepted');
    if (outcome.kind !== 'accepted') return;
    expect(outcome.source).toBe('cloudwatch');
    expect(outcome.incidents).toHaveLength(1);
    expect(outcome.incidents[0]).toMatchObject({ status: 'firing', source: { kind: 'cloudwatch', rule: 'api-5xx-rate', region: 'eu-central-1', account: '111122223333' } });
    expect(outcome.body).toEqual({ accepted: 1, source: 'cloudwatch', fingerprints: [outcome.incidents[0]!.fingerprint] });
  });

  it('acknowledges an UnsubscribeConfirmation without confirming anything', async () => {
    const before = confirmed.length;
    const message = { ...snsSubscriptionConfirmation(TOPIC_ARN, sent), Type: 'UnsubscribeConfirmation' as const };
    expect(await post(signSnsMessage(signer, message))).toEqual({ kind: 'acknowledged', status: 200, body: { message: `unsubscribed from ${TOPIC_ARN}` } });
    expect(confirmed.length).toBe(before);
  });

  it('accepts the bare alarm (raw message delivery, no envelope)', async () => {
    const outcome = await post(alarm);
    expect(outcome).toMatchObject({ kind: 'accepted', source: 'cloudwatch' });
  });

  it.each(['aws-sns', 'auto', 'alertmanager'] as const)('refuses a Lambda SNS event over HTTP on %s, however it is signed', async (endpoint) => {
    const signed = notification();
    const lambdaEvent = { Records: [{ EventSource: 'aws:sns', EventVersion: '1.0', EventSubscriptionArn: `${TOPIC_ARN}:sub`, Sns: { ...signed, SigningCertUrl: signed.SigningCertURL } }] };
    expect(await post(lambdaEvent, endpoint)).toEqual({
      kind: 'rejected',
      status: 403,
      reason: 'lambda-envelope',
      keepRaw: false,
      body: { error: 'lambda-envelope', message: 'a Lambda SNS event (Records[].Sns) is never accepted over HTTP; subscribe this URL to the topic over HTTPS instead' },
    });
  });

  it.each([
    ['SignatureVersion removed', ({ SignatureVersion: _removed, ...rest }: SnsHttpMessage) => rest],
    ['Signature removed', ({ Signature: _removed, ...rest }: SnsHttpMessage) => rest],
    ['SigningCertURL removed', ({ SigningCertURL: _removed, ...rest }: SnsHttpMessage) => rest],
    ['Signature empty', (message: SnsHttpMessage) => ({ ...message, Signature: '' })],
  ])('refuses an unsigned envelope (%s) on both SNS endpoints', async (_name, strip) => {
    for (const endpoint of ['aws-sns', 'auto'] as const) {
      expect(await post(strip(notification()), endpoint)).toMatchObject({ kind: 'rejected', status: 403, reason: 'bad-signature', keepRaw: false });
    }
  });

  it('sends an SNS envelope posted to another source’s endpoint back with 400, unverified', async () => {
    expect(await post(notification(), 'alertmanager')).toMatchObject({ kind: 'rejected', status: 400, reason: 'malformed', body: { message: 'an SNS message belongs on /v1/ingest/aws/sns (or /v1/ingest)' } });
  });

  it('refuses a genuine message older than SNS retries, or from the future', async () => {
    const hourAndTenMinutes = new Date(Date.parse(sent) + 70 * 60_000);
    expect(await post(notification(), 'aws-sns', hourAndTenMinutes)).toMatchObject({ kind: 'rejected', status: 403, reason: 'stale-message', keepRaw: false });
    // Within the window (SNS's last retry comes at most an hour after publishing): accepted.
    expect(await post(notification(), 'aws-sns', new Date(Date.parse(sent) + 60 * 60_000))).toMatchObject({ kind: 'accepted' });
    const tenMinutesAhead = new Date(Date.parse(sent) + 10 * 60_000).toISOString();
    expect(await post(notification(TOPIC_ARN, tenMinutesAhead))).toMatchObject({ kind: 'rejected', status: 403, reason: 'stale-message' });
  });

  it('refuses a MessageId it already committed, but not one whose first delivery failed', async () => {
    const message = notification();
    const first = await post(message);
    expect(first.kind).toBe('accepted');
    // Not committed yet (the queue send failed, say): SNS's retry must get through.
    expect((await post(message)).kind).toBe('accepted');
    if (first.kind === 'accepted') first.onCommitted?.();
    expect(await post(message)).toMatchObject({ kind: 'rejected', status: 409, reason: 'replayed', keepRaw: false });
    expect(await post(message, 'auto')).toMatchObject({ status: 409 });
    // A different message is unaffected.
    expect((await post(notification())).kind).toBe('accepted');
  });

  it('answers 503 and keeps the bytes when the signing certificate cannot be fetched (SNS retries)', async () => {
    certificateFails = true;
    try {
      // A certificate not fetched before (the one above is cached).
      const rotated = signSnsMessage(signer, { ...snsNotification(alarm, TOPIC_ARN, sent), SigningCertURL: 'https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-0123abcd.pem' });
      expect(await post(rotated)).toEqual({
        kind: 'unavailable',
        status: 503,
        reason: 'certificate-unavailable',
        keepRaw: true,
        retryAfterSeconds: 10,
        body: { error: 'certificate-unavailable', message: 'the SNS signing certificate could not be fetched; retry later' },
      });
    } finally {
      certificateFails = false;
    }
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
