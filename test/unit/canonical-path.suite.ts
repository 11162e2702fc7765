import Provider from 'oidc-provider';
import { canonicalProviderPath, providerRouteTable } from '../../src/oidc/canonical-path.js';

describe('one spelling per provider endpoint (src/oidc/canonical-path.ts)', () => {
  const provider = new Provider('http://127.0.0.1:3000', {
    routes: { registration: '/reg' },
    features: {
      registration: { enabled: true },
      registrationManagement: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      deviceFlow: { enabled: true },
      pushedAuthorizationRequests: { enabled: true },
      devInteractions: { enabled: false },
    },
  });
  const table = providerRouteTable(provider);

  it('reads the endpoints the provider registered, with their parameters', () => {
    expect([...table.fixed.values()]).toEqual(
      expect.arrayContaining([
        '/auth',
        '/token',
        '/me',
        '/jwks',
        '/reg',
        '/token/introspection',
        '/token/revocation',
        '/request',
        '/session/end',
        '/session/end/confirm',
        '/session/end/success',
        '/device',
        '/device/auth',
        '/.well-known/openid-configuration',
      ]),
    );
    expect(table.parameterised.map((route) => route.segments.join('/'))).toEqual(
      expect.arrayContaining(['/auth/', '/reg/', '/device/']),
    );
  });

  it("gives every spelling the provider routes the endpoint's own", () => {
    const cases: Array<[string, string]> = [
      ['/TOKEN', '/token'],
      ['/Token/', '/token'],
      ['/token/INTROSPECTION/', '/token/introspection'],
      ['/Session/End/Confirm', '/session/end/confirm'],
      ['/.WELL-KNOWN/openid-configuration/', '/.well-known/openid-configuration'],
      ['/token', '/token'],
      ['/REG/Client-A', '/reg/Client-A'],
      ['/reg/%43lient%2DA/', '/reg/Client-A'],
      ['/AUTH/uid-1', '/auth/uid-1'],
      ['/reg/a%2Fb', '/reg/a%2Fb'],
      ['/reg/%zz', '/reg/%25zz'],
      // A fixed route wins over a parameterised one, as in the provider's router.
      ['/DEVICE/AUTH', '/device/auth'],
      ['/device/ABC', '/device/ABC'],
    ];
    for (const [path, canonical] of cases)
      expect({ path, canonical: canonicalProviderPath(path, table) }).toEqual({ path, canonical });
  });

  it('leaves every spelling the provider does not route without an endpoint', () => {
    for (const path of [
      '//token',
      '/%74oken',
      '/token;x',
      '/./token',
      '/token//',
      '/token/../token',
      '/reg//',
      '/reg//x',
      '/reg/a/b',
      // Non-ASCII letters whose upper case is ASCII spell no ASCII route (U+017F, U+0131, U+212A).
      '/reſ',
      '/token/ıntrospection',
      '/jw\u212As',
      '/interaction/abc',
      '/',
    ])
      expect({ path, canonical: canonicalProviderPath(path, table) }).toEqual({ path, canonical: undefined });
  });
});
