import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { cli, cliWithStdin, json } from '../../helpers/cli.js';
import { runSql } from '../../../src/storage/data-source.js';

interface ConnectionJson {
  id: string;
  display_name: string;
  kind: string;
  enabled: boolean;
  has_secret: boolean;
  claim_mapping: Record<string, string>;
  options: Record<string, string>;
  role_rules: Array<Record<string, string>>;
  redirect_uri: string;
}

const slug = (label: string) => `${label}-${randomBytes(3).toString('hex')}`;

/** `gatehouse connections …` and `gatehouse users identities|unlink` (issue 17). */
describe.each(HTTP_BACKENDS)('gatehouse connections CLI (%s)', (backend) => {
  const server = useTestServer(backend);
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-connections-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const storage = () => server.gatehouse.storage.storage;
  const sealed = async (id: string) =>
    (
      await runSql<{ secret_sealed: string | null }>(
        storage().dataSource,
        'SELECT secret_sealed FROM connections WHERE id = $1',
        [id],
      )
    ).rows[0]?.secret_sealed;
  const secretOf = async (id: string) => (await server.gatehouse.admin.connections.open(id))?.secret;

  it('creates a connection with the secret from a file, lists it without the secret, changes and deletes it', async () => {
    const id = slug('corp');
    const secret = `file-secret-${randomBytes(12).toString('hex')}`;
    const file = join(dir, `${id}.secret`);
    await writeFile(file, `${secret}\n`, { mode: 0o600 });

    const created = await cli(
      server,
      'connections',
      'create',
      id,
      '--display-name',
      'Corp SSO',
      '--kind',
      'oidc',
      '--issuer',
      'https://login.corp.example',
      '--client-id',
      'gatehouse',
      '--client-secret-file',
      file,
      '--scopes',
      'openid,email,groups',
      '--claim',
      'email_verified=verified',
      '--role-rule',
      'group:staff=admin',
      '--create-accounts',
      '--json',
    );
    expect(created).toMatchObject({ code: 0, err: [] });
    const body = json<ConnectionJson>(created);
    expect(body).toMatchObject({
      id,
      display_name: 'Corp SSO',
      kind: 'oidc',
      enabled: true,
      has_secret: true,
      claim_mapping: { email_verified: 'verified' },
      role_rules: [{ group: 'staff', role: 'admin' }],
      redirect_uri: `${server.issuer}/federation/${id}/callback`,
    });
    expect(created.out.join('\n')).not.toContain(secret);
    // Sealed at rest; the file's trailing line break is not part of the secret.
    expect(await sealed(id)).toMatch(/^v1\./);
    expect(await sealed(id)).not.toContain(secret);
    expect(await secretOf(id)).toBe(secret);

    const table = await cli(server, 'connections', 'list');
    expect(table.code).toBe(0);
    expect(table.out[0]).toMatch(/^id\s+name\s+preset\s+kind\s+enabled\s+order\s+secret/);
    expect(table.out.find((line) => line.startsWith(id))).toMatch(/Corp SSO\s+custom\s+oidc\s+yes\s+0\s+stored/);
    const listed = await cli(server, 'connections', 'list', '--json');
    expect(json<ConnectionJson[]>(listed).find((c) => c.id === id)).toMatchObject({ has_secret: true });
    expect([...table.out, ...listed.out].join('\n')).not.toContain(secret);
    expect(listed.out.join('\n')).not.toMatch(/"(client_secret|private_key)"/);

    // A new secret from standard input; --claim changes the entry it names, not the whole mapping.
    const rotated = `stdin-secret-${randomBytes(12).toString('hex')}`;
    const updated = await cliWithStdin(
      server,
      `${rotated}\n`,
      'connections',
      'update',
      id,
      '--client-secret-file',
      '-',
      '--no-enabled',
      '--claim',
      'groups=roles',
      '--json',
    );
    expect(updated.code).toBe(0);
    expect(json<ConnectionJson>(updated)).toMatchObject({
      enabled: false,
      has_secret: true,
      claim_mapping: { email_verified: 'verified', groups: 'roles' },
    });
    expect(await secretOf(id)).toBe(rotated);
    // An update without a secret keeps the sealed one.
    const before = await sealed(id);
    expect((await cli(server, 'connections', 'update', id, '--display-name', 'Corp')).code).toBe(0);
    expect(await sealed(id)).toBe(before);

    const deleted = await cli(server, 'connections', 'delete', id);
    expect(deleted).toMatchObject({ code: 0, out: [`deleted connection ${id} and the identities linked through it`] });
    expect(await storage().connections.findById(id)).toBeNull();
    const actions = (await storage().audit.query({ action: 'connection.', limit: 50 })).filter(
      (e) => e.details.connection === id,
    );
    expect(actions.map((e) => e.action).sort()).toEqual([
      'connection.created',
      'connection.deleted',
      'connection.updated',
      'connection.updated',
    ]);
    expect(actions.every((e) => /^gatehouse-cli \(.+\)$/.test(e.userAgent ?? ''))).toBe(true);
  });

  it('refuses bad input with exit code 2 naming the flag, and writes nothing', async () => {
    const id = slug('bad');
    const base = [
      'connections',
      'create',
      id,
      '--display-name',
      'Bad',
      '--kind',
      'oidc',
      '--client-id',
      'c',
      '--client-secret',
      'not-a-good-idea',
    ];
    const refused = async (argv: string[], line: RegExp) => {
      const result = await cli(server, ...argv);
      expect({ argv: argv.slice(3).join(' '), code: result.code, err: result.err.join('\n') }).toEqual({
        argv: argv.slice(3).join(' '),
        code: 2,
        err: expect.stringMatching(line),
      });
    };
    await refused(
      [...base, '--issuer', 'http://login.corp.example'],
      /^gatehouse: --issuer: must be an https:\/\/ URL/,
    );
    await refused(
      [...base, '--issuer', 'https://login.corp.example', '--role-rule', 'group:staff=no-such-role'],
      /^gatehouse: --role-rule: there is no role "no-such-role"/,
    );
    await refused(
      [...base, '--issuer', 'https://login.corp.example', '--allowed-email-domains', 'corp.example,not a domain'],
      /^gatehouse: --allowed-email-domains: must be a domain name/,
    );
    await refused(
      [...base, '--issuer', 'https://login.corp.example', '--claim', 'email=has space'],
      /^gatehouse: --claim: must be a claim name/,
    );
    await refused(
      [...base, '--issuer', 'https://login.corp.example', '--claim', 'colour=x'],
      /^gatehouse: --claim must be NAME=CLAIM/,
    );
    await refused([...base, '--issuer', 'https://login.corp.example', '--preset', 'myspace'], /^gatehouse: --preset: /);
    await refused(
      [...base, '--issuer', 'https://login.corp.example', '--colour', 'blue'],
      /^gatehouse: Unknown option '--colour'/,
    );
    await refused(
      [...base.slice(0, -2), '--issuer', 'https://login.corp.example', '--client-secret-file', join(dir, 'missing')],
      /^gatehouse: --client-secret-file: cannot read .*ENOENT/,
    );
    await refused(
      ['connections', 'create', id, '--display-name', 'No client id', '--kind', 'oidc'],
      /^gatehouse: --client-id is required/,
    );
    await refused(
      [
        'connections',
        'create',
        'Not A Slug',
        '--display-name',
        'x',
        '--kind',
        'oidc',
        '--issuer',
        'https://a.example',
        '--client-id',
        'c',
      ],
      /^gatehouse: --id: must be 1-64/,
    );
    expect(await storage().connections.findById(id)).toBeNull();

    expect((await cli(server, ...base, '--issuer', 'https://login.corp.example')).code).toBe(0);
    await refused(
      [...base, '--issuer', 'https://login.corp.example'],
      /^gatehouse: --id: a connection with this id exists/,
    );
    await refused(
      ['connections', 'update', id, '--token-endpoint', 'ftp://x.example/token'],
      /^gatehouse: --token-endpoint: /,
    );
    await refused(['connections', 'update', id, '--team-id', 'lowercase'], /^gatehouse: --team-id: /);
    await refused(
      ['connections', 'update', 'no-such-connection', '--display-name', 'x'],
      /^gatehouse: no connection with id no-such-connection$/,
    );
    await refused(
      ['connections', 'delete', 'no-such-connection'],
      /^gatehouse: no connection with id no-such-connection$/,
    );
    await refused(['connections', 'update', id], /^gatehouse: nothing to change/);
    expect((await storage().connections.findById(id))?.displayName).toBe('Bad');
  });

  it("lists a user's linked identities and removes one, saying when no way to sign in is left", async () => {
    const id = slug('linked');
    expect(
      (
        await cli(
          server,
          'connections',
          'create',
          id,
          '--display-name',
          'Linked',
          '--kind',
          'oidc',
          '--issuer',
          'https://login.corp.example',
          '--client-id',
          'c',
          '--client-secret',
          's',
        )
      ).code,
    ).toBe(0);
    const email = `fed-cli-${randomBytes(4).toString('hex')}@example.test`;
    const user = await server.gatehouse.admin.users.create({ email }, { userId: null, clientId: null, origin: {} });
    await storage().identities.link({
      connectionId: id,
      subject: 'cli-subject',
      userId: user.id,
      email: 'person@corp.example',
    });

    const listed = await cli(server, 'users', 'identities', '--email', email, '--json');
    expect(json<Array<Record<string, string>>>(listed)).toEqual([
      {
        connection: id,
        name: 'Linked',
        email: 'person@corp.example',
        linked: expect.any(String),
        last_used: expect.any(String),
      },
    ]);
    const unlinked = await cli(server, 'users', 'unlink', '--email', email, '--connection', id);
    expect(unlinked.code).toBe(0);
    expect(unlinked.out).toEqual([
      `removed ${email}'s identity at ${id}`,
      expect.stringContaining('has no way left to sign in'),
    ]);
    expect(await storage().identities.listForUser(user.id)).toEqual([]);
    const [event] = await storage().audit.query({
      subjectId: user.id,
      action: 'federation.identity_unlinked',
      limit: 1,
    });
    expect(event?.details).toEqual({ connection: id, byAdmin: true, signInMethodLeft: false });

    const again = await cli(server, 'users', 'unlink', '--email', email, '--connection', id);
    expect(again).toMatchObject({ code: 2, err: [`gatehouse: ${email} has no identity linked through ${id}`] });
    const nobody = await cli(server, 'users', 'identities', '--email', 'nobody@example.test');
    expect(nobody).toMatchObject({ code: 2, err: ['gatehouse: --email: no user with email nobody@example.test'] });
  });
});
