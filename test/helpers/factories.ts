import { randomBytes } from 'node:crypto';
import type { UserAdmin } from '../../src/accounts/user-admin.js';
import type { ClientInput, createClientRegistry } from '../../src/oidc/client-registry.js';
import type { UserRow } from '../../src/storage/entities/user.entity.js';

export interface TestUser extends UserRow {
  password: string;
}

export interface TestClient {
  clientId: string;
  clientSecret: string | null;
  redirectUri: string;
  input: ClientInput;
}

export interface Factories {
  buildUser(overrides?: Partial<{ email: string; password: string; name: string | null }>): Promise<TestUser>;
  buildClient(overrides?: Partial<ClientInput>): Promise<TestClient>;
}

export const uniqueEmail = (label = 'user') => `${label}-${randomBytes(5).toString('hex')}@example.test`;

export function createFactories(deps: { users: UserAdmin; clients: ReturnType<typeof createClientRegistry> }): Factories {
  return {
    async buildUser(overrides = {}) {
      const password = overrides.password ?? `pw-${randomBytes(9).toString('base64url')}`;
      const user = await deps.users.create({
        email: overrides.email ?? uniqueEmail(),
        password,
        name: overrides.name === undefined ? 'Test User' : overrides.name,
        totpSecret: null,
      });
      return { ...user, password };
    },
    async buildClient(overrides = {}) {
      const input: ClientInput = {
        name: 'Test RP',
        redirectUris: ['http://127.0.0.1:9999/callback'],
        postLogoutRedirectUris: ['http://127.0.0.1:9999/logged-out'],
        public: false,
        firstParty: true,
        grantTypes: ['authorization_code', 'refresh_token'],
        scope: 'openid profile email offline_access',
        ...overrides,
      };
      const { client, clientSecret } = await deps.clients.register(input);
      return { clientId: client.id, clientSecret, redirectUri: input.redirectUris[0] ?? '', input };
    },
  };
}
