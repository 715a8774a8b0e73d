// The cloud runtime the AWS handlers share: environment settings, config from SSM with secrets
// from Secrets Manager, SDK clients and queues per container, the dedup store, event and message
// schemas, logs and metrics. Kept apart from shared/'s cloud-agnostic core: it pulls in the SDK.
import { resetClients } from './clients.ts';
import { resetConfigCache } from './config.ts';
import { resetQueues } from './queues.ts';
import { resetIncidentStore } from './state.ts';

export * from './env.ts';
export * from './config.ts';
export * from './clients.ts';
export * from './queues.ts';
export * from './state.ts';
export * from './events.ts';
export * from './messages.ts';
export * from './due.ts';
export * from './observability.ts';

/** For tests: forget everything a warm container keeps (config, clients, queues, store). */
export function resetRuntime(): void {
  resetConfigCache();
  resetQueues();
  resetIncidentStore();
  resetClients();
}
export * from './rejected.ts';
