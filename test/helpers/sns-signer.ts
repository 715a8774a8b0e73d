// A local stand-in for SNS's signing key: a self-signed certificate made with openssl, used to
// sign messages exactly as SNS does (SignatureVersion 1: RSA-SHA1, 2: RSA-SHA256).
import { execFileSync } from 'node:child_process';
import { createSign, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringToSign, type SnsHttpMessage } from '../../shared/ingest/sns.ts';

export interface TestSigner {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

export function makeSigner(commonName = 'sns.amazonaws.com'): TestSigner {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-sns-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', `/CN=${commonName}`],
      { stdio: 'ignore' },
    );
    return { certificatePem: readFileSync(join(dir, 'cert.pem'), 'utf8'), privateKeyPem: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const CERT_URL = 'https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem';
export const TOPIC_ARN = 'arn:aws:sns:eu-central-1:111122223333:tocsin-alarms';

type Unsigned = Omit<SnsHttpMessage, 'Signature' | 'SignatureVersion' | 'SigningCertURL'> & { SigningCertURL?: string };

export function signSnsMessage(signer: TestSigner, message: Unsigned, version: '1' | '2' = '2'): SnsHttpMessage {
  const full = { ...message, SignatureVersion: version, SigningCertURL: message.SigningCertURL ?? CERT_URL, Signature: '' } as SnsHttpMessage;
  const sign = createSign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
  sign.update(stringToSign(full), 'utf8');
  return { ...full, Signature: sign.sign(signer.privateKeyPem, 'base64') };
}

/** A notification as SNS sends it; Timestamp is now unless given (SNS stamps the publish time). */
export function snsNotification(alarm: unknown, topicArn = TOPIC_ARN, timestamp = new Date().toISOString()): Unsigned {
  return {
    Type: 'Notification',
    MessageId: randomUUID(),
    TopicArn: topicArn,
    Subject: 'ALARM: "test" in EU (Frankfurt)',
    Message: JSON.stringify(alarm),
    Timestamp: timestamp,
    UnsubscribeURL: `https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${topicArn}:abc`,
  };
}

export function snsSubscriptionConfirmation(topicArn = TOPIC_ARN, timestamp = new Date().toISOString()): Unsigned {
  return {
    Type: 'SubscriptionConfirmation',
    MessageId: randomUUID(),
    TopicArn: topicArn,
    Token: 'token-2336412f37fb687f5d51e6e2425dacbba',
    Message: `You have chosen to subscribe to the topic ${topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    SubscribeURL: `https://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topicArn}&Token=token-2336412f37fb687f5d51e6e2425dacbba`,
    Timestamp: timestamp,
  };
}
