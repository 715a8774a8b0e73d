// SNS's HTTPS side for http-ingest in the chain: the signing certificate download and the
// SubscribeURL confirmation call. The Lambda runtime sends the functions' fetches to
// https://sns.<region>.amazonaws.com here instead (lambda-runtime.ts), so the packaged code
// runs its real verifier and confirmer; a test can make confirmations fail (SNS answers 5xx).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class SnsHttpsStandIn {
  readonly #certificatePem: string;
  /** Paths and queries requested, in order. */
  readonly requests: string[] = [];
  failConfirmations = false;
  #server: Server | undefined;

  constructor(certificatePem: string) {
    this.#certificatePem = certificatePem;
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      this.requests.push(`${url.pathname}${url.search}`);
      if (url.pathname.endsWith('.pem')) {
        res.writeHead(200, { 'content-type': 'application/x-x509-ca-cert' });
        res.end(this.#certificatePem);
        return;
      }
      if (url.searchParams.get('Action') === 'ConfirmSubscription' && !this.failConfirmations) {
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(
          `<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ConfirmSubscriptionResult><SubscriptionArn>${url.searchParams.get('TopicArn') ?? ''}:sub</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>`,
        );
        return;
      }
      res.writeHead(500, { 'content-type': 'text/xml' });
      res.end('<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>internal failure</Message></Error></ErrorResponse>');
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
  }

  get endpoint(): string {
    if (this.#server === undefined) throw new Error('the SNS stand-in is not started');
    return `http://127.0.0.1:${String((this.#server.address() as AddressInfo).port)}`;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => {
      resolve();
    }));
  }
}
