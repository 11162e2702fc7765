import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../helpers/server.js';
import { ensureBuilt, runBuiltCli, startBuiltServer, type Started } from '../../helpers/processes.js';

/**
 * The README's first command, as a new user runs it: the built server on the embedded
 * default, with nothing but a data directory; the CLI beside it; SIGTERM ends it cleanly.
 */
describe('npm start on the embedded default', () => {
  let dataDir: string;
  let server: Started | undefined;
  let env: Record<string, string>;
  beforeAll(async () => {
    await ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'gh-boot-'));
    const port = await freePort();
    env = { DATA_DIR: dataDir, PORT: String(port), ISSUER: `http://127.0.0.1:${port}`, LOG_LEVEL: 'warn' };
    server = await startBuiltServer(env);
  }, 120_000);
  afterAll(async () => {
    if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the issuer, discovery URL and first CLI commands, and serves discovery', async () => {
    const out = server!.output();
    expect(out).toContain(`Issuer:    ${env.ISSUER}`);
    expect(out).toContain(`Discovery: ${env.ISSUER}/.well-known/openid-configuration`);
    expect(out).toContain('npm run cli -- users create --email');
    expect(out).toContain('npm run cli -- clients create --name');
    const discovery = await (await fetch(`${env.ISSUER}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
    expect(discovery.issuer).toBe(env.ISSUER);
    expect(discovery.code_challenge_methods_supported).toEqual(['S256']);
    expect(discovery.response_types_supported).toEqual(['code']);
    const jwks = await (await fetch(`${env.ISSUER}/jwks`)).json() as { keys: Array<{ alg: string; d?: string }> };
    expect(jwks.keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
    expect((await fetch(`${env.ISSUER}/readyz`)).status).toBe(200);
  });

  it('keeps the generated key-encryption secret readable by its owner only', () => {
    expect(statSync(join(dataDir, 'key-encryption-secret')).mode & 0o777).toBe(0o600);
  });

  it('lets the CLI create a user and a client while the server runs', async () => {
    const user = await runBuiltCli(['users', 'create', '--email', 'first@example.com', '--password', 'a long opening passphrase', '--json'], env);
    expect(user.code).toBe(0);
    expect(JSON.parse(user.stdout)).toMatchObject({ email: 'first@example.com' });
    const client = await runBuiltCli(['clients', 'create', '--name', 'First', '--redirect-uri', 'http://localhost:8080/cb', '--first-party', '--json'], env);
    expect(client.code).toBe(0);
    const created = JSON.parse(client.stdout) as { client_id: string; client_secret: string };
    expect(created.client_secret.length).toBeGreaterThanOrEqual(43);
    const bad = await runBuiltCli(['clients', 'create', '--name', 'Bad', '--redirect-uri', 'http://evil.example/cb'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('stops on SIGTERM with exit code 0', async () => {
    server!.child.kill('SIGTERM');
    expect(await server!.exited).toBe(0);
  });
});

/** The embedded database opens while the code loads (src/main.ts); its failure still ends the start plainly. */
describe('npm start with a data directory the embedded database cannot serve', () => {
  it('exits with one readable line, no stack trace or unhandled rejection', async () => {
    await ensureBuilt();
    const root = mkdtempSync(join(tmpdir(), 'gh-boot-'));
    try {
      const port = await freePort();
      // Too long for the Unix socket the embedded database is served on.
      const dataDir = join(root, 'd'.repeat(110));
      const failure = await startBuiltServer({ DATA_DIR: dataDir, PORT: String(port), ISSUER: `http://127.0.0.1:${port}`, LOG_LEVEL: 'warn' })
        .then(() => undefined, (error: unknown) => (error instanceof Error ? error.message : String(error)));
      expect(failure).toMatch(/^server exited early:/);
      const lines = (failure ?? '').split('\n').filter((line) => line.startsWith('gatehouse:'));
      expect(lines).toEqual([expect.stringMatching(/^gatehouse: failed to start: data directory path too long for a Unix socket/)]);
      expect(failure).not.toMatch(/Unhandled|    at /);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});

/** What deployments set before TRUSTED_PROXY_HOPS (docs/decisions.md, "TRUST_PROXY still boots"). */
describe('npm start with the deprecated TRUST_PROXY', () => {
  let root: string;
  beforeAll(async () => {
    await ensureBuilt();
    root = mkdtempSync(join(tmpdir(), 'gh-boot-'));
  }, 120_000);
  afterAll(() => { rmSync(root, { recursive: true, force: true }); });

  it('boots with TRUST_PROXY=true, logging once that it is deprecated and read as one hop', async () => {
    const port = await freePort();
    const server = await startBuiltServer({ DATA_DIR: join(root, 'data'), PORT: String(port), ISSUER: `http://127.0.0.1:${port}`, LOG_LEVEL: 'warn', TRUST_PROXY: 'true' });
    try {
      const warnings = server.output().split('\n').filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; msg: string })
        .filter((entry) => entry.msg.includes('TRUST_PROXY'));
      expect(warnings).toEqual([expect.objectContaining({ level: 40, msg: expect.stringMatching(/^TRUST_PROXY \(http\.trustProxy\) is deprecated and read as TRUSTED_PROXY_HOPS=1: /) })]);
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
  }, 120_000);

  it('stops with one line when TRUSTED_PROXY_HOPS contradicts it', async () => {
    const port = await freePort();
    const failure = await startBuiltServer({ DATA_DIR: join(root, 'other'), PORT: String(port), ISSUER: `http://127.0.0.1:${port}`, TRUST_PROXY: 'true', TRUSTED_PROXY_HOPS: '0' })
      .then(() => undefined, (error: unknown) => (error instanceof Error ? error.message : String(error)));
    expect(failure?.split('\n').filter(Boolean)).toEqual([
      'server exited early:',
      'gatehouse: invalid configuration:',
      '  http.trustProxy: TRUST_PROXY=true contradicts TRUSTED_PROXY_HOPS=0 (http.trustedProxyHops); remove TRUST_PROXY, which TRUSTED_PROXY_HOPS replaces',
    ]);
  }, 60_000);
});
