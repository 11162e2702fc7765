import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { Config, ConfigOverrides } from '../../src/config/schema.js';
import { createLogger } from '../../src/http/logger.js';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.js';
import { createClientRegistry } from '../../src/clients/client-registry.js';
import type { Backend } from './backends.js';
import { BOOT_TIMEOUT, REDIS_URL, TEST_ARGON2, freshRedisKeyPrefix } from './backends.js';
import { createTestDatabase } from './postgres.js';
import { seedEmbeddedDatabase } from './embedded-template.js';
import { createFactories, type Factories } from './factories.js';
import { smallBreachedList } from './breached-list.js';
import { pooledSigningKeyPairs } from './signing-key-pairs.js';
import { lateBound } from './late-bound.js';
import { freePort } from './ports.js';

export interface TestServer extends Factories {
  backend: Backend;
  issuer: string;
  /** The breached-password list the server checks against; the CLI run beside it uses the same. */
  breachedList: 'shipped' | 'small';
  gatehouse: Gatehouse;
  close(): Promise<void>;
}

export { BOOT_TIMEOUT };

/**
 * Every test server on PostgreSQL shares the one Redis, and most tests sign in from
 * 127.0.0.1: with the production limits per address, parallel suites would refuse each
 * other. Tests of the limits set their own (test/integration/limits/) and send distinct
 * X-Forwarded-For addresses.
 */
const GENEROUS: { points: number; durationSeconds: number } = { points: 1_000_000, durationSeconds: 60 };
const GENEROUS_RATE_LIMITS: Config['rateLimits'] = {
  signInIp: GENEROUS,
  signInIpAttempts: GENEROUS,
  signInAccount: GENEROUS,
  secondFactorAccount: GENEROUS,
  passkeyIp: GENEROUS,
  passwordResetIp: GENEROUS,
  passwordResetEmailIp: GENEROUS,
  passwordResetEmailCap: GENEROUS,
  signUpIp: GENEROUS,
  accountMail: GENEROUS,
  tokenClient: GENEROUS,
  codeIp: GENEROUS,
  codeAddress: GENEROUS,
  codeResend: GENEROUS,
  smsAccount: GENEROUS,
  smsNumber: GENEROUS,
  smsDaily: GENEROUS,
  deviceUserCodeIp: GENEROUS,
};

/**
 * Boots the real app on 127.0.0.1 with a fresh store: an embedded database in a new
 * temporary directory, or a new PostgreSQL database plus the real Redis.
 */
export interface TestServerOptions {
  /**
   * The issuer's host name; the server still binds 127.0.0.1. WebAuthn needs a domain as its
   * RP ID (browsers refuse IP addresses), so the browser tests use 'localhost'.
   */
  issuerHost?: 'localhost' | '127.0.0.1';
  /**
   * https: the issuer a deployment behind a TLS-terminating proxy has, while the server still
   * listens on plain HTTP. Requests then need X-Forwarded-Proto: https and `http.trustProxy`,
   * as behind the proxy (Koa refuses to set a Secure cookie on a request it sees as http).
   */
  issuerScheme?: 'http' | 'https';
  /** A path prefix for the issuer ('/id'): everything is then served under it. */
  issuerPath?: string;
  /** Where the server's JSON log goes, at `logLevel` (default debug): tests that read the log. */
  logTo?: { write(line: string): void };
  logLevel?: Config['log']['level'];
  /**
   * 'shipped': the real 415k-entry breached-password list, for the suites that prove it.
   * Otherwise a small list (test/helpers/breached-list.ts): loading the shipped one costs ~1 s per file.
   */
  breachedList?: 'shipped' | 'small';
  /** The server's clock (createGatehouse `clock`): a testClock() lets a test move time on instead of sleeping. */
  clock?: () => number;
}

