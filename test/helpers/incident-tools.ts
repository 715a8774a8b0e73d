// Local stand-ins for the three incident tools, on a real HTTP server on 127.0.0.1. Each checks
// what the real service checks, from its documented request schema (zod), and answers in the
// service's documented shapes; a test can queue other answers (429 with or without Retry-After,
// 5xx, 4xx) for the next requests. Sources: see the comments at the top of
// shared/channels/pagerduty.ts, splunk-oncall.ts and opsgenie.ts.
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { z } from 'zod';
import type { SendResult } from '../../shared/channels/channel.ts';
import { startRecorder, type HttpRecorder, type RecordedRequest, type Reply } from './http-recorder.ts';

export interface FakeIncidentTool<Accepted> {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly recorder: HttpRecorder;
  /** Requests the service accepted, parsed, in order. */
  readonly accepted: Accepted[];
  /** Requests it refused as the real service would, with why. */
  readonly refused: { readonly request: RecordedRequest; readonly why: string }[];
  /** The next requests get these answers instead (after recording them). */
  answerNext(...replies: Reply[]): void;
  close(): Promise<void>;
}

type Answer<Accepted> = { readonly accepted: Accepted; readonly reply: Reply } | { readonly why: string; readonly reply: Reply };

async function startFake<Accepted>(answer: (request: RecordedRequest) => Answer<Accepted>): Promise<FakeIncidentTool<Accepted>> {
  const accepted: Accepted[] = [];
  const refused: { request: RecordedRequest; why: string }[] = [];
  const queued: Reply[] = [];
  const recorder = await startRecorder((request) => {
    const next = queued.shift();
    if (next !== undefined) return next;
    const result = answer(request);
    if ('accepted' in result) accepted.push(result.accepted);
    else refused.push({ request, why: result.why });
    return result.reply;
  });
  return {
    url: recorder.url,
    recorder,
    accepted,
    refused,
    answerNext: (...replies) => {
      queued.push(...replies);
    },
    close: () => recorder.close(),
  };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

const issuesOf = (error: z.ZodError): string[] => error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);

// ---------------------------------------------------------------------------------------------
// PagerDuty Events API v2

const pagerDutyLink = z.strictObject({ href: z.url(), text: z.string().optional() });
const pagerDutyPayload = z.strictObject({
  summary: z.string().min(1).max(1024),
  source: z.string().min(1),
  severity: z.enum(['critical', 'error', 'warning', 'info']),
  timestamp: z.iso.datetime({ offset: true }).optional(),
  component: z.string().optional(),
  group: z.string().optional(),
  class: z.string().optional(),
  custom_details: z.record(z.string(), z.unknown()).optional(),
});
export const pagerDutyEventSchema = z
  .strictObject({
    routing_key: z.string().length(32),
    event_action: z.enum(['trigger', 'acknowledge', 'resolve']),
    dedup_key: z.string().min(1).max(255).optional(),
    client: z.string().optional(),
    client_url: z.url().optional(),
    payload: pagerDutyPayload.optional(),
    links: z.array(pagerDutyLink).optional(),
    images: z.array(z.strictObject({ src: z.url(), href: z.url().optional(), alt: z.string().optional() })).optional(),
  })
  .refine((event) => event.event_action !== 'trigger' || event.payload !== undefined, 'a trigger needs a payload')
  .refine((event) => event.event_action === 'trigger' || event.dedup_key !== undefined, 'acknowledge and resolve need a dedup_key');
export type PagerDutyEventBody = z.infer<typeof pagerDutyEventSchema>;

/** Events API v2 on POST /v2/enqueue for one integration's routing key. */
export function startFakePagerDuty(routingKey: string): Promise<FakeIncidentTool<PagerDutyEventBody>> {
  const invalid = (errors: string[]): Reply => json(400, { status: 'invalid event', message: 'Event object is invalid', errors });
  return startFake<PagerDutyEventBody>((request) => {
    if (request.method !== 'POST' || request.path !== '/v2/enqueue') return { why: 'not the enqueue endpoint', reply: json(404, { status: 'not found' }) };
    if (!/^application\/json/.test(request.headers['content-type'] ?? '')) return { why: 'not JSON', reply: invalid(['content type must be application/json']) };
    const parsed = pagerDutyEventSchema.safeParse(parseJson(request.body));
    if (!parsed.success) return { why: issuesOf(parsed.error).join('; '), reply: invalid(issuesOf(parsed.error)) };
    if (parsed.data.routing_key !== routingKey) return { why: 'unknown routing key', reply: invalid(['Invalid routing key']) };
    const dedupKey = parsed.data.dedup_key ?? randomUUID();
    return { accepted: parsed.data, reply: json(202, { status: 'success', message: 'Event processed', dedup_key: dedupKey }) };
  });
}

