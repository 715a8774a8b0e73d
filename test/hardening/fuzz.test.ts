// Fuzzing the local server's ingest endpoints over real HTTP: arbitrary JSON, bytes and text,
// mutated real fixtures, bodies around the size limit, right and wrong credentials and odd
// content types, on every ingest endpoint. Whatever arrives, the answer is never a 5xx; a
// refusal is a JSON 4xx that says why; malformed and oversized payloads are kept byte for
// byte; unauthorised ones never are; and the counters in /metrics agree with what was answered.
// Runs per property: FUZZ_RUNS (default 150; `npm run fuzz` uses 3000); seed: FC_SEED (42).
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLocal } from '../../functions/local/start.ts';
import { looksLikeSnsHttpMessage, snsShapeOf } from '../../shared/ingest/sns.ts';
import type { HttpRecorder } from '../helpers/http-recorder.ts';
import { fuzzRuns, fuzzSeed, loadFixtures, mutatedFixtureArbitrary, type Fixture, type FuzzBody } from '../helpers/fuzz.ts';
import { startLocalHarness, type LocalHarness } from '../helpers/local-harness.ts';
import { makeSigner } from '../helpers/sns-signer.ts';
import { fetchMetrics, metricSum, rawPost, type AcceptedAnswer, type ErrorAnswer } from './support.ts';

const TOKEN = 'fuzz-ingest-token-5b1d9e2a';
const MAX_BODY_BYTES = 16 * 1024;
const ENDPOINTS = [
  '/v1/ingest',
  '/v1/ingest/aws/sns',
  '/v1/ingest/azure/monitor',
  '/v1/ingest/gcp/monitoring',
  '/v1/ingest/alertmanager',
  '/v1/ingest/grafana',
  '/v1/ingest/signalfx',
] as const;
/** Endpoints where an SNS HTTP envelope is verified (and may be refused with 403); elsewhere it is a 400. */
const SNS_ENDPOINTS: ReadonlySet<string> = new Set(['/v1/ingest', '/v1/ingest/aws/sns']);
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain; charset=utf-8',
  'text/plain; charset=iso-8859-1',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fuzz',
  'application/octet-stream',
  'application/cloudevents+json',
  'application/xml',
  'garbage/;;;=',
  '',
  undefined,
] as const;

const AUTH_VARIANTS = [
  'bearer',
  'bearer-lowercase-scheme',
  'basic',
  'query',
  'none',
  'wrong-bearer',
  'wrong-basic',
  'wrong-query',
  'empty-bearer',
  'right-query-wrong-header',
  'token-in-other-header',
] as const;
type AuthVariant = (typeof AUTH_VARIANTS)[number];
const AUTHORIZED: ReadonlySet<AuthVariant> = new Set(['bearer', 'bearer-lowercase-scheme', 'basic', 'query']);

/** The token with its last character changed: wrong by exactly one character. */
const NEAR_TOKEN = `${TOKEN.slice(0, -1)}${TOKEN.endsWith('a') ? 'b' : 'a'}`;

function credentials(variant: AuthVariant): { headers: Record<string, string>; query: string } {
  const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  switch (variant) {
    case 'bearer':
      return { headers: { authorization: `Bearer ${TOKEN}` }, query: '' };
    case 'bearer-lowercase-scheme':
      return { headers: { authorization: `bearer ${TOKEN}` }, query: '' };
    case 'basic':
      return { headers: { authorization: basic('alerts', TOKEN) }, query: '' };
    case 'query':
      return { headers: {}, query: `?token=${TOKEN}` };
    case 'none':
      return { headers: {}, query: '' };
    case 'wrong-bearer':
      return { headers: { authorization: `Bearer ${NEAR_TOKEN}` }, query: '' };
    case 'wrong-basic':
      return { headers: { authorization: basic('alerts', NEAR_TOKEN) }, query: '' };
    case 'wrong-query':
      return { headers: {}, query: `?token=${NEAR_TOKEN}` };
    case 'empty-bearer':
      return { headers: { authorization: 'Bearer ' }, query: '' };
    case 'right-query-wrong-header':
      // A presented header wins over the query parameter.
      return { headers: { authorization: `Bearer ${NEAR_TOKEN}` }, query: `?token=${TOKEN}` };
    case 'token-in-other-header':
      return { headers: { 'x-tocsin-token': TOKEN }, query: '' };
  }
}

interface FuzzRequest {
  readonly endpoint: (typeof ENDPOINTS)[number];
  readonly auth: AuthVariant;
  readonly contentType: (typeof CONTENT_TYPES)[number];
  readonly body: FuzzBody;
}

const requestArbitrary = (body: fc.Arbitrary<FuzzBody>): fc.Arbitrary<FuzzRequest> =>
  fc.record({
    endpoint: fc.constantFrom(...ENDPOINTS),
    // Weighted so most requests get past authentication and exercise the parsers.
    auth: fc.oneof({ weight: 4, arbitrary: fc.constant<AuthVariant>('bearer') }, { weight: 3, arbitrary: fc.constantFrom(...AUTH_VARIANTS) }),
    contentType: fc.constantFrom(...CONTENT_TYPES),
    body,
  });

