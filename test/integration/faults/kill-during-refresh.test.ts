import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { REDIS_URL, freshRedisKeyPrefix } from '../../helpers/backends.js';
import { freePort } from '../../helpers/ports.js';
import { ensureBuilt, startBuiltServer, type Started } from '../../helpers/processes.js';
import { runCliIn } from '../../helpers/cli.js';
import { buildAuthRequest, discoverRp, oidc, redeemCode } from '../../helpers/rp.js';
import { OFFLINE, oauthFailure, refreshTokenOf } from '../../helpers/tokens.js';
import { createTokenDigest } from '../../../src/security/token-digest.js';
import { UserAgent, runAuthorization } from '../../helpers/user-agent.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../helpers/throwaway-postgres.js';
import { rotateUntil, type Attempt, type RefreshChain } from './refresh-chains.js';

const CHAINS = 6;
const PASSWORD = 'a long passphrase for the storm';
const REDIRECT_URI = 'http://localhost:8080/cb';

interface StoredToken {
  consumed: boolean;
  grantId: string | null;
}

/** The server's key-encryption secret, set here so that the test can find a token's row by its digest. */
const SECRET = randomBytes(32);
const digest = createTokenDigest(SECRET);
const storedId = (token: string) => digest.storedId('RefreshToken', token);

/** How the database holds a refresh token: under the keyed digest of its value. */
async function stored(db: pg.Client, token: string): Promise<StoredToken | null> {
  const { rows } = await db.query<{ consumed_at: Date | null; grant_id: string | null }>(
    `SELECT consumed_at, grant_id FROM oidc_payloads WHERE model = 'RefreshToken' AND id = $1`,
    [storedId(token)],
  );
  const row = rows[0];
  return row ? { consumed: row.consumed_at !== null, grantId: row.grant_id } : null;
}

