// A real SMTP server (smtp-server) on 127.0.0.1 that records every message it accepts, or
// rejects them with the reply a test asks for, standing in for a mail relay.
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

export interface ReceivedMail {
  readonly from: string | undefined;
  readonly to: readonly string[];
  /** The message exactly as received (headers and body). */
  readonly raw: Buffer;
}

export interface SmtpRejection {
  /** SMTP reply code, e.g. 550 or 451. */
  readonly code: number;
  readonly message: string;
}

export interface TestSmtpServer {
  readonly host: string;
  readonly port: number;
  readonly mails: ReceivedMail[];
  /** Reject every later message at DATA with this reply (undefined: accept again). */
  rejectWith(rejection: SmtpRejection | undefined): void;
  close(): Promise<void>;
}

function addressOf(address: SMTPServerAddress | false): string | undefined {
  return address === false ? undefined : address.address;
}

export async function startSmtpServer(): Promise<TestSmtpServer> {
  const mails: ReceivedMail[] = [];
  let rejection: SmtpRejection | undefined;

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // Clients here always QUIT; a short close timeout keeps a failed test from hanging.
    closeTimeout: 1_000,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (rejection) {
          const error = Object.assign(new Error(rejection.message), { responseCode: rejection.code });
          callback(error);
          return;
        }
        mails.push({
          from: addressOf(session.envelope.mailFrom),
          to: session.envelope.rcptTo.map((recipient) => recipient.address),
          raw: Buffer.concat(chunks),
        });
        callback(null);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;

  return {
    host: '127.0.0.1',
    port,
    mails,
    rejectWith(next) {
      rejection = next;
    },
    close() {
      return new Promise((resolve) => {
        server.close(resolve);
      });
    },
  };
}
