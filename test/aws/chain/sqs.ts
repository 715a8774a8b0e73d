// Amazon SQS (standard queues) on 127.0.0.1, spoken over the AWS JSON 1.0 protocol the SDK v3
// uses, with the limits and errors the service has: 10 entries per batch, a maximum message size
// (body plus message attributes, the whole batch too), the XML character set
// (#x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF, else InvalidMessageContents),
// visibility timeouts up to 12 hours from the receive, receipt handles that go stale, receive
// counts and a redrive policy (maxReceiveCount → dead-letter queue), and StartMessageMoveTask to
// redrive a dead-letter queue. Time is a virtual clock the test advances: nothing becomes visible
// again unless the test moves the clock.
import { createHash, randomUUID } from 'node:crypto';
import { AwsServiceError, startAwsJsonServer, type AwsJsonServer } from './aws-json.ts';
import type { VirtualClock } from './clock.ts';

export const REGION = 'eu-west-1';
export const ACCOUNT = '111122223333';
/** SQS's classic limit, the size CDK queues are created with unless told otherwise. */
export const DEFAULT_MAXIMUM_MESSAGE_SIZE = 262_144;
export const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;
const MAX_BATCH_ENTRIES = 10;
const ALLOWED_CHARACTERS = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
const BATCH_ENTRY_ID = /^[\w-]{1,80}$/;

export interface MessageAttributeValue {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: string;
}

export interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>>;
  readonly sentAt: number;
  /** Virtual time at which the message can next be received. */
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt: number | undefined;
  /** The receive the current receipt handle belongs to, and when that receive happened. */
  receiptHandle: string | undefined;
  receivedAt: number | undefined;
  /** Set on a message moved to a dead-letter queue: the queue it came from. */
  deadLetterSourceArn: string | undefined;
}

export interface QueueOptions {
  readonly visibilityTimeoutSeconds?: number;
  readonly maximumMessageSize?: number;
  /** Redrive policy: after maxReceiveCount receives, the next receive moves the message here. */
  readonly deadLetter?: { readonly queue: string; readonly maxReceiveCount: number };
}

export class Queue {
  readonly name: string;
  readonly arn: string;
  readonly url: string;
  readonly visibilityTimeoutSeconds: number;
  readonly maximumMessageSize: number;
  readonly deadLetter: QueueOptions['deadLetter'];
  readonly messages: StoredMessage[] = [];

  constructor(name: string, endpoint: string, options: QueueOptions) {
    this.name = name;
    this.arn = `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
    this.url = `${endpoint}/${ACCOUNT}/${name}`;
    this.visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 30;
    this.maximumMessageSize = options.maximumMessageSize ?? DEFAULT_MAXIMUM_MESSAGE_SIZE;
    this.deadLetter = options.deadLetter;
  }

  /** Bodies of every message the queue holds (visible or in flight), parsed as JSON. */
  bodies<T = unknown>(): T[] {
    return this.messages.map((message) => JSON.parse(message.body) as T);
  }
}

export interface ReceivedMessage {
  readonly message: StoredMessage;
  readonly receiptHandle: string;
}

const error = (type: string, message: string, queryCode: string, status = 400): AwsServiceError =>
  new AwsServiceError(status, `com.amazonaws.sqs#${type}`, message, `${queryCode};Sender`);

const md5 = (data: Buffer | string): string => createHash('md5').update(data).digest('hex');

/** MD5OfMessageAttributes as SQS computes it (names sorted; length-prefixed name, type, value). */
function md5OfAttributes(attributes: Readonly<Record<string, MessageAttributeValue>>): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const parts: Buffer[] = [];
  const prefixed = (value: Buffer): void => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(value.byteLength);
    parts.push(length, value);
  };
  for (const name of names) {
    const value = attributes[name]!;
    prefixed(Buffer.from(name, 'utf8'));
    prefixed(Buffer.from(value.DataType, 'utf8'));
    if (value.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      prefixed(Buffer.from(value.BinaryValue, 'base64'));
    } else {
      parts.push(Buffer.from([1]));
      prefixed(Buffer.from(value.StringValue ?? '', 'utf8'));
    }
  }
  return md5(Buffer.concat(parts));
}

function firstInvalidCharacter(text: string): string | undefined {
  if (ALLOWED_CHARACTERS.test(text)) return undefined;
  for (const character of text) {
    if (!ALLOWED_CHARACTERS.test(character)) return `#x${(character.codePointAt(0) ?? 0).toString(16).toUpperCase()}`;
  }
  return undefined;
}

function messageSize(body: string, attributes: Readonly<Record<string, MessageAttributeValue>>): number {
  let size = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attributes)) {
    size += Buffer.byteLength(name) + Buffer.byteLength(value.DataType);
    size += value.BinaryValue !== undefined ? Buffer.from(value.BinaryValue, 'base64').byteLength : Buffer.byteLength(value.StringValue ?? '');
  }
  return size;
}

