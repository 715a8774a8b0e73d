// The local pipeline: the cloud flow's stages in one process, on the local SQLite database.
//
//   accept   one transaction: the raw request, one incidents-queue row and a "received" history
//            entry per incident. The caller answers 2xx only after it is committed.
//   dispatch takes incidents in arrival order; per incident one savepoint: dedup (the SQLite
//            store), routing, its delivery jobs queued, the decision in the history, the
//            incident off the queue. All or nothing, so a crash can neither lose the jobs of a
//            decision nor make them twice.
//   group    a notice for a channel that a route groups (groupBy) is not queued but added to
//            its group's pending notices in the same savepoint (shared/grouping/sqlite.ts);
//            when the group's timer falls due, one transaction takes them and queues one digest
//            job per group and channel, with the group's next sequence as its transition.
//   deliver  takes due jobs, at most `deliveryConcurrency` at once and one at a time per
//            fingerprint and channel (queues.ts), runs the shared delivery worker (claims and
//            the cursor of each incident and channel, backoff, give-up rules), then records the
//            outcome, with the cursor in the same transaction: off the queue, rescheduled with
//            its next attempt time, or dead-lettered with the reason. The queue already keeps
//            each line in order; the claims hold the same rule as in the cloud (a notice older
//            than one told is dropped), so a redriven dead letter cannot undo a later notice
//            either.
//
// Nothing lives only in memory: after a restart undispatched incidents are dispatched, jobs
// resume at their due time, and dead letters stay listed. A job whose send was under way when
// the process died is sent again (with the same delivery id; the receiver can drop the copy).
import type { TocsinConfig } from '../config/index.ts';
import { acknowledge, decideDue, type DecideContext } from '../dedup/decide.ts';
import { dueAtOf } from '../dedup/record.ts';
import { SqliteIncidentStore } from '../dedup/sqlite-store.ts';
import { SqliteMessageRefs } from '../message-refs/sqlite.ts';
import { backoffDelay } from '../delivery/backoff.ts';
import { SqliteDeliveryClaims } from '../delivery/claims-sqlite.ts';
import { SqliteRateLimitStore } from '../delivery/rate-limit-sqlite.ts';
import { deliveryIdOf, jobTitle, type DeliveryJob } from '../delivery/job.ts';
import { deliveryKeyOf, runDeliveryJob, type DeliveryOutcome } from '../delivery/worker.ts';
import type { Incident, Status } from '../incident.ts';
import { planDispatch, type DispatchDecision, type DispatchResult } from '../pipeline/dispatch.ts';
import { SqliteDigestGroups } from '../grouping/sqlite.ts';
import type { DigestToSend } from '../grouping/port.ts';
import { createRouter, type Router } from '../routing/index.ts';
import { isDiskFull, type LocalDatabase } from './database.ts';
import { History, type DecisionDetail, type HistoryEntry, type ReceivedDetail } from './history.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { LocalQueues, type DeadLetterRow, type QueueDepths, type QueuedDeliveryRow, type QueuedIncidentRow } from './queues.ts';
import { RejectedPayloads, type RejectedEntry, type RejectedMeta } from './rejected.ts';
import type { Hold, IncidentRecord } from '../dedup/record.ts';
import type { Silence } from '../silences/silence.ts';
import { decideContextFor } from '../pipeline/context.ts';
import { LocalSilences } from './silences.ts';

export interface LocalPipelineOptions {
  readonly config: TocsinConfig;
  readonly database: LocalDatabase;
  readonly now?: () => Date;
  /**
   * Sends under way at once. Each channel target's rate limit (shared/delivery/rate-limit.ts)
   * keeps receivers within what they accept; this only bounds open sockets and memory. A send
   * holds its slot through its claim, the request and the recording of its outcome (one group
   * commit: the claim's cursor is written with the outcome), so at 8 the pipeline could not keep
   * up with 500 new alerts/s to one webhook.
   */
  readonly deliveryConcurrency?: number;
  /** Where delivery problems are told (one line each); nowhere by default. */
  readonly log?: (line: string) => void;
  /** For backoff jitter; tests pass a fixed one. */
  readonly random?: () => number;
  /** How long history entries and accepted requests are kept; 14 days by default. */
  readonly historyRetentionMs?: number;
  /**
   * Run the scheduler (reminders on a timer, holds that end, auto-resolve); on by default. Off,
   * only news from the sources moves incidents (for tests that count what repeats alone make).
   */
  readonly scheduler?: boolean;
}

export interface AcceptedRequest {
  readonly incidents: readonly Incident[];
  /** A replayed rejected request: taken off the rejected list in the same transaction. */
  readonly replayOf?: number | undefined;
  readonly receivedAt: Date;
  /** The request path it came in on. */
  readonly path: string;
  readonly contentType?: string | undefined;
  readonly body: Uint8Array;
}

export interface StopSummary {
  /** Every send under way finished within the bound. */
  readonly settled: boolean;
  /** Sends still under way when the bound passed (resent at the next start). */
  readonly interrupted: number;
  readonly depths: QueueDepths;
  /** Rejected payloads kept. */
  readonly rejected: number;
}

