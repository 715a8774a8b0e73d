// The local pipeline's /metrics, in the Prometheus text format (prom-client: the library every
// Node Prometheus exporter uses; a private registry so tests can run several pipelines).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What the database has done since the process opened it (from SQLite itself). */
export interface DatabaseActivity {
  readonly rowWrites: number;
  readonly commits: number;
}

export function createMetrics(queueDepth: () => Record<string, number>, databaseActivity?: () => DatabaseActivity) {
  const registry = new Registry();
  const metrics = {
    registry,
    received: new Counter({
      name: 'tocsin_received_total',
      help: 'HTTP payloads received, by endpoint',
      labelNames: ['endpoint'] as const,
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'tocsin_rejected_total',
      help: 'Payloads answered with a 4xx, by reason (unauthorized, too-large, malformed, ...)',
      labelNames: ['endpoint', 'reason'] as const,
      registers: [registry],
    }),
    refused: new Counter({
      name: 'tocsin_http_refused_total',
      help: 'Requests and connections refused before reaching an endpoint, by reason (foreign-host, cross-site, unauthorized, malformed-target, timeout, connection-cap, ...); ingest refusals count in tocsin_rejected_total',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    incidents: new Counter({
      name: 'tocsin_incidents_total',
      help: 'Incidents normalized from accepted payloads, by source',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    decisions: new Counter({
      name: 'tocsin_decisions_total',
      help: 'Dedup decisions: opened, resolved, renotified, flapping, suppressed',
      labelNames: ['action'] as const,
      registers: [registry],
    }),
    suppressed: new Counter({
      name: 'tocsin_suppressed_total',
      help: 'Suppressed incidents, by reason (duplicate, stale, unknown-resolve, flapping)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    delivered: new Counter({
      name: 'tocsin_delivered_total',
      help: 'Notifications delivered, by channel',
      labelNames: ['channel'] as const,
      registers: [registry],
    }),
    digests: new Counter({
      name: 'tocsin_digests_total',
      help: 'Digests made from grouped notices (routes with groupBy), by channel',
      labelNames: ['channel'] as const,
      registers: [registry],
    }),
    deliveryFailures: new Counter({
      name: 'tocsin_delivery_failures_total',
      help: 'Failed delivery attempts, by channel and whether they will be retried',
      labelNames: ['channel', 'outcome'] as const,
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'tocsin_dead_lettered_total',
      help: 'Delivery jobs given up on, by channel',
      labelNames: ['channel'] as const,
      registers: [registry],
    }),
    ingestSeconds: new Histogram({
      name: 'tocsin_ingest_duration_seconds',
      help: 'Time to answer an ingest request',
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    deliverySeconds: new Histogram({
      name: 'tocsin_delivery_latency_seconds',
      help: 'Time from receiving an alert to its notification being delivered, by channel',
      labelNames: ['channel'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
  };
  new Gauge({
    name: 'tocsin_queue_depth',
    help: 'Items queued, delayed for retry or in flight, by queue',
    labelNames: ['queue'] as const,
    registers: [registry],
    collect() {
      for (const [queue, depth] of Object.entries(queueDepth())) this.set({ queue }, depth);
    },
  });
  if (databaseActivity !== undefined) {
    // Gauges read at scrape time: the counts live in SQLite's connection, not in this process.
    new Gauge({
      name: 'tocsin_database_rows_written',
      help: 'Rows inserted, updated or deleted in the local database since start (write amplification: divide by tocsin_incidents_total)',
      registers: [registry],
      collect() {
        this.set(databaseActivity().rowWrites);
      },
    });
    new Gauge({
      name: 'tocsin_database_commits',
      help: 'Transactions committed to the local database since start (group commit: several requests per transaction)',
      registers: [registry],
      collect() {
        this.set(databaseActivity().commits);
      },
    });
  }
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
