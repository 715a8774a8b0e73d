// The notice: one reading of an incident that every channel lays out in its own format, so a
// person woken at 3 a.m. sees, in this order and in two seconds, what broke and where (the
// headline), how bad and since when (status, severity, age or duration in words), the number
// that tripped (`CPU 93.5% > 80%`) and what to click first (ranked actions: runbook, the alert's
// own page, silence; never an image or an internal generator URL first).
//
// Pure: the same incident and event always give the same notice (no clock; times are the
// incident's own, written in UTC with the zone named). Every text is alert-provided and
// untrusted: channels still escape what they show; the only URLs here are http(s) ones.
import { TEST_LABEL, type Incident, type IncidentLink, type IncidentMetric, type Severity, type SourceKind } from '../incident.ts';
import type { Digest } from '../grouping/group.ts';
import type { DeliveryEvent } from './channel.ts';
import { oneLine, severityEmoji } from './text.ts';

/** Visual tone of a notice: the severity while it is a problem, `resolved` once it is over. */
export type Tone = Severity | 'resolved';

export type ActionKind = 'runbook' | 'alert' | 'incidents' | 'silence' | 'dashboard' | 'resource' | 'other' | 'generator' | 'image';

export interface NoticeAction {
  readonly kind: ActionKind;
  /** Short button text (Runbook, Open alert, Silence, …): fits a phone-width button. */
  readonly label: string;
  /** The link's own title as the source gave it (one line). */
  readonly title: string;
  readonly url: string;
}

/**
 * What the pipeline knows about the incident besides what its source sent (from the dedup
 * record when the notice was planned): who acknowledged it, what holds it until when, which
 * reminder this is. Every field is optional; old queued jobs carry none.
 */
export interface NoticeState {
  readonly acknowledgedBy?: string | undefined;
  /** ISO time a silence or maintenance window holds the incident until. */
  readonly silencedUntil?: string | undefined;
  /** 1 for the first reminder. */
  readonly reminder?: number | undefined;
  /** The incident on Tocsin's incidents page (to acknowledge or silence it), when a public URL is configured. */
  readonly pageUrl?: string | undefined;
}

export interface NoticeFact {
  readonly label: string;
  readonly value: string;
}

export interface Notice {
  readonly event: DeliveryEvent;
  readonly tone: Tone;
  /** The incident's status now (a flapping notice reports either). */
  readonly resolved: boolean;
  /** ✅ once resolved, ⚠️ flapping, 🔁 reminder, else the severity's coloured circle. */
  readonly mark: string;
  /** `CRITICAL`, `RESOLVED`, `STILL FIRING · ERROR`, `FLAPPING · WARNING`. */
  readonly label: string;
  /** Past tense once over: `Firing`, `Still firing`, `Resolved`, `Flapping, now firing`. */
  readonly status: string;
  /** What is broken: the rule on the resource, one line (`KubeDeploymentReplicasMismatch on payments/api`). */
  readonly subject: string;
  /** `<mark> [TEST] <LABEL>: <subject>`: the one line a lock screen shows. */
  readonly headline: string;
  /** Where, in one line: cloud, account, region or cluster, source (`AWS 123456789012 · us-east-1 · CloudWatch`). */
  readonly where: string;
  /** When, in words with the zone: `since Wed 25 Nov 10:00 UTC`, `after 1h 5m (ended Wed 25 Nov 11:05 UTC)`. */
  readonly when: string;
  /**
   * The pipeline's own state in words: `reminder 2 · acknowledged by alice`, `silenced until Wed
   * 25 Nov 12:00 UTC`; absent when there is none.
   */
  readonly state?: string;
  /** Status, time, then the state: `Still firing since Wed 25 Nov 10:00 UTC · reminder 2`, `Resolved after 1h 5m (ended …) · acknowledged by alice`. */
  readonly statusLine: string;
  /** How long it lasted (resolved notices whose start and end differ). */
  readonly duration?: string;
  /** The metric in words: `CPUUtilization 93.5% > 80%`. */
  readonly metric?: string;
  /** The reason text, trimmed; multi-line. */
  readonly summary?: string;
  /** Best first: runbook, alert page, silence, dashboards, resource, others; generator and image links last. */
  readonly actions: readonly NoticeAction[];
  /** The few labels that say which thing and whose (team, env, cluster, namespace, …). */
  readonly identity: readonly NoticeFact[];
  /** Every other label except the source's known noise, sorted by key. */
  readonly details: readonly NoticeFact[];
  readonly fingerprint: string;
  readonly isTest: boolean;
}

