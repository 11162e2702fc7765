import { deviceSnippets, type IntegrationValues } from '../../src/web/admin/integration-snippets.js';

/** The integration page's snippet for a device client (RFC 8628), with the client's own values. */
describe("a device client's integration snippet", () => {
  const values: IntegrationValues = {
    issuer: 'https://id.example.test',
    discoveryUrl: 'https://id.example.test/.well-known/openid-configuration',
    clientId: 'tv-app',
    redirectUri: undefined,
    postLogoutRedirectUri: undefined,
    scope: 'openid profile',
    authMethod: 'none',
  };

  it('asks for the client with its scope, shows where to go, and polls for the tokens', () => {
    const [snippet] = deviceSnippets(values);
    expect(snippet?.code).toContain(`client.discovery(new URL("https://id.example.test"), "tv-app"`);
    expect(snippet?.code).toContain('initiateDeviceAuthorization(config, { scope: "openid profile" })');
    expect(snippet?.code).toContain('started.verification_uri');
    expect(snippet?.code).toContain('pollDeviceAuthorizationGrant(config, started)');
  });

  it('keeps a value that would end its string literal inside it', () => {
    const [snippet] = deviceSnippets({ ...values, clientId: 'tv"); process.exit(1); ("', scope: 'openid "x' });
    expect(snippet?.code).toContain(String.raw`"tv\"); process.exit(1); (\""`);
    expect(snippet?.code).toContain(String.raw`{ scope: "openid \"x" }`);
    expect(snippet?.code).not.toContain('"tv");');
  });
});
