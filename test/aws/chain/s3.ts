// Amazon S3 on 127.0.0.1 for the chain: PutObject and GetObject over S3's REST protocol,
// path-style (the SDK uses path-style for an IP endpoint), including the aws-chunked bodies the
// SDK v3 sends with a trailing checksum. Errors are S3's XML (NoSuchBucket, NoSuchKey).
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredObject {
  readonly body: Buffer;
  readonly headers: IncomingHttpHeaders;
}

/** The payload of an `aws-chunked` body: `<hex size>[;ext]\r\n<data>\r\n` … `0\r\n<trailers>\r\n\r\n`. */
function decodeAwsChunked(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', offset);
    if (lineEnd === -1) throw new Error('malformed aws-chunked body');
    const size = Number.parseInt(raw.subarray(offset, lineEnd).toString('ascii').split(';')[0] ?? '', 16);
    if (!Number.isFinite(size)) throw new Error('malformed aws-chunked chunk size');
    if (size === 0) return Buffer.concat(parts);
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}

function xmlError(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

export class S3StandIn {
  readonly #buckets = new Map<string, Map<string, StoredObject>>();
  #server: Server | undefined;

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const [, bucketName = '', ...keyParts] = url.pathname.split('/');
        const key = decodeURIComponent(keyParts.join('/'));
        const bucket = this.#buckets.get(bucketName);
        if (bucket === undefined) {
          xmlError(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
          return;
        }
        if (req.method === 'PUT' && key !== '') {
          const raw = Buffer.concat(chunks);
          const body = (req.headers['content-encoding'] ?? '').includes('aws-chunked') ? decodeAwsChunked(raw) : raw;
          bucket.set(key, { body, headers: req.headers });
          res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
          res.end();
          return;
        }
        if (req.method === 'GET' && key !== '') {
          const object = bucket.get(key);
          if (object === undefined) {
            xmlError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
            return;
          }
          res.writeHead(200, { 'content-type': object.headers['content-type'] ?? 'application/octet-stream', 'content-length': String(object.body.byteLength) });
          res.end(object.body);
          return;
        }
        xmlError(res, 501, 'NotImplemented', 'A header you provided implies functionality that is not implemented');
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
  }

  get endpoint(): string {
    if (this.#server === undefined) throw new Error('the S3 stand-in is not started');
    return `http://127.0.0.1:${String((this.#server.address() as AddressInfo).port)}`;
  }

  createBucket(name: string): void {
    this.#buckets.set(name, new Map());
  }

  objects(bucket: string): ReadonlyMap<string, StoredObject> {
    return this.#buckets.get(bucket) ?? new Map();
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