export type AckOutcome =
  | { readonly kind: 'acknowledged'; readonly record: IncidentRecord }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'not-firing'; readonly record: IncidentRecord };

/** A decision's plan, and when its record's timer falls due (dueAtOf), if it has one. */
type DecidedPlan = ReturnType<typeof planDispatch> & { readonly dueAtMs?: number | undefined };

export type IncidentView = IncidentRecord & { readonly deliveries: readonly Extract<HistoryEntry, { kind: 'delivery' }>[] };

/**
 * Incidents dispatched per transaction. Small, and the loop yields between batches: dispatch runs
 * on the event loop, and a long synchronous stretch delays every send's I/O until its timeout
 * fires first (timers run before I/O), which turns a receiver's 2xx into a retry and a copy.
 */
const DISPATCH_BATCH = 32;
const DISPATCH_MAX_ATTEMPTS = 5;
const DEFAULT_DELIVERY_CONCURRENCY = 32;
/** Records whose timer fell due, looked at per transaction. */
const DUE_BATCH = 32;
/** A timer that is still due right after it was handled (settings changed) is looked at again this much later. */
const DUE_RETRY_MS = 60_000;
/** Ended silences are kept this long for the list. */
const SILENCE_RETENTION_MS = 14 * 24 * 3_600_000;
const HISTORY_PER_INCIDENT_IN_LIST = 20;
const DEFAULT_HISTORY_RETENTION_MS = 14 * 24 * 3_600_000;
const HOUSEKEEPING_EVERY_MS = 10 * 60_000;
/** After the database refuses a write (a full disk), writers wait this long, doubling up to the max. */
const WRITE_BACKOFF_MIN_MS = 500;
const WRITE_BACKOFF_MAX_MS = 30_000;
/** A long sleep is cut into pieces, so timers never overflow and a clock jump is noticed. */
const MAX_TIMER_MS = 60_000;

export class LocalPipeline {
  readonly config: TocsinConfig;
  readonly database: LocalDatabase;
  readonly store: SqliteIncidentStore;
  readonly claims: SqliteDeliveryClaims;
  /** The message each channel posted per incident (Slack bot mode edits it on resolve). */
  readonly messageRefs: SqliteMessageRefs;
  readonly queues: LocalQueues;
  /** Rate limits per channel target and the SMS daily count: a reservation survives a restart. */
  readonly rateLimits: SqliteRateLimitStore;
  readonly history: History;
  readonly rejected: RejectedPayloads;
  readonly silences: LocalSilences;
  /** Notices waiting in groups for their digest, and the group timers. */
  readonly groups: SqliteDigestGroups;
  readonly metrics: Metrics;
  readonly #router: Router;
  readonly #now: () => Date;
  readonly #concurrency: number;
  readonly #log: (line: string) => void;
  readonly #random: (() => number) | undefined;
  readonly #retentionMs: number;
  readonly #scheduler: boolean;
  readonly #sending = new Map<number, Promise<void>>();
  /** Outcomes that could not be committed (a full disk): held here, off the queue's takes, until they can. */
  readonly #unrecorded = new Map<number, { readonly row: QueuedDeliveryRow; readonly outcome: DeliveryOutcome; readonly at: Date }>();
  /** After the database refused a write, dispatch and recording wait this long (growing). */
  #writeBackoffMs = 0;
  #pausedUntilMs = 0;
  #dispatchScheduled = false;
  #pumpScheduled = false;
  #dispatching = false;
  #ticking = false;
  #flushing = false;
  #timer: NodeJS.Timeout | undefined;
  /** When #timer fires (epoch ms); undefined while none is set. */
  #wakeAtMs: number | undefined;
  #housekeeping: NodeJS.Timeout | undefined;
  #running = false;
  #stopping = false;