/** Live refresh tokens of a grant that the client never received: issued by a response that did not arrive. */
async function unseenSuccessors(db: pg.Client, grantId: string, received: string[]): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM oidc_payloads WHERE model = 'RefreshToken' AND grant_id = $1 AND consumed_at IS NULL AND NOT (id = ANY($2))`,
    [grantId, received.map(storedId)],
  );
  return Number(rows[0]?.n ?? 0);
}

describe('kill -9 during a refresh-token storm (built server, throwaway PostgreSQL)', () => {
  let postgres: ThrowawayPostgres;
  let server: Started | undefined;
  let db: pg.Client;
  let env: Record<string, string>;
  let issuer: string;
  let dataDir: string;
  const chains: RefreshChain[] = [];
  /** Chains of a client with a refresh reuse grace: a retry of a token whose response was lost is honoured. */
  const graceful = new Set<RefreshChain>();
  let attempts: Attempt[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    postgres = await startThrowawayPostgres(await freePort());
    const databaseUrl = await postgres.createDatabase();
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    dataDir = mkdtempSync(join(tmpdir(), 'gh-kill-'));
    env = {
      DATA_DIR: dataDir,
      PORT: String(port),
      ISSUER: issuer,
      LOG_LEVEL: 'warn',
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      REDIS_KEY_PREFIX: freshRedisKeyPrefix(),
      KEY_ENCRYPTION_SECRET: SECRET.toString('base64'),
    };
    server = await startBuiltServer(env);
    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();

    const email = `storm-${Date.now()}@example.test`;
    // The CLI in-process (built CLI processes took ~1 s each; boot/start.test.ts runs the built one).
    expect((await runCliIn(env, ['users', 'create', '--email', email, '--password', PASSWORD, '--json'])).code).toBe(0);
    for (const grace of [[], ['--refresh-reuse-grace', '60']]) {
      const created = await runCliIn(env, [
        'clients',
        'create',
        '--name',
        'Storm',
        '--redirect-uri',
        REDIRECT_URI,
        '--first-party',
        ...grace,
        '--json',
      ]);
      expect(created.code).toBe(0);
      const { client_id: clientId, client_secret: clientSecret } = JSON.parse(created.stdout) as {
        client_id: string;
        client_secret: string;
      };
      const client = { clientId, clientSecret };
      const rp = await discoverRp(issuer, client);
      for (let n = 0; n < CHAINS; n++) {
        // A sign-in each: every chain is a grant of its own, as separate devices of one user are.
        const request = await buildAuthRequest(rp, REDIRECT_URI, OFFLINE);
        const trace = await runAuthorization(new UserAgent(issuer), request.url, REDIRECT_URI, {
          email,
          password: PASSWORD,
          consent: 'allow',
        });
        const first = refreshTokenOf(await redeemCode(rp, trace.callbackUrl, request));
        const chain = { rp, client, last: first, received: [first] };
        chains.push(chain);
        if (grace.length > 0) graceful.add(chain);
      }
    }
  }, 240_000);

  afterAll(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    await db?.end().catch(() => undefined);
    await postgres?.destroy();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  it("keeps each chain's last received refresh token good for exactly one use, and accepts no token twice", async () => {
    if (!server) throw new Error('server not started');
    const killed = server;
    let release: () => void = () => undefined;
    const storm = rotateUntil(
      chains,
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    );
    const deadline = Date.now() + 60_000;
    while (!chains.every((chain) => chain.received.length >= 4) && Date.now() < deadline) await sleep(20);
    expect(chains.every((chain) => chain.received.length >= 4)).toBe(true);

    // Mid-storm: requests are in flight on every chain.
    killed.child.kill('SIGKILL');
    await killed.exited;
    release();
    attempts = await storm;
    server = await startBuiltServer(env);

    // No token was accepted twice during the storm.
    const accepted = new Map<string, number>();
    for (const attempt of attempts.filter((a) => a.status === 200))
      accepted.set(attempt.presented, (accepted.get(attempt.presented) ?? 0) + 1);
    expect([...accepted.values()].filter((times) => times > 1)).toEqual([]);
    // Only successes and the lost connections of the kill: no 500 before it.
    expect(
      attempts.filter((a) => a.status !== 200 && a.status !== 0).map((a) => `${a.status} ${String(a.error)}`),
    ).toEqual([]);

    const problems: string[] = [];
    for (const [n, chain] of chains.entries()) {
      // Every token the client rotated away is spent.
      for (const spent of chain.received.slice(0, -1)) {
        if (!(await stored(db, spent))?.consumed) problems.push(`chain ${n}: a rotated token is not consumed`);
      }
      const last = await stored(db, chain.last);
      if (!last?.grantId) {
        problems.push(`chain ${n}: its last token is not stored`);
        continue;
      }
      // No partial writes: the last token is consumed exactly when its successor was saved.
      const successors = await unseenSuccessors(db, last.grantId, chain.received);
      if (last.consumed !== successors > 0)
        problems.push(`chain ${n}: consumed=${last.consumed} with ${successors} unseen successors`);
      if (last.consumed) {
        const inFlight = attempts.some((a) => a.chain === n && a.status === 0 && a.presented === chain.last);
        if (!inFlight) problems.push(`chain ${n}: its last token was spent by no request of its own`);
        if (!graceful.has(chain)) {
          // The rotation committed and only its response was lost to the kill: without a grace
          // the client's retry is the replay of a spent token, and is refused.
          const replay = await oauthFailure(oidc.refreshTokenGrant(chain.rp, chain.last));
          if (replay.error !== 'invalid_grant')
            problems.push(`chain ${n}: replay answered ${replay.status} ${replay.error}`);
          continue;
        }
        // Within the grace the retry gets a new successor, and the one it never received is void.
        const retried = await oidc.refreshTokenGrant(chain.rp, chain.last).then(refreshTokenOf, (error: unknown) => {
          problems.push(`chain ${n}: the retry of a token whose response was lost was refused: ${String(error)}`);
          return null;
        });
        if (!retried) continue;
        chain.last = retried;
        chain.received.push(retried);
        if ((await unseenSuccessors(db, last.grantId, chain.received)) !== 0)
          problems.push(`chain ${n}: the lost successor is still live`);
        continue;
      }
      const rotate = () =>
        oidc.refreshTokenGrant(chain.rp, chain.last).then(refreshTokenOf, (error: unknown) => {
          problems.push(`chain ${n}: its last token was refused after the restart: ${String(error)}`);
          return null;
        });
      // A kill rarely loses a graceful chain's response at the right moment (a few in a hundred
      // rotations): on the restarted server each such chain also drops one response, as a
      // mobile connection would, and retries with the same token.
      const dropped = graceful.has(chain) ? await rotate() : null;
      const rotated = await rotate();
      if (rotated) {
        chain.last = rotated;
        chain.received.push(rotated);
      }
      if (dropped) {
        const refused = await oauthFailure(oidc.refreshTokenGrant(chain.rp, dropped));
        if (refused.error !== 'invalid_grant')
          problems.push(`chain ${n}: the dropped successor answered ${refused.status} ${refused.error}`);
      }
    }
    expect(problems).toEqual([]);
  }, 240_000);

  it('refuses a refresh token used a second time after the restart, and revokes the grant it belongs to', async () => {
    const live: RefreshChain[] = [];
    // Without a grace: with one, the token rotated just before may still be retried (tested above).
    for (const c of chains) if (!graceful.has(c) && (await stored(db, c.last))?.consumed === false) live.push(c);
    const chain = live[0];
    if (!chain) throw new Error('no chain rotated');
    const spent = chain.received[chain.received.length - 2] ?? '';
    expect(await oauthFailure(oidc.refreshTokenGrant(chain.rp, spent))).toEqual({
      status: 400,
      error: 'invalid_grant',
    });
    // Reuse of a rotated token is taken for theft (RFC 9700 §4.14.2): the newest token dies with it.
    expect(await oauthFailure(oidc.refreshTokenGrant(chain.rp, chain.last))).toEqual({
      status: 400,
      error: 'invalid_grant',
    });
    // Another device's grant is untouched.
    const other = live[1];
    if (!other) throw new Error('no second chain');
    expect(refreshTokenOf(await oidc.refreshTokenGrant(other.rp, other.last))).not.toBe(other.last);
  }, 120_000);
});