interface SendEntry {
  readonly MessageBody?: unknown;
  readonly DelaySeconds?: unknown;
  readonly MessageAttributes?: unknown;
}

export class SqsStandIn {
  readonly #clock: VirtualClock;
  readonly #queues = new Map<string, Queue>();
  #server: AwsJsonServer | undefined;

  constructor(clock: VirtualClock) {
    this.#clock = clock;
  }

  async start(): Promise<void> {
    const operation = <T>(handler: (queue: Queue, input: Record<string, unknown>) => T) => (input: Record<string, unknown>) => handler(this.#queueByUrl(input['QueueUrl']), input);
    this.#server = await startAwsJsonServer({
      targetPrefix: 'AmazonSQS',
      contentType: 'application/x-amz-json-1.0',
      operations: {
        SendMessage: operation((queue, input) => this.#sendMessage(queue, input)),
        SendMessageBatch: operation((queue, input) => this.#sendMessageBatch(queue, input)),
        ReceiveMessage: operation((queue, input) => ({
          Messages: this.receive(queue.name, Number(input['MaxNumberOfMessages'] ?? 1), input['VisibilityTimeout'] === undefined ? undefined : Number(input['VisibilityTimeout'])).map(
            ({ message, receiptHandle }) => {
              // Attributes come back only when asked for, as from SQS.
              const asked = Array.isArray(input['MessageAttributeNames']) && input['MessageAttributeNames'].some((name) => name === 'All' || name === '.*');
              const attributesMd5 = asked ? md5OfAttributes(message.messageAttributes) : undefined;
              return {
                MessageId: message.messageId,
                ReceiptHandle: receiptHandle,
                Body: message.body,
                MD5OfBody: message.md5OfBody,
                ...(attributesMd5 === undefined ? {} : { MessageAttributes: message.messageAttributes, MD5OfMessageAttributes: attributesMd5 }),
              };
            },
          ),
        })),
        DeleteMessage: operation((queue, input) => {
          this.deleteMessage(queue.name, String(input['ReceiptHandle']));
          return {};
        }),
        ChangeMessageVisibility: operation((queue, input) => {
          this.changeVisibility(queue.name, String(input['ReceiptHandle']), Number(input['VisibilityTimeout']));
          return {};
        }),
        GetQueueUrl: (input) => ({ QueueUrl: this.queue(String(input['QueueName'])).url }),
        StartMessageMoveTask: (input) => {
          const source = [...this.#queues.values()].find((queue) => queue.arn === input['SourceArn']);
          if (source === undefined) throw error('ResourceNotFoundException', 'The resource that you specified for the SourceArn parameter doesn\'t exist.', 'ResourceNotFoundException');
          const destination = input['DestinationArn'] === undefined ? undefined : [...this.#queues.values()].find((queue) => queue.arn === input['DestinationArn']);
          return { TaskHandle: this.startMessageMoveTask(source.name, destination?.name) };
        },
      },
    });
  }

  get endpoint(): string {
    if (this.#server === undefined) throw new Error('the SQS stand-in is not started');
    return this.#server.endpoint;
  }

  /** Every request the functions made, in order. */
  get calls() {
    return this.#server?.calls ?? [];
  }

  createQueue(name: string, options: QueueOptions = {}): Queue {
    const queue = new Queue(name, this.endpoint, options);
    this.#queues.set(name, queue);
    return queue;
  }

  queue(name: string): Queue {
    const queue = this.#queues.get(name);
    if (queue === undefined) throw error('QueueDoesNotExist', 'The specified queue does not exist.', 'AWS.SimpleQueueService.NonExistentQueue');
    return queue;
  }

  #queueByUrl(url: unknown): Queue {
    const name = typeof url === 'string' ? url.split('/').at(-1) : undefined;
    const queue = name === undefined ? undefined : this.#queues.get(name);
    if (queue === undefined || queue.url !== url) throw error('QueueDoesNotExist', 'The specified queue does not exist.', 'AWS.SimpleQueueService.NonExistentQueue');
    return queue;
  }

  /** Validates and stores one message; throws the error SQS answers a SendMessage with. */
  #accept(queue: Queue, entry: SendEntry): StoredMessage {
    const body = entry.MessageBody;
    if (typeof body !== 'string' || body === '') {
      throw error('MissingParameter', 'The request must contain the parameter MessageBody.', 'MissingParameter');
    }
    const attributes = (entry.MessageAttributes ?? {}) as Record<string, MessageAttributeValue>;
    const invalid = firstInvalidCharacter(body) ?? Object.values(attributes).map((value) => firstInvalidCharacter(value.StringValue ?? '')).find((found) => found !== undefined);
    if (invalid !== undefined) {
      throw error(
        'InvalidMessageContents',
        `Invalid binary character '${invalid}' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`,
        'InvalidMessageContents',
      );
    }
    const size = messageSize(body, attributes);
    if (size > queue.maximumMessageSize) {
      throw new AwsServiceError(
        400,
        'com.amazon.coral.validate#ValidationException',
        `One or more parameters are invalid. Reason: Message must be shorter than ${String(queue.maximumMessageSize)} bytes.`,
        'InvalidParameterValue;Sender',
      );
    }
    const delaySeconds = Number(entry.DelaySeconds ?? 0);
    if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 900) {
      throw error('InvalidParameterValue', `Value ${String(entry.DelaySeconds)} for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided.`, 'InvalidParameterValue');
    }
    const now = this.#clock.now();
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5(body),
      messageAttributes: attributes,
      sentAt: now,
      visibleAt: now + delaySeconds * 1000,
      receiveCount: 0,
      firstReceivedAt: undefined,
      receiptHandle: undefined,
      receivedAt: undefined,
      deadLetterSourceArn: undefined,
    };
    queue.messages.push(message);
    return message;
  }

