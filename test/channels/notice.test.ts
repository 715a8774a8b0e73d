// The notice model every channel lays out: what broke and where, how bad and since when, the
// number that tripped and what to click first.
import { describe, expect, it } from 'vitest';
import { headline, incidentFacts, openableLinks } from '../../shared/channels/chat-format.ts';
import { buildNotice, formatTime, kubernetesObject, metricInWords, rankedActions } from '../../shared/channels/notice.ts';
import { formatMetric } from '../../shared/channels/text.ts';
import { incidentSchema } from '../../shared/incident.ts';
import { CHAT_FIRING, NOTICE_INCIDENTS, firing, noticeResolved } from '../fixtures/channels/incidents.ts';

describe('headline', () => {
  it('names the deployment, not the kube-state-metrics pod, for a kube-state-metrics alert', () => {
    const notice = buildNotice('opened', NOTICE_INCIDENTS['kube-state-metrics']!);
    expect(notice.headline).toBe('🟡 WARNING: KubeDeploymentReplicasMismatch on payments/api');
    expect(notice.subject).toBe('KubeDeploymentReplicasMismatch on payments/api');
  });

  it('prefers statefulset, daemonset, job, node and claim labels over the exporter, and keeps a real pod', () => {
    const exporter = { job: 'kube-state-metrics', pod: 'kube-state-metrics-5d8f', container: 'kube-state-metrics', instance: '10.0.0.1:8080' };
    expect(kubernetesObject({ ...exporter, namespace: 'db', statefulset: 'pg' })).toEqual({ name: 'db/pg', type: 'statefulset' });
    expect(kubernetesObject({ ...exporter, namespace: 'kube-system', daemonset: 'cilium' })).toEqual({ name: 'kube-system/cilium', type: 'daemonset' });
    expect(kubernetesObject({ ...exporter, namespace: 'batch', job_name: 'nightly' })).toEqual({ name: 'batch/nightly', type: 'job_name' });
    expect(kubernetesObject({ ...exporter, node: 'ip-10-0-1-2' })).toEqual({ name: 'ip-10-0-1-2', type: 'node' });
    expect(kubernetesObject({ ...exporter, namespace: 'db', persistentvolumeclaim: 'data-pg-0' })).toEqual({ name: 'db/data-pg-0', type: 'persistentvolumeclaim' });
    // KubePodCrashLooping: the pod label is the pod in trouble, whatever the job.
    expect(kubernetesObject({ job: 'kube-state-metrics', namespace: 'payments', pod: 'api-7d9f8b6c5-x2x9k', container: 'api' })).toBeUndefined();
    expect(buildNotice('opened', CHAT_FIRING.alertmanager).subject).toBe('KubePodCrashLooping on payments-7d9f');
  });

  it('marks resolved, reminders, flapping and test notices', () => {
    const incident = CHAT_FIRING['azure-monitor'];
    expect(buildNotice('resolved', noticeResolved(incident)).headline).toBe('✅ RESOLVED: High DTU on orders-db');
    expect(buildNotice('renotified', incident).headline).toBe('🔁 STILL FIRING · CRITICAL: High DTU on orders-db');
    expect(buildNotice('flapping', incident).headline).toBe('⚠️ FLAPPING · CRITICAL: High DTU on orders-db');
    expect(buildNotice('opened', incidentSchema.parse({ ...incident, labels: { tocsin_test: 'true' } })).headline).toBe('🔴 [TEST] CRITICAL: High DTU on orders-db');
  });
});

describe('time in words', () => {
  it('says since when while firing and how long it lasted once resolved, in UTC, without milliseconds', () => {
    const incident = CHAT_FIRING.cloudwatch;
    expect(buildNotice('opened', incident).statusLine).toBe('Firing since Wed 25 Nov 10:00 UTC');
    expect(buildNotice('renotified', incident).statusLine).toBe('Still firing since Wed 25 Nov 10:00 UTC');
    const done = buildNotice('resolved', noticeResolved(incident));
    expect(done.statusLine).toBe('Resolved after 1h 5m (ended Wed 25 Nov 11:05 UTC)');
    expect(done.duration).toBe('1h 5m');
  });

  it('tells a flapping alert as now firing or now resolved, and no 0s duration when only the end is known', () => {
    const ok = incidentSchema.parse({ ...CHAT_FIRING.cloudwatch, status: 'resolved', startsAt: '2026-11-25T05:31:12.406Z', endsAt: '2026-11-25T05:31:12.406Z' });
    const flapping = buildNotice('flapping', ok);
    expect(flapping.status).toBe('Flapping, now resolved');
    expect(flapping.statusLine).toBe('Flapping, now resolved at Wed 25 Nov 05:31 UTC');
    expect(flapping.duration).toBeUndefined();
    expect(buildNotice('flapping', CHAT_FIRING.cloudwatch).statusLine).toBe('Flapping, now firing since Wed 25 Nov 10:00 UTC');
  });

  it('formats any offset in UTC', () => {
    expect(formatTime('2026-11-25T08:00:00+01:00')).toBe('Wed 25 Nov 07:00 UTC');
  });
});

