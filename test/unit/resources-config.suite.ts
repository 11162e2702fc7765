import { loadConfig, ConfigError } from '../../src/config/load.js';
import type { ConfigOverrides } from '../../src/config/schema.js';

function problemsOf(overrides: ConfigOverrides): string[] {
  try {
    loadConfig({}, overrides);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const api = {
  indicator: 'https://api.example.test/orders',
  scopes: ['orders:read'],
  accessTokenTtl: 300,
  format: 'jwt' as const,
};

describe('resources configuration', () => {
  it('defaults to no resources and accepts a well-formed one', () => {
    expect(loadConfig({}).resources).toEqual([]);
    expect(loadConfig({}, { resources: [{ ...api, audience: 'urn:example:orders' }] }).resources).toEqual([
      { ...api, audience: 'urn:example:orders' },
    ]);
  });

  it('refuses a bad resource at boot, one line per problem', () => {
    const problems = problemsOf({
      resources: [
        { ...api, indicator: 'http://api.example.test/' },
        { ...api, indicator: 'https://api.example.test/x#frag' },
        { ...api, indicator: 'https://other.example.test/', scopes: ['openid', 'has space'] },
        { ...api, indicator: 'https://third.example.test/', scopes: [], accessTokenTtl: 0 },
        api,
        api,
      ] as ConfigOverrides['resources'],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^resources\.0\.indicator: /),
        'resources.1.indicator: must not contain a fragment',
        'resources.2.scopes.0: must not be an OpenID scope',
        'resources.2.scopes.1: must be a scope token (no spaces or quotes)',
        expect.stringMatching(/^resources\.3\.scopes: /),
        expect.stringMatching(/^resources\.3\.accessTokenTtl: /),
        'resources.5.indicator: https://api.example.test/orders is listed twice',
      ]),
    );
  });

  it('refuses a format other than jwt', () => {
    const problems = problemsOf({
      resources: [{ ...api, format: 'opaque' }] as unknown as ConfigOverrides['resources'],
    });
    expect(problems).toEqual([expect.stringMatching(/^resources\.0\.format: /)]);
  });
});
