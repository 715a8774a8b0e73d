// The azure-monitor source, fixture by fixture: every mapped field asserted explicitly for the
// common schema (metric, log search, activity log, service and resource health, smart detector,
// Prometheus, budget) and the older schemas; fingerprints across states, casings, rules,
// resources and dimensions; Microsoft's payload variants; and rejections that name the path.
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PayloadRejectedError } from '../../shared/errors.ts';
import { fingerprintOf } from '../../shared/fingerprint.ts';
import { incidentSchema, type Incident } from '../../shared/incident.ts';
import { azureMonitor } from '../../shared/sources/azure-monitor.ts';
import { parseResourceId, stripHtml, toIsoTimestamp } from '../../shared/sources/azure-monitor-util.ts';

const FIXTURES = new URL('../fixtures/azure-monitor/', import.meta.url);
const context = { receivedAt: new Date('2026-11-25T18:00:00.000Z') };
const SUB = '8d2f4a1c-5b3e-4f60-9a7b-c1d2e3f40516';
const ALERT_VIEW = `https://portal.azure.com/#view/Microsoft_Azure_Monitoring_Alerts/AlertDetails.ReactView/alertId/%2Fsubscriptions%2F${SUB}%2Fproviders%2FMicrosoft.AlertsManagement%2Falerts%2F`;
const BLADE = 'https://portal.azure.com/#resource';

type Json = Record<string, unknown>;

function fixture(name: string): Json {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Json;
}

const FIXTURE_NAMES = readdirSync(FIXTURES).filter((name) => name.endsWith('.json'));

function incidentsOf(payload: unknown): Incident[] {
  const incidents = azureMonitor.normalize(payload, context);
  for (const incident of incidents) expect(incidentSchema.safeParse(incident).success).toBe(true);
  return incidents;
}

function only(payload: unknown): Incident {
  const incidents = incidentsOf(payload);
  expect(incidents).toHaveLength(1);
  return incidents[0]!;
}

const onlyIncident = (name: string): Incident => only(fixture(name));

/** The common-schema essentials of a fixture copy, to vary one field. */
function essentialsOf(payload: Json): Json {
  return (payload.data as { essentials: Json }).essentials;
}
function alertContextOf(payload: Json): Json {
  return (payload.data as { alertContext: Json }).alertContext;
}

function rejectionOf(payload: unknown): PayloadRejectedError {
  try {
    azureMonitor.normalize(payload, context);
  } catch (error) {
    if (error instanceof PayloadRejectedError) return error;
    throw error;
  }
  throw new Error('expected the payload to be rejected');
}

/** The documented fingerprint parts (see the top of shared/sources/azure-monitor.ts). */
function azureFingerprint(signal: string, rule: string, targets: string[], identity: string[], account = SUB): string {
  // Written `dimension:name=value` / `label:k=v` for reading; hashed as `dimension:["name","value"]`.
  const encoded = identity
    .map((part) => {
      const pair = /^(dimension|label):([^=]*)=(.*)$/s.exec(part);
      return pair ? `${pair[1] ?? ''}:${JSON.stringify([pair[2], pair[3]])}` : part;
    })
    .sort();
  return fingerprintOf('azure-monitor', [signal, account, rule, JSON.stringify(targets), JSON.stringify(encoded)]);
}

const VM_WEB_01 = `/subscriptions/${SUB}/resourcegroups/rg-shop-prod/providers/microsoft.compute/virtualmachines/vm-web-01`;
const WORKSPACE = `/subscriptions/${SUB}/resourcegroups/rg-shop-prod/providers/microsoft.operationalinsights/workspaces/log-shop-prod`;
const ORDERS_DB = `/subscriptions/${SUB}/resourcegroups/rg-shop-data/providers/microsoft.sql/servers/sql-shop/databases/orders`;
const SERVICE_BUS = `/subscriptions/${SUB}/resourceGroups/rg-payments/providers/Microsoft.ServiceBus/namespaces/sb-payments-prod`;

describe('azure-monitor: detection', () => {
  it.each(FIXTURE_NAMES)('claims %s', (name) => {
    expect(azureMonitor.detect(fixture(name))).toBe(true);
  });

  it('claims every known schemaId whatever the body, so the schema can say what is wrong', () => {
    for (const schemaId of [
      'azureMonitorCommonAlertSchema',
      'AzureMonitorMetricAlert',
      'Microsoft.Insights/activityLogs',
      'Microsoft.Insights/LogAlert',
      'AIP Budget Notification',
      'AZUREMONITORCOMMONALERTSCHEMA',
    ]) {
      expect(azureMonitor.detect({ schemaId })).toBe(true);
    }
  });

  it('claims a log search v1 body by its keys, flat or under data, but not a lone key', () => {
    expect(azureMonitor.detect({ AlertRuleName: 'x', SearchQuery: 'Heartbeat' })).toBe(true);
    expect(azureMonitor.detect({ data: { WorkspaceId: 'w', SearchIntervalStartTimeUtc: '3/22/2019 1:36:31 PM' } })).toBe(true);
    expect(azureMonitor.detect({ AlertRuleName: 'x' })).toBe(false);
    expect(azureMonitor.detect({ schemaId: 'something-else', AlertRuleName: 'x', SearchQuery: 'q' })).toBe(false);
  });

  it('does not claim other sources or junk, and never throws', () => {
    const others: unknown[] = [
      { version: '4', status: 'firing', receiver: 'r', alerts: [], groupLabels: {} },
      { version: '1.2', incident: { incident_id: '0.abc', state: 'open' } },
      { Records: [{ Sns: { Message: '{}' } }] },
      { Type: 'Notification', TopicArn: 'arn:aws:sns:eu-west-1:123456789012:t', Message: '{}' },
      { AlarmName: 'cpu', NewStateValue: 'ALARM' },
      { schemaId: 'Microsoft.Insights/SomethingNew', data: { BudgetName: 'b' } },
      { schemaId: 42 },
      { data: 'AlertRuleName SearchQuery' },
    ];
    const junk: unknown[] = [null, undefined, 0, 'azureMonitorCommonAlertSchema', [], [{ schemaId: 'azureMonitorCommonAlertSchema' }], true];
    for (const payload of [...others, ...junk]) expect(azureMonitor.detect(payload)).toBe(false);
  });
});

describe('azure-monitor: common schema, metric alert with a static threshold', () => {
  const fingerprint = azureFingerprint('metric', 'cpu-high-web', [VM_WEB_01], ['dimension:resourceid=5b0e7c2a-91d4-4f3e-8c6b-7a2d1e0f9c34']);

  it('maps the Fired notice field by field, with the 7-digit time cut to milliseconds', () => {
    expect(onlyIncident('metric-static-fired.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint,
      status: 'firing',
      severity: 'warning',
      title: 'cpu-high-web on vm-web-01',
      summary: 'Average CPU above 80 % for 5 minutes on the shop web tier',
      source: {
        kind: 'azure-monitor',
        cloud: 'azure',
        account: SUB,
        rule: 'cpu-high-web',
      },
      resource: { id: VM_WEB_01, name: 'vm-web-01', type: 'microsoft.compute/virtualmachines' },
      startsAt: '2026-11-25T01:40:12.334Z',
      labels: {
        ResourceId: '5b0e7c2a-91d4-4f3e-8c6b-7a2d1e0f9c34',
        conditionType: 'SingleResourceMultipleMetricCriteria',
        windowSize: 'PT5M',
        timeAggregation: 'Average',
        team: 'shop',
        runbook: 'https://wiki.example.com/runbooks/cpu-high',
        signalType: 'Metric',
        monitoringService: 'Platform',
        monitorCondition: 'Fired',
        azureSeverity: 'Sev2',
        alertId: `/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/3c9e1f27-6a4b-4d8e-9f10-2b3c4d5e6f70`,
        originAlertId: `${SUB}_rg-shop-prod_microsoft.insights_metricAlerts_cpu-high-web_1830472615`,
        resourceGroup: 'rg-shop-prod',
        configurationItems: 'vm-web-01',
      },
      links: [
        { title: 'Alert in Azure portal', url: `${ALERT_VIEW}3c9e1f27-6a4b-4d8e-9f10-2b3c4d5e6f70` },
        { title: 'Resource in Azure portal', url: `${BLADE}${VM_WEB_01}` },
      ],
      metric: {
        name: 'Percentage CPU',
        namespace: 'Microsoft.Compute/virtualMachines',
        value: 93.214,
        threshold: 80,
        operator: 'GreaterThan',
      },
    });
  });

  it('maps the Resolved notice (target ID in other casing) as resolved with the same fingerprint', () => {
    const resolved = onlyIncident('metric-static-resolved.json');
    const targetAsSent = `/subscriptions/8D2F4A1C-5B3E-4F60-9A7B-C1D2E3F40516/resourceGroups/rg-shop-prod/providers/Microsoft.Compute/virtualMachines/vm-web-01`;
    expect(resolved).toStrictEqual({
      schemaVersion: 1,
      fingerprint,
      status: 'resolved',
      severity: 'warning',
      title: 'cpu-high-web on vm-web-01',
      summary: 'Average CPU above 80 % for 5 minutes on the shop web tier',
      source: {
        kind: 'azure-monitor',
        cloud: 'azure',
        // Lower case, however the target ID spells it.
        account: SUB,
        rule: 'cpu-high-web',
      },
      resource: { id: targetAsSent, name: 'vm-web-01', type: 'Microsoft.Compute/virtualMachines' },
      startsAt: '2026-11-25T01:40:12.334Z',
      endsAt: '2026-11-25T02:05:47.912Z',
      labels: {
        ResourceId: '5b0e7c2a-91d4-4f3e-8c6b-7a2d1e0f9c34',
        conditionType: 'SingleResourceMultipleMetricCriteria',
        windowSize: 'PT5M',
        timeAggregation: 'Average',
        team: 'shop',
        runbook: 'https://wiki.example.com/runbooks/cpu-high',
        signalType: 'Metric',
        monitoringService: 'Platform',
        monitorCondition: 'Resolved',
        azureSeverity: 'Sev2',
        alertId: `/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/3c9e1f27-6a4b-4d8e-9f10-2b3c4d5e6f70`,
        originAlertId: `${SUB}_rg-shop-prod_microsoft.insights_metricAlerts_cpu-high-web_1830472615`,
        resourceGroup: 'rg-shop-prod',
        configurationItems: 'vm-web-01',
      },
      links: [
        { title: 'Alert in Azure portal', url: `${ALERT_VIEW}3c9e1f27-6a4b-4d8e-9f10-2b3c4d5e6f70` },
        { title: 'Resource in Azure portal', url: `${BLADE}${targetAsSent}` },
      ],
      metric: {
        name: 'Percentage CPU',
        namespace: 'Microsoft.Compute/virtualMachines',
        value: 41.5,
        threshold: 80,
        operator: 'GreaterThan',
      },
    });
  });

  it('gives the same rule on another VM another fingerprint', () => {
    const other = onlyIncident('metric-static-other-resource.json');
    const target = `/subscriptions/${SUB}/resourcegroups/rg-shop-prod/providers/microsoft.compute/virtualmachines/vm-web-02`;
    expect(other.fingerprint).toBe(
      azureFingerprint('metric', 'cpu-high-web', [target], ['dimension:resourceid=e41d8c9a-2b7f-4a06-b5c3-9d8e7f6a5b41']),
    );
    expect(other.fingerprint).not.toBe(fingerprint);
    expect(other.title).toBe('cpu-high-web on vm-web-02');
    // customProperties: null gives no custom labels.
    expect(other.labels.team).toBeUndefined();
  });
});

