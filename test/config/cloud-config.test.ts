// The cloud config loader reads the JSON infra writes without the YAML parser, and still accepts
// a YAML parameter (the parser is loaded for it on demand).
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/config/errors.ts';
import { CloudConfigLoader } from '../../shared/runtime/config.ts';

const loaderFor = (text: string): CloudConfigLoader => new CloudConfigLoader({ parameterName: '/tocsin/config', readParameter: () => Promise.resolve(text) });

describe('CloudConfigLoader', () => {
  it('reads a JSON parameter', async () => {
    const config = await loaderFor(JSON.stringify({ channels: { console: { type: 'console' } }, routes: [{ channels: ['console'] }], defaults: { maxAttempts: 3 } })).load();
    expect(config.channels).toMatchObject({ console: { type: 'console' } });
    expect(config.delivery.maxAttempts).toBe(3);
  });

  it('reads a YAML parameter', async () => {
    const config = await loaderFor('channels:\n  console: { type: console }\nroutes:\n  - channels: [console]\ndefaults:\n  maxAttempts: 4\n').load();
    expect(config.channels).toMatchObject({ console: { type: 'console' } });
    expect(config.delivery.maxAttempts).toBe(4);
  });

  it('names the line of a YAML syntax error and of a JSON one', async () => {
    await expect(loaderFor('channels:\n  console: [\n').load()).rejects.toThrow(ConfigError);
    await expect(loaderFor('channels:\n  console: [\n').load()).rejects.toThrow(/line \d+, column \d+/);
    await expect(loaderFor('{"channels": }').load()).rejects.toThrow(/invalid JSON/);
  });

  it('refuses an empty document', async () => {
    await expect(loaderFor('# nothing\n').load()).rejects.toThrow(/the config is empty/);
    await expect(loaderFor('null').load()).rejects.toThrow(/the config is empty/);
  });
});