// ---------------------------------------------------------------------------------------------
// Status and tone

function isResolvedNotice(event: DeliveryEvent, incident: Incident): boolean {
  return event === 'resolved' || incident.status === 'resolved';
}

export function noticeTone(event: DeliveryEvent, incident: Incident): Tone {
  // A flapping notice is about instability, so it keeps the severity's tone even mid-flip.
  if (event !== 'flapping' && isResolvedNotice(event, incident)) return 'resolved';
  return incident.severity;
}

function noticeMark(event: DeliveryEvent, incident: Incident): string {
  if (event === 'flapping') return '⚠️';
  if (isResolvedNotice(event, incident)) return '✅';
  if (event === 'renotified') return '🔁';
  return severityEmoji(incident.severity);
}

function noticeLabel(event: DeliveryEvent, incident: Incident): string {
  const severity = incident.severity.toUpperCase();
  if (event === 'flapping') return `FLAPPING · ${severity}`;
  if (isResolvedNotice(event, incident)) return 'RESOLVED';
  if (event === 'renotified') return `STILL FIRING · ${severity}`;
  return severity;
}

function noticeStatus(event: DeliveryEvent, incident: Incident): string {
  if (event === 'flapping') return `Flapping, now ${incident.status}`;
  if (isResolvedNotice(event, incident)) return 'Resolved';
  return event === 'renotified' ? 'Still firing' : 'Firing';
}

/** A firing notice, the only kind that may page people with a mention. */
export function isFiringNotice(event: DeliveryEvent, incident: Incident): boolean {
  return event !== 'resolved' && incident.status === 'firing';
}

// ---------------------------------------------------------------------------------------------
// Time in words

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const pad2 = (value: number): string => String(value).padStart(2, '0');

/** `Wed 25 Nov 10:00 UTC` (seconds and milliseconds are noise at 3 a.m.). */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return oneLine(iso);
  return `${WEEKDAYS[date.getUTCDay()]} ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())} UTC`;
}

const DURATION_UNITS: readonly (readonly [string, number])[] = [
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
];

/** `2d 3h`, `1h 5m`, `4m 10s`, `12s`: the two largest units from the first non-zero one. */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.floor(ms / 1000));
  const parts: string[] = [];
  let counted = 0;
  for (const [unit, size] of DURATION_UNITS) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (counted === 0 && count === 0) continue;
    counted += 1;
    if (count > 0) parts.push(`${count}${unit}`);
    if (counted === 2) break;
  }
  return parts.length === 0 ? '0s' : parts.join(' ');
}

/** How long the episode lasted, when the incident knows both ends and they differ. */
function durationOf(incident: Incident): string | undefined {
  if (incident.status !== 'resolved' || incident.endsAt === undefined) return undefined;
  const ms = Date.parse(incident.endsAt) - Date.parse(incident.startsAt);
  // Equal ends mean the source told only when it ended (a CloudWatch OK): no duration to tell.
  return Number.isFinite(ms) && ms >= 1000 ? formatDuration(ms) : undefined;
}

/**
 * The time phrase after the status: `since Wed 25 Nov 10:00 UTC` while firing, `after 1h 5m
 * (ended Wed 25 Nov 11:05 UTC)` once resolved, `at Wed 25 Nov 05:31 UTC` when only the end is known.
 */
function whenPhrase(incident: Incident, duration: string | undefined): string {
  if (incident.status === 'resolved' && incident.endsAt !== undefined) {
    const ended = formatTime(incident.endsAt);
    return duration === undefined ? `at ${ended}` : `after ${duration} (ended ${ended})`;
  }
  return `since ${formatTime(incident.startsAt)}`;
}

// ---------------------------------------------------------------------------------------------
// The metric in words

const OPERATORS: Readonly<Record<string, string>> = {
  GreaterThanThreshold: '>',
  GreaterThanOrEqualToThreshold: '>=',
  LessThanThreshold: '<',
  LessThanOrEqualToThreshold: '<=',
  LessThanLowerOrGreaterThanUpperThreshold: 'outside band',
  LessThanLowerThreshold: 'below band',
  GreaterThanUpperThreshold: 'above band',
  GreaterThan: '>',
  GreaterOrLessThan: 'outside',
  GreaterThanOrEqual: '>=',
  LessThan: '<',
  LessThanOrEqual: '<=',
  Equals: '=',
  NotEquals: '!=',
  COMPARISON_GT: '>',
  COMPARISON_GE: '>=',
  COMPARISON_LT: '<',
  COMPARISON_LE: '<=',
  COMPARISON_EQ: '=',
  COMPARISON_NE: '!=',
};