describe('azure-monitor: common schema, metric alert with a dynamic threshold', () => {
  it('maps it without a threshold, keeps the operator and both dimensions, and links the investigation', () => {
    const target = `/subscriptions/${SUB}/resourcegroups/rg-shop-data/providers/microsoft.storage/storageaccounts/stshopassets`;
    const alertGuid = 'a90b1c2d-3e4f-4051-9627-38495a6b7c8d';
    expect(onlyIncident('metric-dynamic-threshold.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: azureFingerprint('metric', 'egress-anomaly-stshopassets', [target], [
        'dimension:apiname=GetBlob',
        'dimension:geotype=Primary',
      ]),
      status: 'firing',
      severity: 'error',
      // The resource name is already in the rule name.
      title: 'egress-anomaly-stshopassets',
      source: {
        kind: 'azure-monitor',
        cloud: 'azure',
        account: SUB,
        rule: 'egress-anomaly-stshopassets',
      },
      resource: { id: target, name: 'stshopassets', type: 'microsoft.storage/storageaccounts' },
      startsAt: '2026-11-24T22:15:40.880Z',
      labels: {
        ApiName: 'GetBlob',
        GeoType: 'Primary',
        conditionType: 'DynamicThresholdCriteria',
        windowSize: 'PT15M',
        timeAggregation: 'Total',
        alertSensitivity: 'Medium',
        signalType: 'Metric',
        monitoringService: 'Platform',
        monitorCondition: 'Fired',
        azureSeverity: 'Sev1',
        alertId: `/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/${alertGuid}`,
        originAlertId: `${SUB}_rg-shop-data_microsoft.insights_metricAlerts_egress-anomaly-stshopassets_552210398`,
        resourceGroup: 'rg-shop-data',
        configurationItems: 'stshopassets',
      },
      links: [
        {
          title: 'Investigate in Azure portal',
          url: `https://portal.azure.com/#view/Microsoft_Azure_Monitoring_Alerts/Investigation.ReactView/alertId/%2Fsubscriptions%2F${SUB}%2Fproviders%2FMicrosoft.AlertsManagement%2Falerts%2F${alertGuid}`,
        },
        { title: 'Alert in Azure portal', url: `${ALERT_VIEW}${alertGuid}` },
        { title: 'Resource in Azure portal', url: `${BLADE}${target}` },
      ],
      metric: {
        name: 'Egress',
        namespace: 'microsoft.storage/storageaccounts',
        value: 734003200,
        operator: 'GreaterOrLessThan',
      },
    });
  });

  it('takes the computed threshold when the dynamic criterion carries one', () => {
    const payload = fixture('metric-dynamic-threshold.json');
    const criterion = (alertContextOf(payload).condition as { allOf: Json[] }).allOf[0]!;
    criterion.threshold = '47658.25';
    expect(only(payload).metric).toStrictEqual({
      name: 'Egress',
      namespace: 'microsoft.storage/storageaccounts',
      value: 734003200,
      threshold: 47658.25,
      operator: 'GreaterOrLessThan',
    });
  });
});

describe('azure-monitor: common schema, log search alerts', () => {
  it('maps a log search v2 alert: query in the summary, dimension in identity, search links', () => {
    const incident = onlyIncident('log-search-v2.json');
    const scope =
      'https://portal.azure.com#@3a4b5c6d-7e8f-4901-a2b3-c4d5e6f70819/blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/source/Alerts.EmailLinks/scope/%7B%22resources%22%3A%5B%7B%22resourceId%22%3A%22%2Fsubscriptions%2F8d2f4a1c-5b3e-4f60-9a7b-c1d2e3f40516%2FresourceGroups%2Frg-shop-prod%2Fproviders%2FMicrosoft.OperationalInsights%2Fworkspaces%2Flog-shop-prod%22%7D%5D%7D/q/';
    const span = '/prettify/1/timespan/2026-11-25T03%3a01%3a55.0000000Z%2f2026-11-25T03%3a11%3a55.0000000Z';
    expect(incident).toStrictEqual({
      schemaVersion: 1,
      fingerprint: azureFingerprint('log', 'heartbeat-missing', [WORKSPACE], ['dimension:computer=vm-worker-07']),
      status: 'firing',
      severity: 'error',
      // The Computer dimension names what alerted, not the workspace the query ran on.
      title: 'heartbeat-missing on vm-worker-07',
      summary:
        'No heartbeat from a worker for 10 minutes\nQuery: Heartbeat | summarize LastCall = max(TimeGenerated) by Computer | where LastCall < ago(10m)',
      source: {
        kind: 'azure-monitor',
        cloud: 'azure',
        account: SUB,
        rule: 'heartbeat-missing',
      },
      resource: { id: 'vm-worker-07', name: 'vm-worker-07', type: 'Computer' },
      startsAt: '2026-11-25T03:12:09.471Z',
      labels: {
        Computer: 'vm-worker-07',
        conditionType: 'LogQueryCriteria',
        windowSize: 'PT10M',
        timeAggregation: 'Count',
        team: 'platform',
        // A numeric custom property becomes its text.
        priority: '2',
        signalType: 'Log',
        monitoringService: 'Log Alerts V2',
        monitorCondition: 'Fired',
        azureSeverity: 'Sev1',
        alertId: `/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/0f1e2d3c-4b5a-4697-8877-665544332211`,
        originAlertId: '5d6e7f80-91a2-4b3c-8d4e-5f60718293a4',
        resourceGroup: 'rg-shop-prod',
        configurationItems: 'vm-worker-07',
      },
      links: [
        { title: 'Alert in Azure portal', url: `${ALERT_VIEW}0f1e2d3c-4b5a-4697-8877-665544332211` },
        { title: 'Filtered search results', url: `${scope}eJzzSE0sSk1RqFEoLkksKS1WqAEAfiltered${span}` },
        { title: 'Search results', url: `${scope}eJzzSE0sSk1RqFEoLkksKS1WqAEA${span}` },
        { title: 'Resource in Azure portal', url: `${BLADE}${WORKSPACE}` },
      ],
      metric: { value: 1, threshold: 0, operator: 'GreaterThan' },
    });
  });

  it('gives each dimension combination of a log search v2 rule its own fingerprint', () => {
    const payload = fixture('log-search-v2.json');
    const first = only(payload).fingerprint;
    const criterion = (alertContextOf(payload).condition as { allOf: { dimensions: Json[] }[] }).allOf[0]!;
    criterion.dimensions[0]!.value = 'vm-worker-08';
    expect(only(payload).fingerprint).not.toBe(first);
  });

  it('maps a log search v1 alert in the common schema: count as value, region from the data source', () => {
    const incident = onlyIncident('log-search-v1-common.json');
    const scope =
      'https://portal.azure.com#@3a4b5c6d-7e8f-4901-a2b3-c4d5e6f70819/blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/source/Alerts.EmailLinks/scope/%7B%22resources%22%3A%5B%7B%22resourceId%22%3A%22%2Fsubscriptions%2F8d2f4a1c-5b3e-4f60-9a7b-c1d2e3f40516%2FresourceGroups%2Frg-shop-prod%2Fproviders%2FMicrosoft.OperationalInsights%2Fworkspaces%2Flog-shop-prod%22%7D%5D%7D/q/eJxzLChKzUsuSSwGAA/prettify/1/timespan/2026-11-25T04%3a05%3a12.0000000Z%2f2026-11-25T04%3a20%3a12.0000000Z';
    expect(incident).toStrictEqual({
      schemaVersion: 1,
      fingerprint: azureFingerprint('log', 'checkout-5xx-count', [WORKSPACE], []),
      status: 'firing',
      severity: 'info',
      title: 'checkout-5xx-count on log-shop-prod',
      summary:
        'More than 25 server errors from checkout in 15 minutes\nQuery: AppRequests | where AppRoleName == "checkout" and ResultCode startswith "5"',
      source: {
        kind: 'azure-monitor',
        cloud: 'azure',
        account: SUB,
        region: 'westeurope',
        rule: 'checkout-5xx-count',
      },
      resource: { id: WORKSPACE, name: 'log-shop-prod', type: 'microsoft.operationalinsights/workspaces' },
      startsAt: '2026-11-25T04:20:31.119Z',
      labels: {
        alertType: 'Number of results',
        resultCount: '41',
        workspaceId: 'b7c8d9e0-f1a2-4b3c-9d4e-5f6071829304',
        signalType: 'Log',
        monitoringService: 'Log Analytics',
        monitorCondition: 'Fired',
        azureSeverity: 'Sev3',
        alertId: `/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/c4d5e6f7-0819-4a2b-8c3d-4e5f60718293`,
        originAlertId: 'e9f0a1b2-c3d4-4e5f-8061-728394a5b6c7',
        resourceGroup: 'rg-shop-prod',
      },
      links: [
        { title: 'Alert in Azure portal', url: `${ALERT_VIEW}c4d5e6f7-0819-4a2b-8c3d-4e5f60718293` },
        // LinkToSearchResults is the same URL here: listed once.
        { title: 'Filtered search results', url: scope },
        { title: 'Resource in Azure portal', url: `${BLADE}${WORKSPACE}` },
      ],
      metric: { value: 41, threshold: 25, operator: 'Greater Than' },
    });
  });
});

