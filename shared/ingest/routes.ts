// The HTTP ingest route table every front door shares (the local server, AWS http-ingest):
// request path → which source (or detection) the body is read as.
import type { IngestEndpoint } from './ingest.ts';

export const INGEST_ROUTES: Readonly<Record<string, IngestEndpoint>> = {
  '/v1/ingest': 'auto',
  '/v1/ingest/aws/sns': 'aws-sns',
  '/v1/ingest/azure/monitor': 'azure-monitor',
  '/v1/ingest/gcp/monitoring': 'gcp-monitoring',
  '/v1/ingest/alertmanager': 'alertmanager',
  '/v1/ingest/grafana': 'grafana',
  '/v1/ingest/signalfx': 'signalfx',
};

/** The endpoint for a request path (trailing slashes already removed), if it is an ingest route. */
export function ingestEndpointFor(path: string): IngestEndpoint | undefined {
  return Object.hasOwn(INGEST_ROUTES, path) ? INGEST_ROUTES[path] : undefined;
}
