import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STORE_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { uniqueEmail } from '../../helpers/factories.js';
import { adminToken, API } from '../../helpers/admin-api.js';
import { cli } from '../../helpers/cli.js';
import { openAccountPage } from '../../helpers/account-pages.js';
import { BOOT_TIMEOUT, UserAgent, actionOf, buildRp, openAuthorization, type TestRp } from '../../helpers/sessions.js';
import { csrfToken } from '../../helpers/user-agent.js';
import { initialAccessToken, manage, register, str, webClient } from '../registration/support.js';

/**
 * Finding 7 of issue 14: U+0000 and lone surrogates cannot be stored by PostgreSQL (text, jsonb)
 * nor by PGlite. Every JSON and form input we accept refuses them with a 400 naming the field,
 * before anything is written; none answers 500.
 *
 * In a form or a query a lone surrogate cannot be sent at all: its percent-encoded UTF-8
 * (%ED%A0%80) is not UTF-8 and decodes to U+FFFD, which is storable. Such a request must
 * simply not fail; U+0000 (%00) must be refused. In JSON ("\ud800") it arrives as sent.
 */
interface Variant {
  label: string;
  /** The value as the transport carries it: percent-encoded for forms and queries, a JS string for JSON. */
  value: string;
  refused: boolean;
}

const FORM_VARIANTS: Variant[] = [
  { label: 'U+0000 (%00)', value: 'a%00b', refused: true },
  { label: 'a lone surrogate (%ED%A0%80, decodes to U+FFFD)', value: 'a%ED%A0%80b', refused: false },
];
const JSON_VARIANTS: Variant[] = [
  { label: 'U+0000', value: 'a\u0000b', refused: true },
  { label: 'a lone high surrogate', value: 'a\ud800b', refused: true },
  { label: 'a lone low surrogate', value: '\udc00', refused: true },
];

interface Answer {
  status: number;
  text: string;
}

