// One Lambda "container" for the chain test, run as its own `node` process: it loads a packaged
// bundle (argv[2]) as the Lambda Node.js runtime does, then runs one invocation at a time when
// the parent sends one over IPC, with a context object, and answers with the handler's result or
// its error as { errorType, errorMessage }. Everything the function prints goes to this process's
// stdout and stderr, which the parent reads as the function's log.
//
// The clock: `Date` is the wall clock plus the offset the parent sends with each invocation (the
// virtual clock's total advance), so the function's notion of "now" follows the test's clock.
import { pathToFileURL } from 'node:url';

interface Invoke {
  readonly type: string;
  readonly id: number;
  readonly event: unknown;
  readonly functionName: string;
  readonly requestId: string;
  readonly timeoutMs: number;
  readonly clockOffsetMs: number;
}

const RealDate = Date;
let clockOffsetMs = 0;
const now = (): number => RealDate.now() + clockOffsetMs;
globalThis.Date = new Proxy(RealDate, {
  construct(target, args: unknown[], newTarget) {
    return Reflect.construct(target, args.length === 0 ? [now()] : args, newTarget) as object;
  },
  apply() {
    return new RealDate(now()).toString();
  },
  get(target, property, receiver) {
    if (property === 'now') return now;
    return Reflect.get(target, property, receiver) as unknown;
  },
});

// SNS over HTTPS: the certificate download and the confirmation call go to the chain's SNS
// stand-in (argv[3]) instead of https://sns.<region>.amazonaws.com, as a DNS entry would send them.
const snsEndpoint = process.argv[3];
if (snsEndpoint !== undefined && snsEndpoint !== '') {
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (/^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(url.hostname)) return realFetch(`${snsEndpoint}${url.pathname}${url.search}`, init);
    return realFetch(input, init);
  };
}

type Handler = (event: unknown, context: Record<string, unknown>) => Promise<unknown>;

const send = (message: unknown): void => {
  process.send?.(message);
};

const bundle = process.argv[2];
if (bundle === undefined) throw new Error('usage: lambda-runtime.ts <bundle/index.mjs>');
let handler: Handler;
try {
  handler = ((await import(pathToFileURL(bundle).href)) as { handler: Handler }).handler;
  send({ type: 'ready' });
} catch (error) {
  send({ type: 'init-error', errorType: error instanceof Error ? error.name : typeof error, errorMessage: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

process.on('message', (message: Invoke) => {
  if (message.type !== 'invoke') return;
  clockOffsetMs = message.clockOffsetMs;
  const deadline = RealDate.now() + message.timeoutMs;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: message.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:111122223333:function:${message.functionName}`,
    memoryLimitInMB: process.env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'] ?? '256',
    awsRequestId: message.requestId,
    logGroupName: `/aws/lambda/${message.functionName}`,
    logStreamName: `2026/12/02/[$LATEST]${String(process.pid)}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - RealDate.now()),
  };
  // The END line on both streams tells the parent that everything printed before it has arrived.
  // durationMs: the handler's own time, as Lambda's REPORT line counts it (what is billed).
  const started = performance.now();
  const end = (answer: Record<string, unknown>): void => {
    answer['durationMs'] = performance.now() - started;
    process.stderr.write(`END RequestId: ${message.requestId}\n`);
    process.stdout.write(`END RequestId: ${message.requestId}\n`, () => {
      send(answer);
    });
  };
  handler(message.event, context).then(
    (result) => {
      end({ type: 'result', id: message.id, result: result === undefined ? null : result });
    },
    (error: unknown) => {
      end({
        type: 'error',
        id: message.id,
        errorType: error instanceof Error ? error.name : typeof error,
        errorMessage: error instanceof Error ? error.message : String(error),
      });
    },
  );
});
