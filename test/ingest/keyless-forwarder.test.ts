// Keyless forwarders: the Azure and GCP functions, built from their app settings as in their
// cloud, get an identity token from a local server playing their platform's token endpoint
// (App Service's IDENTITY_ENDPOINT, GCP's metadata server, each checking the request shape the
// real one requires), exchange it at a local STS (the query protocol's form request, answered
// with STS's XML) and sign their SQS sends, to the SQS stand-in, with the credentials STS gave.
// Credentials are kept until near expiry; a refused token fails the send and is retried later.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AZURE_IDENTITY } from '../../functions/azure/monitor-ingest.ts';
import { GCP_IDENTITY } from '../../functions/gcp/index.ts';
import { forwarderFromEnv, ForwarderConfigError, type Forwarder, type KeylessIdentity } from '../../shared/ingest/forwarder.ts';
import type { IncidentMessage } from '../../shared/ingest/forward.ts';
import { webIdentityCredentials } from '../../shared/ingest/web-identity.ts';
import { normalize } from '../../shared/normalize.ts';
import { VirtualClock } from '../aws/chain/clock.ts';
import { SqsStandIn } from '../aws/chain/sqs.ts';
import { fixture } from '../aws/support.ts';

const ROLE_ARN = 'arn:aws:iam::111122223333:role/TocsinForwarderRole';
const AUDIENCE = 'api://tocsin-forwarder';
const IDENTITY_HEADER = 'f3b0c2a1-identity-header-secret';
/** A JWT's shape (header.payload.signature); STS here only compares it. */
const jwt = (n: number): string => `eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0b2NzaW4tJHtufSJ9.sig-${String(n)}`;

interface Recorded {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

interface Answer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body: string;
}

async function serve(handle: (request: Recorded) => Answer): Promise<{ url: string; host: string; requests: Recorded[]; server: Server }> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = { method: req.method ?? '', url: new URL(req.url ?? '/', 'http://127.0.0.1'), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(recorded);
      const answer = handle(recorded);
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  return { url: `http://${host}`, host, requests, server };
}

let issued = 0;
/** The token the platform endpoints hand out next, and whether STS accepts tokens at all. */
let stsAccepts = true;
const credentialsLifetimeMs = 3_600_000;

// App Service / Azure Functions managed identity endpoint, api-version 2019-08-01.
const azure = await serve(({ method, url, headers }): Answer => {
  if (method !== 'GET' || url.pathname !== '/msi/token') return { status: 404, body: '' };
  if (headers['x-identity-header'] !== IDENTITY_HEADER) {
    return { status: 400, headers: { 'content-type': 'application/json' }, body: '{"statusCode":400,"message":"Unable to load the proper Managed Identity."}' };
  }
  if (url.searchParams.get('api-version') !== '2019-08-01' || url.searchParams.get('resource') !== AUDIENCE) {
    return { status: 400, headers: { 'content-type': 'application/json' }, body: '{"statusCode":400,"message":"bad api-version or resource"}' };
  }
  issued += 1;
  const expiresOn = Math.floor(Date.now() / 1000) + 3600;
  return {
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ access_token: jwt(issued), expires_on: String(expiresOn), resource: AUDIENCE, token_type: 'Bearer', client_id: '5e29463d-71da-4fe0-8e69-999b57db23b0' }),
  };
});

// GCP metadata server: the identity document for the default service account.
const metadata = await serve(({ method, url, headers }): Answer => {
  if (headers['metadata-flavor'] !== 'Google') {
    return { status: 403, headers: { 'content-type': 'text/html; charset=UTF-8', 'metadata-flavor': 'Google' }, body: 'Missing Metadata-Flavor:Google header.' };
  }
  if (method !== 'GET' || url.pathname !== '/computeMetadata/v1/instance/service-accounts/default/identity') {
    return { status: 404, headers: { 'metadata-flavor': 'Google' }, body: 'Not Found' };
  }
  const audience = url.searchParams.get('audience');
  if (audience === null || audience === '') return { status: 400, headers: { 'metadata-flavor': 'Google' }, body: 'non-empty audience parameter required' };
  if (audience !== AUDIENCE) return { status: 400, headers: { 'metadata-flavor': 'Google' }, body: 'unexpected audience' };
  issued += 1;
  return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'metadata-flavor': 'Google' }, body: jwt(issued) };
});

