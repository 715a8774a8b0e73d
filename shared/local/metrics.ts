// The local pipeline's /metrics, in the Prometheus text exposition format (version 0.0.4).
// Counters, gauges and histograms kept in a Map per label set, written out on a scrape; the text
// is what prom-client wrote before (same lines, order and number formatting), without loading it:
// prom-client and what it requires (cluster, child_process, https, zlib, perf_hooks, OpenTelemetry)
// cost about 4 MiB of resident memory and ~120 KB of code to compile at every start, for three
// kinds of metric. A private registry per pipeline, so tests can run several.

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What the database has done since the process opened it (from SQLite itself). */
export interface DatabaseActivity {
  readonly rowWrites: number;
  readonly commits: number;
}

type Labels<Name extends string> = Readonly<Record<Name, string>>;

/** One metric's lines (without the trailing newline), read at scrape time. */
interface Exposed {
  expose(): string;
}

const escapeText = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (text: string): string => escapeText(text).replace(/"/g, '\\"');

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** `name="value",…` in the order the labels were given (the first time that set was seen). */
function formatLabels(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([name, value]) => `${name}="${escapeLabel(value)}"`)
    .join(',');
}

/** A label set's key: the values in the sorted label names' order. */
function keyOf(names: readonly string[], labels: Readonly<Record<string, string>>): string {
  let key = '';
  for (const name of names) key += `${name}:${labels[name] ?? ''},`;
  return key;
}

function header(name: string, help: string, type: string): string[] {
  return [`# HELP ${name} ${escapeText(help)}`, `# TYPE ${name} ${type}`];
}

export class Registry {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
  readonly #metrics: Exposed[] = [];

  register<T extends Exposed>(metric: T): T {
    this.#metrics.push(metric);
    return metric;
  }

  /** The exposition: every metric in registration order, a blank line between them. */
  metrics(): string {
    return `${this.#metrics.map((metric) => metric.expose()).join('\n\n')}\n`;
  }
}

interface MetricOptions<Name extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly Name[];
}

abstract class Keyed<Name extends string, Value> implements Exposed {
  readonly #name: string;
  readonly #help: string;
  readonly #type: string;
  readonly #sortedNames: readonly string[];
  protected readonly values = new Map<string, { readonly labels: Readonly<Record<string, string>>; value: Value }>();

  constructor(options: MetricOptions<Name>, type: string) {
    this.#name = options.name;
    this.#help = options.help;
    this.#type = type;
    this.#sortedNames = [...(options.labelNames ?? [])].sort();
  }