describe('azure-monitor: common schema, activity log alerts', () => {
  it('maps an administrative event: operation, caller and status in the summary', () => {
    const target = `/subscriptions/${SUB}/resourcegroups/rg-shop-prod/providers/microsoft.compute/virtualmachines/vm-web-03`;
    expect(onlyIncident('activity-log-administrative.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: azureFingerprint('activitylog', 'vm-deleted-prod', [target], ['operation:microsoft.compute/virtualmachines/delete']),
      status: 'firing',
      severity: 'error',
      title: 'vm-deleted-prod on vm-web-03',
      summary: 'A production VM was deleted\nMicrosoft.Compute/virtualMachines/delete by dana.ops@example.com: Succeeded',
      source: {
        kind: 'azure-monitor',
        cloud: 'azure',
        account: SUB,
        rule: 'vm-deleted-prod',
      },
      resource: { id: target, name: 'vm-web-03', type: 'microsoft.compute/virtualmachines' },
      startsAt: '2026-11-25T05:02:44.607Z',
      labels: {
        operationName: 'Microsoft.Compute/virtualMachines/delete',
        caller: 'dana.ops@example.com',
        activityStatus: 'Succeeded',
        eventSource: 'Administrative',
        level: 'Informational',
        channels: 'Operation',
        correlationId: '91a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8',
        eventDataId: '6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d',
        signalType: 'Activity Log',
        monitoringService: 'Activity Log - Administrative',
        monitorCondition: 'Fired',
        azureSeverity: 'Sev1',
        alertId: `/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/2e3f4051-6273-4849-9a0b-1c2d3e4f5061`,
        originAlertId: '6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d_4f2c1e0d9b8a7c6e5d4f3a2b1c0d9e8f',
        resourceGroup: 'rg-shop-prod',
        configurationItems: 'vm-web-03',
      },
      links: [
        { title: 'Alert in Azure portal', url: `${ALERT_VIEW}2e3f4051-6273-4849-9a0b-1c2d3e4f5061` },
        { title: 'Resource in Azure portal', url: `${BLADE}${target}` },
      ],
    });
  });

  it('maps a policy event sent with signalType "ActivityLog": region from resourceLocation', () => {
    const target = `/subscriptions/${SUB}/resourceGroups/rg-shop-data/providers/Microsoft.Storage/storageAccounts/stshopexports`;
    expect(onlyIncident('activity-log-policy.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: azureFingerprint('activitylog', 'policy-audit-storage-tls', [target.toLowerCase()], [
        'operation:microsoft.authorization/policies/audit/action',
      ]),
      status: 'firing',
      severity: 'info',
      title: 'policy-audit-storage-tls on stshopexports',
      summary:
        'Storage accounts must require TLS 1.2\nMicrosoft.Authorization/policies/audit/action by deploy-pipeline@example.com: Succeeded',
      source: {
        kind: 'azure-monitor',
        cloud: 'azure',
        account: SUB,
        region: 'westeurope',
        rule: 'policy-audit-storage-tls',
      },
      resource: { id: target, name: 'stshopexports', type: 'Microsoft.Storage/storageAccounts' },
      startsAt: '2026-11-24T11:12:50.226Z',
      labels: {
        operationName: 'Microsoft.Authorization/policies/audit/action',
        caller: 'deploy-pipeline@example.com',
        activityStatus: 'Succeeded',
        eventSource: 'Policy',
        level: 'Warning',
        channels: 'Operation',
        correlationId: '1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b',
        eventDataId: '7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f',
        signalType: 'ActivityLog',
        monitoringService: 'Activity Log - Policy',
        monitorCondition: 'Fired',
        azureSeverity: 'Sev3',
        alertId: `/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/4b5c6d7e-8f90-4a1b-8c2d-3e4f50617283`,
        originAlertId: '7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f_9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b',
        resourceGroup: 'rg-shop-data',
      },
      links: [
        { title: 'Alert in Azure portal', url: `${ALERT_VIEW}4b5c6d7e-8f90-4a1b-8c2d-3e4f50617283` },
        { title: 'Resource in Azure portal', url: `${BLADE}${target}` },
      ],
    });
  });

  it('maps an autoscale event: the engine describes the scale action', () => {
    const target = `/subscriptions/${SUB}/resourcegroups/rg-shop-prod/providers/microsoft.insights/autoscalesettings/vmss-web-autoscale`;
    const incident = onlyIncident('activity-log-autoscale.json');
    expect(incident).toStrictEqual({
      schemaVersion: 1,
      fingerprint: azureFingerprint('activitylog', 'autoscale-events-web', [target], [
        'operation:microsoft.insights/autoscalesettings/scaleup/action',
      ]),
      status: 'firing',
      severity: 'info',
      title: 'autoscale-events-web on vmss-web-autoscale',
      // essentials.description is "": no empty line for it.
      summary: `The autoscale engine attempting to scale resource '/subscriptions/${SUB}/resourceGroups/rg-shop-prod/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web' from 4 instances count to 6 instances count.\nMicrosoft.Insights/AutoscaleSettings/Scaleup/Action by Microsoft.Insights/autoscaleSettings: Succeeded`,
      source: {
        kind: 'azure-monitor',
        cloud: 'azure',
        account: SUB,
        rule: 'autoscale-events-web',
      },
      resource: { id: target, name: 'vmss-web-autoscale', type: 'microsoft.insights/autoscalesettings' },
      startsAt: '2026-11-25T06:17:49.055Z',
      labels: {
        operationName: 'Microsoft.Insights/AutoscaleSettings/Scaleup/Action',
        caller: 'Microsoft.Insights/autoscaleSettings',
        activityStatus: 'Succeeded',
        eventSource: 'Autoscale',
        level: 'Informational',
        channels: 'Admin, Operation',
        correlationId: '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f',
        eventDataId: '8e9f0a1b-2c3d-4e5f-8a6b-7c8d9e0f1a2b',
        signalType: 'Activity Log',
        monitoringService: 'Activity Log - Autoscale',
        monitorCondition: 'Fired',
        azureSeverity: 'Sev4',
        alertId: `/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/5c6d7e8f-9012-4b3c-9d4e-5f6a7b8c9d0e`,
        originAlertId: '8e9f0a1b-2c3d-4e5f-8a6b-7c8d9e0f1a2b_0a1b2c3d4e5f60718293a4b5c6d7e8f9',
        resourceGroup: 'rg-shop-prod',
      },
      links: [
        { title: 'Alert in Azure portal', url: `${ALERT_VIEW}5c6d7e8f-9012-4b3c-9d4e-5f6a7b8c9d0e` },
        { title: 'Resource in Azure portal', url: `${BLADE}${target}` },
      ],
    });
  });

  it('maps a security event: Sev0 is critical; the compromised entity and its severity are labels', () => {
    const target = `/subscriptions/${SUB}/resourcegroups/rg-shop-prod/providers/microsoft.security/locations/westeurope/alerts/2517240000000000000_5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c`;
    expect(onlyIncident('activity-log-security.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: azureFingerprint('activitylog', 'defender-alerts', [target], ['operation:microsoft.security/locations/alerts/activate/action']),
      status: 'firing',
      severity: 'critical',
      title: 'defender-alerts on 2517240000000000000_5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c',
      summary: 'Microsoft Defender for Cloud raised an alert\nMicrosoft.Security/locations/alerts/activate/action: Active',
      source: {
        kind: 'azure-monitor',
        cloud: 'azure',
        account: SUB,
        rule: 'defender-alerts',
      },
      resource: { id: target, name: '2517240000000000000_5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c', type: 'microsoft.security/locations/alerts' },
      startsAt: '2026-11-25T07:34:58.301Z',
      labels: {
        operationName: 'Microsoft.Security/locations/alerts/activate/action',
        activityStatus: 'Active',
        eventSource: 'Security',
        level: 'Informational',
        channels: 'Operation',
        correlationId: '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b',
        eventDataId: '9f0a1b2c-3d4e-4f5a-9b6c-7d8e9f0a1b2c',
        compromisedEntity: 'vm-web-01',
        eventSeverity: 'High',
        signalType: 'Activity Log',
        monitoringService: 'Activity Log - Security',
        monitorCondition: 'Fired',
        azureSeverity: 'Sev0',
        alertId: `/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/6d7e8f90-a1b2-4c3d-8e4f-50617283a4b5`,
        originAlertId: '9f0a1b2c-3d4e-4f5a-9b6c-7d8e9f0a1b2c_1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e',
        resourceGroup: 'rg-shop-prod',
      },
      links: [
        { title: 'Alert in Azure portal', url: `${ALERT_VIEW}6d7e8f90-a1b2-4c3d-8e4f-50617283a4b5` },
        { title: 'Resource in Azure portal', url: `${BLADE}${target}` },
      ],
    });
  });

  it('keeps one fingerprint per rule, operation and resource, whatever the event and the signalType spelling', () => {
    const payload = fixture('activity-log-administrative.json');
    const first = only(payload).fingerprint;
    // A later event (new alertId, eventDataId, originAlertId, time) of the same operation.
    Object.assign(essentialsOf(payload), {
      alertId: `/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/99999999-0000-4000-8000-000000000000`,
      originAlertId: 'another-event',
      firedDateTime: '2026-11-26T00:00:00.0000000Z',
      signalType: 'ActivityLog',
    });
    alertContextOf(payload).eventDataId = 'another-event';
    expect(only(payload).fingerprint).toBe(first);
    alertContextOf(payload).operationName = 'Microsoft.Compute/virtualMachines/deallocate/action';
    expect(only(payload).fingerprint).not.toBe(first);
  });
});

