import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configSchema, type Config, type ConfigOverrides } from './schema.js';
import { packageRoot } from './package-root.js';
import { deepMerge, isTree, type Tree } from './tree.js';
import { replaceDeprecated } from './deprecated.js';
import { issuerFollowsPort } from './issuer.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Environment variables and the config path each one sets. The only reader of process.env. */
const ENV_KEYS: ReadonlyArray<[string, string[], 'string' | 'number' | 'boolean']> = [
  ['ISSUER', ['issuer'], 'string'],
  ['HOST', ['http', 'host'], 'string'],
  ['PORT', ['http', 'port'], 'number'],
  ['TRUSTED_PROXY_HOPS', ['http', 'trustedProxyHops'], 'number'],
  // Deprecated: mapped onto trustedProxyHops by replaceDeprecated, never seen by the schema.
  ['TRUST_PROXY', ['http', 'trustProxy'], 'boolean'],
  ['DATA_DIR', ['storage', 'dataDir'], 'string'],
  ['DATABASE_URL', ['storage', 'databaseUrl'], 'string'],
  ['DATABASE_POOL_SIZE', ['storage', 'poolSize'], 'number'],
  ['DATABASE_STATEMENT_TIMEOUT_SECONDS', ['storage', 'statementTimeoutSeconds'], 'number'],
  ['DATABASE_PREPARED_STATEMENTS', ['storage', 'preparedStatements'], 'boolean'],
  ['REDIS_URL', ['storage', 'redisUrl'], 'string'],
  ['REDIS_KEY_PREFIX', ['storage', 'redisKeyPrefix'], 'string'],
  ['KEY_ENCRYPTION_SECRET', ['keys', 'encryptionSecret'], 'string'],
  ['SMTP_URL', ['mail', 'smtpUrl'], 'string'],
  ['MAIL_FROM', ['mail', 'from'], 'string'],
  ['SMS_ENABLED', ['sms', 'enabled'], 'boolean'],
  ['SMS_TRANSPORT', ['sms', 'transport'], 'string'],
  ['SMS_WEBHOOK_URL', ['sms', 'webhook', 'url'], 'string'],
  ['SMS_WEBHOOK_SECRET', ['sms', 'webhook', 'secret'], 'string'],
  ['TWILIO_BASE_URL', ['sms', 'twilio', 'baseUrl'], 'string'],
  ['TWILIO_ACCOUNT_SID', ['sms', 'twilio', 'accountSid'], 'string'],
  ['TWILIO_AUTH_TOKEN', ['sms', 'twilio', 'authToken'], 'string'],
  ['TWILIO_FROM', ['sms', 'twilio', 'from'], 'string'],
  ['LOG_LEVEL', ['log', 'level'], 'string'],
  ['METRICS_ENABLED', ['metrics', 'enabled'], 'boolean'],
  ['METRICS_PORT', ['metrics', 'port'], 'number'],
  ['SHUTDOWN_GRACE_SECONDS', ['shutdown', 'graceSeconds'], 'number'],
];

function readYaml(path: string): Tree {
  const parsed: unknown = parseYaml(readFileSync(path, 'utf8'));
  if (parsed === null || parsed === undefined) return {};
  if (!isTree(parsed)) throw new ConfigError([`${path}: must be a mapping of keys`]);
  return parsed;
}

function envLayer(env: Env, problems: string[]): Tree {
  const layer: Tree = {};
  for (const [name, path, type] of ENV_KEYS) {
    const raw = env[name];
    if (raw === undefined) continue;
    let value: unknown = raw;
    if (type === 'number') {
      if (!/^\d+$/.test(raw)) {
        problems.push(`${name}: must be a whole number`);
        continue;
      }
      value = Number(raw);
    } else if (type === 'boolean') {
      if (!['true', 'false', '1', '0'].includes(raw)) {
        problems.push(`${name}: must be true or false`);
        continue;
      }
      value = raw === 'true' || raw === '1';
    }
    let node = layer;
    for (const key of path.slice(0, -1)) {
      node[key] = isTree(node[key]) ? node[key] : {};
      node = node[key] as Tree;
    }
    node[path[path.length - 1] as string] = value;
  }
  return layer;
}

/**
 * config/default.yaml ← file named by GATEHOUSE_CONFIG ← environment ← overrides (tests).
 * Every invalid key is reported, one line each, before anything starts. `warn` hears of
 * deprecated settings that still work (the server logs them once its logger exists).
 */
export function loadConfig(
  env: Env = process.env,
  overrides: ConfigOverrides = {},
  warn: (message: string) => void = () => undefined,
): Config {
  const problems: string[] = [];
  const file = env.GATEHOUSE_CONFIG;
  const upperLayers = [...(file ? [readYaml(resolve(file))] : []), envLayer(env, problems), overrides as Tree];
  const tree = upperLayers.reduce(deepMerge, readYaml(join(packageRoot, 'config', 'default.yaml')));
  replaceDeprecated(tree, upperLayers, problems, warn);
  issuerFollowsPort(tree, upperLayers);
  const result = configSchema.safeParse(tree);
  if (!result.success) {
    for (const issue of result.error.issues) {
      problems.push(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  const config = result.data;
  config.storage.dataDir = resolve(config.storage.dataDir);
  return config;
}
