import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STORE_BACKENDS, REDIS_URL, freshRedisKeyPrefix, type Backend } from '../../helpers/backends.js';
import { freePort } from '../../helpers/ports.js';
import { createTestDatabase } from '../../helpers/postgres.js';
import { ensureBuilt, startBuiltServer, type Started } from '../../helpers/processes.js';
import { runCliIn } from '../../helpers/cli.js';
import { buildAuthRequest, discoverRp } from '../../helpers/rp.js';
import { follow } from '../../helpers/sessions.js';
import { UserAgent, csrfToken, formAction } from '../../helpers/user-agent.js';
import { configProblems } from '../../helpers/config-problems.js';
import { finalResponse, openRaw, refusedWithin } from './raw-http.js';

const PASSWORD = 'a long passphrase for shutdown';
const REDIRECT_URI = 'http://localhost:8080/cb';

interface Booted {
  server: Started;
  port: number;
  issuer: string;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** The built server (what the image runs) on a fresh store, as a child process. */
async function boot(backend: Backend, extraEnv: Record<string, string>): Promise<Booted> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-stop-'));
  const database = backend === 'postgres' ? await createTestDatabase() : undefined;
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    PORT: String(port),
    ISSUER: issuer,
    LOG_LEVEL: 'warn',
    ...extraEnv,
    ...(database ? { DATABASE_URL: database.url, REDIS_URL, REDIS_KEY_PREFIX: freshRedisKeyPrefix() } : {}),
  };
  const server = await startBuiltServer(env);
  return {
    server,
    port,
    issuer,
    env,
    async cleanup() {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
      await server.exited;
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A login page of a real authorization request, and the raw POST that answers it (cookies, CSRF, Origin). */
async function loginRequest(booted: Booted): Promise<{ head: string; body: string }> {
  const email = `stop-${Date.now()}@example.test`;
  // In-process: the built CLI is start.test.ts's subject, and each process took ~1 s here.
  expect(
    (await runCliIn(booted.env, ['users', 'create', '--email', email, '--password', PASSWORD, '--json'])).code,
  ).toBe(0);
  const created = await runCliIn(booted.env, [
    'clients',
    'create',
    '--name',
    'Stop',
    '--redirect-uri',
    REDIRECT_URI,
    '--first-party',
    '--json',
  ]);
  const client = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
  const rp = await discoverRp(booted.issuer, { clientId: client.client_id, clientSecret: client.client_secret });
  const ua = new UserAgent(booted.issuer);
  const page = await follow(ua, (await buildAuthRequest(rp, REDIRECT_URI)).url, booted.issuer);
  const action = formAction(page.html, '/login');
  if (!action) throw new Error(`no login form (${page.status})`);
  const body = new URLSearchParams({ csrf: csrfToken(page.html), email, password: PASSWORD }).toString();
  const cookie = [...ua.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const head = [
    `POST ${new URL(action, booted.issuer).pathname} HTTP/1.1`,
    `Host: 127.0.0.1:${booted.port}`,
    `Origin: ${booted.issuer}`,
    'Content-Type: application/x-www-form-urlencoded',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `Cookie: ${cookie}`,
    // The server answers 100 Continue once it has the request: from then on it is in flight.
    'Expect: 100-continue',
    'Accept: text/html',
    '',
    '',
  ].join('\r\n');
  return { head, body };
}

describe.each(STORE_BACKENDS)('SIGTERM (%s)', (backend) => {
  beforeAll(async () => {
    await ensureBuilt();
  }, 120_000);

  it('fails /readyz, refuses new connections, finishes the sign-in in flight, and exits 0', async () => {
    const booted = await boot(backend, { SHUTDOWN_GRACE_SECONDS: '20' });
    try {
      const login = await loginRequest(booted);
      // A readiness probe whose request has begun (its last header line not yet sent) …
      const probe = await openRaw(booted.port);
      await probe.write(`GET /readyz HTTP/1.1\r\nHost: 127.0.0.1:${booted.port}\r\n`);
      // … and a password sign-in whose body the client still holds.
      const signIn = await openRaw(booted.port);
      await signIn.write(login.head);
      await signIn.waitFor('HTTP/1.1 100 Continue');

      booted.server.child.kill('SIGTERM');
      expect(await refusedWithin(booted.port)).toBe(true);
      expect(booted.server.child.exitCode).toBeNull();

      await probe.write('\r\n');
      const ready = finalResponse(await probe.closed);
      expect(ready.status).toBe(503);
      expect(ready.headers.connection).toBe('close');

      await signIn.write(login.body);
      const answered = finalResponse(await signIn.closed);
      expect(answered.status).toBe(303);
      expect(answered.headers.location).toContain('/auth/');
      // Its connection closes after the answer (not after the 5 s keep-alive timeout), so the exit is not held.
      expect(answered.headers.connection).toBe('close');
      expect(await booted.server.exited).toBe(0);
    } finally {
      await booted.cleanup();
    }
  }, 120_000);

  it('cuts a request that outlives the grace period, and still exits 0', async () => {
    const booted = await boot(backend, { SHUTDOWN_GRACE_SECONDS: '1' });
    try {
      const login = await loginRequest(booted);
      const stuck = await openRaw(booted.port);
      await stuck.write(login.head);
      await stuck.waitFor('HTTP/1.1 100 Continue');
      booted.server.child.kill('SIGTERM');
      // The body never comes: the server closes the connection after the grace period.
      const received = await stuck.closed;
      expect(received.replace('HTTP/1.1 100 Continue\r\n\r\n', '')).toBe('');
      expect(await booted.server.exited).toBe(0);
      expect(booted.server.output()).toContain('shutdown grace period');
    } finally {
      await booted.cleanup();
    }
  }, 120_000);

  it('refuses a grace period of zero at boot', () => {
    expect(configProblems({ SHUTDOWN_GRACE_SECONDS: '0' })).toEqual([
      'shutdown.graceSeconds: Too small: expected number to be >=1',
    ]);
  });
});
