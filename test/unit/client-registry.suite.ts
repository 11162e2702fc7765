import {
  buildClientMetadata,
  checkRedirectUri,
  newClientRecord,
  type ClientInput,
} from '../../src/clients/client-registry.js';
import { InvalidInputError } from '../../src/errors/domain-errors.js';

/** The field a refusal names (snake_case, as in the admin API), or undefined when nothing is refused. */
function refusedField(build: () => unknown): string | undefined {
  try {
    build();
  } catch (error) {
    if (error instanceof InvalidInputError) return error.field;
    throw error;
  }
  return undefined;
}
import { hashClientSecret } from '../../src/clients/client-secret.js';
import { applicationTypeInput, type ApplicationType } from '../../src/clients/application-types.js';
import { DEVICE_CODE_GRANT } from '../../src/clients/client-flows.js';

const base: ClientInput = {
  name: 'App',
  redirectUris: ['https://app.example.com/cb'],
  postLogoutRedirectUris: [],
  public: false,
  firstParty: false,
  grantTypes: ['authorization_code', 'refresh_token'],
  scope: 'openid email',
};

describe('client registration rules', () => {
  it('accepts https and loopback http redirect URIs', () => {
    expect(checkRedirectUri('redirect-uri', 'https://app.example.com/cb?x=1')).toBe('https://app.example.com/cb?x=1');
    expect(checkRedirectUri('redirect-uri', 'http://127.0.0.1:8080/cb')).toBe('http://127.0.0.1:8080/cb');
    expect(checkRedirectUri('redirect-uri', 'http://localhost/cb')).toBe('http://localhost/cb');
  });

  it.each([
    ['http://app.example.com/cb', /https/],
    ['https://app.example.com/cb#frag', /fragment/],
    ['https://*.example.com/cb', /wildcard/],
    ['/relative', /absolute/],
    ['https://user:pw@app.example.com/cb', /credentials/],
    ['javascript:alert(1)', /https/],
  ])('refuses %s', (uri, reason) => {
    expect(() => checkRedirectUri('redirect-uri', uri)).toThrow(reason);
  });

  it("takes a private_key_jwt client's public keys inline or from an https jwks_uri", () => {
    const jwk = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1' };
    expect(
      buildClientMetadata({ ...base, authMethod: 'private_key_jwt', jwks: { keys: [jwk] } }).metadata.jwks,
    ).toEqual({ keys: [jwk] });
    expect(
      buildClientMetadata({ ...base, authMethod: 'private_key_jwt', jwksUri: 'https://rp.example/jwks' }).metadata
        .jwks_uri,
    ).toBe('https://rp.example/jwks');
  });

  it('builds metadata for confidential and public clients', () => {
    expect(buildClientMetadata(base)).toMatchObject({
      confidential: true,
      metadata: { token_endpoint_auth_method: 'client_secret_basic', response_types: ['code'] },
    });
    expect(buildClientMetadata({ ...base, public: true })).toMatchObject({
      confidential: false,
      metadata: { token_endpoint_auth_method: 'none' },
    });
  });

  it('refuses inconsistent input with the field named', () => {
    expect(() => buildClientMetadata({ ...base, public: true, grantTypes: ['client_credentials'] })).toThrow(
      InvalidInputError,
    );
    expect(refusedField(() => buildClientMetadata({ ...base, grantTypes: ['implicit'] }))).toBe('grant_types');
    expect(refusedField(() => buildClientMetadata({ ...base, scope: 'openid admin' }))).toBe('scope');
    expect(refusedField(() => buildClientMetadata({ ...base, redirectUris: [] }))).toBe('redirect_uris');
    expect(refusedField(() => buildClientMetadata({ ...base, authMethod: 'private_key_jwt' }))).toBe('jwks_uri');
    expect(() =>
      buildClientMetadata({ ...base, authMethod: 'private_key_jwt', jwksUri: 'http://127.0.0.1:9/jwks' }),
    ).toThrow(/https/);
    expect(() => buildClientMetadata({ ...base, authMethod: 'private_key_jwt', jwks: { keys: [] } })).toThrow(
      /JWK Set/,
    );
    expect(() =>
      buildClientMetadata({
        ...base,
        authMethod: 'private_key_jwt',
        jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'secret' }] },
      }),
    ).toThrow(/public keys only/);
    expect(() =>
      buildClientMetadata({
        ...base,
        authMethod: 'private_key_jwt',
        jwks: { keys: [{ kty: 'EC' }] },
        jwksUri: 'https://rp.example/jwks',
      }),
    ).toThrow(/not both/);
    expect(refusedField(() => buildClientMetadata({ ...base, idTokenAlg: 'HS256' }))).toBe(
      'id_token_signed_response_alg',
    );
  });

  it('hashes client secrets deterministically and one-way', () => {
    expect(hashClientSecret('s3cret')).toBe(hashClientSecret('s3cret'));
    expect(hashClientSecret('s3cret')).not.toContain('s3cret');
    expect(hashClientSecret('s3cret')).not.toBe(hashClientSecret('s3cre7'));
  });
});

