// The queue port: how a stage hands work to the next one. SQS in AWS, MemoryQueue locally.

export interface SendOptions {
  /** Hold the items this long before they can be received (SQS caps this at 15 minutes). */
  readonly delayMs?: number;
}

export interface JobQueue<T> {
  send(items: readonly T[], options?: SendOptions): Promise<void>;
}

/** What a consumer says about one item: finished, try again later, or give up. */
export type HandlerResult =
  | { readonly kind: 'done' }
  | { readonly kind: 'retry'; readonly delayMs: number; readonly reason: string }
  | { readonly kind: 'dead-letter'; readonly reason: string };
