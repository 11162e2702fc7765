import { randomBytes } from 'node:crypto';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { cli, json } from '../../helpers/cli.js';
import { signIn } from '../../helpers/tokens.js';

describe.each(HTTP_BACKENDS)('gatehouse roles CLI (%s)', (backend) => {
  const server = useTestServer(backend);

  const unique = (label: string) => `${label}-${randomBytes(3).toString('hex')}`;

  it('creates, lists, assigns, unassigns and deletes roles', async () => {
    const ops = unique('ops');
    const created = await cli(server, 'roles', 'create', ops, '--description', 'Operations', '--json');
    expect(created.code).toBe(0);
    expect(json<{ name: string; description: string }>(created)).toMatchObject({
      name: ops,
      description: 'Operations',
    });
    expect(json<Array<{ name: string }>>(await cli(server, 'roles', 'list', '--json')).map((r) => r.name)).toContain(
      ops,
    );
    expect((await cli(server, 'roles', 'list')).out.join('\n')).toContain('Operations');

    const user = await server.buildUser();
    expect((await cli(server, 'roles', 'assign', '--email', user.email, '--role', ops)).code).toBe(0);
    // Assigning twice is not an error.
    expect((await cli(server, 'roles', 'assign', '--email', user.email.toUpperCase(), '--role', ops)).code).toBe(0);
    expect(await server.gatehouse.storage.storage.roles.rolesOf(user.id)).toEqual([ops]);

    const unassigned = await cli(server, 'roles', 'unassign', '--email', user.email, '--role', ops, '--json');
    expect(json<{ unassigned: boolean }>(unassigned).unassigned).toBe(true);
    expect(await server.gatehouse.storage.storage.roles.rolesOf(user.id)).toEqual([]);

    await cli(server, 'roles', 'assign', '--email', user.email, '--role', ops);
    expect((await cli(server, 'roles', 'delete', ops)).code).toBe(0);
    expect(await server.gatehouse.storage.storage.roles.rolesOf(user.id)).toEqual([]);
    expect(
      json<Array<{ name: string }>>(await cli(server, 'roles', 'list', '--json')).map((r) => r.name),
    ).not.toContain(ops);
  });

  it('answers bad input with exit code 2 and one line', async () => {
    const user = await server.buildUser();
    const ops = unique('ops');
    await cli(server, 'roles', 'create', ops);
    const cases: string[][] = [
      ['roles', 'create'],
      ['roles', 'create', 'has space'],
      ['roles', 'create', ops],
      ['roles', 'delete', 'no-such-role'],
      ['roles', 'assign', '--email', user.email],
      ['roles', 'assign', '--email', 'nobody@example.test', '--role', ops],
      ['roles', 'assign', '--email', user.email, '--role', 'no-such-role'],
      ['roles', 'unassign', '--role', ops],
      ['roles', 'frobnicate'],
      ['roles', 'list', '--bogus'],
      [
        'clients',
        'create',
        '--name',
        'X',
        '--redirect-uri',
        'http://127.0.0.1:9999/cb',
        '--visible-roles',
        'ok,not ok',
      ],
      ['clients', 'create', '--name', 'X', '--redirect-uri', 'http://127.0.0.1:9999/cb', '--scope', 'openid groups'],
    ];
    for (const argv of cases) {
      const result = await cli(server, ...argv);
      expect({ argv, code: result.code }).toEqual({ argv, code: 2 });
      expect(result.err).toHaveLength(1);
    }
  });

  it('registers a client with the roles scope and visible roles, which then sees only those', async () => {
    const [a, b] = [unique('a'), unique('b')];
    await cli(server, 'roles', 'create', a);
    await cli(server, 'roles', 'create', b);
    const user = await server.buildUser();
    await cli(server, 'roles', 'assign', '--email', user.email, '--role', a);
    await cli(server, 'roles', 'assign', '--email', user.email, '--role', b);
    const out = await cli(
      server,
      'clients',
      'create',
      '--name',
      'Roles App',
      '--redirect-uri',
      'http://127.0.0.1:9999/cb',
      '--first-party',
      '--scope',
      'openid roles',
      '--visible-roles',
      `${b}, ${b}`,
      '--json',
    );
    expect(out.code).toBe(0);
    const client = json<{ client_id: string; client_secret: string; scope: string; gatehouse_visible_roles: string[] }>(
      out,
    );
    expect(client.scope).toBe('openid roles');
    expect(client.gatehouse_visible_roles).toEqual([b]);
    const { tokens } = await signIn(server, {
      user,
      client: {
        clientId: client.client_id,
        clientSecret: client.client_secret,
        redirectUri: 'http://127.0.0.1:9999/cb',
        input: {
          name: 'Roles App',
          redirectUris: ['http://127.0.0.1:9999/cb'],
          postLogoutRedirectUris: [],
          public: false,
          firstParty: true,
          grantTypes: ['authorization_code', 'refresh_token'],
          scope: 'openid roles',
          visibleRoles: [b],
        },
      },
      params: { scope: 'openid roles' },
    });
    expect(tokens.claims()?.roles).toEqual([b]);
  });
});