describe('metric in words', () => {
  it('reads operators and units as a person would', () => {
    expect(metricInWords({ name: 'CPUUtilization', namespace: 'AWS/EC2', value: 93.24, threshold: 80, operator: 'GreaterThanThreshold', unit: 'Percent' }, 'cloudwatch')).toBe('CPUUtilization 93.24% > 80%');
    expect(metricInWords({ name: 'BucketSizeBytes', value: 5.73416318976e12, threshold: 5e12, operator: 'GreaterThanThreshold', unit: 'Bytes' }, 'cloudwatch')).toBe('BucketSizeBytes 5.73 TB > 5 TB');
    expect(metricInWords({ name: 'DeadletteredMessages', value: 57, threshold: 10, operator: 'GreaterThanOrEqual' }, 'azure-monitor')).toBe('DeadletteredMessages 57 >= 10');
    expect(metricInWords({ value: 81.25 }, 'grafana')).toBe('value 81.25');
    expect(metricInWords(undefined, 'grafana')).toBeUndefined();
  });

  it('shows Cloud Monitoring utilization ratios as percentages', () => {
    expect(metricInWords({ name: 'compute.googleapis.com/instance/cpu/utilization', value: 0.934, threshold: 0.8, operator: 'COMPARISON_GT' }, 'gcp-monitoring')).toBe('cpu utilization 93.4% > 80%');
    expect(metricInWords({ name: 'run.googleapis.com/request_latencies', value: 2740.5, threshold: 2000, operator: 'COMPARISON_GT' }, 'gcp-monitoring')).toBe('request_latencies 2,740.5 > 2,000');
  });
});

describe('actions', () => {
  const labels = (name: string): string[] => buildNotice('opened', NOTICE_INCIDENTS[name]!).actions.map((action) => action.label);

  it('ranks the runbook first, the alert page, silence, dashboards, and generator or image links last', () => {
    expect(labels('kube-state-metrics')).toEqual(['Runbook', 'Silence', 'Query']);
    expect(labels('grafana-image')).toEqual(['Open alert', 'Silence', 'Dashboard', 'Panel', 'Image']);
    expect(labels('alertmanager')).toEqual(['Runbook', 'Query']);
  });

  it('finds runbooks in Azure custom properties and CloudWatch descriptions', () => {
    expect(buildNotice('opened', NOTICE_INCIDENTS['azure-runbook']!).actions[0]).toEqual({
      kind: 'runbook',
      label: 'Runbook',
      title: 'Runbook',
      url: 'https://wiki.example.com/runbooks/cpu-high',
    });
    expect(buildNotice('opened', NOTICE_INCIDENTS['cloudwatch-runbook']!).actions[0]?.url).toBe('https://wiki.example.com/runbooks/payments-webhook');
    // The runbook property is a link now, not a label.
    expect(buildNotice('opened', NOTICE_INCIDENTS['azure-runbook']!).details.map((fact) => fact.label)).not.toContain('runbook');
  });

  it('drops Cloud Monitoring’s unrelated Apigee link and ranks its playbook first', () => {
    expect(labels('gcp-ratio')).toEqual(['Runbook', 'Open alert']);
  });

  it('makes links only from http(s) URLs, and text links only from the rule’s own runbook fields', () => {
    const incident = firing('alertmanager', {
      summary: 'Runbook: https://evil.example/login',
      labels: { runbook: 'https://evil.example/label' },
      links: [
        { title: 'Runbook', url: 'javascript:alert(1)' },
        { title: 'ftp', url: 'ftp://files.example.com/x' },
      ],
    });
    // Alertmanager text and labels are not where its runbooks live (annotations are links already).
    expect(rankedActions(incident)).toEqual([]);
    const cloudwatch = firing('cloudwatch', { summary: 'Runbook: javascript:alert(1) and Runbook: ftp://x.example/y', links: [] });
    expect(rankedActions(cloudwatch)).toEqual([]);
  });
});

