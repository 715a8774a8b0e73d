// AWS calls per alert, counted on the chain (test/aws/chain/): the packaged bundles against the
// SQS stand-in and dynalite, two channels (a webhook and Slack). One Alertmanager group of
// ALERTS alerts goes through http-ingest, dispatch and deliver; the calls the functions make are
// divided by the alerts. The counts depend on batching, not on the machine.
import { startChain } from '../test/aws/chain/chain.ts';
import type { BenchResult } from './harness.ts';

const ALERTS = 40;

/** One Alertmanager webhook: a group of `alerts` firing alerts, fingerprints numbered from `first`. */
export function alertGroup(alerts = ALERTS, first = 0): unknown {
  const startsAt = new Date().toISOString();
  return {
    version: '4',
    groupKey: '{}:{alertname="BenchCalls"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'tocsin',
    groupLabels: { alertname: 'BenchCalls' },
    commonLabels: { alertname: 'BenchCalls', severity: 'critical' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.com:9093',
    alerts: Array.from({ length: alerts }, (_, offset) => first + offset).map((index) => ({
      status: 'firing',
      labels: { alertname: 'BenchCalls', severity: 'critical', instance: `node-${String(index)}:9100` },
      annotations: { summary: `bench alert ${String(index)}` },
      startsAt,
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example.com/graph',
      fingerprint: index.toString(16).padStart(16, '0'),
    })),
  };
}

export async function run(): Promise<BenchResult[]> {
  const chain = await startChain();
  try {
    const answer = await chain.alertmanager(alertGroup());
    if (answer.statusCode !== 202) throw new Error(`http-ingest answered ${String(answer.statusCode)}`);
    await chain.settle();
    const delivered = chain.webhook.requests.length + chain.slack.requests.length;
    if (delivered !== 2 * ALERTS) throw new Error(`expected ${String(2 * ALERTS)} notices, got ${String(delivered)}`);

    const sqs = new Map<string, number>();
    for (const call of chain.sqs.calls) sqs.set(call.operation, (sqs.get(call.operation) ?? 0) + 1);
    const dynamo = chain.dynamo.calls();
    const table = (counts: Iterable<[string, number]>): string =>
      [...counts].filter(([operation]) => operation !== 'CreateTable' && operation !== 'DescribeTable').map(([operation, count]) => `${operation} ${String(count)}`).join(', ');
    const sum = (counts: Iterable<[string, number]>): number =>
      [...counts].filter(([operation]) => operation !== 'CreateTable' && operation !== 'DescribeTable').reduce((total, [, count]) => total + count, 0);
    const note = `${String(ALERTS)} alerts in one group, 2 channels`;
    return [
      { group: 'aws-calls', name: 'SQS calls per alert', value: sum(sqs) / ALERTS, unit: 'calls', note: `${note}: ${table(sqs)}` },
      { group: 'aws-calls', name: 'DynamoDB calls per alert', value: sum(Object.entries(dynamo)) / ALERTS, unit: 'calls', note: `${note}: ${table(Object.entries(dynamo))}` },
    ];
  } finally {
    await chain.close();
  }
}
