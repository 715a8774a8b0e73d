// The queue port and its in-process adapter. SqsJobQueue lives in ./sqs.ts (not re-exported:
// it pulls in the AWS SDK).
export type { HandlerResult, JobQueue, SendOptions } from './port.ts';
export { MemoryQueue, type DeadLetter, type ItemMeta, type MemoryQueueOptions, type QueueStats } from './memory.ts';
