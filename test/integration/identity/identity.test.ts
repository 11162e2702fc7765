import { randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useAdminApi, expectFieldError, expectStatus } from '../../helpers/admin-api.js';
import { TEST_ACTOR } from '../../helpers/factories.js';
import { serveJsonOverHttps, type JsonHost } from '../../helpers/loopback-https.js';
import { oidc } from '../../helpers/rp.js';
import { openAccountPage, accountCsrf } from '../../helpers/account-pages.js';
import { UserAgent, buildRp, logoutForm, signIn, textOf, type TestRp } from '../../helpers/sessions.js';

describe.each(HTTP_BACKENDS)('identity: pairwise subjects, claims, profile, front-channel logout (%s)', (backend) => {
  const { server, call } = useAdminApi(backend);
  let sector: JsonHost;
  beforeAll(async () => {
    // The RP's sector documents, over https on loopback (the only scheme OIDC Core §8.1 allows).
    sector = await serveJsonOverHttps({
      '/sector.json': ['http://127.0.0.1:9101/callback', 'http://localhost:9102/callback'],
      '/other.json': ['http://127.0.0.1:9999/elsewhere'],
      '/not-json': 'x',
    });
  });
  afterAll(() => sector.close());

  async function pairwiseRp(redirectUri: string, sectorUri?: string): Promise<TestRp> {
    return buildRp(server, {
      redirectUris: [redirectUri],
      subjectType: 'pairwise',
      ...(sectorUri ? { sectorIdentifierUri: sectorUri } : {}),
    });
  }

  it('gives each sector its own stable sub, the same within a sector, and maps it back to the user', async () => {
    const user = await server.buildUser();
    const a = await pairwiseRp('http://127.0.0.1:9101/callback', sector.url('/sector.json'));
    const b = await pairwiseRp('http://localhost:9102/callback', sector.url('/sector.json'));
    const c = await pairwiseRp('http://127.0.0.1:9103/callback');
    const subOf = async (rp: TestRp) => {
      const { tokens } = await signIn(new UserAgent(server.issuer), rp, user);
      const sub = tokens.claims()!.sub;
      // Userinfo tells the same sub as the ID token (OIDC Core §5.3.2).
      expect((await oidc.fetchUserInfo(rp.config, tokens.access_token, sub)).sub).toBe(sub);
      return sub;
    };
    const [subA, subB, subC, subAagain] = [await subOf(a), await subOf(b), await subOf(c), await subOf(a)];
    expect(subA).not.toBe(user.id);
    expect(subA).toBe(subB); // one sector (the sector document's host)
    expect(subA).toBe(subAagain); // stable
    expect(subC).not.toBe(subA); // another sector

    const resolved = expectStatus(
      await call('GET', `/subjects?client_id=${c.client.clientId}&sub=${encodeURIComponent(subC)}`),
      200,
    );
    expect(resolved).toMatchObject({ user_id: user.id, subject_type: 'pairwise', sub: subC });
    const forward = expectStatus(await call('GET', `/subjects?client_id=${a.client.clientId}&user_id=${user.id}`), 200);
    expect(forward.sub).toBe(subA);
    // Another sector's sub names nobody here.
    expect((await call('GET', `/subjects?client_id=${c.client.clientId}&sub=${encodeURIComponent(subA)}`)).status).toBe(
      404,
    );
    expect((await call('GET', `/subjects?client_id=${c.client.clientId}`)).status).toBe(400);
  });

  it('refuses a sector_identifier_uri that does not list the redirect URIs, is not JSON, is missing or is http', async () => {
    const base = {
      name: 'Sector RP',
      redirect_uris: ['http://127.0.0.1:9101/callback'],
      subject_type: 'pairwise',
    };
    for (const uri of [
      sector.url('/other.json'),
      sector.url('/not-json'),
      sector.url('/missing'),
      'http://127.0.0.1:1/s',
    ]) {
      expectFieldError(
        await call('POST', '/clients', { ...base, sector_identifier_uri: uri }),
        'sector_identifier_uri',
      );
    }
    // Redirect URIs on two hosts need a sector document.
    expectFieldError(
      await call('POST', '/clients', {
        ...base,
        redirect_uris: ['http://127.0.0.1:9101/callback', 'http://localhost:9102/callback'],
      }),
      'sector_identifier_uri',
    );
    expectFieldError(await call('POST', '/clients', { ...base, subject_type: 'secret' }), 'subject_type');
    const created = expectStatus(
      await call('POST', '/clients', { ...base, sector_identifier_uri: sector.url('/sector.json') }),
      201,
    );
    expect(created).toMatchObject({ subject_type: 'pairwise', sector_identifier_uri: sector.url('/sector.json') });
  });

  it('advertises pairwise subjects, the claims parameter and front-channel logout in discovery', async () => {
    const meta = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(meta.subject_types_supported).toEqual(['public', 'pairwise']);
    expect(meta.claims_parameter_supported).toBe(true);
    expect(meta.frontchannel_logout_supported).toBe(true);
    expect(meta.frontchannel_logout_session_supported).toBe(true);
    expect(meta.scopes_supported).toContain('address');
    expect(meta.claims_supported).toEqual(expect.arrayContaining(['given_name', 'birthdate', 'address']));
  });

  async function userWithProfile() {
    const user = await server.buildUser({ name: 'Ada Lovelace' });
    await server.gatehouse.admin.profiles.update(
      user.id,
      {
        given_name: 'Ada',
        family_name: 'Lovelace',
        preferred_username: 'ada',
        locale: 'en-GB',
        zoneinfo: 'Europe/London',
        birthdate: '1815-12-10',
        address: { locality: 'London', country: 'United Kingdom' },
      },
      { kind: 'admin', actor: TEST_ACTOR },
    );
    return user;
  }

  it('releases profile claims under profile and the address under address, and nothing without them', async () => {
    const user = await userWithProfile();
    const rp = await buildRp(server, { scope: 'openid profile email address' });
    const { tokens } = await signIn(new UserAgent(server.issuer), rp, user, { scope: 'openid profile address' });
    const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, user.id);
    expect(info).toMatchObject({
      given_name: 'Ada',
      family_name: 'Lovelace',
      preferred_username: 'ada',
      locale: 'en-GB',
      zoneinfo: 'Europe/London',
      birthdate: '1815-12-10',
      address: { locality: 'London', country: 'United Kingdom' },
    });
    const { tokens: bare } = await signIn(new UserAgent(server.issuer), rp, user, { scope: 'openid email' });
    const plain = await oidc.fetchUserInfo(rp.config, bare.access_token, user.id);
    expect(plain.given_name).toBeUndefined();
    expect(plain.address).toBeUndefined();
    expect(plain.email).toBe(user.email);
  });

  it('puts claims asked for with the claims parameter where they were asked for', async () => {
    const user = await userWithProfile();
    const rp = await buildRp(server);
    const claims = JSON.stringify({
      id_token: { given_name: { essential: true }, birthdate: null },
      userinfo: { locale: { essential: true } },
    });
    const { tokens } = await signIn(new UserAgent(server.issuer), rp, user, { scope: 'openid', claims });
    const idToken = decodeJwt(tokens.id_token!);
    expect(idToken).toMatchObject({ given_name: 'Ada', birthdate: '1815-12-10' });
    expect(idToken.locale).toBeUndefined();
    const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, user.id);
    expect(info.locale).toBe('en-GB');
    expect(info.given_name).toBeUndefined();
  });

  it('refuses a malformed claims parameter', async () => {
    const rp = await buildRp(server);
    const url = oidc.buildAuthorizationUrl(rp.config, {
      redirect_uri: rp.client.redirectUri,
      scope: 'openid',
      claims: '{not json',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBeLessThan(500);
    const location = res.headers.get('location') ?? '';
    expect(new URL(location).searchParams.get('error')).toBe('invalid_request');
  });

  it('lets admins change profile claims, refusing bad values by field', async () => {
    const user = await server.buildUser();
    const changed = expectStatus(
      await call('PATCH', `/users/${user.id}`, {
        profile: { given_name: 'Grace', zoneinfo: 'America/New_York', address: { postal_code: '10001' } },
      }),
      200,
    );
    expect(changed.profile).toEqual({
      given_name: 'Grace',
      zoneinfo: 'America/New_York',
      address: { postal_code: '10001' },
    });
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ birthdate: '2001-02-30' }, 'birthdate'],
      [{ birthdate: '3000-01-01' }, 'birthdate'],
      [{ locale: 'not a locale!' }, 'locale'],
      [{ zoneinfo: 'Mars/Olympus' }, 'zoneinfo'],
      [{ picture: 'javascript:alert(1)' }, 'picture'],
      [{ picture: 'http://example.com/a.png' }, 'picture'],
      [{ preferred_username: 'two words' }, 'preferred_username'],
    ];
    for (const [profile, field] of bad) expectFieldError(await call('PATCH', `/users/${user.id}`, { profile }), field);
    expect((await call('PATCH', `/users/${user.id}`, { profile: { shoe_size: '42' } })).status).toBe(400);
    // Nothing of the refused changes was kept; clearing works.
    const cleared = expectStatus(await call('PATCH', `/users/${user.id}`, { profile: { given_name: null } }), 200);
    expect(cleared.profile).toEqual({ zoneinfo: 'America/New_York', address: { postal_code: '10001' } });
  });

  it('lets users edit their profile on /account, with a message beside a bad field', async () => {
    const user = await server.buildUser();
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    expect(page.html).toContain('id="profile"');
    const saved = await ua.post('/account/profile', {
      csrf: accountCsrf(page),
      given_name: 'Katherine',
      birthdate: '1918-08-26',
      locality: 'White Sulphur Springs',
    });
    expect(saved.status).toBe(303);
    expect(await server.gatehouse.admin.profiles.get(user.id)).toEqual({
      given_name: 'Katherine',
      birthdate: '1918-08-26',
      address: { locality: 'White Sulphur Springs' },
    });
    const refused = await ua.post('/account/profile', {
      csrf: accountCsrf(page),
      given_name: 'Katherine',
      birthdate: '26.08.1918',
    });
    expect(refused.status).toBe(400);
    expect(refused.html).toMatch(/data-field="birthdate"/);
    expect(textOf(refused.html)).toContain('Enter a date as YYYY-MM-DD');
    expect((await server.gatehouse.admin.profiles.get(user.id)).birthdate).toBe('1918-08-26');
    // Without the CSRF token nothing changes.
    expect((await ua.post('/account/profile', { given_name: 'Mallory' })).status).toBe(403);
  });

  /** Custom attributes with names of their own: the server is shared by this file's tests. */
  async function defineAttributes() {
    const s = randomBytes(3).toString('hex');
    const names = { team: `team_${s}`, level: `level_${s}`, hired: `hired_${s}`, floor: `floor_${s}` };
    for (const body of [
      { name: names.team, label: 'Team', type: 'string', editable_by: 'user' },
      { name: names.level, label: 'Level', type: 'number', required: true },
      { name: names.hired, label: 'Hired', type: 'date', scope: 'address' },
      { name: names.floor, label: 'Floor', type: 'number', editable_by: 'user' },
    ])
      expectStatus(await call('POST', '/attributes', body), 201);
    return names;
  }

  it('releases custom attributes as claims under the scope they are mapped to, and not without it', async () => {
    const a = await defineAttributes();
    const meta = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as {
      claims_supported: string[];
    };
    expect(meta.claims_supported).toEqual(expect.arrayContaining([a.team, a.level, a.hired]));
    const user = await server.buildUser();
    const set = expectStatus(
      await call('PATCH', `/users/${user.id}/attributes`, {
        [a.team]: 'Platform',
        [a.level]: 3,
        [a.hired]: '2024-02-29',
      }),
      200,
    );
    expect(set).toEqual({
      user_id: user.id,
      attributes: { [a.team]: 'Platform', [a.level]: 3, [a.hired]: '2024-02-29' },
    });

    const rp = await buildRp(server, { scope: 'openid profile address' });
    const { tokens } = await signIn(new UserAgent(server.issuer), rp, user, {
      scope: 'openid profile',
      claims: JSON.stringify({ id_token: { [a.team]: null } }),
    });
    expect(decodeJwt(tokens.id_token!)[a.team]).toBe('Platform');
    const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, user.id);
    expect(info).toMatchObject({ [a.team]: 'Platform', [a.level]: 3 });
    // Mapped to address, which was not asked for.
    expect(info[a.hired]).toBeUndefined();
    const { tokens: bare } = await signIn(new UserAgent(server.issuer), rp, user, { scope: 'openid' });
    const plain = await oidc.fetchUserInfo(rp.config, bare.access_token, user.id);
    expect([plain[a.team], plain[a.level], plain[a.hired]]).toEqual([undefined, undefined, undefined]);
    expect(decodeJwt(bare.id_token!)[a.team]).toBeUndefined();
  });

  it('refuses a value of the wrong type with 400 naming the attribute, and a bad definition by field', async () => {
    const a = await defineAttributes();
    const user = await server.buildUser();
    expectStatus(await call('PATCH', `/users/${user.id}/attributes`, { [a.level]: 2 }), 200);
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ [a.level]: '3' }, a.level],
      [{ [a.team]: 42 }, a.team],
      [{ [a.hired]: '2023-02-29' }, a.hired],
      [{ [a.hired]: 'yesterday' }, a.hired],
      [{ [a.level]: null }, a.level],
      [{ [a.team]: 'ok', unknown_attribute: 'x' }, 'unknown_attribute'],
      [{ [a.team]: { nested: true } }, a.team],
    ];
    for (const [body, field] of bad) {
      const response = await call('PATCH', `/users/${user.id}/attributes`, body);
      expectFieldError(response, field);
      expect(response.body.error_description).toMatch(new RegExp(`^${field}: `));
    }
    expect(expectStatus(await call('GET', `/users/${user.id}/attributes`), 200)).toEqual({
      user_id: user.id,
      attributes: { [a.level]: 2 },
    });
    const badDefinitions: Array<[Record<string, unknown>, string, number?]> = [
      [{ name: 'given_name', label: 'x', type: 'string' }, 'name'],
      [{ name: 'Has-Caps', label: 'x', type: 'string' }, 'name'],
      [{ name: 'ok_name', label: 'x', type: 'colour' }, 'type'],
      [{ name: 'ok_name', label: 'x', type: 'string', scope: 'openid' }, 'scope'],
      [{ name: a.team, label: 'again', type: 'string' }, 'name', 409],
    ];
    for (const [body, field, status] of badDefinitions)
      expectFieldError(await call('POST', '/attributes', body), field, status);
    expectStatus(await call('DELETE', `/attributes/${a.level}`), 204);
    expect(expectStatus(await call('GET', `/users/${user.id}/attributes`), 200).attributes).toEqual({});
  });

  it('shows attributes on /account: the user edits those users may, never an admin-only one, and a bad value is refused beside its field', async () => {
    const a = await defineAttributes();
    const user = await server.buildUser();
    expectStatus(await call('PATCH', `/users/${user.id}/attributes`, { [a.level]: 5 }), 200);
    const ua = new UserAgent(server.issuer);
    const page = await openAccountPage(ua, user.email, user.password);
    expect(page.html).toContain(`name="attributes[${a.team}]"`);
    expect(page.html).not.toContain(`name="attributes[${a.level}]"`);
    expect(textOf(page.html)).toContain('Level: 5 Set by an administrator.');

    const saved = await ua.post('/account/profile', {
      csrf: accountCsrf(page),
      [`attributes[${a.team}]`]: 'Design',
      [`attributes[${a.floor}]`]: '4',
    });
    expect(saved.status).toBe(303);
    const values = () => server.gatehouse.admin.attributes.of(user.id).then((r) => r.values);
    expect(await values()).toEqual({ [a.team]: 'Design', [a.floor]: 4, [a.level]: 5 });

    const adminOnly = await ua.post('/account/profile', {
      csrf: accountCsrf(page),
      [`attributes[${a.level}]`]: '9',
    });
    expect(adminOnly.status).toBe(400);
    expect(adminOnly.html).toContain(`data-field="attributes.${a.level}"`);
    expect(textOf(adminOnly.html)).toContain('Only an administrator can change this.');
    const notANumber = await ua.post('/account/profile', {
      csrf: accountCsrf(page),
      [`attributes[${a.team}]`]: 'Research',
      [`attributes[${a.floor}]`]: 'fourth',
    });
    expect(notANumber.status).toBe(400);
    expect(notANumber.html).toContain(`data-field="attributes.${a.floor}"`);
    expect(notANumber.html).toContain('value="fourth"');
    expect(textOf(notANumber.html)).toContain('Enter a number');
    expect(await values()).toEqual({ [a.team]: 'Design', [a.floor]: 4, [a.level]: 5 });
  });

  it('renders front-channel logout iframes with iss and sid when the session ends', async () => {
    const user = await server.buildUser();
    const withSid = await buildRp(server, {
      name: 'Frame RP',
      frontchannelLogoutUri: 'http://127.0.0.1:9201/fc-logout',
      frontchannelLogoutSessionRequired: true,
    });
    const plain = await buildRp(server, { name: 'Plain frame RP', frontchannelLogoutUri: 'https://rp.example/logout' });
    const ua = new UserAgent(server.issuer);
    const { tokens } = await signIn(ua, withSid, user);
    await signIn(ua, plain, user);
    const sid = tokens.claims()!.sid as string;

    const confirm = await ua.get(
      oidc
        .buildEndSessionUrl(withSid.config, {
          post_logout_redirect_uri: withSid.client.input.postLogoutRedirectUris[0]!,
        })
        .toString(),
    );
    const form = logoutForm(confirm);
    const done = await ua.post(form.action, { xsrf: form.xsrf, logout: 'yes' });
    expect(done.status).toBe(200);
    const frames = [...done.html.matchAll(/<iframe[^>]*src="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
    const framed = frames.map((src) => new URL(src));
    const first = framed.find((u) => u.origin === 'http://127.0.0.1:9201');
    expect(first?.searchParams.get('iss')).toBe(server.issuer);
    expect(first?.searchParams.get('sid')).toBe(sid);
    const second = framed.find((u) => u.origin === 'https://rp.example');
    expect(second?.search).toBe('');
    const csp = done.headers.get('content-security-policy') ?? '';
    const frameSrc = /frame-src ([^;]+)/.exec(csp)?.[1]?.split(' ');
    expect(frameSrc?.sort()).toEqual(['http://127.0.0.1:9201', 'https://rp.example']);
    expect(done.html).toContain(`href="${withSid.client.input.postLogoutRedirectUris[0]}`);

    // Bad input: a front-channel logout URI must be an https (or loopback http) URL.
    expectFieldError(
      await call('POST', '/clients', {
        name: 'x',
        redirect_uris: ['http://127.0.0.1:9101/callback'],
        frontchannel_logout_uri: 'http://rp.example/logout',
      }),
      'frontchannel_logout_uri',
    );
  });

  it('answers userinfo as a signed JWT for a client that asks', async () => {
    const user = await server.buildUser();
    const rp = await buildRp(server, { userinfoSignedResponseAlg: 'ES256' });
    const { tokens } = await signIn(new UserAgent(server.issuer), rp, user);
    const res = await fetch(`${server.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(res.headers.get('content-type')).toMatch(/application\/jwt/);
    const claims = decodeJwt(await res.text());
    expect(claims).toMatchObject({ sub: user.id, iss: server.issuer, aud: rp.client.clientId });
    expectFieldError(
      await call('POST', '/clients', {
        name: 'x',
        redirect_uris: ['http://127.0.0.1:9101/callback'],
        userinfo_signed_response_alg: 'none',
      }),
      'userinfo_signed_response_alg',
    );
  });
});
