import { pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { cli, json } from '../../helpers/cli.js';
import { uniqueEmail, type TestClient } from '../../helpers/factories.js';
import { UserAgent, runAuthorization } from '../../helpers/user-agent.js';
import { buildAuthRequest, discoverRp, redeemCode } from '../../helpers/rp.js';
import { createUserImport } from '../../../src/accounts/user-import.js';
import { createSecretBox } from '../../../src/security/secret-box.js';

// Booting the embedded database can take longer than jest's 30 s on a loaded machine.
const BOOT_TIMEOUT = 120_000;
const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

/** Each accepted format, made by the algorithm's own library as the old system would have. */
const HASHERS: Array<[string, (password: string) => Promise<string>]> = [
  [
    'argon2id (other parameters)',
    (pw) => argon2.hash(pw, { type: argon2.argon2id as 2, memoryCost: 8192, timeCost: 3, parallelism: 1 }),
  ],
  ['argon2i', (pw) => argon2.hash(pw, { type: argon2.argon2i as 1, memoryCost: 8192, timeCost: 2, parallelism: 1 })],
  ['bcrypt $2b$', async (pw) => bcrypt.hashSync(pw, 5)],
  ['bcrypt $2y$', async (pw) => `$2y$${bcrypt.hashSync(pw, 5).slice(4)}`],
  [
    'Django pbkdf2_sha256',
    async (pw) => {
      const salt = randomBytes(12).toString('base64url').replace(/[-_]/g, 'x');
      return `pbkdf2_sha256$20000$${salt}$${pbkdf2Sync(pw, salt, 20000, 32, 'sha256').toString('base64')}`;
    },
  ],
  [
    'scrypt PHC',
    async (pw) => {
      const salt = randomBytes(16);
      return `$scrypt$ln=14,r=8,p=1$${b64(salt)}$${b64(scryptSync(pw, salt, 32, { N: 2 ** 14, r: 8, p: 1 }))}`;
    },
  ],
];

describe.each(HTTP_BACKENDS)('user import and export (%s)', (backend) => {
  let server: TestServer;
  let client: TestClient;
  let dir: string;
  beforeAll(async () => {
    server = await startTestServer(backend);
    client = await server.buildClient();
    dir = mkdtempSync(join(tmpdir(), 'gh-import-'));
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const file = (name: string, lines: unknown[]) => {
    const path = join(dir, name);
    writeFileSync(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
    return path;
  };

  /** A real sign-in: openid-client builds the request, the login page takes the password. */
  async function signIn(
    target: TestServer,
    rpClient: TestClient,
    email: string,
    password: string,
  ): Promise<string | undefined> {
    const rp = await discoverRp(target.issuer, rpClient);
    const request = await buildAuthRequest(rp, rpClient.redirectUri);
    const trace = await runAuthorization(new UserAgent(target.issuer), request.url, rpClient.redirectUri, {
      email,
      password,
    });
    return (await redeemCode(rp, trace.callbackUrl, request)).claims()?.sub;
  }

  const storedHash = async (target: TestServer, email: string) => {
    const user = await target.gatehouse.storage.storage.users.findByEmail(email);
    return user ? target.gatehouse.storage.storage.users.passwordHash(user.id) : null;
  };

  it.each(HASHERS)(
    'imports the hash format %s; the old password signs in and is rehashed to argon2id',
    async (_label, make) => {
      const email = uniqueEmail('legacy');
      const password = `old-${randomBytes(6).toString('hex')}`;
      const hash = await make(password);
      const result = await cli(
        server,
        'users',
        'import',
        file(`one-${randomBytes(3).toString('hex')}.jsonl`, [
          { email, name: 'Legacy User', email_verified: true, roles: ['staff'], password_hash: hash },
        ]),
        '--json',
      );
      expect(result.code).toBe(0);
      expect(json<{ imported: number }>(result).imported).toBe(1);
      expect(await storedHash(server, email)).toBe(hash);

      const user = await server.gatehouse.storage.storage.users.findByEmail(email);
      expect(user?.emailVerified).toBe(true);
      expect(await signIn(server, client, email, password)).toBe(user?.id);

      const rehashed = await storedHash(server, email);
      expect(rehashed?.startsWith('$argon2id$')).toBe(true);
      const { memoryKiB, timeCost } = server.gatehouse.config.passwords.argon2;
      expect(rehashed).toContain(`m=${memoryKiB},`);
      expect(rehashed).toContain(`t=${timeCost}`);
      // and the new hash takes the same password
      expect(await signIn(server, client, email, password)).toBe(user?.id);
    },
  );

  it('refuses a wrong password against a legacy hash and keeps the hash', async () => {
    const email = uniqueEmail('legacy-wrong');
    const hash = bcrypt.hashSync('the real password', 5);
    expect((await cli(server, 'users', 'import', file('wrong.jsonl', [{ email, password_hash: hash }]))).code).toBe(0);
    await expect(signIn(server, client, email, 'not the password')).rejects.toThrow(/sign-in refused/);
    expect(await storedHash(server, email)).toBe(hash);
  });

  it('imports nothing from a file with one bad line, and names the line', async () => {
    const good = uniqueEmail('good');
    const secretHash = bcrypt.hashSync('whatever it was', 5);
    const path = file('bad.jsonl', [
      { email: good, password_hash: bcrypt.hashSync('a password', 5) },
      '',
      `{"email": "x@example.test", "password_hash": "${secretHash}"`,
      { email: uniqueEmail('other'), password_hash: `{SSHA}${secretHash.slice(7)}` },
    ]);
    const result = await cli(server, 'users', 'import', path);
    expect(result.code).toBe(2);
    expect(result.err).toEqual([
      'gatehouse: line 3: not valid JSON',
      expect.stringMatching(/^gatehouse: line 4: password_hash: unknown hash format/),
      'gatehouse: nothing imported: 2 problems in the file',
    ]);
    // the hashes are never echoed
    expect(result.err.join('\n')).not.toContain(secretHash.slice(7));
    expect(await server.gatehouse.storage.storage.users.findByEmail(good)).toBeNull();
  });

  it('reports every bad field and duplicate by line, as JSON too', async () => {
    const existing = await server.buildUser();
    const dup = uniqueEmail('dup');
    const path = file('many.jsonl', [
      { email: 'not an email', name: 42 },
      { email: dup },
      { email: dup.toUpperCase() },
      { email: existing.email.toUpperCase() },
      { email: uniqueEmail('x'), totp_secret: 'not base32!', roles: 'admin', passwordHash: 'x' },
      [1, 2],
    ]);
    const result = await cli(server, 'users', 'import', path, '--json');
    expect(result.code).toBe(2);
    const { imported, problems } = json<{ imported: number; problems: Array<{ line: number; field: string | null }> }>(
      result,
    );
    expect(imported).toBe(0);
    expect(problems.map((p) => `${p.line}:${p.field}`).sort()).toEqual([
      '1:email',
      '1:name',
      '3:email',
      '4:email',
      '5:passwordHash',
      '5:roles',
      '5:totp_secret',
      '6:null',
    ]);
    expect(problems.map((p) => p.line)).toEqual([...problems.map((p) => p.line)].sort());
    expect(result.err).toHaveLength(problems.length + 1);
    expect(result.err[2]).toBe('gatehouse: line 3: email: same email as line 2');
    expect(result.err[3]).toBe('gatehouse: line 4: email: a user with this email exists');
    expect(await server.gatehouse.storage.storage.users.findByEmail(dup)).toBeNull();
  });

  it('assigns the roles a line names, creating the ones that do not exist, and exports them', async () => {
    const existing = `team-${randomBytes(3).toString('hex')}`;
    const fresh = `fresh-${randomBytes(3).toString('hex')}`;
    await server.gatehouse.storage.storage.roles.create({ name: existing });
    const [first, second] = [uniqueEmail('roles'), uniqueEmail('roles')];
    const result = await cli(
      server,
      'users',
      'import',
      file(`roles-${fresh}.jsonl`, [
        { email: first, roles: [existing, fresh] },
        { email: second, roles: [fresh] },
      ]),
    );
    expect(result.code).toBe(0);
    expect(result.out.join('\n')).toContain(`roles created: ${fresh}`);
    const { users, roles } = server.gatehouse.storage.storage;
    expect(await roles.rolesOf((await users.findByEmail(first))?.id ?? '')).toEqual([existing, fresh].sort());
    expect(await roles.rolesOf((await users.findByEmail(second))?.id ?? '')).toEqual([fresh]);
    const exported = (await cli(server, 'users', 'export')).out
      .join('\n')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { email: string; roles?: string[] });
    expect(exported.find((r) => r.email === first)?.roles).toEqual([existing, fresh].sort());
  });

  it('refuses a bad role name by line and creates no role', async () => {
    const bad = await cli(
      server,
      'users',
      'import',
      file('bad-role.jsonl', [
        { email: uniqueEmail('roles'), roles: ['fine-role-zz'] },
        { email: uniqueEmail('roles'), roles: ['has space'] },
      ]),
    );
    expect(bad.code).not.toBe(0);
    expect(bad.err.join('\n')).toMatch(/line 2: roles\.0: not a role name/);
    expect((await server.gatehouse.storage.storage.roles.list()).map((r) => r.name)).not.toContain('fine-role-zz');
  });

  it('refuses an empty file and a missing one with exit code 2', async () => {
    const empty = await cli(server, 'users', 'import', file('empty.jsonl', []));
    expect(empty.code).toBe(2);
    expect(empty.err[0]).toBe('gatehouse: file: no users in the file');
    const missing = await cli(server, 'users', 'import', join(dir, 'nope.jsonl'));
    expect(missing.code).toBe(2);
    expect(missing.err[0]).toMatch(/cannot read .*ENOENT/);
  });

  it(
    'exports every user and round-trips into a fresh server, where they sign in',
    async () => {
      const native = await server.buildUser({ name: 'Native User' });
      const legacyEmail = uniqueEmail('legacy-export');
      const totpEmail = uniqueEmail('totp-export');
      const disabledEmail = uniqueEmail('disabled-export');
      const totpSecret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
      expect(
        (
          await cli(
            server,
            'users',
            'import',
            file('seed.jsonl', [
              { email: legacyEmail, name: null, password_hash: bcrypt.hashSync('legacy password', 5) },
              {
                email: totpEmail,
                totp_secret: totpSecret.toLowerCase(),
                password_hash: bcrypt.hashSync('totp password', 5),
              },
              { email: disabledEmail, disabled: true },
            ]),
          )
        ).code,
      ).toBe(0);

      const out = join(dir, 'export.jsonl');
      const exported = await cli(server, 'users', 'export', '--out', out, '--json');
      expect(exported.code).toBe(0);
      expect(statSync(out).mode & 0o777).toBe(0o600);
      const text = readFileSync(out, 'utf8');
      const records = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(json<{ exported: number }>(exported).exported).toBe(records.length);
      const byEmail = new Map(records.map((r) => [r.email, r]));
      expect(byEmail.get(native.email)).toMatchObject({ name: 'Native User', email_verified: false, disabled: false });
      expect(String(byEmail.get(native.email)?.password_hash)).toMatch(/^\$argon2id\$/);
      expect(byEmail.get(totpEmail)?.totp_secret).toBe(totpSecret);
      expect(byEmail.get(disabledEmail)).toEqual({ email: disabledEmail, email_verified: false, disabled: true });
      expect(byEmail.get(legacyEmail)).not.toHaveProperty('name');
      // stdout carries the same lines
      const stdout = await cli(server, 'users', 'export');
      expect(stdout.out.join('\n').split('\n').sort()).toEqual(text.trim().split('\n').sort());

      const fresh = await startTestServer(backend);
      try {
        const freshClient = await fresh.buildClient();
        const imported = await cli(fresh, 'users', 'import', out, '--json');
        expect(imported.code).toBe(0);
        expect(json<{ imported: number }>(imported).imported).toBe(records.length);
        const nativeThere = await fresh.gatehouse.storage.storage.users.findByEmail(native.email);
        expect(await signIn(fresh, freshClient, native.email, native.password)).toBe(nativeThere?.id);
        const legacyThere = await fresh.gatehouse.storage.storage.users.findByEmail(legacyEmail);
        expect(await signIn(fresh, freshClient, legacyEmail, 'legacy password')).toBe(legacyThere?.id);
        expect((await storedHash(fresh, legacyEmail))?.startsWith('$argon2id$')).toBe(true);
        expect((await fresh.gatehouse.storage.storage.users.findByEmail(disabledEmail))?.disabledAt).not.toBeNull();

        // the service, as the admin API will call it: the TOTP secret survived, sealed with the new server's key
        const service = createUserImport({
          users: fresh.gatehouse.storage.storage.users,
          box: createSecretBox(fresh.gatehouse.keyEncryption.key),
          transaction: fresh.gatehouse.storage.storage.transaction,
        });
        const again = await service.exportUsers();
        expect(again.find((r) => r.email === totpEmail)?.totp_secret).toBe(totpSecret);
        expect(again).toHaveLength(records.length);
      } finally {
        await fresh.close();
      }
    },
    BOOT_TIMEOUT,
  );
});