interface Row {
  name: string;
  transport: 'form' | 'json';
  /** The field the 400 names. */
  field: string;
  code?: 'invalid_request' | 'invalid_client_metadata';
  send(value: string): Promise<Answer>;
  /** True when the request left a trace in the database it must not have left. */
  written?: () => Promise<boolean>;
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const FORM = 'application/x-www-form-urlencoded';

describe.each(STORE_BACKENDS)('input PostgreSQL cannot store (%s)', (backend) => {
  let server: TestServer;
  let rp: TestRp;
  const serverErrors: unknown[] = [];

  async function send(
    ua: UserAgent | undefined,
    method: string,
    path: string,
    init: { body?: string; type?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'text/html', origin: server.issuer, ...init.headers };
    if (init.type) headers['content-type'] = init.type;
    if (ua && ua.cookies.size > 0) headers.cookie = [...ua.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(`${server.issuer}${path}`, { method, headers, body: init.body, redirect: 'manual' });
    return { status: res.status, text: await res.text() };
  }

  beforeAll(async () => {
    server = await startTestServer(backend, {
      registration: { enabled: true, requireApproval: false },
      signUp: {
        enabled: true,
        allowedEmailDomains: [],
        requireEmailVerification: false,
        verificationLinkTtlSeconds: 86_400,
      },
    });
    rp = await buildRp(server);
    server.gatehouse.host.current.on('server_error', (_ctx, err) => serverErrors.push(err));
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await server?.close();
  });

  function expectRefused(row: Row, variant: Variant, answer: Answer): void {
    const label = `${row.name} with ${variant.label}`;
    expect({ label, status: answer.status }).toEqual({ label, status: 400 });
    if (answer.text.startsWith('{')) {
      const body = JSON.parse(answer.text) as Record<string, unknown>;
      expect({ label, error: body.error, field: body.field }).toEqual({
        label,
        error: row.code ?? 'invalid_request',
        field: row.field,
      });
      // RFC 7591 §3.2.2 descriptions start with the field (docs/registration.md); so do ours.
      expect({ label, description: String(body.error_description).startsWith(`${row.field}: `) }).toEqual({
        label,
        description: true,
      });
    } else {
      // A readable page in the user's language, naming the field.
      expect({
        label,
        page: answer.text.includes(`${row.field}: contains characters this service cannot accept`),
      }).toEqual({ label, page: true });
    }
  }

  async function runTable(rows: Row[]): Promise<void> {
    for (const row of rows) {
      for (const variant of row.transport === 'form' ? FORM_VARIANTS : JSON_VARIANTS) {
        const answer = await row.send(variant.value);
        const label = `${row.name} with ${variant.label} → ${answer.status} ${answer.text.slice(0, 200)}`;
        expect({ label, serverError: answer.status >= 500 }).toEqual({ label, serverError: false });
        if (variant.refused) expectRefused(row, variant, answer);
        // A storable stand-in (U+FFFD) may be stored: that is the request as the server decoded it.
        if (row.written && variant.refused)
          expect({ label, written: await row.written() }).toEqual({ label, written: false });
      }
    }
    expect(serverErrors).toEqual([]);
  }

  it('refuses them in dynamic registration metadata (RFC 7591 POST, RFC 7592 PUT) as invalid_client_metadata, storing nothing', async () => {
    const marker = `unstorable-${backend}`;
    const hasMarkedClient = async () =>
      (await server.gatehouse.storage.storage.clients.list()).some((c) => c.name.startsWith(marker));
    const good = await register(
      server,
      webClient({ client_name: `kept-${backend}` }),
      await initialAccessToken(server),
    );
    expect(good.status).toBe(201);
    const uri = str(good.body.registration_client_uri);
    const rat = str(good.body.registration_access_token);
    const clientId = str(good.body.client_id);
    const storedName = async () => (await server.gatehouse.storage.storage.clients.find(clientId))?.name;
    const reg = (metadata: Record<string, unknown>) => async () => {
      const res = await register(
        server,
        webClient({ client_name: marker, ...metadata }),
        await initialAccessToken(server),
      );
      return { status: res.status, text: JSON.stringify(res.body) };
    };
    const rows: Row[] = [
      {
        name: 'POST /reg client_name',
        transport: 'json',
        field: 'client_name',
        code: 'invalid_client_metadata',
        send: (v) => reg({ client_name: `${marker}${v}` })(),
        written: hasMarkedClient,
      },
      {
        name: 'POST /reg redirect_uris',
        transport: 'json',
        field: 'redirect_uris.0',
        code: 'invalid_client_metadata',
        send: (v) => reg({ redirect_uris: [`http://127.0.0.1:9999/cb${v}`] })(),
        written: hasMarkedClient,
      },
      {
        name: 'POST /reg an unknown field',
        transport: 'json',
        field: 'x_note',
        code: 'invalid_client_metadata',
        send: (v) => reg({ x_note: v })(),
        written: hasMarkedClient,
      },
      {
        name: 'POST /reg a key',
        transport: 'json',
        field: 'body',
        code: 'invalid_client_metadata',
        send: (v) => reg({ [`x${v}`]: 1 })(),
        written: hasMarkedClient,
      },
      {
        name: 'PUT /reg/:id client_name',
        transport: 'json',
        field: 'client_name',
        code: 'invalid_client_metadata',
        send: async (v) => {
          const res = await manage(uri, rat, 'PUT', {
            ...webClient({ client_name: `${marker}-renamed${v}` }),
            client_id: clientId,
          });
          return { status: res.status, text: JSON.stringify(res.body) };
        },
        written: async () => (await storedName()) !== `kept-${backend}`,
      },
    ];
    // Before: a 500 from the database (22P05, 22021) for client_name and the URIs.
    await runTable(rows);
    // The refused update did not use up the registration access token (it rotates on every update).
    expect((await manage(uri, rat, 'GET')).status).toBe(200);
  });

  it('refuses U+0000 in every protocol form and query (4xx, never a 500), and survives a percent-encoded surrogate', async () => {
    const { clientId, redirectUri } = rp.client;
    const clientSecret = rp.client.clientSecret ?? '';
    const auth = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: redirectUri,
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
    }).toString();
    const authed = { authorization: basic(clientId, clientSecret), accept: 'application/json' };
    const post = (path: string, body: string, headers: Record<string, string> = authed) =>
      send(undefined, 'POST', path, { body, type: FORM, headers });
    const rows: Row[] = [
      ...['state', 'nonce', 'login_hint', 'ui_locales', 'prompt'].map((field): Row => ({
        name: `GET /auth ${field}`,
        transport: 'form',
        field,
        send: (v) => send(undefined, 'GET', `/auth?${auth}&${field}=${v}`),
      })),
      {
        name: 'POST /auth state',
        transport: 'form',
        field: 'state',
        send: (v) => post('/auth', `${auth}&state=${v}`, {}),
      },
      {
        name: 'POST /token code',
        transport: 'form',
        field: 'code',
        send: (v) =>
          post(
            '/token',
            `grant_type=authorization_code&redirect_uri=${encodeURIComponent(redirectUri)}&code=${v}&code_verifier=${'v'.repeat(43)}`,
          ),
      },
      {
        name: 'POST /token code_verifier',
        transport: 'form',
        field: 'code_verifier',
        send: (v) => post('/token', `grant_type=authorization_code&code=abc&code_verifier=${v}`),
      },
      {
        name: 'POST /token refresh_token',
        transport: 'form',
        field: 'refresh_token',
        send: (v) => post('/token', `grant_type=refresh_token&refresh_token=${v}`),
      },
      {
        name: 'POST /token client_id',
        transport: 'form',
        field: 'client_id',
        send: (v) =>
          post('/token', `grant_type=client_credentials&client_id=${v}&client_secret=x`, {
            accept: 'application/json',
          }),
      },
      {
        name: 'POST /token/introspection token',
        transport: 'form',
        field: 'token',
        send: (v) => post('/token/introspection', `token=${v}`),
      },
      {
        name: 'POST /token/revocation token',
        transport: 'form',
        field: 'token',
        send: (v) => post('/token/revocation', `token=${v}`),
      },
      {
        name: 'POST /request (PAR) state',
        transport: 'form',
        field: 'state',
        send: (v) => post('/request', `${auth}&state=${v}`),
      },
      {
        name: 'GET /session/end state',
        transport: 'form',
        field: 'state',
        send: (v) => send(undefined, 'GET', `/session/end?state=${v}`),
      },
      {
        name: 'POST /session/end state',
        transport: 'form',
        field: 'state',
        send: (v) => post('/session/end', `state=${v}`, {}),
      },
      {
        name: 'POST /me access_token',
        transport: 'form',
        field: 'access_token',
        send: (v) => post('/me', `access_token=${v}`, { accept: 'application/json' }),
      },
    ];
    await runTable(rows);
  });

  it('refuses them in our own forms and JSON (sign-in, sign-up, TOTP, /account, password reset, email links, WebAuthn, admin API, CLI), writing nothing', async () => {
    const user = await server.buildUser();
    const signInUa = new UserAgent(server.issuer);
    const { page } = await openAuthorization(signInUa, rp, server.issuer);
    const login = new URL(actionOf(page, '/login')).pathname;
    const base = login.replace(/\/login$/, '');
    const csrf = csrfToken(page.html);
    const accountUa = new UserAgent(server.issuer);
    const account = await openAccountPage(accountUa, user.email, user.password);
    const accountCsrf = csrfToken(account.html);
    const token = await adminToken(server);
    const signUpEmail = uniqueEmail('unstorable-signup');
    const adminEmail = uniqueEmail('unstorable-admin');
    const userExists = (email: string) => async () =>
      (await server.gatehouse.storage.storage.users.findByEmail(email)) !== null;
    const form = (ua: UserAgent | undefined, path: string, body: string) =>
      send(ua, 'POST', path, { body, type: FORM });
    const json = (ua: UserAgent | undefined, path: string, value: unknown, headers: Record<string, string> = {}) =>
      send(ua, 'POST', path, {
        body: JSON.stringify(value),
        type: 'application/json',
        headers: { accept: 'application/json', ...headers },
      });
    const rows: Row[] = [
      {
        name: 'sign-in email',
        transport: 'form',
        field: 'email',
        send: (v) => form(signInUa, login, `csrf=${csrf}&email=${v}&password=x`),
      },
      {
        name: 'sign-in password',
        transport: 'form',
        field: 'password',
        send: (v) => form(signInUa, login, `csrf=${csrf}&email=${encodeURIComponent(user.email)}&password=${v}`),
      },
      {
        name: 'sign-up name',
        transport: 'form',
        field: 'name',
        send: (v) =>
          form(
            signInUa,
            `${base}/signup`,
            `csrf=${csrf}&email=${encodeURIComponent(signUpEmail)}&name=${v}&password=${'p'.repeat(16)}`,
          ),
        written: userExists(signUpEmail),
      },
      {
        name: 'second-factor code',
        transport: 'form',
        field: 'code',
        send: (v) => form(signInUa, `${base}/mfa/code`, `csrf=${csrf}&method=totp&code=${v}`),
      },
      {
        name: 'passkey sign-in JSON',
        transport: 'json',
        field: 'response.id',
        send: (v) => json(signInUa, `${base}/webauthn/passkey/verify`, { csrf, response: { id: v } }),
      },
      {
        name: '/account password',
        transport: 'form',
        field: 'current_password',
        send: (v) => form(accountUa, '/account/password', `csrf=${accountCsrf}&current_password=${v}&new_password=x`),
      },
      {
        name: '/account TOTP confirmation',
        transport: 'form',
        field: 'code',
        send: (v) => form(accountUa, '/account/totp/confirm', `csrf=${accountCsrf}&code=${v}`),
      },
      {
        name: '/account security key name',
        transport: 'json',
        field: 'name',
        send: (v) =>
          json(accountUa, '/account/webauthn/registration/options', { name: v }, { 'x-csrf-token': accountCsrf }),
      },
      {
        name: 'forgotten password email',
        transport: 'form',
        field: 'email',
        send: (v) => form(undefined, '/password/forgot', `csrf=x&email=${v}`),
      },
      {
        name: 'password reset token',
        transport: 'form',
        field: 'token',
        send: (v) => form(undefined, '/password/reset', `csrf=x&token=${v}&password=x&confirm=x`),
      },
      {
        name: 'email link token',
        transport: 'form',
        field: 'token',
        send: (v) => form(undefined, '/email/verify', `csrf=x&token=${v}`),
      },
      {
        name: 'password reset link query',
        transport: 'form',
        field: 'token',
        send: (v) => send(undefined, 'GET', `/password/reset?token=${v}`),
      },
      {
        name: 'admin API query',
        transport: 'form',
        field: 'search',
        send: (v) =>
          send(undefined, 'GET', `${API}/users?search=${v}`, {
            headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
          }),
      },
      {
        name: 'admin API JSON',
        transport: 'json',
        field: 'name',
        send: (v) =>
          json(undefined, `${API}/users`, { email: adminEmail, name: v }, { authorization: `Bearer ${token}` }),
        written: userExists(adminEmail),
      },
    ];
    await runTable(rows);

    // The CLI reads JSON too: a client's JWK Set (--jwks) and a user import file.
    for (const bad of ['\u0000', '\ud800']) {
      const jwks = await cli(
        server,
        'clients',
        'create',
        '--name',
        'cli-unstorable',
        '--grant-types',
        'client_credentials',
        '--auth-method',
        'private_key_jwt',
        '--jwks',
        JSON.stringify({ keys: [{ kty: `EC${bad}` }] }),
      );
      expect({ code: jwks.code, err: jwks.err.join('\n') }).toEqual({
        code: 2,
        err: expect.stringContaining('--jwks keys.0.kty: must not contain'),
      });
      const file = join(server.gatehouse.config.storage.dataDir, 'import.jsonl');
      const imported = uniqueEmail('unstorable-import');
      writeFileSync(file, `${JSON.stringify({ email: imported, name: `x${bad}` })}\n`);
      const result = await cli(server, 'users', 'import', file);
      expect(result.code).not.toBe(0);
      expect(result.err.join('\n')).toContain('must not contain');
      expect(await userExists(imported)()).toBe(false);
    }
    expect((await server.gatehouse.storage.storage.clients.list()).some((c) => c.name === 'cli-unstorable')).toBe(
      false,
    );

    // Nothing above broke the sign-in it was sent into.
    const again = await signInUa.get(page.url);
    const done = await signInUa.post(actionOf(again, '/login'), {
      csrf: csrfToken(again.html),
      email: user.email,
      password: user.password,
    });
    expect(done.status).toBe(303);
  });
});