const UNITS: Readonly<Record<string, string>> = {
  Percent: '%',
  Seconds: ' s',
  Milliseconds: ' ms',
  Microseconds: ' µs',
  Bytes: ' B',
  Kilobytes: ' KB',
  Megabytes: ' MB',
  Gigabytes: ' GB',
  Terabytes: ' TB',
  'Bytes/Second': ' B/s',
  'Count/Second': '/s',
  Count: '',
  None: '',
};

// Built on first use: a process's first Intl object loads ICU's data (about 20 ms of CPU and
// ~6 MiB resident), which every process importing the channels paid at import, the cloud
// functions that never render a notice (http-ingest, dispatch) included.
let numberFormat: Intl.NumberFormat | undefined;

function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e15 || abs < 0.01)) return value.toPrecision(3);
  numberFormat ??= new Intl.NumberFormat('en-US', { maximumFractionDigits: 2, useGrouping: true });
  return numberFormat.format(value);
}

/** `Bytes` values past a thousand in decimal multiples, so 5.73416318976E12 reads `5.73 TB`. */
function withUnit(value: number, unit: string | undefined): string {
  if (unit === 'Bytes' && Math.abs(value) >= 1000) {
    const steps = ['KB', 'MB', 'GB', 'TB', 'PB'];
    let scaled = value / 1000;
    let step = 0;
    while (Math.abs(scaled) >= 1000 && step < steps.length - 1) {
      scaled /= 1000;
      step += 1;
    }
    return `${formatNumber(scaled)} ${steps[step]}`;
  }
  const suffix = unit === undefined ? '' : (UNITS[unit] ?? ` ${oneLine(unit)}`);
  return `${formatNumber(value)}${suffix}`;
}

/** A metric type without its service domain, last two parts (`compute.googleapis.com/instance/cpu/utilization` → `cpu utilization`). */
function metricName(metric: IncidentMetric): string | undefined {
  if (metric.name === undefined) return undefined;
  const parts = metric.name.split('/');
  if (parts.length > 1 && parts[0]?.includes('.') === true) parts.shift();
  return oneLine(parts.slice(-2).join(' '));
}

/**
 * `CPUUtilization 93.5% > 80%`, `cpu utilization 93.4% > 80%`, `value 81.25`. Cloud Monitoring
 * `…/utilization` metrics are ratios (0.934): shown as percentages.
 */
export function metricInWords(metric: IncidentMetric | undefined, kind: SourceKind): string | undefined {
  if (metric === undefined || (metric.name === undefined && metric.value === undefined)) return undefined;
  const ratio = kind === 'gcp-monitoring' && metric.unit === undefined && metric.name?.endsWith('/utilization') === true;
  const unit = ratio ? 'Percent' : metric.unit;
  const scale = (value: number): number => (ratio ? Math.round(value * 10_000) / 100 : value);
  const parts = [metricName(metric) ?? 'value'];
  if (metric.value !== undefined) parts.push(withUnit(scale(metric.value), unit));
  if (metric.threshold !== undefined) {
    const operator = metric.operator === undefined ? 'threshold' : (OPERATORS[metric.operator] ?? oneLine(metric.operator));
    parts.push(operator, withUnit(scale(metric.threshold), unit));
  }
  return oneLine(parts.join(' '));
}

// ---------------------------------------------------------------------------------------------
// Where

const CLOUD_NAMES: Readonly<Record<Incident['source']['cloud'], string | undefined>> = {
  aws: 'AWS',
  azure: 'Azure',
  gcp: 'GCP',
  other: undefined,
};

const SOURCE_NAMES: Readonly<Record<SourceKind, string>> = {
  cloudwatch: 'CloudWatch',
  'azure-monitor': 'Azure Monitor',
  'gcp-monitoring': 'Cloud Monitoring',
  alertmanager: 'Alertmanager',
  grafana: 'Grafana',
  signalfx: 'Splunk Observability',
};