// STS, query protocol: a form POST, an XML answer; AssumeRoleWithWebIdentity is not signed.
const sts = await serve(({ method, headers, body }): Answer => {
  const form = new URLSearchParams(body);
  const xml = (status: number, text: string) => ({ status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': 'c6104cbe-af31-11e0-8154-cbc7ccf896c7' }, body: text });
  if (method !== 'POST' || form.get('Action') !== 'AssumeRoleWithWebIdentity' || form.get('Version') !== '2011-06-15') {
    return xml(400, '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>bad request</Message></Error><RequestId>1</RequestId></ErrorResponse>');
  }
  const token = form.get('WebIdentityToken') ?? '';
  if (!stsAccepts || headers.authorization !== undefined || form.get('RoleArn') !== ROLE_ARN || !/^eyJ.+\..+\..+$/.test(token)) {
    return xml(400, '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>Couldn\'t retrieve verification key from your identity provider</Message></Error><RequestId>2</RequestId></ErrorResponse>');
  }
  const n = /sig-(\d+)$/.exec(token)?.[1] ?? '0';
  const expiration = new Date(Date.now() + credentialsLifetimeMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const session = form.get('RoleSessionName') ?? '';
  return xml(
    200,
    `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>tocsin-${n}</SubjectFromWebIdentityToken>
    <Audience>${AUDIENCE}</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::111122223333:assumed-role/TocsinForwarderRole/${session}</Arn>
      <AssumedRoleId>AROACLKWSDQRAOEXAMPLE:${session}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>session-token-${n}</SessionToken>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <Expiration>${expiration}</Expiration>
      <AccessKeyId>ASIAFORWARDER${n.padStart(7, '0')}</AccessKeyId>
    </Credentials>
    <Provider>${AUDIENCE}</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`,
  );
});

const sqs = new SqsStandIn(new VirtualClock());
await sqs.start();
const incidents = sqs.createQueue('tocsin-incidents');
const rejected = sqs.createQueue('tocsin-rejected');

function incident(): IncidentMessage {
  const receivedAt = new Date();
  const [first] = normalize(fixture('alertmanager', 'firing-group.json'), { receivedAt }).incidents;
  if (first === undefined) throw new Error('the fixture has no incident');
  return { incident: first, receivedAt: receivedAt.toISOString() };
}

function build(identity: KeylessIdentity, extra: Record<string, string>): Forwarder {
  return forwarderFromEnv(
    {
      INCIDENTS_QUEUE_URL: incidents.url,
      REJECTED_QUEUE_URL: rejected.url,
      TOCSIN_INGEST_TOKEN: 'shared-ingest-token-1',
      AWS_REGION: 'eu-west-1',
      AWS_ROLE_ARN: ROLE_ARN,
      TOCSIN_TOKEN_AUDIENCE: AUDIENCE,
      AWS_ENDPOINT_URL_STS: sts.url,
      ...extra,
    },
    undefined,
    identity,
  );
}

const clouds: [string, KeylessIdentity, Record<string, string>, { requests: Recorded[] }, string][] = [
  ['Azure (managed identity)', AZURE_IDENTITY, { IDENTITY_ENDPOINT: `${azure.url}/msi/token`, IDENTITY_HEADER }, azure, 'tocsin-azure-forwarder'],
  ['GCP (metadata server)', GCP_IDENTITY, { GCE_METADATA_HOST: metadata.host }, metadata, 'tocsin-gcp-forwarder'],
];

beforeEach(() => {
  stsAccepts = true;
  for (const server of [azure, metadata, sts]) server.requests.splice(0);
  sqs.calls.splice(0);
});

afterAll(async () => {
  for (const { server } of [azure, metadata, sts]) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  }
  await sqs.close();
});

describe.each(clouds)('%s', (_name, identity, settings, tokenEndpoint, sessionName) => {
  beforeAll(() => {
    expect(identity.sessionName).toBe(sessionName);
  });

  it('signs its SQS sends with the role credentials STS gave for its identity token, fetched once for many sends', async () => {
    const forwarder = build(identity, settings);
    for (let i = 0; i < 3; i += 1) await forwarder.sinks.incidents.send([incident()]);

    expect(tokenEndpoint.requests).toHaveLength(1);
    expect(sts.requests).toHaveLength(1);
    const form = new URLSearchParams(sts.requests[0]!.body);
    expect(Object.fromEntries(form)).toMatchObject({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: ROLE_ARN, RoleSessionName: sessionName });
    const n = String(issued);
    expect(form.get('WebIdentityToken')).toBe(jwt(issued));

    const sends = sqs.calls.filter((call) => call.operation === 'SendMessageBatch');
    expect(sends).toHaveLength(3);
    for (const send of sends) {
      expect(send.signedBy).toEqual({ accessKeyId: `ASIAFORWARDER${n.padStart(7, '0')}`, sessionToken: `session-token-${n}` });
    }
    expect(incidents.messages).toHaveLength(3);
    incidents.messages.splice(0);
  });

  it('keeps the credentials until five minutes before they expire, then gets a new token and new ones', async () => {
    let now = Date.now();
    const credentials = webIdentityCredentials({
      roleArn: ROLE_ARN,
      token: identity.tokenFor(settings, AUDIENCE),
      sessionName,
      region: 'eu-west-1',
      stsEndpoint: sts.url,
      now: () => now,
    });
    const first = await credentials();
    now += 54 * 60_000;
    expect(await credentials()).toBe(first);
    expect(sts.requests).toHaveLength(1);
    now += 2 * 60_000;
    const second = await credentials();
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(second.expiration?.getTime()).toBeGreaterThan(Date.now() + 55 * 60_000);
    expect(tokenEndpoint.requests).toHaveLength(2);
    expect(sts.requests).toHaveLength(2);
  });

  it('shares one exchange between concurrent first sends', async () => {
    const forwarder = build(identity, settings);
    await Promise.all([forwarder.sinks.incidents.send([incident()]), forwarder.sinks.incidents.send([incident()]), forwarder.sinks.rejected.send([])]);
    expect(tokenEndpoint.requests).toHaveLength(1);
    expect(sts.requests).toHaveLength(1);
    incidents.messages.splice(0);
  });

  it('fails the send when STS refuses the token, and tries again on the next one', async () => {
    stsAccepts = false;
    const forwarder = build(identity, settings);
    await expect(forwarder.sinks.incidents.send([incident()])).rejects.toThrow();
    expect(sqs.calls).toEqual([]);
    stsAccepts = true;
    await forwarder.sinks.incidents.send([incident()]);
    expect(tokenEndpoint.requests).toHaveLength(2);
    expect(incidents.messages).toHaveLength(1);
    incidents.messages.splice(0);
  });
});

describe('platform endpoints answer as the real ones do', () => {
  it('without the identity header or metadata flavor, no token is issued and the send fails saying why', async () => {
    const azureForwarder = build(AZURE_IDENTITY, { IDENTITY_ENDPOINT: `${azure.url}/msi/token`, IDENTITY_HEADER: 'wrong' });
    await expect(azureForwarder.sinks.incidents.send([incident()])).rejects.toThrow(/Azure managed identity endpoint answered HTTP 400: .*Managed Identity/);
    expect(sts.requests).toEqual([]);
  });

  it('a forwarder with AWS_ROLE_ARN but no audience refuses to start, naming the setting', () => {
    expect(() => forwarderFromEnv({ INCIDENTS_QUEUE_URL: incidents.url, REJECTED_QUEUE_URL: rejected.url, TOCSIN_INGEST_TOKEN: 't-1', AWS_REGION: 'eu-west-1', AWS_ROLE_ARN: ROLE_ARN }, undefined, GCP_IDENTITY)).toThrow(
      new ForwarderConfigError('AWS_ROLE_ARN is set, so the forwarder assumes it with its identity token, but TOCSIN_TOKEN_AUDIENCE (the audience the role trusts) is not set'),
    );
  });

  it('static keys remain an option: without AWS_ROLE_ARN no token endpoint or STS is called', async () => {
    const forwarder = forwarderFromEnv(
      { INCIDENTS_QUEUE_URL: incidents.url, REJECTED_QUEUE_URL: rejected.url, TOCSIN_INGEST_TOKEN: 't-1', AWS_REGION: 'eu-west-1' },
      undefined,
      GCP_IDENTITY,
    );
    const previous = { id: process.env['AWS_ACCESS_KEY_ID'], secret: process.env['AWS_SECRET_ACCESS_KEY'] };
    process.env['AWS_ACCESS_KEY_ID'] = 'AKIASTATICKEY0000001';
    process.env['AWS_SECRET_ACCESS_KEY'] = 'static-secret';
    try {
      await forwarder.sinks.incidents.send([incident()]);
    } finally {
      if (previous.id === undefined) delete process.env['AWS_ACCESS_KEY_ID'];
      else process.env['AWS_ACCESS_KEY_ID'] = previous.id;
      if (previous.secret === undefined) delete process.env['AWS_SECRET_ACCESS_KEY'];
      else process.env['AWS_SECRET_ACCESS_KEY'] = previous.secret;
    }
    expect(metadata.requests).toEqual([]);
    expect(sts.requests).toEqual([]);
    expect(sqs.calls.at(-1)?.signedBy?.accessKeyId).toBe('AKIASTATICKEY0000001');
    incidents.messages.splice(0);
  });
});
