// The synth-time config check and the `tocsin:*` context keys: fast, no stack is built.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, RemovalPolicy } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigDocumentError, loadConfigDocument } from '../../infra/config-document.ts';
import { pipelinePropsFromContext } from '../../infra/tocsin-stack.ts';

const dir = mkdtempSync(join(tmpdir(), 'tocsin-infra-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('loadConfigDocument', () => {
  it('reads the routing YAML with its placeholders and lists the channel types', () => {
    const config = loadConfigDocument(new URL('./routing.yaml', import.meta.url).pathname);
    expect(config.channelTypes).toEqual(new Set(['slack', 'sms', 'email', 'webhook']));
    expect(config.document['channels']).toMatchObject({ 'ops-chat': { type: 'slack', webhookUrl: '${SLACK_WEBHOOK_URL}' } });
    expect(config.document['defaults']).toEqual({ renotifyAfter: '4h', flap: { changes: 4, window: '30m' } });
  });

  it('accepts the default config that `npm run synth` deploys', () => {
    const config = loadConfigDocument(new URL('../../infra/default-config.yaml', import.meta.url).pathname);
    expect(config.document).toEqual({
      ingest: { token: '${TOCSIN_INGEST_TOKEN}' },
      channels: { log: { type: 'console' } },
      routes: [{ channels: ['log'] }],
    });
  });

  it('reads JSON files too', () => {
    const path = file('config.json', JSON.stringify({ channels: { a: { type: 'teams', webhookUrl: 'x' } }, routes: [{ channels: ['a'] }] }));
    expect(loadConfigDocument(path).channelTypes).toEqual(new Set(['teams']));
  });

  it.each([
    ['a route to an undefined channel', { channels: { a: { type: 'console' } }, routes: [{ channels: ['a'] }, { channels: ['b'] }] }, 'config object: routes[1].channels: unknown channel "b"'],
    ['a channel without a type', { channels: { a: { url: 'x' } }, routes: [{ channels: ['a'] }] }, 'config object: channels.a.type:'],
    ['no routes', { channels: { a: { type: 'console' } } }, 'config object: routes:'],
    ['a route without channels', { channels: { a: { type: 'console' } }, routes: [{ channels: [] }] }, 'routes[0].channels: a route needs at least one channel'],
  ])('refuses %s, naming the path', (_, config, message) => {
    expect(() => loadConfigDocument(config)).toThrow(ConfigDocumentError);
    expect(() => loadConfigDocument(config)).toThrow(message);
  });

  it('refuses a file that is not YAML, naming the file', () => {
    const path = file('broken.yaml', 'channels: [unclosed\n');
    expect(() => loadConfigDocument(path)).toThrow(`config file ${path} is not valid YAML/JSON`);
  });

  it('refuses a file that does not exist', () => {
    expect(() => loadConfigDocument(join(dir, 'missing.yaml'))).toThrow(`cannot read config file ${join(dir, 'missing.yaml')}`);
  });
});

describe('pipelinePropsFromContext', () => {
  it('defaults to the bundled console config', () => {
    const props = pipelinePropsFromContext(new App().node);
    expect(props.config).toBe('infra/default-config.yaml');
    expect(props.removalPolicy).toBeUndefined();
    expect(props.forwarders).toBeUndefined();
  });

  it('reads string context values as given on the command line', () => {
    const props = pipelinePropsFromContext(
      new App({
        context: {
          'tocsin:config': 'ops/tocsin.yaml',
          'tocsin:alarmEmail': 'ops@example.com',
          'tocsin:allowedTopicArns': 'arn:aws:sns:eu-west-1:123456789012:a, arn:aws:sns:eu-west-1:123456789012:b',
          'tocsin:metricsNamespace': 'Tocsin/prod',
          'tocsin:removalPolicy': 'destroy',
          'tocsin:deliverBatchSize': '10',
          'tocsin:renotifyAfterMinutes': '90',
          'tocsin:resolvedTtlDays': '3',
          'tocsin:deliverMaxConcurrency': '4',
          'tocsin:forwarders': '{"gcp":{"iamUser":true,"federation":{"serviceAccountUniqueId":"112233445566778899001"}}}',
        },
      }).node,
    );
    expect(props.config).toBe('ops/tocsin.yaml');
    expect(props.alarmEmail).toBe('ops@example.com');
    expect(props.allowedTopicArns).toEqual(['arn:aws:sns:eu-west-1:123456789012:a', 'arn:aws:sns:eu-west-1:123456789012:b']);
    expect(props.metricsNamespace).toBe('Tocsin/prod');
    expect(props.removalPolicy).toBe(RemovalPolicy.DESTROY);
    expect(props.deliverBatchSize).toBe(10);
    expect(props.renotifyAfter?.toMinutes()).toBe(90);
    expect(props.resolvedTtl?.toSeconds()).toBe(3 * 24 * 3600);
    expect(props.deliverMaxConcurrency).toBe(4);
    expect(props.forwarders).toEqual({ gcp: { iamUser: true, federation: { serviceAccountUniqueId: '112233445566778899001' } } });
  });

  it('refuses a bad value, naming the context key', () => {
    expect(() => pipelinePropsFromContext(new App({ context: { 'tocsin:alarmEmail': 'not-an-address' } }).node)).toThrow(
      /invalid Tocsin context: tocsin:alarmEmail:/,
    );
    expect(() => pipelinePropsFromContext(new App({ context: { 'tocsin:deliverMaxConcurrency': '1' } }).node)).toThrow(
      /tocsin:deliverMaxConcurrency:/,
    );
    expect(() => pipelinePropsFromContext(new App({ context: { 'tocsin:forwarders': '{"aws":{}}' } }).node)).toThrow(
      /tocsin:forwarders/,
    );
    expect(() => pipelinePropsFromContext(new App({ context: { 'tocsin:tracing': 'true' } }).node)).toThrow(
      /tocsin:tracing: X-Ray tracing is not offered: the functions carry no tracer/,
    );
    expect(() => pipelinePropsFromContext(new App({ context: { 'tocsin:removalPolicy': 'snapshot' } }).node)).toThrow(/tocsin:removalPolicy/);
  });
});
