import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import { InvalidInputError } from '../../src/errors/domain-errors.js';
import { parseConnectionInput, type ConnectionInput } from '../../src/federation/connection.js';
import { upstreamSettings } from '../../src/federation/presets.js';
import { createAppleSecrets } from '../../src/federation/apple-secret.js';
import { checkPresetClaims } from '../../src/federation/profile.js';
import { testClock } from '../helpers/clock.js';

/** A validated input as the connections service turns it into a connection (without storage). */
function connectionOf(input: ConnectionInput): Parameters<typeof upstreamSettings>[0] {
  const { settings, secret } = parseConnectionInput(input);
  const { clientSecret: _s, privateKey: _k, ...rest } = settings;
  return { ...rest, hasSecret: secret !== undefined, createdAt: new Date(), updatedAt: new Date() };
}
const settingsOf = (input: ConnectionInput) => upstreamSettings(connectionOf(input));

const fieldOf = (work: () => unknown): string | undefined => {
  try {
    work();
  } catch (error) {
    if (error instanceof InvalidInputError) return error.field;
    throw error;
  }
  return undefined;
};

const base = { id: 'corp', displayName: 'Corp', clientId: 'gatehouse', clientSecret: 's3cret' };
const appleKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe('connection input', () => {
  it('accepts a custom OpenID connection and fills in the defaults', () => {
    const connection = connectionOf({ ...base, kind: 'oidc', issuer: 'https://idp.example.com' });
    expect(connection).toMatchObject({
      preset: 'custom',
      enabled: true,
      order: 0,
      createAccounts: false,
      trustEmailVerification: false,
      trustUpstreamMfa: false,
      allowedClients: null,
      allowedEmailDomains: [],
      roleRules: [],
      hasSecret: true,
    });
    expect(settingsOf({ ...base, kind: 'oidc', issuer: 'https://idp.example.com' })).toMatchObject({
      kind: 'oidc',
      issuer: 'https://idp.example.com',
      scopes: ['openid', 'email', 'profile'],
      clientAuth: 'client_secret_basic',
      responseMode: 'query',
    });
  });

  it.each([
    ['an id that is not a slug', { ...base, id: 'Corp IdP', kind: 'oidc', issuer: 'https://idp.example.com' }, 'id'],
    [
      'a display name with markup',
      { ...base, displayName: '<b>Corp</b>', kind: 'oidc', issuer: 'https://idp.example.com' },
      'display_name',
    ],
    ['an http issuer off this machine', { ...base, kind: 'oidc', issuer: 'http://idp.example.com' }, 'issuer'],
    ['an issuer with credentials', { ...base, kind: 'oidc', issuer: 'https://user:pw@idp.example.com' }, 'issuer'],
    [
      'an unknown field',
      { ...base, kind: 'oidc', issuer: 'https://idp.example.com', clientSecretHash: 'x' },
      'connection',
    ],
    [
      'a bad domain',
      { ...base, kind: 'oidc', issuer: 'https://idp.example.com', allowedEmailDomains: ['not a domain'] },
      'allowed_email_domains.0',
    ],
    [
      'a bad role rule',
      { ...base, kind: 'oidc', issuer: 'https://idp.example.com', roleRules: [{ group: 'eng', role: 'has space' }] },
      'role_rules.0',
    ],
    [
      'a private key that is not PEM',
      { ...base, clientSecret: undefined, kind: 'oidc', issuer: 'https://idp.example.com', privateKey: 'secret' },
      'private_key',
    ],
  ])('refuses %s, naming the field', (_label, input, field) => {
    expect(fieldOf(() => parseConnectionInput(input))?.startsWith(field)).toBe(true);
  });

  it.each([
    ['a custom connection without its kind', { ...base, issuer: 'https://idp.example.com' }, 'kind'],
    ['an OpenID connection without an issuer', { ...base, kind: 'oidc' }, 'issuer'],
    [
      'an OAuth 2 connection without a token endpoint',
      {
        ...base,
        kind: 'oauth2',
        issuer: 'https://as.example.com',
        authorizationEndpoint: 'https://as.example.com/a',
        userinfoEndpoint: 'https://as.example.com/me',
      },
      'token_endpoint',
    ],
    [
      'an OpenID connection not asking for openid',
      { ...base, kind: 'oidc', issuer: 'https://idp.example.com', scopes: ['email'] },
      'scopes',
    ],
    [
      'no secret',
      { ...base, clientSecret: undefined, kind: 'oidc', issuer: 'https://idp.example.com' },
      'client_secret',
    ],
    [
      'Apple without its team id',
      {
        ...base,
        clientSecret: undefined,
        preset: 'apple',
        privateKey: appleKey().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        options: { keyId: 'ABCDE12345' },
      },
      'options.team_id',
    ],
    ['a preset of another kind', { ...base, preset: 'github', kind: 'oidc' }, 'kind'],
    [
      'a tenant on a preset without tenants',
      { ...base, preset: 'google', options: { tenant: 'common' } },
      'options.tenant',
    ],
  ])('refuses %s across fields', (_label, input, field) => {
    expect(fieldOf(() => settingsOf(input as ConnectionInput))).toBe(field);
  });
});