// ---------------------------------------------------------------------------------------------
// Splunk On-Call REST endpoint integration

export const splunkOnCallAlertSchema = z.looseObject({
  message_type: z.enum(['CRITICAL', 'WARNING', 'ACKNOWLEDGEMENT', 'INFO', 'RECOVERY']),
  entity_id: z.string().min(1).optional(),
  entity_display_name: z.string().optional(),
  state_message: z.string().optional(),
  state_start_time: z.int().positive().optional(),
  monitoring_tool: z.string().optional(),
});
export type SplunkOnCallAlertBody = z.infer<typeof splunkOnCallAlertSchema> & { readonly routingKey: string };

export const SPLUNK_ONCALL_PATH = '/integrations/generic/20131114/alert';

/** POST /integrations/generic/20131114/alert/<REST API key>/<routing key>. */
export function startFakeSplunkOnCall(apiKey: string): Promise<FakeIncidentTool<SplunkOnCallAlertBody>> {
  const failure = (status: number, message: string): Reply => json(status, { result: 'failure', message });
  return startFake<SplunkOnCallAlertBody>((request) => {
    const match = new RegExp(`^${SPLUNK_ONCALL_PATH}/([^/?]+)/([^/?]+)$`).exec(request.path);
    if (request.method !== 'POST' || match === null) return { why: 'not the REST endpoint', reply: failure(404, 'Not found') };
    const [, key, routingKey] = match as unknown as [string, string, string];
    if (decodeURIComponent(key) !== apiKey) return { why: 'unknown API key', reply: failure(403, 'Invalid API key') };
    const parsed = splunkOnCallAlertSchema.safeParse(parseJson(request.body));
    if (!parsed.success) return { why: issuesOf(parsed.error).join('; '), reply: failure(400, issuesOf(parsed.error).join('; ')) };
    const entityId = parsed.data.entity_id ?? randomUUID();
    return { accepted: { ...parsed.data, routingKey: decodeURIComponent(routingKey) }, reply: json(200, { result: 'success', entity_id: entityId }) };
  });
}

// ---------------------------------------------------------------------------------------------
// Opsgenie Alert API

const opsgenieResponder = z.looseObject({ type: z.enum(['team', 'user', 'escalation', 'schedule']) });
export const opsgenieCreateSchema = z.strictObject({
  message: z.string().min(1).max(130),
  alias: z.string().max(512).optional(),
  description: z.string().max(15_000).optional(),
  responders: z.array(opsgenieResponder).max(50).optional(),
  visibleTo: z.array(opsgenieResponder).max(50).optional(),
  actions: z.array(z.string().max(50)).max(10).optional(),
  tags: z.array(z.string().max(50)).max(20).optional(),
  details: z
    .record(z.string(), z.string())
    .refine((details) => Object.entries(details).reduce((sum, [key, value]) => sum + key.length + value.length, 0) <= 8000, 'details may hold 8000 characters in total')
    .optional(),
  entity: z.string().max(512).optional(),
  source: z.string().max(100).optional(),
  priority: z.enum(['P1', 'P2', 'P3', 'P4', 'P5']).optional(),
  user: z.string().max(100).optional(),
  note: z.string().max(25_000).optional(),
});
const opsgenieActionSchema = z.strictObject({
  user: z.string().max(100).optional(),
  source: z.string().max(100).optional(),
  note: z.string().max(25_000).optional(),
});
const opsgenieNoteSchema = opsgenieActionSchema.extend({ note: z.string().min(1).max(25_000) });

export type OpsgenieRequest =
  | { readonly action: 'create'; readonly body: z.infer<typeof opsgenieCreateSchema> }
  | { readonly action: 'close' | 'note'; readonly alias: string; readonly body: z.infer<typeof opsgenieActionSchema> };