export async function startTestServer(
  backend: Backend,
  overrides: ConfigOverrides = {},
  options: TestServerOptions = {},
): Promise<TestServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-'));
  // A test that brings its own PostgreSQL (test/helpers/throwaway-postgres.ts) names its database.
  const database =
    backend === 'postgres' && !overrides.storage?.databaseUrl
      ? await createTestDatabase({ migrated: true })
      : undefined;
  if (backend === 'embedded') await seedEmbeddedDatabase(dataDir);
  const config = loadConfig(
    {},
    {
      ...overrides,
      rateLimits: { ...GENEROUS_RATE_LIMITS, ...overrides.rateLimits },
      passwords: { argon2: TEST_ARGON2, ...overrides.passwords },
      issuer: `${options.issuerScheme ?? 'http'}://${options.issuerHost ?? '127.0.0.1'}:${port}${options.issuerPath ?? ''}`,
      http: { host: '127.0.0.1', port, trustedProxyHops: 0, ...overrides.http },
      storage: {
        dataDir,
        databaseUrl: database?.url ?? '',
        redisUrl: backend === 'postgres' ? REDIS_URL : '',
        redisKeyPrefix: freshRedisKeyPrefix(),
        ...overrides.storage,
      },
      // One process per test server: new keys may sign at once (the two-replica test keeps the delay).
      keys: { activationDelaySeconds: 0, ...overrides.keys },
      log: {
        level: options.logTo
          ? (options.logLevel ?? 'debug')
          : ((process.env.TEST_LOG_LEVEL as 'silent' | undefined) ?? 'silent'),
      },
    },
  );
  const gatehouse = await createGatehouse(config, createLogger(config.log.level, options.logTo), {
    breachedList: options.breachedList === 'shipped' ? undefined : smallBreachedList(),
    clock: options.clock,
    signingKeyPairs: pooledSigningKeyPairs,
  });
  await gatehouse.listen();
  const factories = createFactories({
    users: gatehouse.admin.users,
    clients: createClientRegistry(gatehouse.storage.storage.clients),
  });
  return {
    ...factories,
    backend,
    issuer: config.issuer,
    breachedList: options.breachedList ?? 'small',
    gatehouse,
    async close() {
      await gatehouse.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The header every suite with one server repeats: boots it in `beforeAll` (with BOOT_TIMEOUT)
 * and closes it in `afterAll`, in the describe block it is called in. The returned object
 * stands for the server once booted: reading any field before `beforeAll` has run (at collection
 * time, in a describe body) throws, instead of handing out an undefined server.
 */
export function useTestServer(
  backend: Backend,
  overrides: ConfigOverrides = {},
  options: TestServerOptions = {},
): TestServer {
  const server = lateBound<TestServer>('useTestServer: the server');
  beforeAll(async () => {
    server.set(await startTestServer(backend, overrides, options));
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await server.take()?.close();
  });
  return server.handle;
}

/**
 * Servers with the default settings shared by the describe blocks of one jest file that ask for
 * one (docs/decisions.md, "Test suite"): booted by the first block's beforeAll, closed after
 * the file's last test. Only for suites that make their own users and clients and read nothing
 * server-wide (no key rotation, settings, counters by address, or lists of all rows).
 */
const sharedServers = new Map<Backend, Promise<TestServer>>();

// A root-level hook: jest evaluates this module while it collects the file's tests. Scripts
// that start test servers outside jest (test/tools/screenshots.ts) have no afterAll.
if (typeof afterAll === 'function') {
  afterAll(async () => {
    const started = [...sharedServers.values()];
    sharedServers.clear();
    for (const server of await Promise.allSettled(started))
      if (server.status === 'fulfilled') await server.value.close();
  });
}

/** useTestServer(backend) with no overrides, on the file's shared server for that backend. */
export function useSharedTestServer(backend: Backend): TestServer {
  const server = lateBound<TestServer>('useSharedTestServer: the server');
  beforeAll(async () => {
    let shared = sharedServers.get(backend);
    if (!shared) {
      shared = startTestServer(backend);
      sharedServers.set(backend, shared);
    }
    server.set(await shared);
  }, BOOT_TIMEOUT);
  afterAll(() => {
    server.take();
  });
  return server.handle;
}
