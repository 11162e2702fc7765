import { setTimeout as sleep } from 'node:timers/promises';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { freePort } from '../../helpers/ports.js';
import { BOOT_TIMEOUT } from '../../helpers/sessions.js';
import { buildAuthRequest, discoverRp, oidc } from '../../helpers/rp.js';
import { OFFLINE, refreshTokenOf, signIn } from '../../helpers/tokens.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../helpers/throwaway-postgres.js';
import { refreshOnce, rotateUntil, type Attempt, type RefreshChain } from './refresh-chains.js';

const CHAINS = 4;
/** No request may wait longer than this for a database that is gone (connect timeout 5 s). */
const ANSWER_BOUND_MS = 10_000;

async function signInChains(server: TestServer, count: number): Promise<RefreshChain[]> {
  const chains: RefreshChain[] = [];
  for (let n = 0; n < count; n++) {
    const { rp, client, tokens } = await signIn(server, { params: OFFLINE });
    const first = refreshTokenOf(tokens);
    chains.push({ rp, client, last: first, received: [first] });
  }
  return chains;
}

/** Each chain's last token rotates once more; the failures, described. */
async function lostChains(chains: RefreshChain[]): Promise<string[]> {
  const lost: string[] = [];
  for (const [n, chain] of chains.entries()) {
    await oidc.refreshTokenGrant(chain.rp, chain.last).then(
      (tokens) => expect(refreshTokenOf(tokens)).not.toBe(chain.last),
      (error: unknown) => lost.push(`chain ${n} after ${chain.received.length} tokens: ${String(error)}`),
    );
  }
  return lost;
}

/** /readyz's status; a 503 must say "unavailable" (PostgreSQL is what a replica cannot serve without). */
async function readyz(server: TestServer): Promise<number> {
  const res = await fetch(`${server.issuer}/readyz`);
  const body = (await res.json()) as unknown;
  if (res.status === 503) expect(body).toEqual({ status: 'unavailable' });
  return res.status;
}

async function waitFor(condition: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(250);
  }
  return false;
}

describe('PostgreSQL stopped under load (throwaway PostgreSQL)', () => {
  let postgres: ThrowawayPostgres;
  let server: TestServer;
  beforeAll(async () => {
    postgres = await startThrowawayPostgres(await freePort());
    server = await startTestServer('postgres', { storage: { databaseUrl: await postgres.createDatabase() } });
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    // Back up first, so the server's pool closes cleanly; then everything goes.
    await postgres?.start().catch(() => undefined);
    await server?.close().catch(() => undefined);
    await postgres?.destroy();
  }, BOOT_TIMEOUT);

  it('answers 503 with Retry-After (never 500, never a hang), fails /readyz, recovers by itself, and keeps every refresh token it handed out', async () => {
    const chains = await signInChains(server, CHAINS);
    const [browserChain] = chains;
    if (!browserChain) throw new Error('no chain');
    const client = await server.buildClient();
    // Where a browser would start a sign-in.
    const authorizeUrl = (await buildAuthRequest(await discoverRp(server.issuer, client), client.redirectUri, OFFLINE))
      .url;

    let release: () => void = () => undefined;
    const load = rotateUntil(
      chains,
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    );
    // Some rotations land before the outage.
    expect(await waitFor(async () => chains.every((chain) => chain.received.length >= 3), 60_000)).toBe(true);

    const stoppedAt = Date.now();
    await postgres.stop('fast');
    await sleep(3000);

    // Under the outage: the token endpoint's OAuth error, a browser's page, and a failing probe.
    expect(await readyz(server)).toBe(503);
    const page = await fetch(authorizeUrl, { headers: { accept: 'text/html' }, redirect: 'manual' });
    const html = await page.text();
    expect(page.status).toBe(503);
    expect(page.headers.get('retry-after')).toBe('5');
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toContain('Temporarily unavailable');
    expect(html).not.toMatch(/\bat .*\.(js|ts):\d+/);
    // A program that names no media type still gets the token endpoint's JSON (RFC 6749 §5.2).
    const bare = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: '*/*' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: browserChain.last,
        client_id: browserChain.client.clientId,
      }),
    });
    expect(bare.status).toBe(503);
    expect(await bare.json()).toMatchObject({ error: 'temporarily_unavailable' });

    await postgres.start();
    const restartedAt = Date.now();
    expect(await waitFor(async () => (await readyz(server)) === 200, 30_000)).toBe(true);
    // Every chain rotates again on the same process.
    const counts = chains.map((chain) => chain.received.length);
    const rotatedAgain = await waitFor(
      async () => chains.every((chain, n) => chain.received.length > (counts[n] ?? 0)),
      30_000,
    );
    release();
    const attempts = await load;

    const during = attempts.filter((a) => a.at >= stoppedAt + 500 && a.at + a.ms <= restartedAt);
    expect(during.length).toBeGreaterThan(0);
    const summary = (list: Attempt[]) => list.map((a) => `${a.status} ${String(a.error)} ${a.ms}ms`);
    // Only success (a request that got in before the stop) or the OAuth "try again".
    expect(summary(attempts.filter((a) => a.status !== 200 && a.status !== 503))).toEqual([]);
    for (const attempt of during.filter((a) => a.status === 503)) {
      expect(attempt.error).toBe('temporarily_unavailable');
      expect(attempt.retryAfter).toBe('5');
      expect(attempt.contentType).toMatch(/^application\/json/);
    }
    expect(during.some((a) => a.status === 503)).toBe(true);
    expect(summary(attempts.filter((a) => a.ms >= ANSWER_BOUND_MS))).toEqual([]);

    // Nothing acknowledged is lost: each chain's last token, got in a 200, still rotates.
    expect(await lostChains(chains)).toEqual([]);
    expect(rotatedAgain).toBe(true);
  }, 240_000);

  it('answers 503 within its timeouts while PostgreSQL is frozen (accepts connections, answers nothing), and recovers when it answers again', async () => {
    // A short statement timeout, so that the bound below is the client's, not the test's patience.
    const frozenOn = await startTestServer('postgres', {
      storage: { databaseUrl: await postgres.createDatabase(), statementTimeoutSeconds: 1 },
    });
    try {
      const chains = await signInChains(frozenOn, 3);
      postgres.freeze();
      let answers: Array<{ status: number; error: unknown; ms: number }>;
      let probe: number;
      try {
        const timed = async (chain: RefreshChain) => {
          const started = Date.now();
          const answer = await refreshOnce(chain);
          return { status: answer.status, error: answer.body.error, ms: Date.now() - started };
        };
        [answers, probe] = await Promise.all([Promise.all(chains.map(timed)), readyz(frozenOn)]);
      } finally {
        postgres.thaw();
      }
      // Pool connect 5 s, or a statement's 1 s + 2 s and then its rollback's: well under 10 s.
      expect(answers).toEqual(
        chains.map(() => ({ status: 503, error: 'temporarily_unavailable', ms: expect.any(Number) })),
      );
      expect(answers.filter((a) => a.ms >= ANSWER_BOUND_MS)).toEqual([]);
      expect(probe).toBe(503);

      expect(await waitFor(async () => (await readyz(frozenOn)) === 200, 30_000)).toBe(true);
      expect(await lostChains(chains)).toEqual([]);
    } finally {
      postgres.thaw();
      await frozenOn.close();
    }
  }, 180_000);
});
