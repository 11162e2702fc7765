import { STORE_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { statementLog } from '../../helpers/statement-log.js';
import { UserAgent, buildRp, openAuthorization, submitLogin, type TestRp } from '../../helpers/sessions.js';
import type { TestUser } from '../../helpers/factories.js';
import { authenticationOf, buildTotpUser, finishAtRp, stepKind } from './support.js';

/** A read of the second factors: the credentials, the code factors, the phone, the default choice. */
const readsFactors = (sql: string) =>
  /^\s*SELECT\b/i.test(sql) && /\b(credentials|code_factors|user_phones|default_second_factors)\b/.test(sql);

/**
 * The resume after the password (GET /auth/:uid) asks the mfa prompt whether the user has a
 * second factor (oidc/policy.ts). Most users have none, so every sign-in pays for the answer:
 * one statement on one connection (storage/phones.repository.ts secondFactorState), not one per table.
 */
describe.each(STORE_BACKENDS)('second factors read once at the resume (%s)', (backend) => {
  let server: TestServer;
  let rp: TestRp;
  let log: ReturnType<typeof statementLog>;

  beforeAll(async () => {
    server = await startTestServer(backend);
    rp = await buildRp(server);
    log = statementLog(server.gatehouse.storage.storage.dataSource);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  /** The password step, then the resume it redirects to, with the factor reads the resume sent. */
  async function resume(ua: UserAgent, user: Pick<TestUser, 'email' | 'password'>) {
    const { request, page } = await openAuthorization(ua, rp, server.issuer);
    const done = await submitLogin(ua, page, user.email, user.password);
    if (done.status !== 303 || !done.location) throw new Error(`password refused with ${done.status}`);
    const location = done.location;
    const { result, statements } = await log.during(() => ua.get(location));
    return { request, resumed: result, factorReads: statements.filter(readsFactors) };
  }

  it('a user without a second factor: one statement, and on to the RP with the password alone', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const { request, resumed, factorReads } = await resume(ua, user);
    expect(factorReads).toHaveLength(1);
    const tokens = await finishAtRp(ua, server, rp, resumed, request);
    expect(authenticationOf(tokens).amr).toEqual(['pwd']);
  });

  it('a user with an authenticator app: one statement, and its second step’s page reads them once too', async () => {
    const user = await buildTotpUser(server);
    const ua = new UserAgent(server.issuer);
    const { resumed, factorReads } = await resume(ua, user);
    expect(factorReads).toHaveLength(1);
    const location = resumed.location;
    if (!location) throw new Error(`the resume did not redirect (${resumed.status})`);
    const { result: page, statements } = await log.during(() => ua.get(location));
    expect(stepKind(page)).toBe('mfa');
    expect(statements.filter(readsFactors)).toHaveLength(1);
  });
});
