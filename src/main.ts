import { join } from 'node:path';
import { loadConfig, ConfigError } from './config/load.js';
import { createLogger } from './http/logger.js';
import { openEmbeddedFor } from './storage/open-embedded.js';
import { issuerWarnings } from './config/issuer.js';
import { packageRoot } from './config/package-root.js';
import type { KeyValueStore } from './storage/key-value-store.js';

// Beyond the grace period, closing pools and stores gets this long before the process gives up.
const CLOSE_BACKSTOP_MS = 10_000;

function banner(lines: string[]): void {
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
}

/** A shell word: quoted unless it is plain (paths with spaces or quotes survive a paste). */
function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The next-step commands' prefix: the DATA_DIR in use unless it is the one `npm run cli` finds
 * by itself (./data in the checkout), so the commands reach this server's data (issue 15, item 8).
 */
function cliPrefix(dataDir: string): string {
  return dataDir === join(packageRoot, 'data') ? '' : `DATA_DIR=${shellWord(dataDir)} `;
}

/** The store in use, as configured: Redis by address (never its password), or in process. */
function storeLine(kv: KeyValueStore, embedded: boolean): string {
  if (kv.kind === 'memory')
    return embedded
      ? 'in-process store: single node only'
      : 'in-process store (single node only: set REDIS_URL for replicas)';
  return kv.connected()
    ? kv.description
    : `${kv.description} (unreachable, using in-process counters until it answers)`;
}

async function main(): Promise<void> {
  let config;
  const warnings: string[] = [];
  try {
    config = loadConfig(process.env, {}, (warning) => warnings.push(warning));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`gatehouse: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger(config.log.level);
  for (const warning of warnings) log.warn(warning);
  // The embedded database (a copy of the template on first start, then PGlite's own start)
  // opens while the rest of Gatehouse loads: a third of the time to ready (docs/benchmarks.md).
  // The server holds the data directory's lock while it runs: a second one on it refuses to start.
  const embedded = openEmbeddedFor(config, { exclusive: true });
  // Its failure is reported where createGatehouse awaits it.
  embedded?.catch(() => undefined);
  const { createGatehouse } = await import('./gatehouse.js');
  const gatehouse = await createGatehouse(config, log, { embedded });
  const port = await gatehouse.listen();
  for (const warning of issuerWarnings(config, port)) log.warn(warning);
  const { backend, storage } = gatehouse.storage;
  const hasUsers = (await storage.users.list({ includeDisabled: true })).length > 0;
  const store = storeLine(storage.kv, backend === 'embedded');
  const lines = [
    `Gatehouse is listening on http://${config.http.host}:${port}`,
    `  Issuer:    ${config.issuer}`,
    `  Discovery: ${config.issuer}/.well-known/openid-configuration`,
    backend === 'embedded'
      ? `  Storage:   embedded PostgreSQL (PGlite) in ${config.storage.dataDir}, ${store}`
      : `  Storage:   PostgreSQL, ${store}`,
  ];
  if (gatehouse.keysCreated) lines.push('  Signing keys generated and stored encrypted.');
  if (gatehouse.keyEncryption.source === 'generated') {
    lines.push(
      `  Key-encryption secret generated: ${gatehouse.keyEncryption.path} (mode 0600). Back it up; every replica needs the same one.`,
    );
  }
  if (!hasUsers) {
    const cli = cliPrefix(config.storage.dataDir);
    lines.push(
      '',
      'Next, in another terminal, create a first user and a client:',
      `  ${cli}npm run cli -- users create --email you@example.com --password 'a-long-passphrase-of-yours' --name 'Your Name'`,
      `  ${cli}npm run cli -- clients create --name 'My app' --redirect-uri http://localhost:8080/callback --first-party`,
    );
  }
  banner(lines);

  // SIGTERM (Kubernetes, docker stop): /readyz fails, no new connections, requests in flight
  // finish within shutdown.graceSeconds, pools close, exit 0 (docs/operations.md).
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const graceMs = config.shutdown.graceSeconds * 1000;
    log.info({ signal, graceMs }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown did not complete in time; exiting');
      process.exit(1);
    }, graceMs + CLOSE_BACKSTOP_MS);
    force.unref();
    gatehouse.close(graceMs).then(
      () => {
        log.info('shut down');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`gatehouse: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