  #sendMessage(queue: Queue, input: Record<string, unknown>) {
    const message = this.#accept(queue, input);
    const attributesMd5 = md5OfAttributes(message.messageAttributes);
    return { MessageId: message.messageId, MD5OfMessageBody: message.md5OfBody, ...(attributesMd5 === undefined ? {} : { MD5OfMessageAttributes: attributesMd5 }) };
  }

  #sendMessageBatch(queue: Queue, input: Record<string, unknown>) {
    const entries = (input['Entries'] ?? []) as (SendEntry & { Id?: unknown })[];
    if (entries.length === 0) throw error('EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.', 'AWS.SimpleQueueService.EmptyBatchRequest');
    if (entries.length > MAX_BATCH_ENTRIES) {
      throw error('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${String(entries.length)}.`, 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest');
    }
    const ids = entries.map((entry) => String(entry.Id));
    if (ids.some((id) => !BATCH_ENTRY_ID.test(id))) {
      throw error('InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.', 'AWS.SimpleQueueService.InvalidBatchEntryId');
    }
    if (new Set(ids).size !== ids.length) throw error('BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id.', 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct');
    const total = entries.reduce((sum, entry) => sum + messageSize(typeof entry.MessageBody === 'string' ? entry.MessageBody : '', (entry.MessageAttributes ?? {}) as Record<string, MessageAttributeValue>), 0);
    if (total > queue.maximumMessageSize) {
      throw error('BatchRequestTooLong', `Batch requests cannot be longer than ${String(queue.maximumMessageSize)} bytes. You have sent ${String(total)} bytes.`, 'AWS.SimpleQueueService.BatchRequestTooLong');
    }
    const Successful: Record<string, unknown>[] = [];
    const Failed: Record<string, unknown>[] = [];
    entries.forEach((entry, index) => {
      try {
        const message = this.#accept(queue, entry);
        const attributesMd5 = md5OfAttributes(message.messageAttributes);
        Successful.push({ Id: ids[index], MessageId: message.messageId, MD5OfMessageBody: message.md5OfBody, ...(attributesMd5 === undefined ? {} : { MD5OfMessageAttributes: attributesMd5 }) });
      } catch (caught) {
        if (!(caught instanceof AwsServiceError)) throw caught;
        Failed.push({ Id: ids[index], SenderFault: true, Code: caught.queryError?.split(';')[0] ?? caught.type, Message: caught.message });
      }
    });
    return { Successful, Failed };
  }

  /** A send by an AWS service itself (Lambda to a function's DLQ), with the same checks. */
  send(queueName: string, body: string, messageAttributes: Readonly<Record<string, MessageAttributeValue>> = {}): StoredMessage {
    return this.#accept(this.queue(queueName), { MessageBody: body, MessageAttributes: messageAttributes });
  }

  /**
   * Up to `max` visible messages, made invisible for the visibility timeout, with their receive
   * count raised. A visible message already received maxReceiveCount times moves to the
   * dead-letter queue instead (as SQS's redrive does on the receive after the last one).
   */
  receive(queueName: string, max: number, visibilityTimeoutSeconds?: number): ReceivedMessage[] {
    const queue = this.queue(queueName);
    const now = this.#clock.now();
    const received: ReceivedMessage[] = [];
    for (const message of [...queue.messages]) {
      if (received.length >= Math.min(max, MAX_BATCH_ENTRIES)) break;
      if (message.visibleAt > now) continue;
      if (queue.deadLetter !== undefined && message.receiveCount >= queue.deadLetter.maxReceiveCount) {
        this.#remove(queue, message);
        message.deadLetterSourceArn = queue.arn;
        message.visibleAt = now;
        message.receiptHandle = undefined;
        this.queue(queue.deadLetter.queue).messages.push(message);
        continue;
      }
      message.receiveCount += 1;
      message.firstReceivedAt ??= now;
      message.receivedAt = now;
      message.visibleAt = now + (visibilityTimeoutSeconds ?? queue.visibilityTimeoutSeconds) * 1000;
      message.receiptHandle = `${message.messageId}#${String(message.receiveCount)}#${randomUUID()}`;
      received.push({ message, receiptHandle: message.receiptHandle });
    }
    return received;
  }

  #find(queue: Queue, receiptHandle: string): StoredMessage | undefined {
    const messageId = receiptHandle.split('#')[0];
    return queue.messages.find((message) => message.messageId === messageId);
  }

  #remove(queue: Queue, message: StoredMessage): void {
    queue.messages.splice(queue.messages.indexOf(message), 1);
  }

  /** DeleteMessage: only the latest receipt handle deletes; an older one succeeds and does nothing. */
  deleteMessage(queueName: string, receiptHandle: string): void {
    const queue = this.queue(queueName);
    if (!receiptHandle.includes('#')) throw error('ReceiptHandleIsInvalid', `The input receipt handle "${receiptHandle}" is not a valid receipt handle.`, 'ReceiptHandleIsInvalid');
    const message = this.#find(queue, receiptHandle);
    if (message !== undefined && message.receiptHandle === receiptHandle) this.#remove(queue, message);
  }

  changeVisibility(queueName: string, receiptHandle: string, visibilityTimeoutSeconds: number): void {
    const queue = this.queue(queueName);
    if (!Number.isInteger(visibilityTimeoutSeconds) || visibilityTimeoutSeconds < 0 || visibilityTimeoutSeconds > MAX_VISIBILITY_TIMEOUT_SECONDS) {
      throw error(
        'InvalidParameterValue',
        `Value ${String(visibilityTimeoutSeconds)} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.`,
        'InvalidParameterValue',
      );
    }
    if (!receiptHandle.includes('#')) throw error('ReceiptHandleIsInvalid', `The input receipt handle "${receiptHandle}" is not a valid receipt handle.`, 'ReceiptHandleIsInvalid');
    const message = this.#find(queue, receiptHandle);
    const now = this.#clock.now();
    if (message === undefined || message.receiptHandle !== receiptHandle || message.visibleAt <= now) {
      throw error('MessageNotInflight', 'The message referred to is not in flight.', 'AWS.SimpleQueueService.MessageNotInflight');
    }
    // 12 hours at most from the receive, however often the timeout is extended.
    if (now + visibilityTimeoutSeconds * 1000 > (message.receivedAt ?? now) + MAX_VISIBILITY_TIMEOUT_SECONDS * 1000) {
      throw error(
        'InvalidParameterValue',
        `Value ${String(visibilityTimeoutSeconds)} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]`,
        'InvalidParameterValue',
      );
    }
    message.visibleAt = now + visibilityTimeoutSeconds * 1000;
  }

  /** Moves every message of a dead-letter queue back to where it came from (or to `destination`). */
  startMessageMoveTask(sourceName: string, destinationName?: string): string {
    const source = this.queue(sourceName);
    const redrivesHere = [...this.#queues.values()].some((queue) => queue.deadLetter?.queue === sourceName);
    if (!redrivesHere) throw error('InvalidParameterValue', 'Source queue must be configured as a Dead Letter Queue.', 'InvalidParameterValue');
    const now = this.#clock.now();
    for (const message of source.messages.splice(0)) {
      const target = destinationName ?? [...this.#queues.values()].find((queue) => queue.arn === message.deadLetterSourceArn)?.name;
      if (target === undefined) throw error('InvalidParameterValue', 'a message has no source queue to move back to', 'InvalidParameterValue');
      Object.assign(message, { visibleAt: now, receiveCount: 0, firstReceivedAt: undefined, receiptHandle: undefined, receivedAt: undefined, deadLetterSourceArn: undefined });
      this.queue(target).messages.push(message);
    }
    return randomUUID();
  }

  /** Messages visible now, and the earliest time one in flight becomes visible again. */
  state(queueName: string): { visible: number; inFlight: number; nextVisibleAt: number | undefined } {
    const now = this.#clock.now();
    const messages = this.queue(queueName).messages;
    const later = messages.filter((message) => message.visibleAt > now).map((message) => message.visibleAt);
    return { visible: messages.length - later.length, inFlight: later.length, nextVisibleAt: later.length > 0 ? Math.min(...later) : undefined };
  }

  async close(): Promise<void> {
    await this.#server?.close();
  }
}