describe('presets', () => {
  it("Google asks for the Workspace domain and checks the ID token's hd", () => {
    const settings = settingsOf({ ...base, preset: 'google', options: { hostedDomain: 'Corp.Example' } });
    expect(settings).toMatchObject({
      kind: 'oidc',
      issuer: 'https://accounts.google.com',
      authorizationParams: { hd: 'corp.example' },
      hostedDomain: 'corp.example',
    });
    expect(() => checkPresetClaims(settings, { hd: 'corp.example' })).not.toThrow();
    expect(() => checkPresetClaims(settings, { hd: 'other.example' })).toThrow(
      expect.objectContaining({ reason: 'domain_not_allowed' }),
    );
    expect(() => checkPresetClaims(settings, {})).toThrow(expect.objectContaining({ reason: 'domain_not_allowed' }));
  });

  it("Microsoft multi-tenant checks the issuer against the token's tid; a named tenant checks tid", () => {
    const multi = settingsOf({ ...base, preset: 'microsoft', options: { tenant: 'organizations' } });
    expect(multi).toMatchObject({
      issuer: 'https://login.microsoftonline.com/organizations/v2.0',
      tenantIssuerTemplate: 'https://login.microsoftonline.com/{tenantid}/v2.0',
    });
    const tid = '9188040d-6c67-4c5b-b112-36a304b66dad';
    expect(() => checkPresetClaims(multi, { tid, iss: `https://login.microsoftonline.com/${tid}/v2.0` })).not.toThrow();
    expect(() => checkPresetClaims(multi, { tid, iss: 'https://login.microsoftonline.com/another/v2.0' })).toThrow(
      expect.objectContaining({ reason: 'issuer_mismatch' }),
    );
    expect(() => checkPresetClaims(multi, { iss: `https://login.microsoftonline.com/${tid}/v2.0` })).toThrow(
      expect.objectContaining({ reason: 'issuer_mismatch' }),
    );
    const single = settingsOf({ ...base, preset: 'microsoft', options: { tenant: tid.toUpperCase() } });
    expect(single.tenantIssuerTemplate).toBeUndefined();
    expect(() => checkPresetClaims(single, { tid })).not.toThrow();
    expect(() => checkPresetClaims(single, { tid: '00000000-0000-0000-0000-000000000000' })).toThrow(
      expect.objectContaining({ reason: 'issuer_mismatch' }),
    );
  });

  it('GitHub is OAuth 2 with /user and /user/emails; Enterprise moves every URL', () => {
    expect(settingsOf({ ...base, preset: 'github' })).toMatchObject({
      kind: 'oauth2',
      authorizationEndpoint: 'https://github.com/login/oauth/authorize',
      tokenEndpoint: 'https://github.com/login/oauth/access_token',
      userinfoEndpoint: 'https://api.github.com/user',
      emailsEndpoint: 'https://api.github.com/user/emails',
      profile: 'github',
      claims: { subject: 'id' },
    });
    expect(settingsOf({ ...base, preset: 'github', options: { baseUrl: 'https://git.corp.example/' } })).toMatchObject({
      authorizationEndpoint: 'https://git.corp.example/login/oauth/authorize',
      userinfoEndpoint: 'https://git.corp.example/api/v3/user',
    });
  });

  it('GitLab follows its base URL; Discord reads /users/@me with verified; every URL can be overridden', () => {
    expect(
      settingsOf({ ...base, preset: 'gitlab', options: { baseUrl: 'https://gitlab.corp.example' } }),
    ).toMatchObject({ kind: 'oidc', issuer: 'https://gitlab.corp.example' });
    expect(settingsOf({ ...base, preset: 'discord' })).toMatchObject({
      kind: 'oauth2',
      tokenEndpoint: 'https://discord.com/api/oauth2/token',
      userinfoEndpoint: 'https://discord.com/api/users/@me',
      claims: { emailVerified: 'verified', subject: 'id' },
    });
    expect(settingsOf({ ...base, preset: 'discord', tokenEndpoint: 'http://127.0.0.1:9/token' })).toMatchObject({
      tokenEndpoint: 'http://127.0.0.1:9/token',
    });
  });

  it('Apple posts the response back and authenticates with a key', () => {
    const pem = appleKey().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(
      settingsOf({
        ...base,
        clientSecret: undefined,
        preset: 'apple',
        privateKey: pem,
        options: { teamId: 'TEAM123456', keyId: 'KEY1234567' },
      }),
    ).toMatchObject({
      kind: 'oidc',
      issuer: 'https://appleid.apple.com',
      responseMode: 'form_post',
      clientAuth: 'apple',
      scopes: ['openid', 'name', 'email'],
    });
  });
});

describe('Apple client secret', () => {
  it('is an ES256 JWT from the team and key, kept until shortly before it expires', async () => {
    const { privateKey, publicKey } = appleKey();
    const clock = testClock();
    const secrets = createAppleSecrets(clock.now);
    const input = {
      cacheKey: 'apple@1',
      teamId: 'TEAM123456',
      keyId: 'KEY1234567',
      clientId: 'com.example.web',
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      audience: 'https://appleid.apple.com',
    };
    const first = await secrets.secret(input);
    expect(decodeProtectedHeader(first)).toEqual({ alg: 'ES256', kid: 'KEY1234567' });
    const { payload } = await jwtVerify(
      first,
      await importSPKI(publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'ES256'),
      {
        issuer: 'TEAM123456',
        audience: 'https://appleid.apple.com',
        subject: 'com.example.web',
        currentDate: new Date(clock.now()),
      },
    );
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);

    clock.advance(50 * 60 * 1000);
    expect(await secrets.secret(input)).toBe(first);
    clock.advance(6 * 60 * 1000);
    const renewed = await secrets.secret(input);
    expect(renewed).not.toBe(first);
    expect(decodeJwt(renewed).iat).toBeGreaterThan(decodeJwt(first).iat ?? 0);
  });
});