describe('azure-monitor: common schema, service health', () => {
  const fingerprint = azureFingerprint('activitylog', 'service-health-west-europe', [`/subscriptions/${SUB}`], ['tracking:7kxq-9tz']);
  const alertId = (guid: string) => `/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/${guid}`;

  it('maps an active incident sent with numeric channels/eventSource/level and a JSON-string impactedServices', () => {
    expect(onlyIncident('service-health-active.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint,
      status: 'firing',
      severity: 'error',
      title: 'service-health-west-europe: Storage - West Europe - Degraded performance',
      summary:
        'Service issues in West Europe\nSummary of impact: Starting at 07:55 UTC on 25 Nov 2026, customers may see increased latency for blob reads.\nNext update: Within 60 minutes.',
      source: {
        kind: 'azure-monitor',
        cloud: 'azure',
        account: SUB,
        rule: 'service-health-west-europe',
      },
      resource: { id: `/subscriptions/${SUB}`, name: SUB, type: 'Microsoft.Resources/subscriptions' },
      startsAt: '2026-11-25T08:31:21.062Z',
      labels: {
        operationName: 'Microsoft.ServiceHealth/incident/action',
        activityStatus: 'Active',
        eventSource: '2',
        level: 'Warning',
        channels: 'Admin',
        correlationId: '1b2c3d4e-5f6a-4b7c-9d8e-9f0a1b2c3d4e',
        eventDataId: '0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d',
        incidentType: 'Incident',
        trackingId: '7KXQ-9TZ',
        stage: 'Active',
        service: 'Storage',
        serviceHealthRegion: 'West Europe',
        impactedServices: 'Storage, Virtual Machines',
        impactedRegions: 'West Europe, North Europe',
        impactStartTime: '2026-11-25T07:55:00.000Z',
        signalType: 'Activity Log',
        monitoringService: 'ServiceHealth',
        monitorCondition: 'Fired',
        azureSeverity: 'Sev1',
        alertId: alertId('7e8f90a1-b2c3-4d4e-8f50-61728394a5b6'),
        originAlertId: '0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d',
      },
      // A subscription has no resource blade link of its own.
      links: [{ title: 'Alert in Azure portal', url: `${ALERT_VIEW}7e8f90a1-b2c3-4d4e-8f50-61728394a5b6` }],
    });
  });

  it('maps the Resolved communication (string variants, impactedServices array) as resolved, same fingerprint', () => {
    expect(onlyIncident('service-health-resolved.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint,
      status: 'resolved',
      severity: 'error',
      title: 'service-health-west-europe: Storage - West Europe - Degraded performance',
      summary:
        'Service issues in West Europe\nSummary of impact: Between 07:55 and 09:40 UTC on 25 Nov 2026, customers saw increased latency for blob reads.\nThis issue is now mitigated.',
      source: {
        kind: 'azure-monitor',
        cloud: 'azure',
        account: SUB,
        rule: 'service-health-west-europe',
      },
      resource: { id: `/subscriptions/${SUB}`, name: SUB, type: 'Microsoft.Resources/subscriptions' },
      startsAt: '2026-11-25T10:02:08.440Z',
      // The notice's own time, never earlier than the notices before it (mitigation is a label).
      endsAt: '2026-11-25T10:02:08.440Z',
      labels: {
        operationName: 'Microsoft.ServiceHealth/incident/action',
        activityStatus: 'Resolved',
        eventSource: 'ServiceHealth',
        level: 'Warning',
        channels: 'Admin',
        correlationId: '3d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a',
        eventDataId: '2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f',
        incidentType: 'Incident',
        trackingId: '7KXQ-9TZ',
        stage: 'Resolved',
        service: 'Storage',
        serviceHealthRegion: 'West Europe',
        impactedServices: 'Storage',
        impactedRegions: 'West Europe',
        impactStartTime: '2026-11-25T07:55:00.000Z',
        impactMitigationTime: '2026-11-25T09:40:00.000Z',
        signalType: 'ActivityLog',
        monitoringService: 'ServiceHealth',
        monitorCondition: 'Fired',
        azureSeverity: 'Sev1',
        alertId: alertId('8f90a1b2-c3d4-4e5f-9061-728394a5b6c7'),
        originAlertId: '2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f',
      },
      links: [{ title: 'Alert in Azure portal', url: `${ALERT_VIEW}8f90a1b2-c3d4-4e5f-9061-728394a5b6c7` }],
    });
  });

  it('gives another service issue (tracking id) its own fingerprint', () => {
    const payload = fixture('service-health-active.json');
    (alertContextOf(payload).properties as Json).trackingId = '2ZZT-Q1A';
    expect(only(payload).fingerprint).not.toBe(fingerprint);
  });
});

describe('azure-monitor: common schema, resource health', () => {
  const fingerprint = azureFingerprint('activitylog', 'resource-health-sql', [ORDERS_DB], []);

  it('maps an Unavailable event as firing with the health change in the summary', () => {
    expect(onlyIncident('resource-health-unavailable.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint,
      status: 'firing',
      severity: 'error',
      title: 'resource-health-sql on orders',
      summary:
        "Order database health changed\nDatabase is unavailable\nWe're sorry, your database is unavailable. We are working to resolve the problem.\nHealth: Available → Unavailable (PlatformInitiated)",
      source: {
        kind: 'azure-monitor',
        cloud: 'azure',
        account: SUB,
        rule: 'resource-health-sql',
      },
      resource: { id: ORDERS_DB, name: 'orders', type: 'microsoft.sql/servers/databases' },
      startsAt: '2026-11-25T09:54:08.993Z',
      labels: {
        operationName: 'Microsoft.Resourcehealth/healthevent/Activated/action',
        activityStatus: 'Active',
        eventSource: 'ResourceHealth',
        level: 'Informational',
        channels: 'Admin, Operation',
        correlationId: '5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c',
        eventDataId: '4e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a7b',
        currentHealthStatus: 'Unavailable',
        previousHealthStatus: 'Available',
        cause: 'PlatformInitiated',
        healthEventType: 'Downtime',
        signalType: 'Activity Log',
        monitoringService: 'Resource Health',
        monitorCondition: 'Fired',
        azureSeverity: 'Sev1',
        alertId: `/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/90a1b2c3-d4e5-4f60-8172-8394a5b6c7d8`,
        originAlertId: '4e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a7b_5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c',
        resourceGroup: 'rg-shop-data',
        configurationItems: 'orders',
      },
      links: [
        { title: 'Alert in Azure portal', url: `${ALERT_VIEW}90a1b2c3-d4e5-4f60-8172-8394a5b6c7d8` },
        { title: 'Resource in Azure portal', url: `${BLADE}${ORDERS_DB}` },
      ],
    });
  });

  it('maps the Available event of the same resource as resolved with the same fingerprint', () => {
    const incident = onlyIncident('resource-health-available.json');
    expect(incident.fingerprint).toBe(fingerprint);
    expect(incident.status).toBe('resolved');
    expect(incident.startsAt).toBe('2026-11-25T10:21:37.120Z');
    expect(incident.endsAt).toBe('2026-11-25T10:21:37.120Z');
    expect(incident.summary).toBe('Order database health changed\nDatabase is available\nHealth: Unavailable → Available (PlatformInitiated)');
    expect(incident.labels).toMatchObject({
      currentHealthStatus: 'Available',
      previousHealthStatus: 'Unavailable',
      operationName: 'Microsoft.Resourcehealth/healthevent/Resolved/action',
      activityStatus: 'Resolved',
    });
  });
});

