// /metrics's text: the Prometheus exposition format (0.0.4) that scrapers and the tests read.
// The fixture was written by prom-client 15 (which the pipeline used before) for the same calls,
// so replacing it with the small writer in shared/local/metrics.ts changed no byte a scraper sees.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../shared/local/metrics.ts';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'metrics', 'exposition.txt');

describe('metrics exposition', () => {
  it('writes counters, histograms and gauges as prom-client did: order, escaping, cumulative buckets, +Inf, sum and count', async () => {
    const metrics = createMetrics(() => ({ incidents: 2, deliveries: 0 }), () => ({ rowWrites: 12, commits: 3 }));
    metrics.received.inc({ endpoint: '/v1/ingest/grafana' });
    metrics.received.inc({ endpoint: '/v1/ingest/grafana' });
    metrics.rejected.inc({ endpoint: '/v1/ingest/grafana', reason: 'too-large' });
    metrics.delivered.inc({ channel: 'on "call"\\team\nb' });
    metrics.ingestSeconds.observe(0.003);
    metrics.ingestSeconds.observe(42);
    metrics.deliverySeconds.observe({ channel: 'console' }, 0.5);
    expect(metrics.registry.metrics()).toBe(await readFile(FIXTURE, 'utf8'));
    expect(metrics.registry.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('reads gauges at scrape time and keeps each label set on its first line', () => {
    let depth = 1;
    const metrics = createMetrics(() => ({ incidents: depth }));
    const first = metrics.registry.metrics();
    depth = 7;
    metrics.decisions.inc({ action: 'opened' });
    metrics.decisions.inc({ action: 'suppressed' });
    metrics.decisions.inc({ action: 'opened' });
    const second = metrics.registry.metrics();
    expect(first).toContain('tocsin_queue_depth{queue="incidents"} 1\n');
    expect(second).toContain('tocsin_queue_depth{queue="incidents"} 7\n');
    expect(second).toContain('tocsin_decisions_total{action="opened"} 2\ntocsin_decisions_total{action="suppressed"} 1\n');
    expect(second).not.toContain('tocsin_database_');
  });

  it('refuses what a counter or histogram cannot hold', () => {
    const metrics = createMetrics(() => ({}));
    expect(() => { metrics.received.inc({ endpoint: '/x' }, -1); }).toThrow(RangeError);
    expect(() => { metrics.ingestSeconds.observe(Number.NaN); }).toThrow(RangeError);
  });
});
