// The registry of alert sources. Order matters for detection: the first source whose `detect`
// accepts a payload gets it (Grafana's webhook is a superset of Alertmanager's, so it comes first).
// Adding a source: one module in this folder, its fixtures and tests, and one line here.
import type { SourceKind } from '../incident.ts';
import type { RegisteredSource } from './source.ts';
import { cloudwatch } from './cloudwatch.ts';
import { azureMonitor } from './azure-monitor.ts';
import { gcpMonitoring } from './gcp-monitoring.ts';
import { grafana } from './grafana.ts';
import { alertmanager } from './alertmanager.ts';
import { signalFx } from './signalfx.ts';

export const sources: readonly RegisteredSource[] = [cloudwatch, azureMonitor, gcpMonitoring, grafana, alertmanager, signalFx];

export function sourceByKind(kind: SourceKind): RegisteredSource {
  const found = sources.find((source) => source.kind === kind);
  if (!found) throw new Error(`no source registered for kind ${kind}`);
  return found;
}
