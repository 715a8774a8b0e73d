// Logs and metrics for the cloud handlers: Powertools' structured JSON logger and CloudWatch
// embedded-metric-format (EMF) metrics in the `Tocsin` namespace.
//
// Rules every handler follows: log ids, counts, kinds and reasons, never a token, a webhook URL,
// a secret or a whole payload. Metric dimensions stay low-cardinality (source kind, outcome,
// reason, action, channel name from the config), never fingerprints or resource names.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export { MetricUnit };

export const DEFAULT_SERVICE_NAME = 'tocsin';
export const DEFAULT_METRICS_NAMESPACE = 'Tocsin';

export type MetricUnitName = (typeof MetricUnit)[keyof typeof MetricUnit];

function serviceName(): string {
  return process.env['POWERTOOLS_SERVICE_NAME'] || DEFAULT_SERVICE_NAME;
}

function namespace(): string {
  return process.env['POWERTOOLS_METRICS_NAMESPACE'] || DEFAULT_METRICS_NAMESPACE;
}

/** The handler's logger; every line carries `handler` (sns-ingest, dispatch, ...). */
export function createLogger(handler: string): Logger {
  return new Logger({ serviceName: serviceName(), persistentKeys: { handler } });
}

/** The handler's metrics, flushed by the `logMetrics` middleware after each invocation. */
export function createMetrics(): Metrics {
  return new Metrics({ namespace: namespace(), serviceName: serviceName() });
}

type Dimensions = Readonly<Record<string, string>>;

interface MetricGroup {
  readonly dimensions: Dimensions;
  readonly values: Map<string, { unit: MetricUnitName; values: number[] }>;
}

/**
 * Metrics with per-item dimensions (source, outcome, channel, ...), gathered over one invocation
 * and published as one EMF line per distinct dimension set. Powertools' Metrics object holds a
 * single dimension set per flush, so counts with different dimensions each need their own.
 * Counts add up; other units (latencies) keep every value (EMF takes up to 100 per line).
 */
export class MetricBatch {
  readonly #groups = new Map<string, MetricGroup>();

  count(name: string, dimensions: Dimensions, value = 1): this {
    return this.add(name, MetricUnit.Count, value, dimensions);
  }

  add(name: string, unit: MetricUnitName, value: number, dimensions: Dimensions): this {
    const entries = Object.entries(dimensions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const key = JSON.stringify(entries);
    let group = this.#groups.get(key);
    if (group === undefined) {
      group = { dimensions: Object.fromEntries(entries), values: new Map() };
      this.#groups.set(key, group);
    }
    const metric = group.values.get(name);
    if (metric === undefined) group.values.set(name, { unit, values: [value] });
    else if (unit === MetricUnit.Count && metric.unit === MetricUnit.Count) metric.values[0] = (metric.values[0] ?? 0) + value;
    else metric.values.push(value);
    return this;
  }

  /** Prints the gathered metrics (EMF) and forgets them. */
  publish(): void {
    for (const group of this.#groups.values()) {
      const metrics = new Metrics({ namespace: namespace(), serviceName: serviceName(), defaultDimensions: { ...group.dimensions } });
      for (const [name, metric] of group.values) {
        for (const value of metric.values.slice(0, 100)) metrics.addMetric(name, metric.unit, value);
      }
      metrics.publishStoredMetrics();
    }
    this.#groups.clear();
  }
}

/** An expected failure for a log line: its name and message (unexpected ones are logged whole). */
export function describeError(error: unknown): { errorName: string; errorMessage: string } {
  if (error instanceof Error) return { errorName: error.name, errorMessage: error.message };
  return { errorName: typeof error, errorMessage: 'non-Error value thrown' };
}