  protected entry(labels: Labels<Name> | undefined, initial: () => Value): { value: Value } {
    const key = labels === undefined ? '' : keyOf(this.#sortedNames, labels);
    let entry = this.values.get(key);
    if (entry === undefined) {
      entry = { labels: labels ?? {}, value: initial() };
      this.values.set(key, entry);
    }
    return entry;
  }

  protected abstract lines(name: string, labels: Readonly<Record<string, string>>, value: Value): string[];

  protected collect(): void {
    // read at scrape time by gauges that have a source
  }

  expose(): string {
    this.collect();
    const lines = header(this.#name, this.#help, this.#type);
    for (const { labels, value } of this.values.values()) lines.push(...this.lines(this.#name, labels, value));
    return lines.join('\n');
  }
}

function sample(name: string, labels: Readonly<Record<string, string>>, value: number): string {
  const text = formatLabels(labels);
  return `${name}${text === '' ? '' : `{${text}}`} ${formatValue(value)}`;
}

export class Counter<Name extends string = never> extends Keyed<Name, number> {
  constructor(options: MetricOptions<Name>) {
    super(options, 'counter');
  }

  inc(labels: Labels<Name>, by = 1): void {
    if (!Number.isFinite(by) || by < 0) throw new RangeError(`a counter only goes up by a finite amount, not ${String(by)}`);
    this.entry(labels, () => 0).value += by;
  }

  protected lines(name: string, labels: Readonly<Record<string, string>>, value: number): string[] {
    return [sample(name, labels, value)];
  }
}

export class Gauge<Name extends string = never> extends Keyed<Name, number> {
  readonly #collect: ((gauge: Gauge<Name>) => void) | undefined;

  constructor(options: MetricOptions<Name> & { readonly collect?: (gauge: Gauge<Name>) => void }) {
    super(options, 'gauge');
    this.#collect = options.collect;
    // A gauge without labels has its one value from the start, as in prom-client.
    if ((options.labelNames ?? []).length === 0) this.entry(undefined, () => 0);
  }

  set(labels: Labels<Name> | undefined, value: number): void {
    this.entry(labels, () => 0).value = value;
  }

  protected override collect(): void {
    this.#collect?.(this);
  }

  protected lines(name: string, labels: Readonly<Record<string, string>>, value: number): string[] {
    return [sample(name, labels, value)];
  }
}

interface HistogramValue {
  /** Observations per bucket (not cumulative), the last one past every bound. */
  readonly counts: number[];
  sum: number;
  count: number;
}

export class Histogram<Name extends string = never> extends Keyed<Name, HistogramValue> {
  readonly #bounds: readonly number[];

  constructor(options: MetricOptions<Name> & { readonly buckets: readonly number[] }) {
    super(options, 'histogram');
    this.#bounds = options.buckets;
    // Without labels its buckets are written (at 0) before the first observation, as in prom-client.
    if ((options.labelNames ?? []).length === 0) this.entry(undefined, () => this.#empty());
  }

  #empty(): HistogramValue {
    return { counts: new Array<number>(this.#bounds.length + 1).fill(0), sum: 0, count: 0 };
  }

  /** `observe(seconds)` on a histogram without labels, `observe(labels, seconds)` on one with. */
  observe(...args: [value: number] | [labels: Labels<Name>, value: number]): void {
    const [labels, value] = args.length === 1 ? [undefined, args[0]] : args;
    if (!Number.isFinite(value)) throw new RangeError(`a histogram observes finite numbers, not ${String(value)}`);
    const entry = this.entry(labels, () => this.#empty()).value;
    let bucket = this.#bounds.findIndex((bound) => value <= bound);
    if (bucket === -1) bucket = this.#bounds.length;
    entry.counts[bucket] = (entry.counts[bucket] ?? 0) + 1;
    entry.sum += value;
    entry.count += 1;
  }

  protected lines(name: string, labels: Readonly<Record<string, string>>, value: HistogramValue): string[] {
    const shared = formatLabels(labels);
    const withLe = (le: string): string => `{le="${le}"${shared === '' ? '' : `,${shared}`}}`;
    const lines: string[] = [];
    let cumulative = 0;
    this.#bounds.forEach((bound, index) => {
      cumulative += value.counts[index] ?? 0;
      lines.push(`${name}_bucket${withLe(formatValue(bound))} ${formatValue(cumulative)}`);
    });
    lines.push(`${name}_bucket${withLe('+Inf')} ${formatValue(value.count)}`);
    lines.push(sample(`${name}_sum`, labels, value.sum), sample(`${name}_count`, labels, value.count));
    return lines;
  }
}

export function createMetrics(queueDepth: () => Record<string, number>, databaseActivity?: () => DatabaseActivity) {
  const registry = new Registry();
  const metrics = {
    registry,
    received: registry.register(
      new Counter({
        name: 'tocsin_received_total',
        help: 'HTTP payloads received, by endpoint',
        labelNames: ['endpoint'] as const,
      }),
    ),
    rejected: registry.register(
      new Counter({
        name: 'tocsin_rejected_total',
        help: 'Payloads answered with a 4xx, by reason (unauthorized, too-large, malformed, ...)',
        labelNames: ['endpoint', 'reason'] as const,
      }),
    ),
    refused: registry.register(
      new Counter({
        name: 'tocsin_http_refused_total',
        help: 'Requests and connections refused before reaching an endpoint, by reason (foreign-host, cross-site, unauthorized, malformed-target, timeout, connection-cap, ...); ingest refusals count in tocsin_rejected_total',
        labelNames: ['reason'] as const,
      }),
    ),
    incidents: registry.register(
      new Counter({
        name: 'tocsin_incidents_total',
        help: 'Incidents normalized from accepted payloads, by source',
        labelNames: ['source'] as const,
      }),
    ),
    decisions: registry.register(
      new Counter({
        name: 'tocsin_decisions_total',
        help: 'Dedup decisions: opened, resolved, renotified, flapping, suppressed',
        labelNames: ['action'] as const,
      }),
    ),
    suppressed: registry.register(
      new Counter({
        name: 'tocsin_suppressed_total',
        help: 'Suppressed incidents, by reason (duplicate, stale, unknown-resolve, flapping)',
        labelNames: ['reason'] as const,
      }),
    ),
    delivered: registry.register(
      new Counter({
        name: 'tocsin_delivered_total',
        help: 'Notifications delivered, by channel',
        labelNames: ['channel'] as const,
      }),
    ),
    digests: registry.register(
      new Counter({
        name: 'tocsin_digests_total',
        help: 'Digests made from grouped notices (routes with groupBy), by channel',
        labelNames: ['channel'] as const,
      }),
    ),
    deliveryFailures: registry.register(
      new Counter({
        name: 'tocsin_delivery_failures_total',
        help: 'Failed delivery attempts, by channel and whether they will be retried',
        labelNames: ['channel', 'outcome'] as const,
      }),
    ),
    deadLettered: registry.register(
      new Counter({
        name: 'tocsin_dead_lettered_total',
        help: 'Delivery jobs given up on, by channel',
        labelNames: ['channel'] as const,
      }),
    ),
    ingestSeconds: registry.register(
      new Histogram({
        name: 'tocsin_ingest_duration_seconds',
        help: 'Time to answer an ingest request',
        buckets: LATENCY_BUCKETS,
      }),
    ),
    deliverySeconds: registry.register(
      new Histogram({
        name: 'tocsin_delivery_latency_seconds',
        help: 'Time from receiving an alert to its notification being delivered, by channel',
        labelNames: ['channel'] as const,
        buckets: LATENCY_BUCKETS,
      }),
    ),
  };
  registry.register(
    new Gauge({
      name: 'tocsin_queue_depth',
      help: 'Items queued, delayed for retry or in flight, by queue',
      labelNames: ['queue'] as const,
      collect(gauge) {
        for (const [queue, depth] of Object.entries(queueDepth())) gauge.set({ queue }, depth);
      },
    }),
  );
  if (databaseActivity !== undefined) {
    // Gauges read at scrape time: the counts live in SQLite's connection, not in this process.
    registry.register(
      new Gauge({
        name: 'tocsin_database_rows_written',
        help: 'Rows inserted, updated or deleted in the local database since start (write amplification: divide by tocsin_incidents_total)',
        collect(gauge) {
          gauge.set(undefined, databaseActivity().rowWrites);
        },
      }),
    );
    registry.register(
      new Gauge({
        name: 'tocsin_database_commits',
        help: 'Transactions committed to the local database since start (group commit: several requests per transaction)',
        collect(gauge) {
          gauge.set(undefined, databaseActivity().commits);
        },
      }),
    );
  }
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