function whereLine(incident: Incident): string {
  const { source, labels } = incident;
  const cloud = CLOUD_NAMES[source.cloud];
  const account = source.account === undefined ? undefined : oneLine(source.account);
  const place = source.region ?? labels.cluster ?? labels.cluster_name;
  const parts = [
    [cloud, account].filter((part) => part !== undefined).join(' '),
    place === undefined ? undefined : oneLine(place),
    SOURCE_NAMES[source.kind],
  ];
  return parts.filter((part) => part !== undefined && part !== '').join(' · ');
}

// ---------------------------------------------------------------------------------------------
// What: the resource a Kubernetes alert is about

/**
 * Kubernetes object labels in the order that names what is broken. A kube-state-metrics alert
 * about a deployment still carries the exporter's own `pod`, `container` and `instance` (the
 * target labels), so those never win over the object the metric is about.
 */
const KUBERNETES_OBJECTS = ['deployment', 'statefulset', 'daemonset', 'job_name', 'cronjob', 'persistentvolumeclaim', 'horizontalpodautoscaler', 'node'] as const;
const NAMESPACED = new Set<string>(['deployment', 'statefulset', 'daemonset', 'job_name', 'cronjob', 'persistentvolumeclaim', 'horizontalpodautoscaler']);

/** True when the alert's `pod` label names the kube-state-metrics exporter, not the pod in trouble. */
function podIsExporter(labels: Readonly<Record<string, string>>): boolean {
  const pod = labels.pod ?? '';
  return labels.container === 'kube-state-metrics' || /kube-state-metrics/.test(pod);
}

/** `namespace/name (deployment)` for a kube-state-metrics alert about an object; undefined otherwise. */
export function kubernetesObject(labels: Readonly<Record<string, string>>): { name: string; type: string } | undefined {
  if (labels.pod !== undefined && !podIsExporter(labels)) return undefined;
  for (const type of KUBERNETES_OBJECTS) {
    const value = labels[type];
    if (value === undefined || value === '') continue;
    const namespace = labels.namespace;
    const name = NAMESPACED.has(type) && namespace !== undefined && namespace !== '' ? `${namespace}/${value}` : value;
    return { name: oneLine(name), type };
  }
  return undefined;
}

/**
 * The rule on the resource. The incident's title already says it; for a kube-state-metrics
 * alert whose title names the exporter (`… on kube-prometheus-stack-kube-state-metrics-6c9f…`),
 * the object the alert is about replaces it.
 */
function subjectOf(incident: Incident): string {
  const title = oneLine(incident.title);
  if (incident.source.kind !== 'alertmanager' && incident.source.kind !== 'grafana') return title;
  const object = kubernetesObject(incident.labels);
  if (object === undefined) return title;
  const named = incident.resource?.name;
  const rule = oneLine(incident.source.rule);
  if (named !== undefined && title.endsWith(` on ${oneLine(named)}`)) return `${rule} on ${object.name}`;
  return title.includes(object.name) ? title : `${title} on ${object.name}`;
}

// ---------------------------------------------------------------------------------------------
// Actions, ranked

const RANK: Readonly<Record<ActionKind, number>> = {
  runbook: 0,
  alert: 1,
  incidents: 2,
  silence: 3,
  dashboard: 4,
  resource: 5,
  other: 6,
  generator: 7,
  image: 8,
};

const LABELS: Readonly<Record<ActionKind, string | undefined>> = {
  runbook: 'Runbook',
  alert: 'Open alert',
  incidents: 'Tocsin',
  silence: 'Silence',
  dashboard: 'Dashboard',
  resource: 'Resource',
  other: undefined,
  generator: 'Query',
  image: 'Image',
};

/** Longest source title kept as a button's text (fits a third of a phone-width card). */
const SHORT_LABEL_CHARS = 14;

/** An http(s) URL in its parsed form, else undefined (nothing else becomes a link anywhere). */
export function webUrl(url: string): string | undefined {
  const parsed = URL.parse(url.trim());
  return parsed !== null && (parsed.protocol === 'https:' || parsed.protocol === 'http:') ? parsed.href : undefined;
}

/** A host with no dot (`prometheus`) or a raw Prometheus/Alertmanager port: only reachable inside. */
function isInternalHost(url: URL): boolean {
  return !url.hostname.includes('.') || url.port === '9090';
}

