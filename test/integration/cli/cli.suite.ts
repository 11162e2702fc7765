import { randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { cli, json } from '../../helpers/cli.js';
import { uniqueEmail } from '../../helpers/factories.js';
import { UserAgent, runAuthorization } from '../../helpers/user-agent.js';
import { buildAuthRequest, discoverRp, oidc, redeemCode } from '../../helpers/rp.js';
import { adminToken, api } from '../../helpers/admin-api.js';
import { logOutAtRp } from '../../helpers/sessions.js';
import { startLogoutReceiver, verifyLogoutToken } from '../../helpers/logout-receiver.js';

describe.each(HTTP_BACKENDS)('gatehouse CLI (%s)', (backend) => {
  const server = useTestServer(backend);

  it('creates a user and a client that can sign in, and lists them', async () => {
    const email = uniqueEmail('cli');
    const created = await cli(
      server,
      'users',
      'create',
      '--email',
      email,
      '--password',
      'twelve chars ok',
      '--name',
      'Cli User',
      '--json',
    );
    expect(created.code).toBe(0);
    const user = json<{ id: string; email: string }>(created);
    expect(user.email).toBe(email);

    const clientOut = await cli(
      server,
      'clients',
      'create',
      '--name',
      'Cli App',
      '--redirect-uri',
      'http://127.0.0.1:9999/cb',
      '--redirect-uri',
      'http://127.0.0.1:9999/cb2',
      '--first-party',
      '--json',
    );
    expect(clientOut.code).toBe(0);
    const client = json<{ client_id: string; client_secret: string; redirect_uris: string[] }>(clientOut);
    expect(client.redirect_uris).toEqual(['http://127.0.0.1:9999/cb', 'http://127.0.0.1:9999/cb2']);
    const stored = await server.gatehouse.storage.storage.clients.find(client.client_id);
    expect(stored?.secretHash).not.toBe(client.client_secret);

    const rp = await discoverRp(server.issuer, { clientId: client.client_id, clientSecret: client.client_secret });
    const request = await buildAuthRequest(rp, 'http://127.0.0.1:9999/cb2');
    const trace = await runAuthorization(new UserAgent(server.issuer), request.url, 'http://127.0.0.1:9999/cb2', {
      email,
      password: 'twelve chars ok',
    });
    expect((await redeemCode(rp, trace.callbackUrl, request)).claims()?.sub).toBe(user.id);

    const users = json<Array<{ email: string }>>(await cli(server, 'users', 'list', '--json'));
    expect(users.map((u) => u.email)).toContain(email);
    const clients = await cli(server, 'clients', 'list');
    expect(clients.out.join('\n')).toContain('Cli App');
  });

  it('records what an operator does as admin audit events, naming the CLI and the OS account', async () => {
    const created = json<{ client_id: string }>(
      await cli(server, 'clients', 'create', '--name', 'Audited', '--redirect-uri', 'https://rp.example/cb', '--json'),
    );
    const email = uniqueEmail('audited');
    expect((await cli(server, 'users', 'create', '--email', email, '--password', 'twelve chars ok')).code).toBe(0);
    expect((await cli(server, 'users', 'disable', '--email', email)).code).toBe(0);
    const { audit, users } = server.gatehouse.storage.storage;
    const user = await users.findByEmail(email);
    const [clientEvent] = await audit.query({ action: 'client.created', limit: 1 });
    expect(clientEvent).toMatchObject({ actorId: null, clientId: null, details: { client: created.client_id } });
    expect(clientEvent?.userAgent).toMatch(/^gatehouse-cli \(.+\)$/);
    const userEvents = await audit.query({ subjectId: user?.id, action: 'user.', limit: 10 });
    expect(userEvents.map((e) => e.action).sort()).toEqual(['user.created', 'user.disabled']);
  });

  it('creates a client with a back-channel logout URI, which gets a logout token when the session ends', async () => {
    const receiver = await startLogoutReceiver();
    try {
      const created = await cli(
        server,
        'clients',
        'create',
        '--name',
        'Back-channel app',
        '--first-party',
        '--redirect-uri',
        'http://127.0.0.1:9999/cb',
        '--post-logout-redirect-uri',
        'http://127.0.0.1:9999/bye',
        '--backchannel-logout-uri',
        receiver.uri,
        '--backchannel-logout-session-required',
        '--json',
      );
      expect(created.code).toBe(0);
      const client = json<{ client_id: string; client_secret: string }>(created);
      const stored = await server.gatehouse.storage.storage.clients.find(client.client_id);
      expect(stored?.metadata).toMatchObject({
        backchannel_logout_uri: receiver.uri,
        backchannel_logout_session_required: true,
      });
      const view = await api(server, await adminToken(server), 'GET', `/clients/${client.client_id}`);
      expect(view.body).toMatchObject({
        backchannel_logout_uri: receiver.uri,
        backchannel_logout_session_required: true,
      });

      const user = await server.buildUser();
      const rp = await discoverRp(server.issuer, { clientId: client.client_id, clientSecret: client.client_secret });
      const request = await buildAuthRequest(rp, 'http://127.0.0.1:9999/cb');
      const ua = new UserAgent(server.issuer);
      const trace = await runAuthorization(ua, request.url, 'http://127.0.0.1:9999/cb', user);
      const tokens = await redeemCode(rp, trace.callbackUrl, request);
      await logOutAtRp(ua, rp, tokens.id_token);
      const { payload } = await verifyLogoutToken(await receiver.next(), server.issuer, client.client_id);
      expect(payload).toMatchObject({ sub: user.id, sid: tokens.claims()?.sid });
    } finally {
      await server.gatehouse.backchannelSettled();
      await receiver.close();
    }
  });

  it('updates only the fields given: the rest and the secret stay, and the change is audited', async () => {
    const created = json<{ client_id: string; client_secret: string }>(
      await cli(
        server,
        'clients',
        'create',
        '--name',
        'Before',
        '--redirect-uri',
        'https://rp.example/cb',
        '--scope',
        'openid email',
        '--mfa',
        'required',
        '--json',
      ),
    );
    const { clients, audit } = server.gatehouse.storage.storage;
    const before = await clients.find(created.client_id);

    const updated = await cli(
      server,
      'clients',
      'update',
      created.client_id,
      '--backchannel-logout-uri',
      'https://rp.example/bc',
      '--json',
    );
    expect(updated.code).toBe(0);
    expect(json<{ client_secret: string | null }>(updated).client_secret).toBeNull();
    const after = await clients.find(created.client_id);
    expect(after?.metadata).toEqual({
      ...before?.metadata,
      backchannel_logout_uri: 'https://rp.example/bc',
      backchannel_logout_session_required: false,
    });
    expect({ name: after?.name, secretHash: after?.secretHash }).toEqual({
      name: 'Before',
      secretHash: before?.secretHash,
    });
    const [event] = await audit.query({ action: 'client.updated', limit: 1 });
    expect(event).toMatchObject({ details: { client: created.client_id, fields: ['backchannelLogoutUri'] } });
    expect(event?.userAgent).toMatch(/^gatehouse-cli \(.+\)$/);

    // A switch turns off, a field clears, a list is replaced; the secret still authenticates.
    expect(
      (
        await cli(
          server,
          'clients',
          'update',
          created.client_id,
          '--name',
          'After',
          '--backchannel-logout-uri',
          '',
          '--redirect-uri',
          'https://rp.example/other',
          '--no-first-party',
        )
      ).code,
    ).toBe(0);
    const last = await clients.find(created.client_id);
    expect(last?.name).toBe('After');
    expect(last?.metadata.backchannel_logout_uri).toBeUndefined();
    expect(last?.metadata.redirect_uris).toEqual(['https://rp.example/other']);
    expect(last?.metadata.scope).toBe('openid email');
    expect(last?.secretHash).toBe(before?.secretHash);

    // The CLI deletes the id it made (generated ids never start with "-", which would read as a flag).
    expect(created.client_id).toMatch(/^[A-Za-z0-9]/);
    expect((await cli(server, 'clients', 'delete', created.client_id)).code).toBe(0);
    expect(await clients.find(created.client_id)).toBeNull();
  });

  it.each([
    [['--backchannel-logout-uri', 'not a url'], /--backchannel-logout-uri: /],
    [['--backchannel-logout-uri', 'http://rp.example/bc'], /https/],
    [['--backchannel-logout-uri', '', '--backchannel-logout-session-required'], /back-channel logout URI/],
    [['--grant-types', 'implicit'], /--grant-types: /],
    [['--refresh-reuse-grace', 'soon'], /whole number/],
    [['--auth-method', 'none', '--admin-scopes', 'admin:read'], /--admin-scopes: /],
    [[], /nothing to change/],
  ])('refuses clients update %j with one line, exit code 2 and nothing changed', async (flags, message) => {
    const created = json<{ client_id: string }>(
      await cli(
        server,
        'clients',
        'create',
        '--name',
        'Unchanged',
        '--redirect-uri',
        'https://rp.example/cb',
        '--json',
      ),
    );
    const before = await server.gatehouse.storage.storage.clients.find(created.client_id);
    const result = await cli(server, 'clients', 'update', created.client_id, ...flags);
    expect({ code: result.code, lines: result.err.length }).toEqual({ code: 2, lines: 1 });
    expect(result.err[0]).toMatch(message);
    expect(await server.gatehouse.storage.storage.clients.find(created.client_id)).toEqual(before);
  });

  it('imports an authenticator secret, stored encrypted', async () => {
    const email = uniqueEmail('totp');
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    const created = await cli(
      server,
      'users',
      'create',
      '--email',
      email,
      '--password',
      'twelve chars ok',
      '--totp-secret',
      secret.toLowerCase(),
      '--json',
    );
    expect(created.code).toBe(0);
    const { id } = json<{ id: string }>(created);
    const rows = (await server.gatehouse.storage.storage.dataSource.query(
      "SELECT secret FROM credentials WHERE user_id = $1 AND type = 'totp'",
      [id],
    )) as Array<{ secret: string }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]?.secret.startsWith('v1.')).toBe(true);
    expect(rows[0]?.secret.toUpperCase()).not.toContain(secret);
  });

  it('disables and enables a user, and sets a password', async () => {
    const user = await server.buildUser();
    expect((await cli(server, 'users', 'disable', '--email', user.email)).code).toBe(0);
    expect((await server.gatehouse.storage.storage.users.findById(user.id))?.disabledAt).not.toBeNull();
    expect((await cli(server, 'users', 'enable', '--email', user.email)).code).toBe(0);
    expect((await server.gatehouse.storage.storage.users.findById(user.id))?.disabledAt).toBeNull();
    expect(
      (await cli(server, 'users', 'set-password', '--email', user.email, '--password', 'a brand new password')).code,
    ).toBe(0);
    const signIn = await server.gatehouse.storage.storage.users.passwordHash(user.id);
    expect(signIn?.startsWith('$argon2id$')).toBe(true);
  });

  it('lists and revokes a consent grant', async () => {
    const user = await server.buildUser();
    const client = await server.buildClient({ firstParty: true });
    const rp = await discoverRp(server.issuer, client);
    const request = await buildAuthRequest(rp, client.redirectUri);
    const trace = await runAuthorization(new UserAgent(server.issuer), request.url, client.redirectUri, {
      email: user.email,
      password: user.password,
    });
    await redeemCode(rp, trace.callbackUrl, request);
    const grants = json<Array<{ grant_id: string; client_id: string }>>(
      await cli(server, 'grants', 'list', '--email', user.email, '--json'),
    );
    expect(grants).toHaveLength(1);
    expect(grants[0]?.client_id).toBe(client.clientId);
    expect((await cli(server, 'grants', 'revoke', grants[0]!.grant_id)).code).toBe(0);
    expect(json<unknown[]>(await cli(server, 'grants', 'list', '--email', user.email, '--json'))).toHaveLength(0);
  });

  it('withdraws a consent given in several sessions at once', async () => {
    const user = await server.buildUser();
    const client = await server.buildClient({ firstParty: false });
    const rp = await discoverRp(server.issuer, client);
    for (const ua of [new UserAgent(server.issuer), new UserAgent(server.issuer)]) {
      const request = await buildAuthRequest(rp, client.redirectUri);
      const trace = await runAuthorization(ua, request.url, client.redirectUri, {
        email: user.email,
        password: user.password,
        consent: 'allow',
      });
      await redeemCode(rp, trace.callbackUrl, request);
    }
    // one grant per session, the second carrying the consent remembered from the first
    expect(json<unknown[]>(await cli(server, 'grants', 'list', '--email', user.email, '--json'))).toHaveLength(2);
    const revoked = await cli(
      server,
      'grants',
      'revoke',
      '--email',
      user.email,
      '--client-id',
      client.clientId,
      '--json',
    );
    expect(json<{ revoked: boolean }>(revoked).revoked).toBe(true);
    expect(json<unknown[]>(await cli(server, 'grants', 'list', '--email', user.email, '--json'))).toHaveLength(0);
    const again = await buildAuthRequest(rp, client.redirectUri);
    const trace = await runAuthorization(new UserAgent(server.issuer), again.url, client.redirectUri, {
      email: user.email,
      password: user.password,
      consent: 'allow',
    });
    expect(trace.pages).toEqual(['login', 'consent']);
    expect((await cli(server, 'grants', 'revoke', '--email', user.email)).code).toBe(2);
  });

  it.each([
    [['users', 'create', '--email', 'x@example.com'], /--password is required/],
    [
      ['users', 'create', '--email', 'not-an-email', '--password', 'long enough pw'],
      /email: .* is not an email address/,
    ],
    [['users', 'create', '--email', 'short@example.com', '--password', 'short'], /at least 12 characters/],
    [
      [
        'users',
        'create',
        '--email',
        'totp@example.com',
        '--password',
        'long enough pw',
        '--totp-secret',
        'not base32!',
      ],
      /totp.secret/,
    ],
    [['users', 'disable', '--email', 'nobody@example.com'], /no user with email/],
    [['users', 'frobnicate'], /unknown users command/],
    [['clients', 'create', '--name', 'X', '--redirect-uri', 'http://evil.example/cb'], /must use https/],
    [
      ['clients', 'create', '--name', 'X', '--redirect-uri', 'https://rp.example/cb', '--grant-types', 'implicit'],
      /grant.types/,
    ],
    [['clients', 'create', '--name', 'X', '--public', '--grant-types', 'client_credentials'], /confidential/],
    [['clients', 'create', '--name', 'X', '--bogus-flag'], /Unknown option/],
    [['clients', 'delete', 'no-such-client'], /no client with id/],
    [['clients', 'update', 'no-such-client', '--name', 'X'], /no client with id no-such-client/],
    [['clients', 'update', '--name', 'X'], /client-id/],
    [
      [
        'clients',
        'create',
        '--name',
        'X',
        '--redirect-uri',
        'https://rp.example/cb',
        '--backchannel-logout-session-required',
      ],
      /back-channel logout URI/,
    ],
    [['keys', 'spin'], /unknown keys command/],
    [['launch'], /unknown command/],
  ])('refuses %j with one line and exit code 2', async (argv, message) => {
    const result = await cli(server, ...argv);
    expect(result.code).toBe(2);
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toMatch(message);
  });

  it('defines an API resource and its permissions, grants them to a role and a machine client, whose token carries them', async () => {
    const indicator = `https://orders-${randomBytes(3).toString('hex')}.example.test/`;
    const created = await cli(server, 'resources', 'create', indicator, '--name', 'Orders', '--json');
    expect(created.code).toBe(0);
    expect(json<{ indicator: string; access_token_ttl: number }>(created)).toMatchObject({ indicator });
    for (const name of ['orders:read', 'orders:write'])
      expect((await cli(server, 'resources', 'permissions', 'add', indicator, name, '--description', name)).code).toBe(
        0,
      );
    const listed = (await cli(server, 'resources', 'list')).out.join('\n');
    expect(listed).toContain(`${indicator}  Orders`);
    expect(listed).toContain('orders:read orders:write');
    expect((await cli(server, 'resources', 'update', indicator, '--permissions-claim')).code).toBe(0);
    const shown = json<{ permissions_claim: boolean; permissions: Array<{ name: string }> }>(
      await cli(server, 'resources', 'show', indicator, '--json'),
    );
    expect(shown.permissions_claim).toBe(true);
    expect(shown.permissions.map((p) => p.name)).toEqual(['orders:read', 'orders:write']);

    const role = `orders-${randomBytes(3).toString('hex')}`;
    await cli(server, 'roles', 'create', role);
    const grant = ['--resource', indicator, '--permission', 'orders:read'];
    expect((await cli(server, 'roles', 'grant-permission', role, ...grant)).code).toBe(0);
    expect(json<{ permissions: unknown[] }>(await cli(server, 'roles', 'permissions', role, '--json'))).toEqual({
      role,
      permissions: [{ resource: indicator, permission: 'orders:read' }],
    });
    expect((await cli(server, 'roles', 'revoke-permission', role, ...grant)).code).toBe(0);
    expect((await cli(server, 'roles', 'permissions', role)).out).toEqual(['(none)']);

    const machine = await server.buildClient({ grantTypes: ['client_credentials'], redirectUris: [], scope: 'openid' });
    const write = ['--resource', indicator, '--permission', 'orders:write'];
    expect((await cli(server, 'clients', 'grant-permission', machine.clientId, ...write)).code).toBe(0);
    const rp = await discoverRp(server.issuer, machine);
    const tokens = await oidc.clientCredentialsGrant(rp, { scope: 'orders:read orders:write', resource: indicator });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ scope: 'orders:write', permissions: ['orders:write'] });

    // Removing the permission takes it from the client too.
    expect((await cli(server, 'resources', 'permissions', 'remove', indicator, 'orders:write')).code).toBe(0);
    expect((await cli(server, 'clients', 'permissions', machine.clientId)).out).toEqual(['(none)']);
    expect((await cli(server, 'resources', 'delete', indicator)).code).toBe(0);
    expect((await cli(server, 'resources', 'list', '--json')).out.join('')).not.toContain(indicator);
  });

  it('refuses bad resources and grants with one line naming the flag, and exit code 2', async () => {
    const indicator = `https://stock-${randomBytes(3).toString('hex')}.example.test/`;
    await cli(server, 'resources', 'create', indicator, '--name', 'Stock');
    const role = `stock-${randomBytes(3).toString('hex')}`;
    await cli(server, 'roles', 'create', role);
    const cases: Array<[string[], RegExp]> = [
      [
        ['resources', 'create', 'http://plain.example.test/', '--name', 'X'],
        /^gatehouse: --indicator: must be an absolute https URL$/,
      ],
      [['resources', 'create', indicator, '--name', 'Again'], /--indicator: a resource .* exists/],
      [
        ['resources', 'create', 'https://ttl.example.test/', '--name', 'X', '--access-token-ttl', '5'],
        /--access-token-ttl: .*60 to 86400/,
      ],
      [['resources', 'permissions', 'add', indicator, 'has space'], /--name: must be a scope token/],
      [['resources', 'permissions', 'add', indicator, 'openid'], /--name: "openid" is an OpenID or admin scope/],
      [['resources', 'permissions', 'remove', indicator, 'stock:none'], /permission was not found/],
      [['resources', 'show', 'https://nobody.example.test/'], /resource was not found/],
      [['resources', 'update', indicator], /nothing to change/],
      [['resources', 'spin'], /unknown resources command/],
      [['roles', 'grant-permission', role, '--resource', indicator], /--permission is required/],
      [
        ['roles', 'grant-permission', role, '--resource', indicator, '--permission', 'stock:none'],
        /permission was not found/,
      ],
      [
        ['roles', 'revoke-permission', 'no-such-role', '--resource', indicator, '--permission', 'x'],
        /role was not found/,
      ],
      [
        ['clients', 'grant-permission', 'no-such-client', '--resource', indicator, '--permission', 'x'],
        /client was not found/,
      ],
    ];
    for (const [argv, message] of cases) {
      const result = await cli(server, ...argv);
      expect({ argv, code: result.code, err: result.err }).toEqual({
        argv,
        code: 2,
        err: [expect.stringMatching(message)],
      });
    }
  });

  it('refuses a duplicate email without a partial write', async () => {
    const user = await server.buildUser();
    const before = (await server.gatehouse.storage.storage.users.list({ includeDisabled: true })).length;
    const result = await cli(
      server,
      'users',
      'create',
      '--email',
      user.email.toUpperCase(),
      '--password',
      'another long password',
    );
    expect(result.code).toBe(2);
    expect(result.err[0]).toMatch(/exists/);
    expect((await server.gatehouse.storage.storage.users.list({ includeDisabled: true })).length).toBe(before);
  });
});
