import bcrypt from 'bcryptjs';
import type { AuditAction } from '../../../src/security/audit.js';
import { ACCOUNT_CLIENT_ID } from '../../../src/clients/built-in-client.js';
import { createRecoveryCodeService } from '../../../src/accounts/recovery-codes.js';
import { deriveKey } from '../../../src/security/key-encryption-secret.js';
import { STORE_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { UserAgent, type Page } from '../../helpers/user-agent.js';
import { accountCsrf, openAccountPage } from '../../helpers/account-pages.js';
import { buildRp, follow, openAuthorization, submitLogin, type TestRp } from '../../helpers/sessions.js';
import { buildTotpUser, passwordStep, stepKind, submitCode, totpCode, wrongTotpCode } from '../mfa/support.js';
import { SoftwareAuthenticator, enrolKey } from '../webauthn/support.js';

/**
 * The rule of docs/audit.md: a security event commits in the same transaction as the change
 * it records. Each test makes the database itself refuse one event (a CHECK constraint on
 * this test server's own database, not a mock), then shows that the change it records did
 * not happen either, and that it does happen, with its event, once the event is allowed.
 * Sign-in events also name the client being signed in to and the request (X-Request-Id).
 */

interface EventRow {
  action: string;
  client_id: string | null;
  request_id: string | null;
}

const secretOf = (html: string) => /data-totp-secret>([A-Z2-7]+)</.exec(html)?.[1] ?? '';
const NEW_PASSWORD = 'a fresh long password';

describe.each(STORE_BACKENDS)('security events commit with the change they record (%s)', (backend) => {
  let rp: TestRp;
  const server = useTestServer(backend);
  beforeAll(async () => {
    rp = await buildRp(server);
  });

  const storage = () => server.gatehouse.storage.storage;

  /**
   * Runs `work` while every new audit row with `action` is refused by PostgreSQL. NOT VALID:
   * rows already there are not checked, only inserts from now on. The action is one of our
   * own literals (DDL takes no bind parameters).
   */
  async function refusingEvent<T>(action: AuditAction, work: () => Promise<T>): Promise<T> {
    const constraint = `test_refuse_${action.replace(/[^a-z]/g, '_')}`;
    await storage().dataSource.query(
      `ALTER TABLE audit_events ADD CONSTRAINT ${constraint} CHECK (action <> '${action}') NOT VALID`,
    );
    try {
      return await work();
    } finally {
      await storage().dataSource.query(`ALTER TABLE audit_events DROP CONSTRAINT ${constraint}`);
    }
  }

  async function eventsOf(userId: string): Promise<EventRow[]> {
    return (await storage().dataSource.query(
      'SELECT action, client_id, request_id FROM audit_events WHERE subject_id = $1 ORDER BY created_at',
      [userId],
    )) as EventRow[];
  }

  /** The one event `action` of `userId`, which must name `clientId` and the request that answered `page`. */
  async function expectEvent(userId: string, action: AuditAction, clientId: string, page: Page): Promise<void> {
    const requestId = page.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await eventsOf(userId)).filter((e) => e.action === action)).toEqual([
      { action, client_id: clientId, request_id: requestId },
    ]);
  }

  it('an authenticator app set up on /account: no stored secret and no recovery codes when its event cannot be written', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);

    const started = await ua.post('/account/totp/start', { csrf: accountCsrf(page) });
    const secret = secretOf(started.html);
    const refused = await refusingEvent('mfa.totp.enrolled', async () =>
      ua.post('/account/totp/confirm', { csrf: accountCsrf(started), code: await totpCode(secret) }),
    );
    expect(refused.status).toBe(500);
    expect(await storage().credentials.findTotp(user.id)).toBeNull();
    // The recovery codes issued with the app were in the same transaction.
    expect(await storage().credentials.countRecoveryCodes(user.id)).toBe(0);
    expect((await eventsOf(user.id)).map((e) => e.action)).not.toContain('mfa.recovery_codes.generated');

    const again = await ua.post('/account/totp/start', { csrf: accountCsrf(page) });
    const confirmed = await ua.post('/account/totp/confirm', {
      csrf: accountCsrf(again),
      code: await totpCode(secretOf(again.html)),
    });
    expect(confirmed.status).toBe(200);
    expect(await storage().credentials.findTotp(user.id)).not.toBeNull();
    expect(await storage().credentials.countRecoveryCodes(user.id)).toBe(10);
    await expectEvent(user.id, 'mfa.totp.enrolled', ACCOUNT_CLIENT_ID, confirmed);
    await expectEvent(user.id, 'mfa.recovery_codes.generated', ACCOUNT_CLIENT_ID, confirmed);
  });

  it('a password change on /account: the old password stays when its event cannot be written', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    const before = await storage().users.passwordHash(user.id);
    const change = () =>
      ua.post('/account/password', {
        csrf: accountCsrf(page),
        current_password: user.password,
        new_password: NEW_PASSWORD,
      });

    expect((await refusingEvent('password.changed', change)).status).toBe(500);
    expect(await storage().users.passwordHash(user.id)).toBe(before);

    const changed = await change();
    expect(changed.status).toBe(303);
    expect(await storage().users.passwordHash(user.id)).not.toBe(before);
    await expectEvent(user.id, 'password.changed', ACCOUNT_CLIENT_ID, changed);
  });

  it('a passkey registered on /account is not kept when its event cannot be written', async () => {
    const user = await server.buildUser();
    await expect(
      refusingEvent('mfa.webauthn.registered', () =>
        enrolKey(new UserAgent(server.issuer), user, new SoftwareAuthenticator(server.issuer), 'passkey', 'Laptop'),
      ),
    ).rejects.toThrow(/registration: 500/);
    expect(await storage().credentials.listWebAuthn(user.id)).toHaveLength(0);

    await enrolKey(new UserAgent(server.issuer), user, new SoftwareAuthenticator(server.issuer), 'passkey', 'Laptop');
    expect(await storage().credentials.listWebAuthn(user.id)).toHaveLength(1);
    expect((await eventsOf(user.id)).filter((e) => e.action === 'mfa.webauthn.registered')).toHaveLength(1);
  });

  it('a recovery code at sign-in is not used up when its event cannot be written, and its events name the client', async () => {
    const user = await buildTotpUser(server);
    const recovery = createRecoveryCodeService({
      credentials: storage().credentials,
      hashKey: deriveKey(server.gatehouse.keyEncryption.key, 'recovery-codes'),
    });
    const [code] = await recovery.regenerate(user.id);
    if (!code) throw new Error('no recovery code');
    const ua = new UserAgent(server.issuer);
    const { page } = await passwordStep(ua, server, rp, user);
    expect(stepKind(page)).toBe('mfa');

    const refused = await refusingEvent('mfa.recovery_code.used', () => submitCode(ua, page, 'recovery_code', code));
    expect(refused.status).toBe(500);
    expect(await recovery.remaining(user.id)).toBe(10);
    expect((await eventsOf(user.id)).map((e) => e.action)).not.toContain('signin.mfa.succeeded');

    // The same code, still unused, completes the step.
    const accepted = await submitCode(ua, page, 'recovery_code', code);
    expect(accepted.status).toBe(303);
    expect(await recovery.remaining(user.id)).toBe(9);
    await expectEvent(user.id, 'mfa.recovery_code.used', rp.client.clientId, accepted);
    await expectEvent(user.id, 'signin.mfa.succeeded', rp.client.clientId, accepted);
  });

  it('a TOTP code is not spent when its sign-in event cannot be written (replay protection still holds after)', async () => {
    const user = await buildTotpUser(server);
    const ua = new UserAgent(server.issuer);
    const { page } = await passwordStep(ua, server, rp, user);
    const code = await totpCode(user.secret);

    expect((await refusingEvent('signin.mfa.succeeded', () => submitCode(ua, page, 'totp', code))).status).toBe(500);
    const row = await storage().credentials.findTotp(user.id);
    expect(row?.data.lastStep).toBeUndefined();
    expect(row?.lastUsedAt).toBeNull();

    expect((await submitCode(ua, page, 'totp', code)).status).toBe(303);
    // Spent now: the same code in another sign-in is a replay.
    const other = new UserAgent(server.issuer);
    const second = await passwordStep(other, server, rp, user);
    const replayed = await submitCode(other, second.page, 'totp', code);
    expect(replayed.status).toBe(401);
    expect((await eventsOf(user.id)).map((e) => e.action)).toContain('signin.mfa.replayed');
  });

  it('a password sign-in: an imported hash is not upgraded, nor the password marked used, when the success cannot be recorded', async () => {
    const user = await server.buildUser();
    // A bcrypt hash as an import brings it: the first sign-in rehashes it to argon2id.
    const imported = bcrypt.hashSync(user.password, 4);
    await storage().users.setPasswordHash(user.id, imported);
    const passwordUsedAt = async () =>
      (
        (await storage().dataSource.query(
          "SELECT last_used_at FROM credentials WHERE user_id = $1 AND type = 'password'",
          [user.id],
        )) as Array<{ last_used_at: Date | null }>
      )[0]?.last_used_at;

    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, rp, server.issuer);
    const refused = await refusingEvent('signin.password.succeeded', () =>
      submitLogin(ua, page, user.email, user.password),
    );
    expect(refused.status).toBe(500);
    expect(await storage().users.passwordHash(user.id)).toBe(imported);
    expect(await passwordUsedAt()).toBeNull();

    const signedIn = await submitLogin(ua, page, user.email, user.password);
    expect(signedIn.status).toBe(303);
    expect(await storage().users.passwordHash(user.id)).toMatch(/^\$argon2id\$/);
    expect(await passwordUsedAt()).not.toBeNull();
    await expectEvent(user.id, 'signin.password.succeeded', rp.client.clientId, signedIn);
  });

  it('sign-in and second-step events, failed or not, name the relying party and the request', async () => {
    const user = await buildTotpUser(server);
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, rp, server.issuer);
    const wrong = await submitLogin(ua, page, user.email, 'not the password at all');
    expect(wrong.status).toBe(401);
    const right = await submitLogin(ua, wrong, user.email, user.password);
    expect(right.status).toBe(303);
    const step = await follow(ua, right.location ?? '', server.issuer);
    const wrongCode = await submitCode(ua, step, 'totp', await wrongTotpCode(user.secret));
    expect(wrongCode.status).toBe(401);
    const answered = await submitCode(ua, wrongCode, 'totp', await totpCode(user.secret));
    expect(answered.status).toBe(303);

    await expectEvent(user.id, 'signin.password.failed', rp.client.clientId, wrong);
    await expectEvent(user.id, 'signin.password.succeeded', rp.client.clientId, right);
    await expectEvent(user.id, 'signin.mfa.failed', rp.client.clientId, wrongCode);
    await expectEvent(user.id, 'signin.mfa.succeeded', rp.client.clientId, answered);
    // Every event of this sign-in names the relying party, and no two share a request
    // (the fixture's user.created, made by an operator, names no client).
    const events = (await eventsOf(user.id)).filter((e) => e.action.startsWith('signin.'));
    expect(new Set(events.map((e) => e.client_id))).toEqual(new Set([rp.client.clientId]));
    expect(new Set(events.map((e) => e.request_id)).size).toBe(events.length);
  });
});