describe('application types (issue 21)', () => {
  const given = { name: 'App', redirectUris: ['https://app.example.com/cb'] };

  it('fill in the preset, under what the admin gave, and the result passes the client rules', () => {
    const native = applicationTypeInput('native', { ...given, scope: 'openid' });
    expect(native).toMatchObject({
      public: true,
      authMethod: 'none',
      grantTypes: ['authorization_code', 'refresh_token'],
    });
    expect(native.scope).toBe('openid');
    expect(buildClientMetadata(native).confidential).toBe(false);
    const device = applicationTypeInput('device', { name: 'TV', public: false });
    expect(device).toMatchObject({
      authMethod: 'client_secret_basic',
      grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'],
    });
    expect(buildClientMetadata(device).confidential).toBe(true);
  });

  const refusals: Array<[ApplicationType, Partial<ClientInput> & { name: string }, string]> = [
    ['spa', { ...given, authMethod: 'client_secret_post', public: false }, 'token_endpoint_auth_method'],
    ['native', { ...given, public: false }, 'token_endpoint_auth_method'],
    ['web', { ...given, public: true }, 'token_endpoint_auth_method'],
    ['web', { ...given, grantTypes: ['refresh_token'] }, 'grant_types'],
    ['spa', { ...given, grantTypes: ['authorization_code', 'client_credentials'] }, 'grant_types'],
    ['device', { name: 'TV', grantTypes: ['authorization_code'] }, 'grant_types'],
    ['m2m', { name: 'Batch', postLogoutRedirectUris: ['https://app.example.com/bye'] }, 'post_logout_redirect_uris'],
    ['native', { name: 'CLI' }, 'redirect_uris'],
  ];
  it.each(refusals)('a %s refuses %j, naming %s', (type, input, field) => {
    expect(refusedField(() => applicationTypeInput(type, input))).toBe(field);
  });
});

describe('generated client ids', () => {
  // 20,000 ids: with a plain base64url id about 1 in 32 started with "-" or "_" (~625 here).
  const ids = Array.from(
    { length: 20_000 },
    () => newClientRecord({ ...base, public: true, authMethod: 'none' }).record.id,
  );

  it('never start with "-" or "_" (a command line would read "-…" as an option)', () => {
    expect(ids.filter((id) => !/^[A-Za-z0-9]/.test(id))).toEqual([]);
  });

  it('keep at least 128 random bits: 23 url-safe characters, all distinct, every character position varied', () => {
    expect(ids.filter((id) => !/^[A-Za-z0-9][A-Za-z0-9_-]{22}$/.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    // The lead character takes many values, and so does the rest (not a constant prefix).
    expect(new Set(ids.map((id) => id[0])).size).toBeGreaterThan(60);
    expect(new Set(ids.map((id) => id[22])).size).toBeGreaterThan(3);
  });
});