  constructor(options: LocalPipelineOptions) {
    this.config = options.config;
    this.database = options.database;
    this.#now = options.now ?? (() => new Date());
    this.#concurrency = options.deliveryConcurrency ?? DEFAULT_DELIVERY_CONCURRENCY;
    this.#log = options.log ?? (() => undefined);
    this.#random = options.random;
    this.#retentionMs = options.historyRetentionMs ?? DEFAULT_HISTORY_RETENTION_MS;
    this.#scheduler = options.scheduler ?? true;
    this.store = new SqliteIncidentStore(options.database, { settings: options.config.dedup, now: this.#now });
    // A completed send's cursor is written with its outcome (#record): one commit per send.
    this.claims = new SqliteDeliveryClaims(options.database, { deferCompletion: true });
    this.messageRefs = new SqliteMessageRefs(options.database, { now: this.#now });
    this.queues = new LocalQueues(options.database);
    this.rateLimits = new SqliteRateLimitStore(options.database);
    this.history = new History(options.database);
    this.rejected = new RejectedPayloads(options.database);
    this.silences = new LocalSilences(options.database);
    this.groups = new SqliteDigestGroups(options.database);
    this.#router = createRouter(options.config);
    this.metrics = createMetrics(() => {
      const depths = this.depths();
      return {
        incidents: depths.incidents,
        deliveries: depths.deliveriesReady,
        deliveries_delayed: depths.deliveriesDelayed,
        dead_letters: depths.deadLetters,
      };
    }, () => ({ rowWrites: options.database.rowWrites(), commits: options.database.commits }));
  }

  /** Starts dispatching and delivering what is queued (after a restart too). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#housekeep();
    this.#housekeeping = setInterval(() => {
      this.#housekeep();
    }, HOUSEKEEPING_EVERY_MS).unref();
    this.#dispatchSoon();
    void this.#runDue();
    void this.#flushDueGroups();
  }

  /** What decide() is told about an incident now: what holds it, when it auto-resolves. */
  #contextFor(incident: Incident, nowMs: number): DecideContext {
    return decideContextFor(incident, nowMs, { config: this.config, router: this.#router, silences: this.silences.current(nowMs) });
  }

  /** What holds an incident now (a silence in force, an open maintenance window), if anything. */
  holdOf(incident: Incident): Hold | undefined {
    return this.#contextFor(incident, this.#now().getTime()).hold;
  }

  /** Stores a silence; from now on it holds what it matches. */
  async addSilence(silence: Silence): Promise<void> {
    await this.database.commit(() => {
      this.silences.add(silence);
    });
  }

  /** Ends a silence now; what it held and still fires is told at once. Undefined: no such silence. */
  async expireSilence(id: string): Promise<Silence | undefined> {
    const now = this.#now();
    const ended = await this.database.commit(() => {
      const silence = this.silences.expire(id, now);
      if (silence !== undefined) this.store.wakeHeldBy({ kind: 'silence', id }, now.getTime());
      return silence;
    });
    void this.#runDue();
    return ended;
  }

  /** Acknowledges a firing incident (`by` undefined: takes it back); no reminders while acknowledged. */
  async acknowledge(fingerprint: string, by: string | undefined): Promise<AckOutcome> {
    const now = this.#now();
    const outcome = await this.database.commit((): AckOutcome => {
      const record = this.store.get(fingerprint);
      if (record === undefined) return { kind: 'not-found' };
      if (record.status !== 'firing') return { kind: 'not-firing', record };
      const next = acknowledge(record, by, now, this.config.dedup);
      this.store.put(next);
      this.history.add(fingerprint, 'ack', now.toISOString(), by === undefined ? { acknowledged: false } : { acknowledged: true, by });
      return { kind: 'acknowledged', record: next };
    });
    void this.#runDue();
    return outcome;
  }

  /** Handles the records whose timer fell due: reminders, holds that ended, auto-resolve. */
  async #runDue(): Promise<void> {
    if (!this.#scheduler || this.#ticking || this.#stopping || !this.#running || this.#now().getTime() < this.#pausedUntilMs) return;
    this.#ticking = true;
    let more = false;
    try {
      const now = this.#now();
      const fingerprints = this.store.dueFingerprints(now.getTime(), DUE_BATCH);
      if (fingerprints.length > 0) {
        const decisions = await this.database.commit(() => fingerprints.map((fingerprint) => this.#dueOne(fingerprint, now)));
        this.#writeSucceeded();
        for (const action of decisions) if (action !== undefined) this.metrics.decisions.inc({ action });
        more = fingerprints.length === DUE_BATCH;
      }
    } catch (error) {
      this.#log(`tocsin: scheduled reminders failed (${describe(error)}); retried shortly`);
      this.#writeFailed();
    } finally {
      this.#ticking = false;
    }
    if (more) setImmediate(() => void this.#runDue());
    this.#pump();
  }

  /**
   * Queues the plan's delivery jobs, inside the caller's transaction; a job for a channel its
   * route groups goes into the group's pending notices instead (told in the group's next digest).
   */
  #queueOrGroup<Decision extends DispatchDecision>(plan: DispatchResult<Decision>, receivedAtMs: number, nowMs: number): { grouped?: string[] } {
    const groups = plan.routing?.groups;
    const queued: DeliveryJob[] = [];
    const grouped: string[] = [];
    for (const job of plan.jobs) {
      const assignment = groups?.[job.channel];
      if (assignment === undefined) {
        queued.push(job);
        continue;
      }
      this.groups.add(assignment, job.channel, { event: job.event, transitionId: job.transitionId, incident: job.incident }, nowMs);
      grouped.push(job.channel);
    }
    this.queues.enqueueDeliveries(queued, receivedAtMs, nowMs);
    // For the decision's history entry: the channels told in a digest later, not now.
    return grouped.length > 0 ? { grouped } : {};
  }

  /** Makes the digests of the groups whose timer fell due and queues their jobs (one transaction per batch). */
  async #flushDueGroups(): Promise<void> {
    if (this.#flushing || this.#stopping || !this.#running || this.#now().getTime() < this.#pausedUntilMs) return;
    this.#flushing = true;
    let more = false;
    try {
      const now = this.#now();
      const nowMs = now.getTime();
      const due = this.groups.due(nowMs, DUE_BATCH);
      if (due.length > 0) {
        const channels = await this.database.commit(() => due.flatMap((key) => this.#queueDigests(this.groups.flush(key, nowMs), now)));
        this.#writeSucceeded();
        for (const channel of channels) this.metrics.digests.inc({ channel });
        more = due.length === DUE_BATCH;
      }
    } catch (error) {
      this.#log(`tocsin: making digests failed (${describe(error)}); retried shortly`);
      this.#writeFailed();
    } finally {
      this.#flushing = false;
    }
    if (more) setImmediate(() => void this.#flushDueGroups());
    this.#pump();
  }

  /** One digest job per digest (its event and incident are its worst item's, for logs and lists); returns their channels. */
  #queueDigests(digests: readonly DigestToSend[], now: Date): string[] {
    const nowMs = now.getTime();
    const channels: string[] = [];
    for (const { channel, transitionId, ...digest } of digests) {
      const [lead] = digest.items;
      if (lead === undefined) continue;
      this.queues.enqueueDeliveries([{ event: lead.event, incident: lead.incident, channel, transitionId, attempt: 1, digest }], nowMs, nowMs);
      channels.push(channel);
    }
    return channels;
  }

  /** One due record, inside the caller's transaction: the scheduler's decision, its jobs and its history entry. */
  #dueOne(fingerprint: string, now: Date): string | undefined {
    const nowMs = now.getTime();
    const record = this.store.get(fingerprint);
    if (record === undefined) {
      this.store.dropTimer(fingerprint);
      return undefined;
    }
    const result = decideDue(record, now, this.config.dedup, this.#contextFor(record.incident, nowMs));
    if (result.write === 'none') {
      this.store.dropTimer(fingerprint);
      return undefined;
    }
    this.store.put(result.next);
    const dueAt = dueAtOf(result.next);
    if (dueAt !== undefined && dueAt <= nowMs) this.store.setTimer(fingerprint, nowMs + DUE_RETRY_MS);
    const { decision } = result;
    if (decision === undefined) return undefined;
    const plan = planDispatch(result.incident, { decision, record: result.next }, this.#router, false, { publicUrl: this.config.publicUrl });
    const grouped = this.#queueOrGroup(plan, nowMs, nowMs);
    this.history.add(fingerprint, 'decision', now.toISOString(), {
      action: decision.action,
      trigger: 'timer',
      ...(decision.action === 'suppressed'
        ? { reason: decision.reason, held: result.next.held }
        : { transitionId: decision.transitionId, channels: plan.jobs.map((job) => job.channel), ...grouped }),
    });
    return decision.action;
  }

  /**
   * Commits the request and its incidents; resolves once they are on disk. In the common case
   * (nothing waiting on the incidents queue, so deciding now keeps arrival order) the incidents
   * are decided in the same transaction: no queue row written and deleted, no second commit,
   * and their delivery jobs are ready when the 202 goes out. Otherwise, or if deciding throws,
   * they wait on the queue for dispatch, as before.
   */
  async accept(request: AcceptedRequest): Promise<void> {
    const stage = { deciding: false };
    const plans = await this.database.commit(
      () => this.#acceptWork(request, true, stage),
      // A decision that throws (a bug, a bad record) must not cost the request its 202: its
      // changes are undone and the request is written again with its incidents on the queue,
      // where dispatch retries them and dead-letters them with the reason. A full disk fails the
      // whole request (503, nothing kept), and so does anything that failed before deciding.
      (error) => {
        if (!stage.deciding || isDiskFull(error)) throw error;
        this.#log(`tocsin: deciding at accept failed (${describe(error)}); the incidents are queued for dispatch`);
        return this.#acceptWork(request, false, stage);
      },
    );
    for (const incident of request.incidents) this.metrics.incidents.inc({ source: incident.source.kind });
    if (plans === undefined) this.#dispatchSoon();
    else this.#decided(plans);
  }

  /**
   * Inside accept's transaction: the raw request and a "received" history entry per incident,
   * then the decisions now (returned), or undefined when the incidents were queued instead.
   */
  #acceptWork(request: AcceptedRequest, mayDecide: boolean, stage: { deciding: boolean }): DecidedPlan[] | undefined {
    const receivedAtIso = request.receivedAt.toISOString();
    const receivedAtMs = request.receivedAt.getTime();
    const { incidents } = request;
    const payloadId = this.history.savePayload(receivedAtIso, request.path, request.contentType, request.body);
    if (request.replayOf !== undefined) this.rejected.remove(request.replayOf);
    const received = (incident: Incident): ReceivedDetail => ({ path: request.path, status: incident.status, payloadId, bytes: request.body.byteLength });
    const now = this.#now();
    if (!mayDecide || !this.#running || this.#stopping || now.getTime() < this.#pausedUntilMs || this.queues.hasPendingIncidents()) {
      for (const incident of incidents) this.history.add(incident.fingerprint, 'received', receivedAtIso, received(incident));
      this.queues.enqueueIncidents(incidents, receivedAtMs);
      return undefined;
    }
    stage.deciding = true;
    const decidedAtIso = now.toISOString();
    if (incidents.length === 1 || new Set(incidents.map((incident) => incident.fingerprint)).size === incidents.length) {
      // Each incident's "received" and "decision" entries in one row (read back as the two).
      return incidents.map((incident) => {
        const { plan, detail } = this.#decision(incident, receivedAtMs, now);
        this.history.addReceivedAndDecided(incident.fingerprint, receivedAtIso, received(incident), decidedAtIso, detail);
        return plan;
      });
    }
    // The same alert twice in one request: every "received" first, then the decisions, in order.
    for (const incident of incidents) this.history.add(incident.fingerprint, 'received', receivedAtIso, received(incident));
    return incidents.map((incident) => this.#decide(incident, receivedAtMs, now));
  }

  /** Keeps a refused request's bytes and reason; resolves once they are on disk. */
  reject(meta: RejectedMeta, body: Uint8Array): Promise<RejectedEntry> {
    return this.database.commit(() => this.rejected.add(meta, body));
  }

  depths(): QueueDepths {
    return this.queues.depths(this.#now().getTime());
  }

  /** Live incidents, the most recently seen first, each with its latest delivery attempts. */
  listIncidents(options: { readonly limit: number; readonly status?: Status | undefined }): IncidentView[] {
    return this.store
      .list(options)
      .map((record) => ({ ...record, deliveries: this.history.deliveries(record.fingerprint, HISTORY_PER_INCIDENT_IN_LIST) }));
  }

  /** One incident's record (if live) and its whole history. */
  incident(fingerprint: string): { readonly record?: IncidentRecord | undefined; readonly history: HistoryEntry[] } | undefined {
    const record = this.store.get(fingerprint);
    const history = this.history.of(fingerprint);
    if (record === undefined && history.length === 0) return undefined;
    return { record, history };
  }

  deadLetters(limit: number): DeadLetterRow[] {
    return this.queues.deadLetters(limit);
  }

  /** Puts every dead letter back on its queue, due now; returns how many. */
  async redrive(): Promise<number> {
    const nowMs = this.#now().getTime();
    const moved = await this.database.commit(() => this.queues.redriveDeliveries(nowMs) + this.queues.redriveIncidents(nowMs));
    this.#dispatchSoon();
    return moved;
  }

  /**
   * Waits (bounded) until nothing is queued, waiting to retry or being sent; true when so.
   * Dead letters do not count. For tests and benchmarks.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const depths = this.depths();
      if (depths.incidents + depths.deliveriesReady + depths.deliveriesDelayed + this.groups.pendingCount() === 0 && this.#sending.size === 0) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /**
   * Stops taking work: no new sends start; sends under way get `boundMs` to finish and their
   * outcomes are recorded. Everything else stays queued in the database.
   */
  async stop(boundMs: number): Promise<StopSummary> {
    this.#stopping = true;
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#housekeeping) clearInterval(this.#housekeeping);
    let bound: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      Promise.allSettled([...this.#sending.values()]).then(() => true),
      new Promise<boolean>((resolve) => {
        bound = setTimeout(() => {
          resolve(false);
        }, boundMs);
      }),
    ]);
    if (bound) clearTimeout(bound);
    this.database.flush();
    await this.#recordHeld().catch(() => undefined);
    return { settled, interrupted: this.#sending.size + this.#unrecorded.size, depths: this.depths(), rejected: this.rejected.count() };
  }

  /** A method, not the field: it changes while dispatch awaits its commits. */
  #isStopping(): boolean {
    return this.#stopping;
  }

  #dispatchSoon(): void {
    if (this.#dispatchScheduled || !this.#running) return;
    this.#dispatchScheduled = true;
    setImmediate(() => {
      this.#dispatchScheduled = false;
      void this.#dispatch();
    });
  }

  async #dispatch(): Promise<void> {
    if (this.#dispatching || this.#stopping || this.#now().getTime() < this.#pausedUntilMs) return;
    this.#dispatching = true;
    try {
      for (;;) {
        const rows = this.queues.takeIncidents(this.#now().getTime(), DISPATCH_BATCH);
        if (rows.length === 0) break;
        // One savepoint per incident, all in one group commit.
        const failures = (await Promise.all(rows.map((row) => this.#dispatchOne(row)))).filter((failure) => failure !== undefined);
        if (failures.length > 0) {
          this.#log(`tocsin: dispatch failed for ${String(failures.length)} incident(s) (${failures[0] ?? ''}); they stay queued and are retried`);
          this.#writeFailed();
          break;
        }
        this.#writeSucceeded();
        if (this.#isStopping()) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      this.#log(`tocsin: cannot read the incidents queue: ${describe(error)}`);
    } finally {
      this.#dispatching = false;
    }
    this.#pump();
  }

  /**
   * Dedup, routing and the delivery jobs of one incident, inside the caller's transaction: the
   * record written, its jobs queued and the decision in the history, all or nothing.
   */
  #decide(incident: Incident, receivedAtMs: number, now: Date): DecidedPlan {
    const { plan, detail } = this.#decision(incident, receivedAtMs, now);
    this.history.add(incident.fingerprint, 'decision', now.toISOString(), detail);
    return plan;
  }

  /** #decide without its history entry: the plan, and the entry's detail for the caller to write. */
  #decision(incident: Incident, receivedAtMs: number, now: Date): { plan: DecidedPlan; detail: DecisionDetail } {
    const context = this.#contextFor(incident, now.getTime());
    const applied = this.store.applySync(incident, now, new Date(receivedAtMs), context);
    const plan = { ...planDispatch(incident, applied, this.#router, false, { hold: context.hold, publicUrl: this.config.publicUrl }), dueAtMs: dueAtOf(applied.record) };
    const grouped = this.#queueOrGroup(plan, receivedAtMs, now.getTime());
    const detail: DecisionDetail = {
      action: plan.decision.action,
      ...(plan.decision.action === 'suppressed'
        ? { reason: plan.decision.reason, ...(plan.decision.reason === 'silenced' ? { held: applied.record.held } : {}) }
        : { transitionId: plan.decision.transitionId, channels: plan.jobs.map((job) => job.channel), ...grouped }),
    };
    return { plan, detail };
  }

  /** After the decisions are committed: the metrics, and their jobs on their way. */
  #decided(plans: readonly DecidedPlan[]): void {
    for (const { decision } of plans) {
      this.metrics.decisions.inc({ action: decision.action });
      if (decision.action === 'suppressed') this.metrics.suppressed.inc({ reason: decision.reason });
    }
    // Also when nothing is to be sent but a decision set a record's timer (a silence's end, a
    // reminder) before the pipeline next wakes: the sleep must be cut to it. A repeat that
    // changes neither (the common case flat out) wakes nothing: the pump's reads are not free.
    const wakeAtMs = this.#wakeAtMs;
    if (plans.some((plan) => plan.jobs.length > 0 || (this.#scheduler && plan.dueAtMs !== undefined && (wakeAtMs === undefined || plan.dueAtMs < wakeAtMs)))) this.#pumpSoon();
  }

  /**
   * One pump for everything settled together: the decisions of one group commit, the sends whose
   * outcomes one group commit recorded. It runs once the promise callbacks of the moment have
   * (process.nextTick), not a turn of the event loop later: a turn under load reads every
   * socket that is ready first, and each alert waited for it once more on its way out.
   */
  #pumpSoon(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    process.nextTick(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  /** Dispatches one queued incident; returns why it failed, if it did. */
  async #dispatchOne(row: QueuedIncidentRow): Promise<string | undefined> {
    const now = this.#now();
    try {
      const plan = await this.database.commit(() => {
        const decided = this.#decide(row.incident, row.receivedAtMs, now);
        this.queues.removeIncident(row.id);
        return decided;
      });
      this.#decided([plan]);
      return undefined;
    } catch (error) {
      // A full disk is nobody's fault and passes: the incident stays as it is, attempts uncounted.
      if (isDiskFull(error)) return describe(error);
      // This incident's savepoint was rolled back: retry it later, and give up on it (a dead
      // letter with the reason) if it keeps failing.
      const reason = describe(error);
      const nowMs = now.getTime();
      await this.database
        .commit(() => {
          if (row.attempt >= DISPATCH_MAX_ATTEMPTS) this.queues.deadLetterIncident(row.id, `gave up after ${String(row.attempt)} attempts: ${reason}`, nowMs);
          else this.queues.retryIncident(row.id, nowMs + backoffDelay(row.attempt, this.#backoffOptions()), reason);
        })
        .catch(() => undefined);
      return reason;
    }
  }

  /** Starts due deliveries up to the concurrency, then sleeps until the next one falls due. */
  #pump(): void {
    if (!this.#running || this.#stopping) return;
    const free = this.#concurrency - this.#sending.size;
    const nowMs = this.#now().getTime();
    let rows: QueuedDeliveryRow[] = [];
    // What the sleep needs to know of the deliveries queue: `full`, every slot is taken (a send
    // that ends pumps again); a time, every line due by then was taken (the next is due later).
    let taken: 'full' | number | undefined;
    try {
      rows = this.queues.takeDeliveries(nowMs, free, new Set([...this.#sending.keys(), ...this.#unrecorded.keys()]));
      taken = rows.length >= free ? 'full' : nowMs;
    } catch (error) {
      this.#log(`tocsin: cannot read the deliveries queue: ${describe(error)}`);
    }
    for (const row of rows) {
      const sending = this.#deliver(row).finally(() => {
        this.#sending.delete(row.id);
        this.#pumpSoon();
      });
      this.#sending.set(row.id, sending);
    }
    this.#sleepUntilDue(taken);
  }

  #sleepUntilDue(taken: 'full' | number | undefined): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#wakeAtMs = undefined;
    if (!this.#running || this.#stopping) return;
    const nowMs = this.#now().getTime();
    let next: number | undefined;
    try {
      const incidents = this.queues.nextIncidentDueAtMs();
      const deliveries = taken === 'full' ? undefined : this.queues.nextDeliveryDueAtMs(new Set([...this.#sending.keys(), ...this.#unrecorded.keys()]), taken);
      const timers = this.#scheduler ? this.store.nextDueAtMs() : undefined;
      const groups = this.groups.nextDueAtMs();
      const candidates = [
        incidents === undefined ? undefined : Math.max(incidents, this.#pausedUntilMs),
        deliveries,
        timers === undefined ? undefined : Math.max(timers, this.#pausedUntilMs),
        groups === undefined ? undefined : Math.max(groups, this.#pausedUntilMs),
      ];
      if (this.#unrecorded.size > 0) candidates.push(this.#pausedUntilMs);
      next = Math.min(...candidates.filter((time): time is number => time !== undefined));
    } catch {
      next = nowMs + 1_000;
    }
    if (!Number.isFinite(next)) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, next - nowMs));
    this.#wakeAtMs = nowMs + delay;
    // Unref'd: the server keeps the process alive; a pipeline on its own must not.
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#wakeAtMs = undefined;
      this.#dispatchSoon();
      void this.#runDue();
      void this.#flushDueGroups();
      void this.#recordHeld().then(() => {
        this.#pump();
      });
    }, delay).unref();
  }

  async #deliver(row: QueuedDeliveryRow): Promise<void> {
    const { job } = row;
    let outcome: DeliveryOutcome;
    try {
      outcome = await runDeliveryJob(job, {
        claims: this.claims,
        messageRefs: this.messageRefs,
        channelConfigs: this.config.channels,
        sendTimeoutMs: this.config.delivery.sendTimeoutMs,
        maxAttempts: this.config.delivery.maxAttempts,
        backoff: this.config.delivery.backoff,
        rateLimits: { store: this.rateLimits, settings: this.config.rateLimits },
        now: this.#now,
        ...(this.#random ? { random: this.#random } : {}),
      });
    } catch (error) {
      outcome = {
        kind: 'retry',
        delayMs: backoffDelay(job.attempt, { ...this.config.delivery.backoff, ...this.#backoffOptions() }),
        reason: `delivery worker threw ${describe(error)}`,
      };
    }
    const at = this.#now();
    try {
      await this.database.commit(() => {
        this.#record(row, outcome, at);
      });
    } catch (error) {
      // Not recorded (a full disk): hold the outcome and record it later, never send it again
      // meanwhile (had it been delivered, a resend would be a duplicate).
      this.#unrecorded.set(row.id, { row, outcome, at });
      this.#writeFailed();
      if (!this.#stopping) this.#log(`tocsin: could not record a delivery outcome (${describe(error)}); ${job.channel} ← ${quoted(job)} is held until it can be`);
      return;
    }
    this.claims.completionCommitted(deliveryKeyOf(job));
    this.#writeSucceeded();
    this.#observe(job, outcome, row.receivedAtMs, at.getTime());
  }

  /**
   * One delivery outcome into the database: off the queue, rescheduled or dead-lettered, and the
   * history; and the line's cursor, when the send completed its claim.
   */
  #record(row: QueuedDeliveryRow, outcome: DeliveryOutcome, now: Date): void {
    const { job } = row;
    this.claims.writeCompletion(deliveryKeyOf(job));
    const nowMs = now.getTime();
    const base = {
      channel: job.channel,
      event: job.digest === undefined ? job.event : 'digest',
      attempt: job.attempt,
      deliveryId: deliveryIdOf(deliveryKeyOf(job)),
      ...(job.digest === undefined ? {} : { digest: `${job.digest.groupId}#${String(job.digest.sequence)}` }),
    };
    // A digest's outcome goes in the history of each incident it tells.
    const told = job.digest === undefined ? [job.incident.fingerprint] : job.digest.items.map((item) => item.incident.fingerprint);
    const addDelivery = (detail: Omit<Extract<HistoryEntry, { kind: 'delivery' }>, 'kind' | 'at'>): void => {
      for (const fingerprint of told) this.history.add(fingerprint, 'delivery', now.toISOString(), detail);
    };
    switch (outcome.kind) {
      case 'delivered':
      case 'already-delivered':
      case 'superseded':
        this.queues.removeDelivery(row.id);
        addDelivery({
          ...base,
          outcome: outcome.kind,
          ...(outcome.kind === 'delivered' && outcome.recordError !== undefined ? { reason: outcome.recordError } : {}),
          ...(outcome.kind === 'superseded' ? { reason: `a later notice (${outcome.toldTransitionId}) was already told` } : {}),
        });
        return;
      case 'busy':
        this.queues.postponeDelivery(row.id, nowMs + outcome.delayMs, nowMs);
        return;
      case 'rate-limited': {
        const dueAtMs = nowMs + outcome.delayMs;
        this.queues.deferDelivery(row.id, outcome.job, dueAtMs, outcome.reason, nowMs);
        // Only the destination's own "too many requests" goes in the history: a wait for a slot
        // is the limiter working, one per notice in a storm.
        if (outcome.job.throttled !== job.throttled) {
          this.history.add(job.incident.fingerprint, 'delivery', now.toISOString(), {
            ...base,
            outcome: 'rate-limited',
            reason: outcome.reason,
            nextAttemptAt: new Date(dueAtMs).toISOString(),
          });
        }
        return;
      }
      case 'capped':
        this.queues.removeDelivery(row.id);
        this.history.add(job.incident.fingerprint, 'delivery', now.toISOString(), { ...base, outcome: 'capped', reason: outcome.reason });
        return;
      case 'retry': {
        const dueAtMs = nowMs + outcome.delayMs;
        this.queues.retryDelivery(row.id, dueAtMs, outcome.reason, nowMs);
        addDelivery({
          ...base,
          outcome: 'retry',
          reason: outcome.reason,
          nextAttemptAt: new Date(dueAtMs).toISOString(),
        });
        return;
      }
      case 'dead-letter':
        this.queues.deadLetterDelivery(row.id, outcome.reason, nowMs);
        addDelivery({ ...base, outcome: 'dead-letter', reason: outcome.reason });
        return;
    }
  }

  /** Retries recording the held outcomes, once the write pause is over. */
  async #recordHeld(): Promise<void> {
    if (this.#unrecorded.size === 0 || this.#now().getTime() < this.#pausedUntilMs) return;
    const held = [...this.#unrecorded.values()];
    try {
      await this.database.commit(() => {
        for (const { row, outcome, at } of held) this.#record(row, outcome, at);
      });
    } catch {
      this.#writeFailed();
      return;
    }
    this.#writeSucceeded();
    for (const { row, outcome, at } of held) {
      this.claims.completionCommitted(deliveryKeyOf(row.job));
      this.#unrecorded.delete(row.id);
      this.#observe(row.job, outcome, row.receivedAtMs, at.getTime());
    }
  }

  #writeFailed(): void {
    this.#writeBackoffMs = Math.min(WRITE_BACKOFF_MAX_MS, this.#writeBackoffMs === 0 ? WRITE_BACKOFF_MIN_MS : this.#writeBackoffMs * 2);
    this.#pausedUntilMs = this.#now().getTime() + this.#writeBackoffMs;
  }

  #writeSucceeded(): void {
    this.#writeBackoffMs = 0;
    this.#pausedUntilMs = 0;
  }

  #observe(job: DeliveryJob, outcome: DeliveryOutcome, receivedAtMs: number, nowMs: number): void {
    const { channel } = job;
    const what = `${channel} ← ${quoted(job)} (${job.event})`;
    switch (outcome.kind) {
      case 'delivered':
        this.metrics.delivered.inc({ channel });
        this.metrics.deliverySeconds.observe({ channel }, Math.max(0, nowMs - receivedAtMs) / 1000);
        if (job.attempt > 1) this.#log(`tocsin: delivered ${what} at attempt ${String(job.attempt)}`);
        if (outcome.recordError !== undefined) this.#log(`tocsin: delivered ${what}, but ${outcome.recordError}`);
        return;
      case 'superseded':
        this.#log(`tocsin: dropped ${what}: a later notice of this incident was already told on ${channel}`);
        return;
      case 'already-delivered':
      case 'busy':
        return;
      case 'rate-limited':
        if (outcome.job.throttled !== job.throttled) this.#log(`tocsin: delivery waits: ${what}: ${outcome.reason}`);
        return;
      case 'capped':
        this.#log(`tocsin: not sent: ${what}: ${outcome.reason}`);
        return;
      case 'retry':
        this.metrics.deliveryFailures.inc({ channel, outcome: 'retry' });
        this.#log(
          `tocsin: delivery failed: ${what}: ${outcome.reason}; attempt ${String(job.attempt)} of ${String(this.config.delivery.maxAttempts)}, next in ${humanDelay(outcome.delayMs)}`,
        );
        return;
      case 'dead-letter':
        this.metrics.deliveryFailures.inc({ channel, outcome: 'dead-letter' });
        this.metrics.deadLettered.inc({ channel });
        this.#log(`tocsin: delivery given up: ${what}: ${outcome.reason}; kept as a dead letter (tocsin dlq list, tocsin dlq redrive)`);
        return;
    }
  }

  #housekeep(): void {
    const now = this.#now();
    try {
      this.database.transaction(() => {
        this.store.sweep();
        this.claims.sweep(now);
        this.messageRefs.sweep();
        this.groups.sweep(now);
        this.rateLimits.sweep(now.getTime());
        this.silences.prune(now.getTime() - SILENCE_RETENTION_MS);
        this.history.prune(new Date(now.getTime() - this.#retentionMs).toISOString());
      });
    } catch (error) {
      this.#log(`tocsin: housekeeping failed: ${describe(error)}`);
    }
  }

  #backoffOptions() {
    return this.#random ? { random: this.#random } : {};
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An alert's title for a log line: one line, no control characters, not too long. */
function quoted(job: DeliveryJob): string {
  // eslint-disable-next-line no-control-regex -- a title must not break the log line
  const title = jobTitle(job).replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]+/g, ' ');
  return `"${title.length > 120 ? `${title.slice(0, 119)}…` : title}"`;
}

function humanDelay(ms: number): string {
  if (ms < 1_000) return `${String(ms)} ms`;
  if (ms < 120_000) return `${String(Math.round(ms / 1000))} s`;
  return `${String(Math.round(ms / 60_000))} min`;
}
