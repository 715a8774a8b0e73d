// A server for an AWS JSON 1.0 / 1.1 protocol service (SQS, SSM, Secrets Manager) on 127.0.0.1:
// POST / with `X-Amz-Target: <Prefix>.<Operation>` and a JSON body; answers JSON, or an error as
// the service sends it (`__type` in the body and, for SQS's query-compatible errors, the
// `x-amzn-query-error: <Code>;Sender|Receiver` header the SDK reads the error code from).
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An error the service answers with. */
export class AwsServiceError extends Error {
  readonly status: number;
  /** `__type`, e.g. `com.amazonaws.sqs#InvalidMessageContents` or `ParameterNotFound`. */
  readonly type: string;
  /** SQS's `x-amzn-query-error` value, e.g. `InvalidMessageContents;Sender`. */
  readonly queryError: string | undefined;

  constructor(status: number, type: string, message: string, queryError?: string) {
    super(message);
    this.status = status;
    this.type = type;
    this.queryError = queryError;
  }
}

export type Operation = (input: Record<string, unknown>) => unknown;

export interface AwsJsonCall {
  readonly operation: string;
  readonly input: Record<string, unknown>;
  /** The error answered, if any (its `__type`). */
  readonly error?: string | undefined;
  /** Who signed it: the access key id in the SigV4 Authorization header, and any session token. */
  readonly signedBy?: { readonly accessKeyId: string | undefined; readonly sessionToken: string | undefined } | undefined;
}

export interface AwsJsonServer {
  readonly endpoint: string;
  /** Every request, in order (operations and inputs; the tests read what the functions called). */
  readonly calls: AwsJsonCall[];
  close(): Promise<void>;
}

export interface AwsJsonServerOptions {
  /** `AmazonSQS`, `AmazonSSM`, `secretsmanager`. */
  readonly targetPrefix: string;
  readonly contentType: 'application/x-amz-json-1.0' | 'application/x-amz-json-1.1';
  readonly operations: Readonly<Record<string, Operation>>;
  /** Consulted before each operation: throw an AwsServiceError to inject a fault. */
  readonly before?: (operation: string, input: Record<string, unknown>) => void;
}

export async function startAwsJsonServer(options: AwsJsonServerOptions): Promise<AwsJsonServer> {
  const calls: AwsJsonCall[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const requestId = randomUUID();
      const answer = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': options.contentType, 'x-amzn-requestid': requestId, 'content-length': String(Buffer.byteLength(text)), ...headers });
        res.end(text);
      };
      const target = String(req.headers['x-amz-target'] ?? '');
      const [prefix, operation = ''] = target.split('.');
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        answer(400, { __type: 'SerializationException', message: 'request body is not JSON' });
        return;
      }
      const handler = prefix === options.targetPrefix ? options.operations[operation] : undefined;
      const token = req.headers['x-amz-security-token'];
      const signedBy = {
        accessKeyId: /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1],
        sessionToken: typeof token === 'string' ? token : undefined,
      };
      try {
        if (handler === undefined) throw new AwsServiceError(400, 'UnknownOperationException', `unsupported operation ${target}`);
        options.before?.(operation, input);
        const result = handler(input);
        calls.push({ operation, input, signedBy });
        answer(200, result ?? {});
      } catch (error) {
        if (!(error instanceof AwsServiceError)) throw error;
        calls.push({ operation, input, error: error.type, signedBy });
        answer(error.status, { __type: error.type, message: error.message }, error.queryError === undefined ? {} : { 'x-amzn-query-error': error.queryError });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