describe('azure-monitor: common schema, smart detector, Prometheus and budget', () => {
  it('maps a smart detector alert: detection summary, detected and normal values', () => {
    const target = `/subscriptions/${SUB}/resourcegroups/rg-shop-prod/providers/microsoft.insights/components/appi-shop`;
    expect(onlyIncident('smart-detector.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: azureFingerprint('log', 'failure anomalies - appi-shop', [target], []),
      status: 'firing',
      severity: 'info',
      title: 'Failure Anomalies - appi-shop',
      summary:
        'Failure Anomalies notifies you of an unusual rise in the rate of failed HTTP requests or dependency calls.\nAn abnormal rise in failed request rate was detected for POST /api/checkout\nDetected value: 18.4 %; normal: 0.6 % (over the last 7 days)',
      source: {
        kind: 'azure-monitor',
        cloud: 'azure',
        account: SUB,
        rule: 'Failure Anomalies - appi-shop',
      },
      resource: { id: target, name: 'appi-shop', type: 'microsoft.insights/components' },
      startsAt: '2026-11-25T11:09:09.111Z',
      labels: {
        smartDetectorId: 'FailureAnomaliesDetector',
        smartDetectorName: 'Failure Anomalies',
        detectedValue: '18.4 %',
        normalValue: '0.6 % (over the last 7 days)',
        signalType: 'Log',
        monitoringService: 'SmartDetector',
        monitorCondition: 'Fired',
        azureSeverity: 'Sev3',
        alertId: `/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/b2c3d4e5-f607-4182-9394-a5b6c7d8e9f0`,
        originAlertId: '8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d',
        resourceGroup: 'rg-shop-prod',
        configurationItems: 'appi-shop',
      },
      links: [
        { title: 'Alert in Azure portal', url: `${ALERT_VIEW}b2c3d4e5-f607-4182-9394-a5b6c7d8e9f0` },
        { title: 'Resource in Azure portal', url: `${BLADE}${target}` },
      ],
    });
  });

  it('maps a Prometheus rule-group alert: its labels are labels and identity, annotations the summary', () => {
    const target = `/subscriptions/${SUB}/resourcegroups/rg-shop-prod/providers/microsoft.monitor/accounts/amw-shop`;
    const incident = onlyIncident('prometheus.json');
    expect(incident.fingerprint).toBe(
      azureFingerprint('metric', 'kubepodcrashlooping', [target], [
        'label:cluster=aks-shop',
        'label:namespace=checkout',
        'label:pod=checkout-7d9f8b6c5-x2kqp',
        'label:severity=warning',
      ]),
    );
    expect(incident.title).toBe('KubePodCrashLooping on amw-shop');
    expect(incident.severity).toBe('warning');
    expect(incident.summary).toBe(
      'Pod is crash looping\nPod checkout/checkout-7d9f8b6c5-x2kqp is crash looping\nPod has been in CrashLoopBackOff for 15 minutes.',
    );
    expect(incident.metric).toStrictEqual({ value: 1 });
    expect(incident.labels).toMatchObject({
      cluster: 'aks-shop',
      namespace: 'checkout',
      pod: 'checkout-7d9f8b6c5-x2kqp',
      severity: 'warning',
      expression: 'max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[5m]) >= 1',
      ruleGroup: `/subscriptions/${SUB}/resourceGroups/rg-shop-prod/providers/Microsoft.AlertsManagement/prometheusRuleGroups/kubernetes-pods`,
      monitoringService: 'Prometheus',
    });
  });

  it('maps a budget (CostAlerts) alert, which has no rule, severity or state: the budget names it', () => {
    const budgetId = `/subscriptions/${SUB}/providers/Microsoft.Consumption/budgets/shop-monthly`;
    expect(onlyIncident('cost-budget.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: azureFingerprint('cost', 'shop-monthly', [budgetId.toLowerCase()], ['threshold:actual=$8,000.00']),
      status: 'firing',
      severity: 'warning',
      title: 'shop-monthly over $8,000.00 (Actual)',
      summary: 'Your spend for budget shop-monthly is now $8,412.55 exceeding your specified threshold $8,000.00.',
      source: { kind: 'azure-monitor', cloud: 'azure', account: SUB, rule: 'shop-monthly', ruleId: budgetId },
      resource: { id: budgetId, name: 'shop-monthly', type: 'Microsoft.Consumption/budgets' },
      startsAt: '2026-11-20T21:13:20.645Z',
      labels: {
        monitoringService: 'CostAlerts',
        alertId: `/subscriptions/${SUB}/providers/Microsoft.CostManagement/alerts/shop-monthly-80`,
        alertCategory: 'budgets',
        budgetType: 'Cost',
        thresholdType: 'Actual',
        budgetThreshold: '$10,000.00',
        notificationThresholdAmount: '$8,000.00',
        spentAmount: '$8,412.55',
        unit: 'USD',
      },
      // A budget alert does not open in the Azure Monitor alert view.
      links: [],
    });
  });
});

describe('azure-monitor: AzureMonitorMetricAlert (older metric alerts)', () => {
  const fingerprint = azureFingerprint('metric', 'sb-dead-letters', [SERVICE_BUS.toLowerCase()], ['dimension:entityname=payment-events']);
  const ruleId = `/subscriptions/${SUB}/resourceGroups/rg-payments/providers/microsoft.insights/metricAlerts/sb-dead-letters`;
  const common = {
    schemaVersion: 1,
    fingerprint,
    severity: 'error',
    title: 'sb-dead-letters on sb-payments-prod',
    summary: 'Dead-lettered messages on the payments bus',
    source: { kind: 'azure-monitor', cloud: 'azure', account: SUB, region: 'northeurope', rule: 'sb-dead-letters', ruleId },
    resource: { id: SERVICE_BUS, name: 'sb-payments-prod', type: 'Microsoft.ServiceBus/namespaces' },
    links: [{ title: 'Resource in Azure portal', url: `${BLADE}${SERVICE_BUS}` }],
  } as const;
  const labels = (monitorCondition: string) => ({
    EntityName: 'payment-events',
    conditionType: 'SingleResourceMultipleMetricCriteria',
    windowSize: 'PT5M',
    timeAggregation: 'Average',
    team: 'payments',
    escalation: 'tier2',
    signalType: 'Metric',
    monitorCondition,
    azureSeverity: 'Sev1',
    resourceGroup: 'rg-payments',
  });

  it('maps Activated: severity "1" is Sev1, portalLink is the resource link, region from resourceRegion', () => {
    expect(onlyIncident('legacy-metric-activated.json')).toStrictEqual({
      ...common,
      status: 'firing',
      startsAt: '2026-11-25T13:35:12.970Z',
      labels: labels('Activated'),
      metric: {
        name: 'DeadletteredMessages',
        namespace: 'Microsoft.ServiceBus/namespaces',
        value: 57,
        threshold: 10,
        operator: 'GreaterThan',
      },
    });
  });

  it('maps Resolved with the same fingerprint; its one timestamp is start and end', () => {
    expect(onlyIncident('legacy-metric-resolved.json')).toStrictEqual({
      ...common,
      status: 'resolved',
      startsAt: '2026-11-25T14:10:03.120Z',
      endsAt: '2026-11-25T14:10:03.120Z',
      labels: labels('Resolved'),
      metric: {
        name: 'DeadletteredMessages',
        namespace: 'Microsoft.ServiceBus/namespaces',
        value: 3,
        threshold: 10,
        operator: 'GreaterThan',
      },
    });
  });

  it('shares its fingerprint with the same alert sent in the common schema', () => {
    const payload = fixture('metric-static-fired.json');
    Object.assign(essentialsOf(payload), { alertRule: 'sb-dead-letters', alertTargetIDs: [SERVICE_BUS] });
    const criterion = (alertContextOf(payload).condition as { allOf: Json[] }).allOf[0]!;
    criterion.dimensions = [{ name: 'EntityName', value: 'payment-events' }];
    expect(only(payload).fingerprint).toBe(fingerprint);
  });

  it('defaults a missing severity to warning', () => {
    const payload = fixture('legacy-metric-activated.json');
    delete (payload.data as { context: Json }).context.severity;
    const incident = only(payload);
    expect(incident.severity).toBe('warning');
    expect(incident.labels.azureSeverity).toBeUndefined();
  });
});

describe('azure-monitor: Microsoft.Insights/activityLogs (older activity-log alerts)', () => {
  it('maps an administrative event: no rule name in the payload, so the operation names it', () => {
    const resourceId = `/subscriptions/${SUB}/resourceGroups/rg-shop-prod/providers/Microsoft.Network/networkSecurityGroups/nsg-web/securityRules/allow-rdp`;
    expect(onlyIncident('legacy-activity-log.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: azureFingerprint('activitylog', '', [resourceId.toLowerCase()], [
        'operation:microsoft.network/networksecuritygroups/securityrules/write',
      ]),
      status: 'firing',
      // Level Informational: no essentials severity in this schema.
      severity: 'info',
      title: 'Microsoft.Network/networkSecurityGroups/securityRules/write on allow-rdp',
      summary: 'Microsoft.Network/networkSecurityGroups/securityRules/write by sam.admin@example.com: Succeeded',
      source: {
        kind: 'azure-monitor',
        cloud: 'azure',
        account: SUB,
        rule: 'Microsoft.Network/networkSecurityGroups/securityRules/write',
      },
      resource: { id: resourceId, name: 'allow-rdp', type: 'Microsoft.Network/networkSecurityGroups/securityRules' },
      startsAt: '2026-11-25T15:27:36.183Z',
      labels: {
        operationName: 'Microsoft.Network/networkSecurityGroups/securityRules/write',
        caller: 'sam.admin@example.com',
        activityStatus: 'Succeeded',
        activitySubStatus: 'Created',
        eventSource: 'Administrative',
        level: 'Informational',
        channels: 'Operation',
        correlationId: '8c9d0e1f-2a3b-4c4d-9e5f-6a7b8c9d0e1f',
        eventDataId: '9d0e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a',
        team: 'netsec',
        signalType: 'Activity Log',
        monitorCondition: 'Activated',
        resourceGroup: 'rg-shop-prod',
      },
      links: [{ title: 'Resource in Azure portal', url: `${BLADE}${resourceId}` }],
    });
  });

  it('maps a service health event: incident title, communication, impacted services; level Warning', () => {
    expect(onlyIncident('legacy-activity-log-service-health.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: azureFingerprint('activitylog', '', [], ['tracking:3mpr-1xb']),
      status: 'firing',
      severity: 'warning',
      title: 'Microsoft.ServiceHealth/incident/action: Virtual Machines - North Europe',
      summary:
        'Starting at 16:20 UTC on 25 Nov 2026 a subset of customers may see errors starting Dv5 virtual machines in North Europe. Engineers are investigating.',
      source: { kind: 'azure-monitor', cloud: 'azure', account: SUB, rule: 'Microsoft.ServiceHealth/incident/action' },
      startsAt: '2026-11-25T16:49:25.373Z',
      labels: {
        operationName: 'Microsoft.ServiceHealth/incident/action',
        activityStatus: 'Active',
        eventSource: 'ServiceHealth',
        level: 'Warning',
        channels: 'Admin',
        correlationId: '1f2a3b4c-5d6e-4f7a-8b9c-0d1e2f3a4b5c',
        eventDataId: '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d',
        incidentType: 'Incident',
        trackingId: '3MPR-1XB',
        stage: 'Active',
        service: 'Virtual Machines',
        serviceHealthRegion: 'North Europe',
        impactedServices: 'Virtual Machines',
        impactedRegions: 'North Europe',
        impactStartTime: '2026-11-25T16:20:00.000Z',
        signalType: 'Activity Log',
        monitorCondition: 'Activated',
      },
      links: [],
    });
  });

  it('resolves the service issue when its stage says so, with the same fingerprint', () => {
    const payload = fixture('legacy-activity-log-service-health.json');
    const event = (payload.data as { context: { activityLog: Json } }).context.activityLog;
    const firing = only(payload);
    Object.assign(event.properties as Json, { stage: 'Resolved' });
    event.eventTimestamp = '2026-11-25T19:02:00.0000000+00:00';
    const resolved = only(payload);
    expect(resolved.status).toBe('resolved');
    expect(resolved.endsAt).toBe('2026-11-25T19:02:00.000Z');
    expect(resolved.fingerprint).toBe(firing.fingerprint);
  });
});