function classify(link: IncidentLink, kind: SourceKind): ActionKind | undefined {
  const title = link.title.toLowerCase();
  const url = URL.parse(link.url);
  if (url === null) return undefined;
  // Known noise: Cloud Monitoring adds an Apigee console link to every notification.
  if (kind === 'gcp-monitoring' && url.hostname === 'apigee.google.com') return undefined;
  if (/runbook|playbook/.test(title)) return 'runbook';
  if (/silence/.test(title)) return 'silence';
  if (/image|screenshot/.test(title) || /\.(png|jpe?g|gif|svg)$/i.test(url.pathname)) return 'image';
  if (title === 'source' || title === 'generator' || (url.pathname.endsWith('/graph') && isInternalHost(url))) return 'generator';
  if (/^(cloudwatch alarm|alert in azure portal|investigate in azure portal|incident|detector|alert rule|alert)$/.test(title)) return 'alert';
  if (/dashboard|panel|chart|preview|documentation|search results/.test(title)) return 'dashboard';
  if (/^resource/.test(title)) return 'resource';
  if (/portal$|console$/.test(title)) return 'alert';
  return 'other';
}

const RUNBOOK_IN_TEXT = /\b(?:runbook|playbook)\s*:\s*(https?:\/\/[^\s<>"'`)\]]+)/i;

/** `runbook`/`runbook_url`/`playbook` labels (Azure custom properties, annotations kept as labels). */
function runbookFromLabels(labels: Readonly<Record<string, string>>): string | undefined {
  for (const [key, value] of Object.entries(labels)) {
    if (!/^(runbook|runbook_url|runbookurl|playbook|playbook_url)$/i.test(key)) continue;
    const url = webUrl(value);
    if (url !== undefined) return url;
  }
  return undefined;
}

/** The URL right after `Runbook:` or `Playbook:` (`Runbook: https://…` in a CloudWatch description). */
function runbookFromText(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const match = RUNBOOK_IN_TEXT.exec(text);
  return match?.[1] === undefined ? undefined : webUrl(match[1].replace(/[.,;:]+$/, ''));
}

/**
 * A runbook the rule's author wrote where the source has no link field for it: an Azure custom
 * property (a label here), or a `Runbook: https://…` line in a CloudWatch alarm description (the
 * part of the summary after AWS's own reason). Both are the rule's configuration, trusted as much
 * as an Alertmanager `runbook_url` annotation; free text from any other source never becomes a link.
 */
function runbookFromConfig(incident: Incident): string | undefined {
  if (incident.source.kind === 'azure-monitor') return runbookFromLabels(incident.labels);
  if (incident.source.kind === 'cloudwatch') return runbookFromText(incident.summary);
  return undefined;
}

export function rankedActions(incident: Incident): NoticeAction[] {
  const seen = new Set<string>();
  const actions: NoticeAction[] = [];
  const add = (kind: ActionKind, title: string, url: string): void => {
    if (seen.has(url)) return;
    seen.add(url);
    const oneLineTitle = oneLine(title);
    // A dashboard keeps its own short name (Panel, Alert preview); anything else its kind's word.
    const own = kind === 'dashboard' && oneLineTitle.length <= SHORT_LABEL_CHARS ? oneLineTitle : undefined;
    actions.push({ kind, label: own ?? LABELS[kind] ?? oneLineTitle, title: oneLineTitle, url });
  };
  const found = runbookFromConfig(incident);
  for (const link of incident.links) {
    const url = webUrl(link.url);
    const kind = url === undefined ? undefined : classify(link, incident.source.kind);
    if (url !== undefined && kind !== undefined) add(kind, link.title, url);
  }
  if (found !== undefined && !actions.some((action) => action.kind === 'runbook')) add('runbook', 'Runbook', found);
  // Stable sort: within one kind the source's own order stays.
  return actions.sort((a, b) => RANK[a.kind] - RANK[b.kind]);
}

// ---------------------------------------------------------------------------------------------
// Labels

/** Labels that say which thing and whose, in the order shown. */
const IDENTITY_KEYS = ['env', 'environment', 'team', 'service', 'service.name', 'cluster', 'namespace', 'job', 'zone', 'tier'] as const;

/** Per source: labels that repeat what the notice already shows, or only matter to a machine. */
const NOISE: Readonly<Record<SourceKind, RegExp>> = {
  cloudwatch: /^(alarm_type|alarm_state|previous_state|namespace|metric|statistic|sns_topic_arn|dimension_.*)$/,
  'azure-monitor': /^(conditionType|windowSize|timeAggregation|signalType|monitorCondition|monitoringService|azureSeverity|alertId|ResourceId|AccountResourceId|correlationId|eventDataId|channels|ruleGroup|runbook)$/,
  'gcp-monitoring': /^(project_id|instance_id|metadata\..*)$/,
  alertmanager: /^(alertname|severity|runbook|runbook_url|prometheus|endpoint)$/,
  grafana: /^(alertname|severity|__.*)$/,
  signalfx: /^(signalfx_severity|signalfx_status|incident_id|detector_rule)$/,
};

/** The scrape target's own labels on a kube-state-metrics alert: they name the exporter. */
const EXPORTER_TARGET = /^(container|endpoint|instance|job|pod|service)$/;

function labelFacts(incident: Incident): { identity: NoticeFact[]; details: NoticeFact[] } {
  const kind = incident.source.kind;
  const exporter = (kind === 'alertmanager' || kind === 'grafana') && podIsExporter(incident.labels);
  const sourceNoise = NOISE[kind];
  const isNoise = (key: string): boolean => sourceNoise.test(key) || (exporter && EXPORTER_TARGET.test(key));
  const identity: NoticeFact[] = [];
  for (const key of IDENTITY_KEYS) {
    const value = incident.labels[key];
    if (value !== undefined && value !== '' && identity.length < 4 && !isNoise(key)) identity.push({ label: key, value: oneLine(value) });
  }
  const shown = new Set(identity.map((fact) => fact.label));
  const details = Object.keys(incident.labels)
    .filter((key) => !shown.has(key) && key !== TEST_LABEL && !isNoise(key))
    .sort()
    .map((key) => ({ label: oneLine(key), value: oneLine(incident.labels[key] ?? '') }));
  return { identity, details };
}

// ---------------------------------------------------------------------------------------------

/** The incidents page among the actions, after the runbook and the alert's own page. */
function withPage(actions: NoticeAction[], pageUrl: string | undefined): NoticeAction[] {
  const url = pageUrl === undefined ? undefined : webUrl(pageUrl);
  if (url === undefined || actions.some((action) => action.url === url)) return actions;
  return [...actions, { kind: 'incidents' as const, label: 'Tocsin', title: 'Incidents page (acknowledge, silence)', url }].sort((a, b) => RANK[a.kind] - RANK[b.kind]);
}

/** The state's words, in the order a person needs them: which reminder, who has it, what holds it. */
function stateInWords(event: DeliveryEvent, state: NoticeState): string | undefined {
  const words: string[] = [];
  if (event === 'renotified' && state.reminder !== undefined && state.reminder > 0) words.push(`reminder ${String(state.reminder)}`);
  if (state.acknowledgedBy !== undefined && state.acknowledgedBy.trim() !== '') words.push(`acknowledged by ${oneLine(state.acknowledgedBy)}`);
  if (state.silencedUntil !== undefined) words.push(`silenced until ${formatTime(state.silencedUntil)}`);
  return words.length === 0 ? undefined : words.join(' · ');
}

export function buildNotice(event: DeliveryEvent, incident: Incident, noticeState: NoticeState = {}): Notice {
  const mark = noticeMark(event, incident);
  const status = noticeStatus(event, incident);
  const label = noticeLabel(event, incident);
  const subject = subjectOf(incident);
  const isTest = incident.labels[TEST_LABEL] !== undefined;
  const duration = durationOf(incident);
  const when = whenPhrase(incident, duration);
  const summary = incident.summary?.replace(/\r\n?/g, '\n').trim();
  const metric = metricInWords(incident.metric, incident.source.kind);
  const { identity, details } = labelFacts(incident);
  const state = stateInWords(event, noticeState);
  return {
    event,
    tone: noticeTone(event, incident),
    resolved: incident.status === 'resolved' || event === 'resolved',
    mark,
    label,
    status,
    subject,
    headline: `${mark} ${isTest ? '[TEST] ' : ''}${label}: ${subject}`,
    where: whereLine(incident),
    when,
    ...(state === undefined ? {} : { state }),
    statusLine: `${status} ${when}${state === undefined ? '' : ` · ${state}`}`,
    ...(duration === undefined ? {} : { duration }),
    ...(metric === undefined ? {} : { metric }),
    ...(summary === undefined || summary === '' ? {} : { summary }),
    actions: withPage(rankedActions(incident), noticeState.pageUrl),
    identity,
    details,
    fingerprint: incident.fingerprint,
    isTest,
  };
}

// ---------------------------------------------------------------------------------------------
// Digests: many notices of one group in one message (shared/grouping)

/** One line of a digest: enough to know which alert and what happened; the link to open it. */
export interface DigestLine {
  readonly event: DeliveryEvent;
  readonly tone: Tone;
  readonly mark: string;
  /** `CRITICAL`, `RESOLVED`, `STILL FIRING · ERROR`, … as in a notice. */
  readonly label: string;
  readonly subject: string;
  readonly where: string;
  /** `Firing since Wed 25 Nov 10:00 UTC`, `Resolved after 1h 5m (ended …)`. */
  readonly statusLine: string;
  /** The notice's first action (runbook or the alert's page), if any. */
  readonly action?: NoticeAction;
  readonly fingerprint: string;
  readonly isTest: boolean;
}

export interface DigestNotice {
  /** The worst line's tone, `resolved` when every line is. */
  readonly tone: Tone;
  readonly mark: string;
  /** `🔴 12 alerts · 10 firing, 2 resolved · alertname=HighCPU`: the one line a lock screen shows. */
  readonly headline: string;
  /** `10 firing, 2 resolved`. */
  readonly counts: string;
  /** What the group has in common (`alertname=HighCPU`); "" when grouped by nothing that has a value. */
  readonly groupLine: string;
  readonly groupId: string;
  readonly sequence: number;
  /** Worst first (the digest's order). */
  readonly lines: readonly DigestLine[];
  /** The digest itself, for channels that pass the incidents on (webhook). */
  readonly digest: Digest;
}

/** The digest as every channel reads it; pure like buildNotice. */
export function buildDigestNotice(digest: Digest): DigestNotice {
  const lines = digest.items.map((item): DigestLine => {
    const notice = buildNotice(item.event, item.incident);
    // What to open first; silencing, queries and images wait for the incident's own notice or page.
    const action = notice.actions.find((candidate) => candidate.kind !== 'silence' && candidate.kind !== 'generator' && candidate.kind !== 'image');
    return {
      event: item.event,
      tone: notice.tone,
      mark: notice.mark,
      label: notice.label,
      subject: notice.subject,
      where: notice.where,
      statusLine: notice.statusLine,
      ...(action === undefined ? {} : { action }),
      fingerprint: notice.fingerprint,
      isTest: notice.isTest,
    };
  });
  const resolved = lines.filter((line) => line.tone === 'resolved').length;
  const problems = lines.length - resolved;
  const counts = [problems > 0 ? `${String(problems)} firing` : undefined, resolved > 0 ? `${String(resolved)} resolved` : undefined]
    .filter((part) => part !== undefined)
    .join(', ');
  const first = lines[0];
  const tone: Tone = first?.tone ?? 'resolved';
  const mark = tone === 'resolved' ? '✅' : severityEmoji(tone);
  const groupLine = digest.groupLabels
    .filter((label) => label.value !== '')
    .map((label) => `${oneLine(label.key)}=${oneLine(label.value)}`)
    .join(', ');
  const alerts = lines.length === 1 ? '1 alert' : `${String(lines.length)} alerts`;
  const test = lines.length > 0 && lines.every((line) => line.isTest) ? '[TEST] ' : '';
  return {
    tone,
    mark,
    headline: [`${mark} ${test}${alerts}`, counts, groupLine].filter((part) => part !== '').join(' · '),
    counts,
    groupLine,
    groupId: digest.groupId,
    sequence: digest.sequence,
    lines,
    digest,
  };
}

/** `+3 more`: what a digest says about the lines it had no room for. */
export function moreLine(count: number): string {
  return `+${String(count)} more`;
}

/**
 * The most lines (from the first) whose rendered parts fit `budget` together with the "+N more"
 * part for the rest. `size` measures a rendered line or the more part in the channel's unit.
 */
export function fitDigestLines<T>(
  lines: readonly DigestLine[],
  budget: number,
  render: (line: DigestLine) => T,
  size: (part: T | string) => number,
): { readonly shown: T[]; readonly more: number } {
  const shown: T[] = [];
  let used = 0;
  for (const [index, line] of lines.entries()) {
    const part = render(line);
    const rest = lines.length - index - 1;
    const reserve = rest > 0 ? size(moreLine(rest)) : 0;
    if (used + size(part) + reserve > budget) return { shown, more: lines.length - index };
    shown.push(part);
    used += size(part);
  }
  return { shown, more: 0 };
}
