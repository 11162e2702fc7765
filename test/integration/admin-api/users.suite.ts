import bcrypt from 'bcryptjs';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { oidc } from '../../helpers/rp.js';
import { uniqueEmail, type TestClient } from '../../helpers/factories.js';
import { OFFLINE, oauthFailure, refreshTokenOf, signIn } from '../../helpers/tokens.js';
import {
  allPages,
  expectFieldError,
  expectStatus,
  forgedCursor,
  testUserOf,
  useAdminApi,
} from '../../helpers/admin-api.js';

interface UserBody {
  id: string;
  email: string;
  name: string | null;
  email_verified: boolean;
  disabled: boolean;
  roles: string[];
  has_password: boolean;
  second_factors: Record<string, unknown>;
}

const PASSWORD = 'correct horse battery staple';
const NDJSON = { 'content-type': 'application/x-ndjson' };
const jsonLines = (lines: unknown[]) =>
  `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`;

/** /admin/api/v1/users: accounts, their state and credentials, and the import. */
describe.each(HTTP_BACKENDS)('admin API users (%s)', (backend) => {
  let client: TestClient;
  const { server, call } = useAdminApi(backend);
  beforeAll(async () => {
    client = await server.buildClient();
  });

  const create = async (body: Record<string, unknown> = {}) =>
    expectStatus(
      await call<UserBody>('POST', '/users', { email: uniqueEmail('api'), password: PASSWORD, ...body }),
      201,
    );
  const read = async (id: string) => expectStatus(await call<UserBody>('GET', `/users/${id}`), 200);
  const signInAs = (user: { id: string; email: string }, password = PASSWORD, params?: Record<string, string>) =>
    signIn(server, { client, user: testUserOf(user, password), params });

  describe('create and read', () => {
    it('creates a user with existing roles and a password they can sign in with', async () => {
      const role = `staff-${Date.now()}`;
      expectStatus(await call('POST', '/roles', { name: role }), 201);
      const email = uniqueEmail('Ada');
      const created = await create({ email, name: 'Ada Lovelace', email_verified: true, roles: [role] });
      expect(created).toMatchObject({
        email,
        name: 'Ada Lovelace',
        email_verified: true,
        disabled: false,
        roles: [role],
        has_password: true,
        second_factors: { totp: false, webauthn: 0, recovery_codes: 0 },
      });
      expect(await read(created.id)).toEqual(created);
      const { tokens } = await signInAs(created);
      expect(tokens.claims()?.sub).toBe(created.id);
    });

    it('creates a user without a password: has_password false', async () => {
      const created = await create({ password: undefined });
      expect(created).toMatchObject({ has_password: false, roles: [], email_verified: false });
    });

    it('refuses a short password, a bad email and an unknown role with 400 naming the field, and creates nothing', async () => {
      const email = uniqueEmail('refused');
      expectFieldError(await call('POST', '/users', { email, password: 'short' }), 'password');
      expectFieldError(await call('POST', '/users', { email: 'not an email', password: PASSWORD }), 'email');
      expectFieldError(await call('POST', '/users', { email, password: PASSWORD, roles: ['no-such-role'] }), 'roles');
      expectFieldError(await call('POST', '/users', { email, password: PASSWORD, admin: true }), 'admin');
      expectFieldError(await call('POST', '/users', { email, email_verified: 'yes' }), 'email_verified');
      const found = expectStatus(
        await call<{ items: UserBody[] }>('GET', `/users?search=${encodeURIComponent(email)}`),
        200,
      );
      expect(found.items).toEqual([]);
    });

    it('answers 409 naming email for a taken email, whatever its case', async () => {
      const existing = await create();
      const refused = await call('POST', '/users', { email: existing.email.toUpperCase(), password: PASSWORD });
      expectFieldError(refused, 'email', 409);
    });

    it('creates a user once when the same email is sent several times at once; the rest are 409', async () => {
      const email = uniqueEmail('race');
      const responses = await Promise.all(Array.from({ length: 5 }, () => call('POST', '/users', { email })));
      expect(responses.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
      for (const refused of responses.filter((r) => r.status === 409)) expectFieldError(refused, 'email', 409);
      expect(
        expectStatus(await call<{ items: UserBody[] }>('GET', `/users?search=${encodeURIComponent(email)}`), 200).items,
      ).toHaveLength(1);
    });

    it('answers 404 for an unknown or malformed user id', async () => {
      for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
        expect((await call('GET', `/users/${id}`)).status).toBe(404);
        expect((await call('PATCH', `/users/${id}`, { name: 'x' })).status).toBe(404);
        expect((await call('POST', `/users/${id}/disable`)).status).toBe(404);
        expect((await call('PUT', `/users/${id}/password`, { password: PASSWORD })).status).toBe(404);
        expect((await call('DELETE', `/users/${id}`)).status).toBe(404);
      }
    });
  });

  describe('list', () => {
    it('searches email and name, case-insensitively, and pages through the matches without duplicates', async () => {
      const tag = `zebra${Date.now()}`;
      const made: string[] = [];
      for (let i = 0; i < 5; i++) made.push((await create({ email: uniqueEmail(`${tag}-${i}`) })).id);
      made.push((await create({ name: `Ms ${tag.toUpperCase()}` })).id);
      await create({ name: 'Someone else' });

      const pages = await allPages<UserBody>(call, `/users?search=${tag}&limit=2`);
      expect(pages.map((p) => p.items.length)).toEqual([2, 2, 2]);
      expect(pages.flatMap((p) => p.items.map((u) => u.id))).toEqual(made);
    });

    it('pages through every user exactly once', async () => {
      for (let i = 0; i < 4; i++) await create();
      const ids = (await allPages<UserBody>(call, '/users?limit=3')).flatMap((p) => p.items.map((u) => u.id));
      expect(new Set(ids).size).toBe(ids.length);
      const one = expectStatus(
        await call<{ items: UserBody[]; next_cursor: string | null }>('GET', '/users?limit=200'),
        200,
      );
      expect(ids).toEqual(one.items.map((u) => u.id));
    });

    it('pages through users imported in one transaction (one created_at, to the microsecond)', async () => {
      const tag = `batch${Date.now()}`;
      const emails = Array.from({ length: 5 }, (_v, i) => uniqueEmail(`${tag}-${i}`));
      expectStatus(await call('POST', '/users/import', jsonLines(emails.map((email) => ({ email }))), NDJSON), 200);
      const pages = await allPages<UserBody>(call, `/users?search=${tag}&limit=2`);
      expect(pages.map((p) => p.items.length)).toEqual([2, 2, 1]);
      expect(pages.flatMap((p) => p.items.map((u) => u.email)).sort()).toEqual([...emails].sort());
    });

    it('refuses a cursor it did not issue with 400 naming cursor (not a failed query)', async () => {
      for (const cursor of ['bm90LWEtY3Vyc29y', forgedCursor('not-a-uuid'), forgedCursor('a\u0000b')]) {
        expectFieldError(await call('GET', `/users?cursor=${cursor}`), 'cursor');
      }
      expect((await call('GET', `/users?cursor=${forgedCursor('00000000-0000-4000-8000-000000000000')}`)).status).toBe(
        200,
      );
    });

    it('treats % and _ in a search literally', async () => {
      const found = expectStatus(await call<{ items: UserBody[] }>('GET', '/users?search=%25'), 200);
      expect(found.items).toEqual([]);
    });
  });

  describe('change', () => {
    it('changes email and name; the old email no longer signs in and the new one does', async () => {
      const user = await create({ name: 'Old Name' });
      const email = uniqueEmail('renamed');
      const changed = expectStatus(
        await call<UserBody>('PATCH', `/users/${user.id}`, { email, name: 'New Name' }),
        200,
      );
      expect(changed).toMatchObject({ id: user.id, email, name: 'New Name' });
      expect(await read(user.id)).toMatchObject({ email, name: 'New Name' });
      await expect(signInAs(user)).rejects.toThrow(/sign-in refused/);
      expect((await signInAs(changed)).tokens.claims()?.sub).toBe(user.id);
    });

    it('marks a new email unverified unless the change says otherwise; a change of case keeps it verified', async () => {
      const user = await create({ email_verified: true });
      const recased = expectStatus(
        await call<UserBody>('PATCH', `/users/${user.id}`, { email: user.email.toUpperCase() }),
        200,
      );
      expect(recased).toMatchObject({ email: user.email.toUpperCase(), email_verified: true });
      const moved = expectStatus(
        await call<UserBody>('PATCH', `/users/${user.id}`, { email: uniqueEmail('moved') }),
        200,
      );
      expect(moved.email_verified).toBe(false);
      const { tokens, rp } = await signInAs(moved, PASSWORD, { scope: 'openid email' });
      expect(await oidc.fetchUserInfo(rp, tokens.access_token, user.id)).toMatchObject({
        email: moved.email,
        email_verified: false,
      });
      const vouched = expectStatus(
        await call<UserBody>('PATCH', `/users/${user.id}`, { email: uniqueEmail('vouched'), email_verified: true }),
        200,
      );
      expect(vouched.email_verified).toBe(true);
    });

    it('clears the name with null and keeps the other fields', async () => {
      const user = await create({ name: 'Named', email_verified: true });
      const changed = expectStatus(await call<UserBody>('PATCH', `/users/${user.id}`, { name: null }), 200);
      expect(changed).toMatchObject({ name: null, email: user.email, email_verified: true });
    });

    it('refuses an email that another user has (409) and a bad one (400)', async () => {
      const [a, b] = [await create(), await create()];
      expectFieldError(await call('PATCH', `/users/${a.id}`, { email: b.email }), 'email', 409);
      expectFieldError(await call('PATCH', `/users/${a.id}`, { email: 'nope' }), 'email');
      expectFieldError(await call('PATCH', `/users/${a.id}`, { password: PASSWORD }), 'password');
      expect((await read(a.id)).email).toBe(a.email);
    });

    it('disables a user: the refresh token dies and sign-in is refused; enabling lets them sign in again', async () => {
      const user = await create();
      const { tokens, rp } = await signInAs(user, PASSWORD, OFFLINE);
      const refreshToken = refreshTokenOf(tokens);

      const disabled = expectStatus(await call<UserBody>('POST', `/users/${user.id}/disable`), 200);
      expect(disabled).toMatchObject({ id: user.id, disabled: true });
      expect(await oauthFailure(oidc.refreshTokenGrant(rp, refreshToken))).toEqual({
        status: 400,
        error: 'invalid_grant',
      });
      expect(await oidc.tokenIntrospection(rp, tokens.access_token)).toMatchObject({ active: false });
      await expect(signInAs(user)).rejects.toThrow(/sign-in refused/);

      expect(expectStatus(await call<UserBody>('POST', `/users/${user.id}/enable`), 200)).toMatchObject({
        disabled: false,
      });
      expect((await signInAs(user)).tokens.claims()?.sub).toBe(user.id);
    });

    it('sets a password: the old one fails, the new one signs in', async () => {
      const user = await create();
      const next = 'a brand new passphrase';
      expectStatus(await call('PUT', `/users/${user.id}/password`, { password: next }), 204);
      await expect(signInAs(user, PASSWORD)).rejects.toThrow(/sign-in refused/);
      expect((await signInAs(user, next)).tokens.claims()?.sub).toBe(user.id);
      expectFieldError(await call('PUT', `/users/${user.id}/password`, { password: 'short' }), 'password');
      expectFieldError(await call('PUT', `/users/${user.id}/password`, {}), 'password');
    });

    it('gives a password to a user who had none', async () => {
      const user = await create({ password: undefined });
      expectStatus(await call('PUT', `/users/${user.id}/password`, { password: PASSWORD }), 204);
      expect((await read(user.id)).has_password).toBe(true);
      expect((await signInAs(user)).tokens.claims()?.sub).toBe(user.id);
    });

    it('deletes a user: gone from the API, tokens dead, sign-in refused', async () => {
      const user = await create();
      const { tokens, rp } = await signInAs(user, PASSWORD, OFFLINE);
      expectStatus(await call('DELETE', `/users/${user.id}`), 204);
      expect((await call('GET', `/users/${user.id}`)).status).toBe(404);
      expect(await oauthFailure(oidc.refreshTokenGrant(rp, refreshTokenOf(tokens)))).toMatchObject({
        error: 'invalid_grant',
      });
      await expect(signInAs(user)).rejects.toThrow(/sign-in refused/);
      expect((await call('DELETE', `/users/${user.id}`)).status).toBe(404);
    });
  });

  describe('import', () => {
    it('imports a clean file: counts by hash scheme, and an imported bcrypt user signs in', async () => {
      const [withHash, withTotp, plain] = [uniqueEmail('imp'), uniqueEmail('imp'), uniqueEmail('imp')];
      const file = jsonLines([
        { email: withHash, name: 'Imported', email_verified: true, password_hash: bcrypt.hashSync(PASSWORD, 5) },
        { email: withTotp, totp_secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' },
        '',
        { email: plain },
      ]);
      const summary = expectStatus(await call('POST', '/users/import', file, NDJSON), 200);
      expect(summary).toEqual({ imported: 3, password_hashes: { bcrypt: 1, none: 2 }, with_totp: 1 });

      const found = expectStatus(
        await call<{ items: UserBody[] }>('GET', `/users?search=${encodeURIComponent(withHash)}`),
        200,
      ).items;
      expect(found).toHaveLength(1);
      const imported = await read(found[0]!.id);
      expect(imported).toMatchObject({ email: withHash, name: 'Imported', email_verified: true, has_password: true });
      expect((await signInAs(imported)).tokens.claims()?.sub).toBe(imported.id);
    });

    it('refuses a file with problems with 400 naming each line, and imports nothing', async () => {
      const good = uniqueEmail('never');
      const file = jsonLines([
        { email: good },
        'not json at all',
        { email: 'x', password_hash: 'md5:abc' },
        { email: good },
      ]);
      const refused = await call<{
        error: string;
        problems: Array<{ line: number | null; field: string | null; message: string }>;
      }>('POST', '/users/import', file, NDJSON);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('invalid_request');
      expect(refused.body.problems).toEqual(
        expect.arrayContaining([
          { line: 2, field: null, message: 'not valid JSON' },
          expect.objectContaining({ line: 3, field: 'email' }),
          expect.objectContaining({ line: 3, field: 'password_hash' }),
          { line: 4, field: 'email', message: 'same email as line 1' },
        ]),
      );
      expect(JSON.stringify(refused.body)).not.toContain('md5:abc');
      const found = expectStatus(
        await call<{ items: UserBody[] }>('GET', `/users?search=${encodeURIComponent(good)}`),
        200,
      );
      expect(found.items).toEqual([]);
    });

    it('answers 415 for a JSON or form body', async () => {
      expect((await call('POST', '/users/import', [{ email: uniqueEmail() }])).status).toBe(415);
      expect(
        (await call('POST', '/users/import', 'email=x', { 'content-type': 'application/x-www-form-urlencoded' }))
          .status,
      ).toBe(415);
    });
  });

  it('resets second factors: TOTP from an import is gone afterwards', async () => {
    const email = uniqueEmail('totp');
    expectStatus(
      await call(
        'POST',
        '/users/import',
        jsonLines([{ email, totp_secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' }]),
        NDJSON,
      ),
      200,
    );
    const [user] = expectStatus(
      await call<{ items: UserBody[] }>('GET', `/users?search=${encodeURIComponent(email)}`),
      200,
    ).items;
    expect((await read(user!.id)).second_factors.totp).toBe(true);
    const reset = expectStatus(await call<{ removed: number }>('POST', `/users/${user!.id}/second-factors/reset`), 200);
    expect(reset.removed).toBeGreaterThanOrEqual(1);
    expect((await read(user!.id)).second_factors).toEqual({
      totp: false,
      webauthn: 0,
      passkeys: 0,
      security_keys: 0,
      recovery_codes: 0,
      email_code: false,
      sms: false,
      phone_number: null,
    });
    expect(
      expectStatus(await call<{ removed: number }>('POST', `/users/${user!.id}/second-factors/reset`), 200).removed,
    ).toBe(0);
  });
});
