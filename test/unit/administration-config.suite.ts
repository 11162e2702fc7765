import { loadConfig } from '../../src/config/load.js';
import type { ConfigOverrides } from '../../src/config/schema.js';
import { configProblems } from '../helpers/config-problems.js';

const problemsOf = (overrides: ConfigOverrides): string[] => configProblems({}, overrides);

/** The administration settings: defaults that are safe, and a clear line for each bad value. */
describe('administration configuration', () => {
  it('defaults to a second factor for the console, a year of audit events, and registration off but held for approval', () => {
    const config = loadConfig({});
    expect(config.admin).toEqual({ consoleMfa: 'required' });
    expect(config.audit).toEqual({ retentionDays: 365 });
    expect(config.registration).toMatchObject({ enabled: false, requireApproval: true });
  });

  it('refuses bad values, one line per key', () => {
    const problems = problemsOf({
      admin: { consoleMfa: 'sometimes' as 'optional' },
      audit: { retentionDays: -1 },
      registration: {
        enabled: true,
        requireApproval: true,
        initialAccessTokenTtlSeconds: 0,
        policy: {
          grantTypes: ['implicit' as 'authorization_code'],
          scopes: [],
          authMethods: ['client_secret_basic'],
          maxRedirectUris: 0,
        },
      },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^admin\.consoleMfa: /),
        expect.stringMatching(/^audit\.retentionDays: /),
        expect.stringMatching(/^registration\.initialAccessTokenTtlSeconds: /),
        expect.stringMatching(/^registration\.policy\.grantTypes\.0: /),
        expect.stringMatching(/^registration\.policy\.scopes: /),
        expect.stringMatching(/^registration\.policy\.maxRedirectUris: /),
      ]),
    );
  });
});
