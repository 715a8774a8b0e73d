// The config port: load, resolve and validate the Tocsin config file.
// awsSecretResolver lives in ./aws-secrets.ts (not re-exported: it pulls in the AWS SDK).
export { ConfigError, type ConfigProblem } from './errors.ts';
export { parseDuration } from './duration.ts';
export { defaultConfig, resolveConfig, validateConfig, type ResolveOptions } from './load.ts';
export { loadConfigFile, loadConfigText, parseConfigText, type ConfigFormat, type LoadOptions, type ParseOptions } from './text.ts';
export {
  CONFIG_DEFAULTS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_BODY_BYTES,
  type ChannelConfig,
  type DedupSettings,
  type DeliverySettings,
  type IngestSettings,
  type RouteConfig,
  type RouteMatch,
  type TocsinConfig,
} from './schema.ts';
export { envResolver, substitutePlaceholders, type SecretResolver } from './secrets.ts';
