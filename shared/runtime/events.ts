// The Lambda event shapes the handlers rely on, checked with zod at the edge. Objects are loose:
// AWS adds fields, and only the ones read here must be present.
import * as z from 'zod';

export const snsEventRecordSchema = z.looseObject({
  EventSource: z.literal('aws:sns'),
  Sns: z.looseObject({
    Type: z.string(),
    MessageId: z.string().min(1),
    TopicArn: z.string().min(1),
    Message: z.string(),
  }),
});

export const snsEventSchema = z.looseObject({
  Records: z.array(z.unknown()).min(1),
});

export const sqsRecordSchema = z.looseObject({
  messageId: z.string().min(1),
  receiptHandle: z.string().min(1),
  body: z.string(),
  attributes: z.looseObject({ ApproximateReceiveCount: z.string().regex(/^\d+$/) }),
  /** Lambda's shape of SQS message attributes (`stringValue`, `dataType`). */
  messageAttributes: z.record(z.string(), z.looseObject({ stringValue: z.string().optional(), dataType: z.string() })).optional(),
  eventSource: z.literal('aws:sqs'),
  eventSourceARN: z.string().min(1),
});
export type SqsRecord = z.infer<typeof sqsRecordSchema>;

export const sqsEventSchema = z.looseObject({
  Records: z.array(sqsRecordSchema),
});

/** Lambda function URL / API Gateway HTTP API payload format 2.0. */
export const httpEventSchema = z.looseObject({
  rawPath: z.string(),
  rawQueryString: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
  requestContext: z.looseObject({
    http: z.looseObject({ method: z.string().min(1) }),
    requestId: z.string().optional(),
  }),
});
export type HttpEvent = z.infer<typeof httpEventSchema>;

/**
 * `https://sqs.<region>.amazonaws.com/<account>/<name>` for a queue ARN (the `.cn` domain in the
 * China partition); undefined when `arn` is not an SQS queue ARN.
 */
export function queueUrlFromArn(arn: string): string | undefined {
  const match = /^arn:(aws[a-z-]*):sqs:([a-z0-9-]+):(\d{12}):([\w.-]+)$/.exec(arn);
  if (!match) return undefined;
  const [, partition, region, account, name] = match;
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${String(region)}.${domain}/${String(account)}/${String(name)}`;
}