describe('azure-monitor: log search v1 without the common schema', () => {
  it('maps the flat body: US-locale interval end as UTC, "Warning", the Computer dimension as resource, both search links', () => {
    expect(onlyIncident('log-search-v1-flat.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: azureFingerprint('log', 'disk-space-low', ['b7c8d9e0-f1a2-4b3c-9d4e-5f6071829304'], ['dimension:computer=vm-db-01']),
      status: 'firing',
      severity: 'warning',
      title: 'disk-space-low on vm-db-01',
      summary:
        'Free disk space under 10 %\nQuery: Perf | where ObjectName == "LogicalDisk" and CounterName == "% Free Space" | summarize AggregatedValue = avg(CounterValue) by bin(TimeGenerated, 5m), Computer',
      source: { kind: 'azure-monitor', cloud: 'azure', account: SUB, rule: 'disk-space-low' },
      resource: { id: 'vm-db-01', name: 'vm-db-01', type: 'Computer' },
      // The rule fired when the search window ended (13:36:31 is its start).
      startsAt: '2026-11-25T13:51:31.000Z',
      labels: {
        Computer: 'vm-db-01',
        alertType: 'Metric measurement',
        resultCount: '2',
        workspaceId: 'b7c8d9e0-f1a2-4b3c-9d4e-5f6071829304',
        signalType: 'Log',
        monitoringService: 'Log Analytics',
        configurationItems: 'vm-db-01',
      },
      links: [
        {
          title: 'Filtered search results',
          url: 'https://portal.azure.com/#Analyticsblade/search/index?_timeInterval.intervalEnd=2026-11-25T13%3a51%3a31.0000000Z&_timeInterval.intervalDuration=900&q=Perf%20filtered',
        },
        {
          title: 'Search results',
          url: 'https://portal.azure.com/#Analyticsblade/search/index?_timeInterval.intervalEnd=2026-11-25T13%3a51%3a31.0000000Z&_timeInterval.intervalDuration=900&q=Perf',
        },
      ],
      // Metric measurement rules carry no value, only the threshold.
      metric: { threshold: 10, operator: 'Less Than' },
    });
  });

  it('maps the Application Insights body wrapped in data: severity "3" is info, count is the value', () => {
    expect(onlyIncident('log-search-v1-app-insights.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: azureFingerprint('log', 'checkout-exceptions', ['d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f7a'], []),
      status: 'firing',
      severity: 'info',
      title: 'checkout-exceptions',
      summary: 'Query: exceptions | where cloud_RoleName == "checkout" | summarize AggregatedValue = count() by bin(timestamp, 5m)',
      source: { kind: 'azure-monitor', cloud: 'azure', account: SUB, rule: 'checkout-exceptions' },
      startsAt: '2026-11-25T17:25:40.000Z',
      labels: {
        alertType: 'Number of results',
        resultCount: '4',
        applicationId: 'd4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f7a',
        signalType: 'Log',
        monitoringService: 'Application Insights',
      },
      links: [
        {
          title: 'Search results',
          url: 'https://portal.azure.com/AnalyticsBlade/subscriptions/8d2f4a1c-5b3e-4f60-9a7b-c1d2e3f40516/?query=exceptions&timeInterval.intervalEnd=2026-11-25T17%3a25%3a40.0000000Z&_timeInterval.intervalDuration=900',
        },
      ],
      metric: { value: 4, threshold: 0, operator: 'Greater Than' },
    });
  });

  it('reads the same body wrapped in data without a schemaId, and a later window keeps the fingerprint', () => {
    const flat = fixture('log-search-v1-flat.json');
    const first = only(flat);
    const wrapped = only({ data: { ...flat, SearchIntervalStartTimeUtc: '11/25/2026 1:51:31 PM' } });
    expect(wrapped.fingerprint).toBe(first.fingerprint);
    expect(wrapped.startsAt).toBe('2026-11-25T13:51:31.000Z');
  });

  it('maps the severity names and numbers, and defaults to warning without one', () => {
    const flat = fixture('log-search-v1-flat.json');
    const severityOf = (value: unknown) => only({ ...flat, Severity: value }).severity;
    expect([
      severityOf('Critical'),
      severityOf('error'),
      severityOf('Informational'),
      severityOf('0'),
      severityOf(1),
      severityOf('2'),
      severityOf('4'),
      severityOf(null),
    ]).toEqual(['critical', 'error', 'info', 'critical', 'error', 'warning', 'info', 'warning']);
  });

  it('falls back to the receive time when the body carries no interval', () => {
    const flat = fixture('log-search-v1-flat.json');
    delete flat.SearchIntervalStartTimeUtc;
    delete flat.SearchIntervalEndtimeUtc;
    expect(only(flat).startsAt).toBe('2026-11-25T18:00:00.000Z');
  });
});

