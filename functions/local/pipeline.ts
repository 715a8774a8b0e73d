// The local pipeline: the cloud flow's stages in one process. Ingest puts incidents on an
// in-process incidents queue; dispatch (dedup, route) turns each into delivery jobs on an
// in-process deliveries queue; the delivery worker sends them, with the same retry, backoff and
// dead-letter rules as the SQS consumers.
import type { TocsinConfig } from '../../shared/config/index.ts';
import { runDeliveryJob } from '../../shared/delivery/worker.ts';
import type { DeliveryJob } from '../../shared/delivery/job.ts';
import { MemoryIncidentStore, type IncidentRecord } from '../../shared/dedup/index.ts';
import type { Incident } from '../../shared/incident.ts';
import { dispatchIncident } from '../../shared/pipeline/dispatch.ts';
import { MemoryQueue } from '../../shared/queue/memory.ts';
import { createRouter } from '../../shared/routing/index.ts';
import { createMetrics, type Metrics } from './metrics.ts';

export interface QueuedIncident {
  readonly incident: Incident;
  /** Epoch ms the payload arrived, for the ingest → delivered latency. */
  readonly receivedAtMs: number;
}

interface QueuedJob {
  readonly job: DeliveryJob;
  readonly receivedAtMs: number;
}

export interface DeliveryHistoryEntry {
  readonly at: string;
  readonly event: string;
  readonly channel: string;
  readonly outcome: 'delivered' | 'already-delivered' | 'retry' | 'dead-letter';
  readonly reason?: string | undefined;
}

export interface LocalPipelineOptions {
  readonly config: TocsinConfig;
  readonly store?: MemoryIncidentStore | undefined;
  readonly now?: () => Date;
  /** Concurrent deliveries; the default keeps chat webhooks under their rate limits. */
  readonly deliveryConcurrency?: number;
}

const HISTORY_PER_INCIDENT = 20;

export class LocalPipeline {
  readonly config: TocsinConfig;
  readonly store: MemoryIncidentStore;
  readonly metrics: Metrics;
  readonly incidents: MemoryQueue<QueuedIncident>;
  readonly deliveries: MemoryQueue<QueuedJob>;
  readonly #history = new Map<string, DeliveryHistoryEntry[]>();
  readonly #now: () => Date;

  constructor(options: LocalPipelineOptions) {
    this.config = options.config;
    this.#now = options.now ?? (() => new Date());
    this.store = options.store ?? new MemoryIncidentStore({ settings: options.config.dedup });
    const router = createRouter(options.config);
    this.metrics = createMetrics(() => ({
      incidents: this.incidents.depth(),
      deliveries: this.deliveries.depth(),
    }));

    this.deliveries = new MemoryQueue<QueuedJob>({
      name: 'deliveries',
      concurrency: options.deliveryConcurrency ?? 8,
      handler: async ({ job, receivedAtMs }, meta) => {
        const attemptJob = { ...job, attempt: meta.attempt };
        const outcome = await runDeliveryJob(attemptJob, {
          markers: this.store,
          channelConfigs: this.config.channels,
          sendTimeoutMs: this.config.delivery.sendTimeoutMs,
          maxAttempts: this.config.delivery.maxAttempts,
        });
        this.#record(job, outcome.kind, 'reason' in outcome ? outcome.reason : undefined);
        switch (outcome.kind) {
          case 'delivered':
            this.metrics.delivered.inc({ channel: job.channel });
            this.metrics.deliverySeconds.observe({ channel: job.channel }, (Date.now() - receivedAtMs) / 1000);
            return { kind: 'done' };
          case 'already-delivered':
            return { kind: 'done' };
          case 'retry':
            this.metrics.deliveryFailures.inc({ channel: job.channel, outcome: 'retry' });
            return { kind: 'retry', delayMs: outcome.delayMs, reason: outcome.reason };
          case 'dead-letter':
            this.metrics.deliveryFailures.inc({ channel: job.channel, outcome: 'dead-letter' });
            this.metrics.deadLettered.inc({ channel: job.channel });
            return { kind: 'dead-letter', reason: outcome.reason };
        }
      },
    });

    this.incidents = new MemoryQueue<QueuedIncident>({
      name: 'incidents',
      concurrency: 1,
      handler: async ({ incident, receivedAtMs }) => {
        const { decision, jobs } = await dispatchIncident(incident, { store: this.store, router, now: this.#now(), receivedAt: new Date(receivedAtMs) });
        this.metrics.decisions.inc({ action: decision.action });
        if (decision.action === 'suppressed') this.metrics.suppressed.inc({ reason: decision.reason });
        if (jobs.length > 0) await this.deliveries.send(jobs.map((job) => ({ job, receivedAtMs })));
        return { kind: 'done' };
      },
    });
  }

  async accept(incidents: readonly Incident[], receivedAt: Date): Promise<void> {
    for (const incident of incidents) this.metrics.incidents.inc({ source: incident.source.kind });
    await this.incidents.send(incidents.map((incident) => ({ incident, receivedAtMs: receivedAt.getTime() })));
  }

  /** Current incidents with their counts and delivery history, newest change first. */
  listIncidents(): Array<IncidentRecord & { deliveries: DeliveryHistoryEntry[] }> {
    return this.store
      .list()
      .map((record) => ({ ...record, deliveries: this.#history.get(record.fingerprint) ?? [] }))
      .sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : -1));
  }

  /** Waits (bounded) until both queues are empty; true when they are. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    // Dispatch feeds deliveries, so drain in flow order, then re-check both.
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await this.incidents.drain(left);
      await this.deliveries.drain(Math.max(1, deadline - Date.now()));
      if (this.incidents.depth() === 0 && this.deliveries.depth() === 0) return true;
    }
  }

  close(): void {
    this.incidents.close();
    this.deliveries.close();
  }

  #record(job: DeliveryJob, outcome: DeliveryHistoryEntry['outcome'], reason: string | undefined): void {
    const list = this.#history.get(job.incident.fingerprint) ?? [];
    list.push({ at: this.#now().toISOString(), event: job.event, channel: job.channel, outcome, reason });
    if (list.length > HISTORY_PER_INCIDENT) list.splice(0, list.length - HISTORY_PER_INCIDENT);
    this.#history.set(job.incident.fingerprint, list);
  }
}