/** POST /v2/alerts, /v2/alerts/<alias>/close and /notes with identifierType=alias, GenieKey auth. */
export function startFakeOpsgenie(apiKey: string): Promise<FakeIncidentTool<OpsgenieRequest>> {
  const answer = (status: number, body: Record<string, unknown>): Reply => json(status, { ...body, took: 0.01, requestId: randomUUID() });
  const processed = answer(202, { result: 'Request will be processed' });
  return startFake<OpsgenieRequest>((request) => {
    if (request.headers.authorization !== `GenieKey ${apiKey}`) {
      return { why: 'bad authorization header', reply: answer(401, { message: 'Could not authenticate' }) };
    }
    const url = new URL(request.path, 'http://opsgenie.invalid');
    const body = parseJson(request.body);
    const unprocessable = (error: z.ZodError): Answer<OpsgenieRequest> => ({
      why: issuesOf(error).join('; '),
      reply: answer(422, { message: `Request body is not processable. ${issuesOf(error).join('; ')}` }),
    });
    if (request.method === 'POST' && url.pathname === '/v2/alerts') {
      const parsed = opsgenieCreateSchema.safeParse(body);
      return parsed.success ? { accepted: { action: 'create', body: parsed.data }, reply: processed } : unprocessable(parsed.error);
    }
    const action = /^\/v2\/alerts\/([^/]+)\/(close|notes)$/.exec(url.pathname);
    if (request.method === 'POST' && action !== null && url.searchParams.get('identifierType') === 'alias') {
      const [, alias, verb] = action as unknown as [string, string, 'close' | 'notes'];
      const parsed = (verb === 'close' ? opsgenieActionSchema : opsgenieNoteSchema).safeParse(body);
      if (!parsed.success) return unprocessable(parsed.error);
      return { accepted: { action: verb === 'close' ? 'close' : 'note', alias: decodeURIComponent(alias), body: parsed.data }, reply: processed };
    }
    return { why: `no such endpoint ${request.method} ${request.path}`, reply: answer(404, { message: 'Not found' }) };
  });
}

// ---------------------------------------------------------------------------------------------
// The answers every incident tool gives beyond success, checked the same way for each.

export interface ToolAnswerCases {
  /** The running fake (started in beforeAll, so only call this inside a test). */
  readonly fake: () => FakeIncidentTool<unknown>;
  /** Delivers one firing notice through the channel to the fake. */
  readonly deliver: () => Promise<SendResult>;
  /** The service's permanent refusal, as it words it (its body may echo the credential). */
  readonly permanent: Reply;
  /** Strings that must never reach a failure reason. */
  readonly secrets: readonly string[];
}

export function itClassifiesToolAnswers(cases: ToolAnswerCases): void {
  const noSecret = (reason: string): void => {
    for (const secret of cases.secrets) expect(reason).not.toContain(secret);
  };
  it('reports the documented refusal as permanent, in the service’s words, without the credential', async () => {
    cases.fake().answerNext(cases.permanent);
    const result = await cases.deliver();
    expect(result).toMatchObject({ ok: false, retryable: false });
    const reason = result.ok ? '' : result.reason;
    expect(reason).toMatch(new RegExp(`^HTTP ${String(cases.permanent.status)}: `));
    noSecret(reason);
  });
  it('retries a 429 after the Retry-After it was given', async () => {
    cases.fake().answerNext({ status: 429, headers: { 'retry-after': '30' }, body: '{"message":"rate limited"}' });
    const result = await cases.deliver();
    expect(result).toMatchObject({ ok: false, retryable: true, retryAfterMs: 30_000 });
  });
  it('retries a 429 without Retry-After with the worker’s own backoff', async () => {
    cases.fake().answerNext({ status: 429, body: '' });
    const result = await cases.deliver();
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect(result.ok ? 0 : result.retryAfterMs).toBeUndefined();
  });
  it('retries 500, 502 and 503', async () => {
    for (const status of [500, 502, 503]) {
      cases.fake().answerNext({ status, body: 'upstream trouble' });
      const result = await cases.deliver();
      expect(result).toMatchObject({ ok: false, retryable: true });
      noSecret(result.ok ? '' : result.reason);
    }
  });
  it('succeeds again once the service answers normally', async () => {
    await expect(cases.deliver()).resolves.toEqual({ ok: true });
  });
}