describe('labels', () => {
  it('puts the few identifying labels up front and drops each source’s noise', () => {
    const notice = buildNotice('opened', NOTICE_INCIDENTS['kube-state-metrics']!);
    // The exporter's own target labels (pod, instance, job, service, container) say nothing about the deployment.
    expect(notice.identity).toEqual([
      { label: 'cluster', value: 'prod-eu' },
      { label: 'namespace', value: 'payments' },
    ]);
    expect(notice.details.map((fact) => fact.label)).toEqual(['deployment']);
    const cloudwatch = buildNotice('opened', NOTICE_INCIDENTS['cloudwatch-runbook']!);
    expect(cloudwatch.details).toEqual([]);
  });
});

describe('the fact reading the incident-tool channels use', () => {
  it('words the same notice as facts, and opens only http(s) links', () => {
    const incident = noticeResolved(CHAT_FIRING.cloudwatch);
    expect(headline('resolved', incident)).toBe(buildNotice('resolved', incident).headline);
    expect(incidentFacts('resolved', incident)).toEqual(
      expect.arrayContaining([
        { label: 'Status', value: 'Resolved' },
        { label: 'Duration', value: '1h 5m' },
      ]),
    );
    const links = [
      { title: 'a', url: 'javascript:alert(1)' },
      { title: 'b', url: 'https://r.example/x' },
      { title: 'c', url: 'https://r.example/x' },
    ];
    expect(openableLinks(links, 2000)).toEqual([{ title: 'b', url: 'https://r.example/x' }]);
    expect(formatMetric({ name: 'CPUUtilization', value: 93.5, threshold: 80, operator: '>' })).toBe('CPUUtilization = 93.5 (threshold > 80)');
  });
});

describe('the pipeline state in the notice', () => {
  const incident = NOTICE_INCIDENTS['cloudwatch']!;

  it('says which reminder, who acknowledged and until when it is silenced, after the status and time', () => {
    const reminder = buildNotice('renotified', incident, { reminder: 2, acknowledgedBy: 'alice' });
    expect(reminder.state).toBe('reminder 2 · acknowledged by alice');
    expect(reminder.statusLine).toBe(`Still firing ${reminder.when} · reminder 2 · acknowledged by alice`);
    const resolved = buildNotice('resolved', noticeResolved(incident), { acknowledgedBy: 'bob', silencedUntil: '2026-11-25T12:00:00.000Z' });
    expect(resolved.statusLine).toMatch(/^Resolved after .* · acknowledged by bob · silenced until Wed 25 Nov 12:00 UTC$/);
  });

  it('says nothing more without state, keeps a reminder number off other notices, and keeps names on one line', () => {
    expect(buildNotice('opened', incident, {}).state).toBeUndefined();
    expect(buildNotice('opened', incident).statusLine).toBe(buildNotice('opened', incident, {}).statusLine);
    expect(buildNotice('opened', incident, { reminder: 4 }).state).toBeUndefined();
    expect(buildNotice('opened', incident, { acknowledgedBy: 'eve\n*admin*' }).state).toBe('acknowledged by eve *admin*');
  });
});

describe('the incidents page among the actions', () => {
  const incident = NOTICE_INCIDENTS['cloudwatch']!;

  it('links the incident on the page after the runbook and the alert, when the pipeline gives a page URL', () => {
    const without = buildNotice('opened', incident).actions;
    const withPage = buildNotice('opened', incident, { pageUrl: 'https://tocsin.example.com/#incident-cloudwatch:00ff' }).actions;
    expect(withPage).toHaveLength(without.length + 1);
    const page = withPage.find((action) => action.kind === 'incidents');
    expect(page).toMatchObject({ label: 'Tocsin', url: 'https://tocsin.example.com/#incident-cloudwatch:00ff' });
    const rank = withPage.indexOf(page!);
    expect(withPage.slice(0, rank).every((action) => action.kind === 'runbook' || action.kind === 'alert')).toBe(true);
    // Only web links.
    expect(buildNotice('opened', incident, { pageUrl: 'javascript:alert(1)' }).actions).toEqual(without);
  });
});
