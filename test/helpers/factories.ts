import { randomBytes } from 'node:crypto';
import type { UsersAdmin } from '../../src/admin/users.service.js';
import type { AdminActor } from '../../src/security/admin-actor.js';
import type { ClientInput, createClientRegistry } from '../../src/clients/client-registry.js';
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

/** Fixtures are made as an operator on the host would make them. */
export const TEST_ACTOR: AdminActor = { userId: null, clientId: null, origin: { userAgent: 'test-factory' } };

export function createFactories(deps: {
  users: UsersAdmin;
  clients: ReturnType<typeof createClientRegistry>;
}): Factories {
  return {
    async buildUser(overrides = {}) {
      const password = overrides.password ?? `pw-${randomBytes(9).toString('base64url')}`;
      const user = await deps.users.create(
        {
          email: overrides.email ?? uniqueEmail(),
          password,
          name: overrides.name === undefined ? 'Test User' : overrides.name,
        },
        TEST_ACTOR,
      );
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
