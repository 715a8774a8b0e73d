// The alerts the server benchmark sends: an Alertmanager webhook body (what Tocsin ingests) and
// the same alert as Alertmanager's own API takes it (what the peer ingests).

/** One firing alert as Alertmanager's webhook sends it; the send time rides in a label. */
export function alertmanagerBody(name: string, sentAtMs: number): string {
  return JSON.stringify({
    version: '4',
    groupKey: `{}:{alertname="${name}"}`,
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'tocsin',
    groupLabels: { alertname: name },
    commonLabels: { alertname: name, severity: 'warning' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.com:9093',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: name, severity: 'warning', instance: 'bench:9100', sent_at_ms: String(sentAtMs) },
        annotations: { summary: 'bench' },
        startsAt: new Date(sentAtMs).toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.example.com/graph',
        fingerprint: 'bench',
      },
    ],
  });
}

/** The same alert for Alertmanager's `POST /api/v2/alerts`, as Prometheus posts it. */
export function alertmanagerV2Body(name: string): string {
  return JSON.stringify([
    {
      labels: { alertname: name, severity: 'warning', instance: 'bench:9100' },
      annotations: { summary: 'bench' },
      generatorURL: 'http://prometheus.example.com/graph',
    },
  ]);
}