describe('azure-monitor: what on-call people need from real payloads', () => {
  const WORKER_11 = `/subscriptions/${SUB}/resourceGroups/rg-shop-prod/providers/Microsoft.Compute/virtualMachines/vm-worker-11`;
  const RULE_ID = `/subscriptions/${SUB}/resourceGroups/rg-shop-prod/providers/microsoft.insights/scheduledqueryrules/heartbeat-missing`;

  it('takes the rule id from essentials.alertRuleID and names the resource from the _ResourceId dimension, not the workspace', () => {
    const scope =
      'https://portal.azure.com#@3a4b5c6d-7e8f-4901-a2b3-c4d5e6f70819/blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/source/Alerts.EmailLinks/scope/%7B%22resources%22%3A%5B%7B%22resourceId%22%3A%22%2Fsubscriptions%2F8d2f4a1c-5b3e-4f60-9a7b-c1d2e3f40516%2FresourceGroups%2Frg-shop-prod%2Fproviders%2FMicrosoft.OperationalInsights%2Fworkspaces%2Flog-shop-prod%22%7D%5D%7D/q/';
    const span = '/prettify/1/timespan/2026-11-25T03%3a31%3a55.0000000Z%2f2026-11-25T03%3a41%3a55.0000000Z';
    expect(onlyIncident('log-search-v2-resource-id-dimension.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: azureFingerprint('log', 'heartbeat-missing', [WORKSPACE], ['dimension:_resourceid=' + WORKER_11, 'dimension:computer=vm-worker-11']),
      status: 'firing',
      severity: 'error',
      title: 'heartbeat-missing on vm-worker-11',
      summary:
        'No heartbeat from a worker for 10 minutes\nQuery: Heartbeat | summarize LastCall = max(TimeGenerated) by _ResourceId, Computer | where LastCall < ago(10m)',
      source: { kind: 'azure-monitor', cloud: 'azure', account: SUB, rule: 'heartbeat-missing', ruleId: RULE_ID },
      resource: { id: WORKER_11, name: 'vm-worker-11', type: 'Microsoft.Compute/virtualMachines' },
      startsAt: '2026-11-25T03:42:09.471Z',
      labels: {
        Computer: 'vm-worker-11',
        _ResourceId: WORKER_11,
        conditionType: 'LogQueryCriteria',
        windowSize: 'PT10M',
        timeAggregation: 'Count',
        signalType: 'Log',
        monitoringService: 'Log Alerts V2',
        monitorCondition: 'Fired',
        azureSeverity: 'Sev1',
        alertId: `/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d`,
        originAlertId: '0d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a',
        resourceGroup: 'rg-shop-prod',
        configurationItems: WORKER_11,
      },
      links: [
        { title: 'Alert in Azure portal', url: `${ALERT_VIEW}1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d` },
        { title: 'Filtered search results', url: `${scope}eJzzSE0sSk1RqFEoLkksKS1WqAEAfiltered11${span}` },
        { title: 'Search results', url: `${scope}eJzzSE0sSk1RqFEoLkksKS1WqAEA${span}` },
        { title: 'Resource in Azure portal', url: `${BLADE}${WORKER_11}` },
      ],
      metric: { value: 1, threshold: 0, operator: 'GreaterThan' },
    });
  });

  it('keeps the rule id when the next firing brings a new originAlertId, and reads the alertRuleId spelling too', () => {
    const payload = fixture('log-search-v2-resource-id-dimension.json');
    const first = only(payload);
    essentialsOf(payload).originAlertId = 'ffffffff-6f5e-4d3c-8b2a-1f0e9d8c7b6a';
    const again = only(payload);
    expect([again.source.ruleId, again.fingerprint]).toEqual([RULE_ID, first.fingerprint]);
    const essentials = essentialsOf(payload);
    essentials.alertRuleId = essentials.alertRuleID;
    delete essentials.alertRuleID;
    expect(only(payload).source.ruleId).toBe(RULE_ID);
    delete essentials.alertRuleId;
    expect(only(payload).source).toStrictEqual({ kind: 'azure-monitor', cloud: 'azure', account: SUB, rule: 'heartbeat-missing' });
  });

  it('gives two computers of one log search rule two titles', () => {
    const payload = fixture('log-search-v2.json');
    const titles = ['vm-worker-07', 'vm-worker-08'].map((computer) => {
      const criterion = (alertContextOf(payload).condition as { allOf: { dimensions: Json[] }[] }).allOf[0]!;
      criterion.dimensions[0]!.value = computer;
      return only(payload).title;
    });
    expect(titles).toEqual(['heartbeat-missing on vm-worker-07', 'heartbeat-missing on vm-worker-08']);
  });

  it('starts an old-schema log alert when its search window ended, not a day earlier when it began', () => {
    const incident = onlyIncident('log-search-v1-flat-daily.json');
    expect(incident).toStrictEqual({
      schemaVersion: 1,
      fingerprint: azureFingerprint('log', 'backup-missing', ['b7c8d9e0-f1a2-4b3c-9d4e-5f6071829304'], ['dimension:computer=vm-db-02']),
      status: 'firing',
      severity: 'warning',
      title: 'backup-missing on vm-db-02',
      summary:
        'No completed backup in the last day\nQuery: AddonAzureBackupJobs | where JobOperation == "Backup" and JobStatus == "Completed" | summarize AggregatedValue = count() by bin(TimeGenerated, 1d), Computer = BackupItemUniqueId',
      source: { kind: 'azure-monitor', cloud: 'azure', account: SUB, rule: 'backup-missing' },
      resource: { id: 'vm-db-02', name: 'vm-db-02', type: 'Computer' },
      startsAt: '2026-11-25T06:00:00.000Z',
      labels: {
        Computer: 'vm-db-02',
        alertType: 'Metric measurement',
        resultCount: '1',
        workspaceId: 'b7c8d9e0-f1a2-4b3c-9d4e-5f6071829304',
        signalType: 'Log',
        monitoringService: 'Log Analytics',
        configurationItems: 'vm-db-02',
      },
      links: [
        {
          title: 'Filtered search results',
          url: 'https://portal.azure.com/#Analyticsblade/search/index?_timeInterval.intervalEnd=2026-11-25T06%3a00%3a00.0000000Z&_timeInterval.intervalDuration=86400&q=AddonAzureBackupJobs%20filtered',
        },
        {
          title: 'Search results',
          url: 'https://portal.azure.com/#Analyticsblade/search/index?_timeInterval.intervalEnd=2026-11-25T06%3a00%3a00.0000000Z&_timeInterval.intervalDuration=86400&q=AddonAzureBackupJobs',
        },
      ],
      metric: { threshold: 1, operator: 'Less Than' },
    });
    // Only the window start: it is the one time there is.
    const { SearchIntervalEndtimeUtc: _end, ...startOnly } = fixture('log-search-v1-flat-daily.json');
    expect(only(startOnly).startsAt).toBe('2026-11-24T06:00:00.000Z');
  });

  it('gives the older metric schema one resource link, though Microsoft’s sample portalLink differs from the one the ID gives', () => {
    const storage = `/subscriptions/${SUB}/resourceGroups/rg-shop-data/providers/Microsoft.Storage/storageAccounts/stshopassets`;
    const ruleId = `/subscriptions/${SUB}/resourceGroups/rg-shop-data/providers/microsoft.insights/metricAlerts/StorageCheck`;
    expect(onlyIncident('legacy-metric-docs-sample.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: azureFingerprint('metric', 'storagecheck', [storage.toLowerCase()], ['dimension:accountresourceid=' + storage, 'dimension:geotype=Primary']),
      status: 'firing',
      severity: 'info',
      title: 'StorageCheck on stshopassets',
      source: { kind: 'azure-monitor', cloud: 'azure', account: SUB, rule: 'StorageCheck', ruleId },
      resource: { id: storage, name: 'stshopassets', type: 'Microsoft.Storage/storageAccounts' },
      startsAt: '2026-11-25T10:44:10.171Z',
      labels: {
        AccountResourceId: storage,
        GeoType: 'Primary',
        conditionType: 'SingleResourceMultipleMetricCriteria',
        windowSize: 'PT5M',
        timeAggregation: 'PT5M',
        key1: 'value1',
        key2: 'value2',
        signalType: 'Metric',
        monitorCondition: 'Activated',
        azureSeverity: 'Sev3',
        resourceGroup: 'rg-shop-data',
      },
      links: [{ title: 'Resource in Azure portal', url: `${BLADE}${storage}` }],
      metric: { name: 'Transactions', namespace: 'microsoft.storage/storageAccounts', value: 1, threshold: 0, operator: 'GreaterThan' },
    });
  });

  it('maps the "AIP Budget Notification" payload: no time (the receive time), no budget ID (rebuilt)', () => {
    const budgetId = `/subscriptions/${SUB}/providers/Microsoft.Consumption/budgets/shop-monthly`;
    expect(onlyIncident('budget-aip-notification.json')).toStrictEqual({
      schemaVersion: 1,
      fingerprint: azureFingerprint('cost', 'shop-monthly', [budgetId.toLowerCase()], ['threshold:=0.8']),
      status: 'firing',
      severity: 'warning',
      title: 'shop-monthly: 8412.55 USD spent of 10000 USD',
      summary: 'Budget shop-monthly of subscription Shop Production: 8412.55 USD spent of 10000 USD (notification threshold 0.8).',
      source: { kind: 'azure-monitor', cloud: 'azure', account: SUB, rule: 'shop-monthly', ruleId: budgetId },
      resource: { id: budgetId, name: 'shop-monthly', type: 'Microsoft.Consumption/budgets' },
      startsAt: context.receivedAt.toISOString(),
      labels: {
        schemaId: 'AIP Budget Notification',
        subscriptionName: 'Shop Production',
        budgetType: 'Cost',
        budgetThreshold: '10000',
        notificationThresholdAmount: '0.8',
        spentAmount: '8412.55',
        unit: 'USD',
        budgetStartDate: '11/1/2026',
        budgetCreator: 'finops@example.com',
      },
      links: [],
    });
  });

  it('scopes a resource-group budget to its group, and names a budget notification without a name', () => {
    const payload = fixture('budget-aip-notification.json');
    (payload.data as Json).ResourceGroup = 'rg-shop-prod';
    expect(only(payload).source.ruleId).toBe(`/subscriptions/${SUB}/resourceGroups/rg-shop-prod/providers/Microsoft.Consumption/budgets/shop-monthly`);
    delete (payload.data as Json).BudgetName;
    expect(rejectionOf(payload).rejections).toEqual([
      { source: 'azure-monitor', reason: 'data.BudgetName: Invalid input: expected string, received undefined' },
    ]);
  });
});

describe('azure-monitor: variants in Microsoft’s own payloads', () => {
  it('tolerates null or absent description, originAlertId, configurationItems, customProperties, alertContext', () => {
    const payload = fixture('metric-static-fired.json');
    const essentials = essentialsOf(payload);
    essentials.description = null;
    essentials.originAlertId = null;
    delete essentials.configurationItems;
    (payload.data as Json).customProperties = null;
    (payload.data as Json).alertContext = null;
    const incident = only(payload);
    expect(incident.summary).toBeUndefined();
    expect(incident.source.ruleId).toBeUndefined();
    expect(incident.metric).toBeUndefined();
    expect(incident.labels.configurationItems).toBeUndefined();
    expect(incident.title).toBe('cpu-high-web on vm-web-01');
  });

  it('a custom property named __proto__ cannot change the labels’ prototype', () => {
    // JSON.parse, as the ingest path does, makes `__proto__` an own key of customProperties.
    const text = JSON.stringify(fixture('metric-static-fired.json')).replace('"customProperties":{', '"customProperties":{"__proto__":"polluted",');
    const payload = JSON.parse(text) as Json;
    const incident = only(payload);
    expect(Object.getPrototypeOf(incident.labels)).toBe(Object.prototype);
    // zod drops `__proto__` keys when it copies a validated object, so the label never arrives.
    expect(Object.keys(incident.labels)).not.toContain('__proto__');
    expect(Object.values(incident.labels)).not.toContain('polluted');
    expect(incident.labels.team).toBe('shop');
  });

  it('takes the account from alertId when there are no targets, and names the resource from configurationItems', () => {
    const payload = fixture('metric-static-fired.json');
    delete essentialsOf(payload).alertTargetIDs;
    const incident = only(payload);
    expect(incident.source.account).toBe(SUB);
    expect(incident.resource).toStrictEqual({ name: 'vm-web-01' });
    expect(incident.title).toBe('cpu-high-web on vm-web-01');
  });

  it('reads the alertTargetIds spelling of the field table', () => {
    const payload = fixture('metric-static-fired.json');
    const essentials = essentialsOf(payload);
    const firing = only(payload).fingerprint;
    essentials.alertTargetIds = essentials.alertTargetIDs;
    delete essentials.alertTargetIDs;
    expect(only(payload).fingerprint).toBe(firing);
  });

  it('stamps a Resolved notice without resolvedDateTime with the receive time', () => {
    const payload = fixture('metric-static-resolved.json');
    delete essentialsOf(payload).resolvedDateTime;
    expect(only(payload).endsAt).toBe('2026-11-25T18:00:00.000Z');
  });

  it('maps every Azure severity', () => {
    const payload = fixture('metric-static-fired.json');
    const mapped = ['Sev0', 'Sev1', 'Sev2', 'Sev3', 'Sev4'].map((severity) => {
      essentialsOf(payload).severity = severity;
      return only(payload).severity;
    });
    expect(mapped).toEqual(['critical', 'error', 'warning', 'info', 'info']);
  });

  it('reads numeric activity-log levels as .NET event levels and numeric channels as flags', () => {
    const payload = fixture('service-health-active.json');
    const levels = [1, 2, 3, 4].map((level) => {
      alertContextOf(payload).level = level;
      return only(payload).labels.level;
    });
    expect(levels).toEqual(['Critical', 'Error', 'Warning', 'Informational']);
    alertContextOf(payload).channels = 3;
    expect(only(payload).labels.channels).toBe('Admin, Operation');
  });

  it('does not give up on a malformed optional detail (impactedServices that is not JSON)', () => {
    const payload = fixture('service-health-active.json');
    (alertContextOf(payload).properties as Json).impactedServices = '[{not json';
    const incident = only(payload);
    expect(incident.labels.impactedServices).toBeUndefined();
    expect(incident.labels.trackingId).toBe('7KXQ-9TZ');
  });

  it('drops links that are not http(s) URLs', () => {
    const payload = fixture('metric-static-fired.json');
    essentialsOf(payload).investigationLink = 'javascript:alert(1)';
    expect(only(payload).links.map((link) => link.title)).toEqual(['Alert in Azure portal', 'Resource in Azure portal']);
  });
});

