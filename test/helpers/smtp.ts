// A real SMTP server (smtp-server) on 127.0.0.1 that records every message it accepts, or
// rejects them with the reply a test asks for, standing in for a mail relay. It speaks clear
// text only, offers STARTTLS, or speaks TLS from the first byte, with a certificate made here
// for 127.0.0.1 (its PEM is `ca`, for the client to trust); it records every AUTH attempt and
// whether the session was encrypted by then.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

export interface ReceivedMail {
  readonly from: string | undefined;
  readonly to: readonly string[];
  /** The message exactly as received (headers and body). */
  readonly raw: Buffer;
  /** The session was encrypted (STARTTLS or implicit TLS) when the mail was sent. */
  readonly secure: boolean;
}

export interface AuthAttempt {
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly secure: boolean;
}

export interface SmtpRejection {
  /** SMTP reply code, e.g. 550 or 451. */
  readonly code: number;
  readonly message: string;
}

/** `plain`: no STARTTLS offered; `starttls`: offered; `implicit`: TLS from the first byte. */
export type TestSmtpTls = 'plain' | 'starttls' | 'implicit';

export interface TestSmtpServer {
  readonly host: string;
  readonly port: number;
  readonly mails: ReceivedMail[];
  readonly auths: AuthAttempt[];
  /** The server certificate (self-signed, for 127.0.0.1), to trust as a CA; absent for `plain`. */
  readonly ca: string | undefined;
  /** Reject every later message at DATA with this reply (undefined: accept again). */
  rejectWith(rejection: SmtpRejection | undefined): void;
  close(): Promise<void>;
}

export interface TlsCertificate {
  readonly key: string;
  readonly cert: string;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl. */
export function makeLoopbackCertificate(): TlsCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-smtp-tls-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let sharedCertificate: TlsCertificate | undefined;

function addressOf(address: SMTPServerAddress | false): string | undefined {
  return address === false ? undefined : address.address;
}

export async function startSmtpServer(options: { readonly tls?: TestSmtpTls } = {}): Promise<TestSmtpServer> {
  const mode = options.tls ?? 'plain';
  const mails: ReceivedMail[] = [];
  const auths: AuthAttempt[] = [];
  let rejection: SmtpRejection | undefined;
  const certificate = mode === 'plain' ? undefined : (sharedCertificate ??= makeLoopbackCertificate());

  const server = new SMTPServer({
    authOptional: true,
    // Clear-text AUTH is accepted here on purpose: the tests check the client never sends it.
    allowInsecureAuth: true,
    ...(mode === 'plain' ? { disabledCommands: ['STARTTLS'] } : { key: certificate?.key, cert: certificate?.cert }),
    secure: mode === 'implicit',
    logger: false,
    // Clients here always QUIT; a short close timeout keeps a failed test from hanging.
    closeTimeout: 1_000,
    onAuth(auth, session, callback) {
      auths.push({ username: auth.username, password: auth.password ?? undefined, secure: session.secure });
      callback(null, { user: auth.username ?? 'anonymous' });
    },
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
          secure: session.secure,
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
    auths,
    ca: certificate?.cert,
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
