import Provider from 'oidc-provider';
import { canonicalProviderPath, providerRouteTable } from '../../src/oidc/canonical-path.js';
import { EDGE_COVERAGE } from '../../src/oidc/protocol-edge.js';
import { ROUTES } from '../../src/oidc/routes.js';

describe('the protocol edge covers endpoints the provider serves (src/oidc/protocol-edge.ts)', () => {
  // The features Gatehouse turns on (src/oidc/options.ts), with the routes it hands the provider.
  const provider = new Provider('http://127.0.0.1:3000', {
    routes: ROUTES,
    features: {
      registration: { enabled: true },
      registrationManagement: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      pushedAuthorizationRequests: { enabled: true },
      deviceFlow: { enabled: true },
      devInteractions: { enabled: false },
    },
  });
  const table = providerRouteTable(provider);

  it('gives the provider the paths the guards read', () => {
    for (const name of [
      'authorization',
      'token',
      'userinfo',
      'jwks',
      'registration',
      'introspection',
      'revocation',
      'end_session',
      'pushed_authorization_request',
    ] as const) {
      expect({ name, path: provider.pathFor(name, { mountPath: '' }) }).toEqual({ name, path: ROUTES[name] });
    }
  });

  it('names only endpoints the provider routes, each in its canonical spelling', () => {
    const covered = Object.values(EDGE_COVERAGE).flatMap((covers) => (covers === 'any' ? [] : [...covers]));
    expect(covered.length).toBeGreaterThan(5);
    for (const path of covered) {
      const concrete = path.replace('/:clientId', '/some-client');
      expect({ path, canonical: canonicalProviderPath(concrete, table) }).toEqual({ path, canonical: concrete });
    }
    // A path the provider does not serve would be caught: the check is not vacuous.
    expect(canonicalProviderPath('/token/not-an-endpoint', table)).toBeUndefined();
  });
});
