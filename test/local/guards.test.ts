// checkRequest's short cuts (a plain path taken without the URL parser, a literal loopback Host
// without parsing it) give exactly what the parser gives; everything else still goes through it.
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { checkRequest } from '../../functions/local/guards.ts';

const TOKEN = 'guards-test-token-0123456789';

function verdict(target: string, host = '127.0.0.1:7070', headers: Record<string, string> = {}) {
  const request = { url: target, method: 'POST', headers: { host, authorization: `Bearer ${TOKEN}`, ...headers } } as unknown as IncomingMessage;
  return checkRequest(request, { token: TOKEN, loopbackOnly: true });
}

function pathOf(target: string): string | number {
  const result = verdict(target);
  return result.ok ? result.path : result.status;
}

describe('checkRequest', () => {
  it('reads plain paths as the URL parser would, and leaves everything else to it', () => {
    expect(pathOf('/v1/ingest/alertmanager')).toBe('/v1/ingest/alertmanager');
    expect(pathOf('/v1/ingest/alertmanager//')).toBe('/v1/ingest/alertmanager');
    expect(pathOf('/')).toBe('/');
    expect(pathOf('/v1//ingest')).toBe('/v1//ingest');
    expect(pathOf('/v1/x/../ingest')).toBe('/v1/ingest');
    expect(pathOf('/v1/./ingest/')).toBe('/v1/ingest');
    expect(pathOf('/v1/%69ngest')).toBe('/v1/%69ngest');
    expect(pathOf('/v1/ingest\\x')).toBe('/v1/ingest/x');
    expect(pathOf('')).toBe(400);
    expect(pathOf('//evil.example/v1/ingest')).toBe(400);
    expect(pathOf('http://evil.example/v1/ingest')).toBe(400);
    expect(pathOf('*')).toBe(400);
  });

  it('gives the query parameters of a target that has them, and none for a plain path', () => {
    const plain = verdict('/v1/incidents');
    const withQuery = verdict('/v1/incidents?limit=5&status=firing');
    expect(plain.ok && [...plain.query.entries()]).toEqual([]);
    expect(withQuery.ok && withQuery.path).toBe('/v1/incidents');
    expect(withQuery.ok && Object.fromEntries(withQuery.query)).toEqual({ limit: '5', status: 'firing' });
  });

  it('answers to loopback Host names only, a literal one with a valid port included', () => {
    const status = (host: string): number | 'ok' => {
      const result = verdict('/v1/ingest/alertmanager', host);
      return result.ok ? 'ok' : result.status;
    };
    expect(status('127.0.0.1:7070')).toBe('ok');
    expect(status('127.0.0.1')).toBe('ok');
    expect(status('localhost:65535')).toBe('ok');
    expect(status('[::1]:80')).toBe('ok');
    expect(status('127.0.0.2:80')).toBe('ok');
    expect(status('LOCALHOST')).toBe('ok');
    expect(status('127.0.0.1:99999')).toBe(403);
    expect(status('evil.example')).toBe(403);
    expect(status('127.0.0.1.evil.example')).toBe(403);
    expect(status('localhost:7070@evil.example')).toBe(403);
  });

  it('still needs the token on a plain path', () => {
    const request = { url: '/v1/ingest/alertmanager', method: 'POST', headers: { host: '127.0.0.1:7070' } } as unknown as IncomingMessage;
    const result = checkRequest(request, { token: TOKEN, loopbackOnly: true });
    expect(result.ok ? 'ok' : result.status).toBe(401);
    const wrong = verdict('/v1/ingest/alertmanager', '127.0.0.1:7070', { authorization: 'Bearer wrong' });
    expect(wrong.ok ? 'ok' : wrong.status).toBe(401);
  });
});
