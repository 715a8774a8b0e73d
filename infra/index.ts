// The construct library's entry point: `import { TocsinPipeline } from 'tocsin/infra'`
// (package.json exports, compiled to lib/ by `npm run build`).
export {
  DEFAULT_DELIVER_BATCH_SIZE,
  DEFAULT_HTTP_INGEST_RESERVED_CONCURRENCY,
  DEFAULT_MEMORY_MB,
  DEFAULT_METRICS_NAMESPACE,
  DEFAULT_TIMEOUTS,
  FUNCTION_NAMES,
  STATE_TABLE_ACTIONS,
  TocsinPipeline,
  type TocsinFunctionName,
  type TocsinFunctionProps,
  type TocsinPipelineProps,
} from './tocsin-pipeline.ts';
export { TocsinStack, pipelinePropsFromContext, type TocsinStackProps } from './tocsin-stack.ts';
export {
  ForwarderAccess,
  type AzureFederationProps,
  type AzureForwarderProps,
  type ForwarderPrincipals,
  type ForwardersProps,
  type GcpFederationProps,
  type GcpForwarderProps,
} from './forwarders.ts';
export { ConfigDocumentError, type ConfigSource } from './config-document.ts';
export type { DeliveryQueueSettings } from './delivery-window.ts';
