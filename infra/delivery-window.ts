// The deliveries queue's settings, derived from the config's retry window. deliver retries a job
// by hiding its message for the backoff delay (ChangeMessageVisibility, at most 12 hours), up to
// `defaults.maxAttempts` receives; so the queue must redrive no sooner than that many receives
// and keep the message at least as long as the whole window. A config the queue cannot honour
// stops the synth with the setting to change.
import { configFileSchema } from '../shared/config/schema.ts';
import { retryWindow, type BackoffSettings } from '../shared/delivery/backoff.ts';
import { formatIssues } from '../shared/zod-issues.ts';
import { ConfigDocumentError } from './config-document.ts';

/** SQS's longest visibility timeout: the longest delay one retry can have. */
export const MAX_VISIBILITY_MS = 12 * 3_600_000;
/** SQS's longest message retention. */
export const MAX_RETENTION_MS = 14 * 86_400_000;
/** SQS's shortest useful default retention; a short window still keeps its messages 4 days. */
const MIN_RETENTION_MS = 4 * 86_400_000;
/** Kept on top of the window: sends, cold starts, a deliver backlog, an outage of Lambda itself. */
const RETENTION_MARGIN_MS = 86_400_000;
/**
 * Receives on top of maxAttempts before SQS's own redrive: a job whose line another worker was
 * sending on is received again without a send (shared/delivery/worker.ts `busy`), and an
 * invocation can die before it answers. deliver itself dead-letters, with the reason, at the
 * last receive, so SQS's bare redrive is only the net under that.
 */
export const EXTRA_RECEIVES = 5;

export interface DeliveryQueueSettings {
  readonly maxAttempts: number;
  readonly backoff: BackoffSettings;
  /** The deliveries queue's maxReceiveCount (also DELIVERIES_MAX_RECEIVE_COUNT). */
  readonly maxReceiveCount: number;
  readonly retentionMs: number;
  /** From the first failure to the last attempt (retryWindow). */
  readonly window: { readonly minMs: number; readonly maxMs: number };
}

export function deliveryQueueSettings(document: Readonly<Record<string, unknown>>, where: string): DeliveryQueueSettings {
  const parsed = configFileSchema.shape.defaults.safeParse(document['defaults']);
  if (!parsed.success) throw new ConfigDocumentError(`${where}: defaults: ${formatIssues(parsed.error)}`);
  const { maxAttempts, backoff: file } = parsed.data;
  const backoff = { initialMs: file.initial, maxMs: file.max };
  if (backoff.maxMs > MAX_VISIBILITY_MS) {
    throw new ConfigDocumentError(
      `${where}: defaults.backoff.max is ${hours(backoff.maxMs)}; on AWS a retry waits in the deliveries queue (ChangeMessageVisibility), which holds a message for at most 12 hours: set it to 12h or less`,
    );
  }
  const window = retryWindow(backoff, maxAttempts);
  const retentionMs = Math.max(MIN_RETENTION_MS, window.maxMs + RETENTION_MARGIN_MS);
  if (retentionMs > MAX_RETENTION_MS) {
    throw new ConfigDocumentError(
      `${where}: defaults.maxAttempts ${String(maxAttempts)} with defaults.backoff.max ${hours(backoff.maxMs)} retries for up to ${hours(window.maxMs)}; with a day's margin that is more than the 14 days SQS keeps a message: lower one of them`,
    );
  }
  return { maxAttempts, backoff, maxReceiveCount: maxAttempts + EXTRA_RECEIVES, retentionMs, window };
}

function hours(ms: number): string {
  return ms % 3_600_000 === 0 ? `${String(ms / 3_600_000)}h` : `${(ms / 3_600_000).toFixed(1)}h`;
}

/** What deliver needs besides one send: cold start, config and secret reads, the claim. */
export const DELIVER_OVERHEAD_MS = 5_000;

/**
 * Refuses a `defaults.sendTimeout` the deliver function cannot wait out: the jobs of a batch are
 * sent concurrently, so one send plus the overhead must fit in deliver's timeout, or Lambda
 * stops the function mid-send and the claim's lease outlives it.
 */
export function deliverySendSettings(document: Readonly<Record<string, unknown>>, where: string, deliverTimeoutMs: number): { readonly sendTimeoutMs: number } {
  const parsed = configFileSchema.shape.defaults.safeParse(document['defaults']);
  if (!parsed.success) throw new ConfigDocumentError(`${where}: defaults: ${formatIssues(parsed.error)}`);
  const sendTimeoutMs = parsed.data.sendTimeout;
  if (sendTimeoutMs + DELIVER_OVERHEAD_MS > deliverTimeoutMs) {
    throw new ConfigDocumentError(
      `${where}: defaults.sendTimeout is ${String(sendTimeoutMs / 1000)} s, but deliver times out after ${String(deliverTimeoutMs / 1000)} s and needs ${String(DELIVER_OVERHEAD_MS / 1000)} s besides the send: lower sendTimeout or raise functionProps.deliver.timeout to at least ${String(Math.ceil((sendTimeoutMs + DELIVER_OVERHEAD_MS) / 1000))} s`,
    );
  }
  return { sendTimeoutMs };
}