describe('azure-monitor: helpers', () => {
  it('reads Azure date-times: seven fractional digits, offsets, no zone as UTC, and the US-locale form', () => {
    expect(toIsoTimestamp('2019-03-22T13:58:24.3713213Z')).toBe('2019-03-22T13:58:24.371Z');
    expect(toIsoTimestamp('2019-03-22T13:56:31.2917159+00:00')).toBe('2019-03-22T13:56:31.291Z');
    expect(toIsoTimestamp('2021-11-16T08:29:00.141807+02:00')).toBe('2021-11-16T06:29:00.141Z');
    expect(toIsoTimestamp('2021-11-16T08:29:00')).toBe('2021-11-16T08:29:00.000Z');
    expect(toIsoTimestamp('3/22/2019 1:36:31 PM')).toBe('2019-03-22T13:36:31.000Z');
    expect(toIsoTimestamp('3/22/2019 12:05:00 AM')).toBe('2019-03-22T00:05:00.000Z');
    expect(toIsoTimestamp('12/31/2019 12:00:00 PM')).toBe('2019-12-31T12:00:00.000Z');
    expect(toIsoTimestamp('11/17/2021 5:40:29 PM -08:00')).toBe('2021-11-18T01:40:29.000Z');
    expect(toIsoTimestamp('06/25/2017 19:59:39')).toBe('2017-06-25T19:59:39.000Z');
  });

  it('reads any valid UTC date-time exactly as a Date round trip would (its fast path)', () => {
    const utcDateTimes = fc
      .tuple(
        fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
        fc.stringMatching(/^\d{0,9}$/),
        fc.constantFrom('Z', ''),
      )
      .map(([date, fraction, zone]) => `${date.toISOString().slice(0, 19)}${fraction === '' ? '' : `.${fraction}`}${zone}`);
    fc.assert(
      fc.property(utcDateTimes, (text) => {
        expect(toIsoTimestamp(text)).toBe(new Date(text.endsWith('Z') ? text : `${text}Z`).toISOString());
      }),
    );
  });

  it('refuses what is not a date-time', () => {
    for (const value of ['', 'yesterday', '2/30/2020 1:00:00 PM', '13/01/2020 1:00:00 PM', '3/22/2019 13:00:00 PM', '2019-13-01T00:00:00Z', 'Wed, 21 Aug 2019 16:17:47 GMT']) {
      expect(toIsoTimestamp(value)).toBeUndefined();
    }
  });

  it('splits resource IDs in any casing, nested and extension resources included', () => {
    expect(parseResourceId(`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Sql/servers/s1/databases/db1`)).toStrictEqual({
      subscriptionId: SUB,
      resourceGroup: 'rg',
      type: 'Microsoft.Sql/servers/databases',
      name: 'db1',
    });
    expect(parseResourceId(`/SUBSCRIPTIONS/${SUB}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.WEB/SITES/app`)).toStrictEqual({
      subscriptionId: SUB,
      resourceGroup: 'RG',
      type: 'MICROSOFT.WEB/SITES',
      name: 'app',
    });
    expect(
      parseResourceId(`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/providers/Microsoft.Insights/diagnosticSettings/ds`),
    ).toStrictEqual({ subscriptionId: SUB, resourceGroup: 'rg', type: 'Microsoft.Insights/diagnosticSettings', name: 'ds' });
    expect(parseResourceId(`/subscriptions/${SUB}/resourceGroups/rg`)).toStrictEqual({
      subscriptionId: SUB,
      resourceGroup: 'rg',
      type: 'Microsoft.Resources/resourceGroups',
      name: 'rg',
    });
  });

  it('keeps the words of service-health HTML', () => {
    expect(stripHtml('<p><strong>Impact</strong>:&nbsp;slow &amp; flaky</p>\n<p><br></p><p>Next &lt;soon&gt;</p>')).toBe(
      'Impact: slow & flaky\nNext <soon>',
    );
  });
});

describe('azure-monitor: rejections name the source and the path', () => {
  function reasonOf(payload: unknown): string {
    const error = rejectionOf(payload);
    expect(error.rejections).toHaveLength(1);
    expect(error.rejections[0]!.source).toBe('azure-monitor');
    return error.rejections[0]!.reason;
  }

  it('rejects a common-schema alert without a rule name', () => {
    const payload = fixture('metric-static-fired.json');
    delete essentialsOf(payload).alertRule;
    expect(reasonOf(payload)).toMatch(/^data\.essentials\.alertRule: /);
  });

  it('rejects a blank rule name', () => {
    const payload = fixture('metric-static-fired.json');
    essentialsOf(payload).alertRule = '   ';
    expect(reasonOf(payload)).toMatch(/^data\.essentials\.alertRule: /);
  });

  it('rejects a severity outside Sev0–Sev4', () => {
    const payload = fixture('metric-static-fired.json');
    essentialsOf(payload).severity = 'Sev5';
    expect(reasonOf(payload)).toMatch(/^data\.essentials\.severity: .*Sev0/);
  });

  it('rejects an unknown monitor condition and a missing or unreadable fired time', () => {
    const condition = fixture('metric-static-fired.json');
    essentialsOf(condition).monitorCondition = 'Acknowledged';
    expect(reasonOf(condition)).toMatch(/^data\.essentials\.monitorCondition: /);
    const missing = fixture('metric-static-fired.json');
    delete essentialsOf(missing).firedDateTime;
    expect(reasonOf(missing)).toMatch(/^data\.essentials\.firedDateTime: /);
    const unreadable = fixture('metric-static-fired.json');
    essentialsOf(unreadable).firedDateTime = 'last Tuesday';
    expect(reasonOf(unreadable)).toBe('data.essentials.firedDateTime: expected an ISO 8601 date-time (or M/D/YYYY h:mm:ss AM/PM)');
  });

  it('rejects a common-schema body without essentials', () => {
    expect(reasonOf({ schemaId: 'azureMonitorCommonAlertSchema', data: {} })).toMatch(/^data\.essentials: /);
  });

  it('rejects a budget alert without a budget name', () => {
    const payload = fixture('cost-budget.json');
    delete (alertContextOf(payload).AlertData as Json).BudgetName;
    expect(reasonOf(payload)).toMatch(/^data\.alertContext\.AlertData\.BudgetName: /);
  });

  it('rejects older metric alerts with an unknown status or severity', () => {
    const status = fixture('legacy-metric-activated.json');
    (status.data as Json).status = 'Deactivated';
    expect(reasonOf(status)).toMatch(/^data\.status: /);
    const severity = fixture('legacy-metric-activated.json');
    (severity.data as { context: Json }).context.severity = '7';
    expect(reasonOf(severity)).toBe('data.context.severity: expected a severity from "0" to "4"');
  });

  it('rejects an older activity-log alert without its event', () => {
    const payload = fixture('legacy-activity-log.json');
    delete (payload.data as { context: Json }).context.activityLog;
    expect(reasonOf(payload)).toMatch(/^data\.context\.activityLog: /);
  });

  it('rejects a log search v1 body with an unknown severity or an unreadable interval', () => {
    const flat = fixture('log-search-v1-flat.json');
    expect(reasonOf({ ...flat, Severity: 'Urgent' })).toBe('Severity: expected "0"–"4", Critical, Error, Warning or Informational');
    expect(reasonOf({ ...flat, SearchIntervalStartTimeUtc: '25.11.2026 13:36' })).toMatch(/^SearchIntervalStartTimeUtc: /);
    expect(reasonOf({ data: { ...flat, AlertRuleName: '' } })).toMatch(/^data\.AlertRuleName: /);
  });

  it('says which schemaIds it reads when given another, and that it wants an object', () => {
    expect(reasonOf({ schemaId: 'Microsoft.Insights/SomethingNew' })).toBe(
      'schemaId: expected one of azureMonitorCommonAlertSchema, AzureMonitorMetricAlert, Microsoft.Insights/activityLogs, Microsoft.Insights/LogAlert, AIP Budget Notification (or a log search v1 body)',
    );
    expect(reasonOf([])).toBe('(root): expected a JSON object');
  });
});

describe('azure-monitor: through normalize()', () => {
  it('is detected among all sources for every fixture and maps the payload', async () => {
    // Imported here so this file's other tests do not depend on every other source module.
    const { normalize } = await import('../../shared/normalize.ts');
    for (const name of FIXTURE_NAMES) expect(normalize(fixture(name), context).source).toBe('azure-monitor');
    const result = normalize(fixture('metric-static-fired.json'), context);
    expect(result.incidents.map((incident) => incident.title)).toEqual(['cpu-high-web on vm-web-01']);
  });

  it('does not claim the other sources’ fixtures', () => {
    const root = new URL('../fixtures/', import.meta.url);
    const others = readdirSync(root, { withFileTypes: true }).filter((entry) => entry.isDirectory() && entry.name !== 'azure-monitor');
    let checked = 0;
    for (const directory of others) {
      const folder = new URL(`${directory.name}/`, root);
      for (const name of readdirSync(folder).filter((file) => file.endsWith('.json'))) {
        const payload: unknown = JSON.parse(readFileSync(new URL(name, folder), 'utf8'));
        expect(azureMonitor.detect(payload), `${directory.name}/${name}`).toBe(false);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});