/** What the server may say about a body, judged from the bytes alone. */
function parsedOrUndefined(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  const text = Buffer.from(bytes).toString('utf8');
  if (text.trim() === '') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** A group payload (Alertmanager, Grafana) with an empty `alerts` list carries no alert at all. */
function isEmptyGroup(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'alerts' in value && Array.isArray(value.alerts) && value.alerts.length === 0;
}

interface Tally {
  requests: number;
  fourXx: number;
  keepable: number;
  accepted: number;
  emptyGroupsAccepted: number;
  byStatus: Map<number, number>;
}

describe('ingest fuzzing through the local server', () => {
  const runs = fuzzRuns();
  const seed = fuzzSeed();
  // Generous: `npm run fuzz` runs 20× the default.
  const propertyTimeout = Math.max(30_000, runs * 40);
  const fixtures: Fixture[] = loadFixtures(join(import.meta.dirname, '..', 'fixtures'));
  const tally: Tally = { requests: 0, fourXx: 0, keepable: 0, accepted: 0, emptyGroupsAccepted: 0, byStatus: new Map() };
  const confirmed: string[] = [];
  let harness: LocalHarness;
  let recorder: HttpRecorder;
  let local: RunningLocal;

  beforeAll(async () => {
    const signer = makeSigner();
    harness = await startLocalHarness({
      config: { ingest: { token: TOKEN, maxBodyBytes: MAX_BODY_BYTES } },
      dataPrefix: 'tocsin-fuzz-data-',
      // No network: certificates come from a local signer, so a fuzzed SNS envelope is checked
      // for real and fails on its signature; a confirmation must never be attempted.
      sns: {
        fetchCertificate: () => Promise.resolve(signer.certificatePem),
        confirm: (url) => {
          confirmed.push(url);
          return Promise.resolve();
        },
      },
    });
    ({ receiver: recorder, local } = harness);
  });

  afterAll(() => harness.stop());

  async function sendAndCheck(fuzz: FuzzRequest): Promise<void> {
    const { headers, query } = credentials(fuzz.auth);
    if (fuzz.contentType !== undefined) headers['content-type'] = fuzz.contentType;
    const bytes = fuzz.body.bytes;
    const keptBefore = local.pipeline.rejected.count();
    const response = await rawPost(`${local.url}${fuzz.endpoint}${query}`, bytes, { headers });
    tally.requests += 1;
    tally.byStatus.set(response.status, (tally.byStatus.get(response.status) ?? 0) + 1);
    const where = `${fuzz.endpoint} auth=${fuzz.auth} body=${fuzz.body.description}`;

    expect(response.status, `${where} → ${response.text}`).toBeLessThan(500);
    expect(response.contentType, where).toMatch(/^application\/json/);
    const answer = JSON.parse(response.text) as unknown;
    expect(answer, where).toBeTypeOf('object');

    // What the status must be, from the request alone.
    const parsed = parsedOrUndefined(bytes);
    if (!AUTHORIZED.has(fuzz.auth)) expect(response.status, where).toBe(401);
    else if (bytes.byteLength > MAX_BODY_BYTES) expect(response.status, where).toBe(413);
    else if (!parsed.ok) expect(response.status, where).toBe(400);
    else expect([202, 400, 403], where).toContain(response.status);
    if (response.status === 403) {
      // Refused as SNS: a Lambda SNS event anywhere, or an SNS envelope on an SNS endpoint.
      const shape = parsed.ok ? snsShapeOf(parsed.value) : undefined;
      expect(shape === 'lambda' || (shape === 'http' && SNS_ENDPOINTS.has(fuzz.endpoint)), where).toBe(true);
    }

    if (response.status === 202) {
      const accepted = answer as AcceptedAnswer;
      expect(accepted.accepted, where).toBeTypeOf('number');
      const count = accepted.accepted as number;
      expect(Array.isArray(accepted.fingerprints), where).toBe(true);
      const fingerprints = accepted.fingerprints as unknown[];
      expect(fingerprints, where).toHaveLength(count);
      for (const fingerprint of fingerprints) expect(fingerprint, where).toMatch(/^[a-z-]+:\S+$/);
      if (count === 0) {
        // An Alertmanager or Grafana group whose `alerts` list is empty is valid and holds no
        // alert: the one way to be accepted with nothing in it.
        expect(parsed.ok && isEmptyGroup(parsed.value), where).toBe(true);
        tally.emptyGroupsAccepted += 1;
      } else {
        expect(count, where).toBeGreaterThanOrEqual(1);
      }
      tally.accepted += count;
      expect(local.pipeline.rejected.count(), where).toBe(keptBefore);
      return;
    }

    tally.fourXx += 1;
    const error = answer as ErrorAnswer;
    expect(error.error, where).toBeTypeOf('string');
    expect(error.message, where).toBeTypeOf('string');
    expect((error.message as string).length, where).toBeGreaterThan(0);

    if (response.status === 400 || response.status === 413) {
      tally.keepable += 1;
      expect(error.rejectedId, where).toBeTypeOf('number');
      expect(local.pipeline.rejected.count(), where).toBe(keptBefore + 1);
      const entry = local.pipeline.rejected.get(error.rejectedId as number);
      const expected = response.status === 413 ? Buffer.from(bytes).subarray(0, MAX_BODY_BYTES) : Buffer.from(bytes);
      expect(Buffer.from(entry?.body ?? []).equals(expected), where).toBe(true);
      expect(entry, where).toMatchObject({ status: response.status, path: fuzz.endpoint, truncated: response.status === 413 });
    } else {
      // 401 (and 403: a refused SNS envelope) never keep the payload.
      expect(error.rejectedId, where).toBeUndefined();
      expect(local.pipeline.rejected.count(), where).toBe(keptBefore);
    }
  }

  const check = async (body: fc.Arbitrary<FuzzBody>): Promise<void> => {
    await fc.assert(
      fc.asyncProperty(requestArbitrary(body), async (fuzz) => {
        await sendAndCheck(fuzz);
      }),
      { seed, numRuns: runs },
    );
  };

  it('arbitrary JSON values', async () => {
    await check(fc.jsonValue().map((value) => ({ description: `json ${JSON.stringify(value)}`, bytes: Buffer.from(JSON.stringify(value), 'utf8') })));
  }, propertyTimeout);

  it('arbitrary bytes', async () => {
    await check(fc.uint8Array({ maxLength: 4096 }).map((bytes) => ({ description: `bytes ${Buffer.from(bytes).toString('base64')}`, bytes })));
  }, propertyTimeout);

  it('arbitrary text, any code points', async () => {
    await check(fc.string({ unit: 'binary', maxLength: 2000 }).map((text) => ({ description: `text ${JSON.stringify(text)}`, bytes: Buffer.from(text, 'utf8') })));
  }, propertyTimeout);

  it('real fixtures, as is and mutated (dropped, replaced, retyped, cut)', async () => {
    await check(mutatedFixtureArbitrary(fixtures));
  }, propertyTimeout);

  it('SNS HTTP envelopes (signed with a key SNS does not have), as is and mutated', async () => {
    const envelopes = fixtures.filter((fixture) => looksLikeSnsHttpMessage(fixture.value));
    expect(envelopes.length).toBeGreaterThan(0);
    await check(mutatedFixtureArbitrary(envelopes));
  }, propertyTimeout);

  it('bodies around the size limit', async () => {
    const sized = fc.tuple(fc.constantFrom(...fixtures), fc.integer({ min: MAX_BODY_BYTES - 64, max: MAX_BODY_BYTES + 4096 }), fc.boolean()).map(
      ([fixture, size, padFixture]): FuzzBody => {
        // A fixture padded with trailing whitespace stays valid JSON; filler bytes are not JSON.
        const bytes = padFixture ? Buffer.concat([fixture.bytes, Buffer.alloc(Math.max(0, size - fixture.bytes.byteLength), 0x20)]) : Buffer.alloc(size, 0x7b);
        return { description: `${padFixture ? fixture.name : 'filler'} at ${bytes.byteLength} bytes`, bytes };
      },
    );
    await check(sized);
  }, propertyTimeout);

  it('the counters reconcile with the answers, nothing was lost and the server is healthy', async () => {
    // The properties above ran (in file order) before this one.
    expect(tally.requests).toBeGreaterThanOrEqual(6 * runs);
    // Every kind of answer was seen, so the checks above were all exercised.
    for (const status of [202, 400, 401, 403, 413]) expect(tally.byStatus.get(status) ?? 0, `status ${status}`).toBeGreaterThan(0);
    expect([...tally.byStatus.keys()].sort()).toEqual([202, 400, 401, 403, 413]);

    const health = await fetch(`${local.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });

    expect(await local.pipeline.drain(20_000)).toBe(true);
    const metrics = await fetchMetrics(local.url, TOKEN);
    expect(metricSum(metrics, 'tocsin_received_total')).toBe(tally.requests);
    expect(metricSum(metrics, 'tocsin_rejected_total')).toBe(tally.fourXx);
    expect(metricSum(metrics, 'tocsin_rejected_total', { reason: 'unauthorized' })).toBe(tally.byStatus.get(401));
    expect(metricSum(metrics, 'tocsin_rejected_total', { reason: 'too-large' })).toBe(tally.byStatus.get(413));
    expect(metricSum(metrics, 'tocsin_incidents_total')).toBe(tally.accepted);
    expect(metricSum(metrics, 'tocsin_decisions_total')).toBe(tally.accepted);

    expect(local.pipeline.rejected.count()).toBe(tally.keepable);

    // Whatever the fuzzed incidents held, each notice reached the receiver.
    expect(local.pipeline.deadLetters(1000)).toEqual([]);
    expect(metricSum(metrics, 'tocsin_delivered_total')).toBe(recorder.requests.length);
    expect(confirmed).toEqual([]);
  }, 60_000);
});
