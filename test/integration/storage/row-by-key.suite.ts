import { STORE_BACKENDS } from '../../helpers/backends.js';
import { useTestStorage } from '../../helpers/storage.js';
import { createClientRegistry } from '../../../src/clients/client-registry.js';
import { ClientEntity } from '../../../src/storage/entities/client.entity.js';
import { UserEntity } from '../../../src/storage/entities/user.entity.js';

/** The raw primary-key reads give exactly the rows TypeORM's findOneBy gives. */
describe.each(STORE_BACKENDS)('rows by key (%s)', (backend) => {
  const opened = useTestStorage(backend);

  it('reads a client as findOneBy does', async () => {
    const { storage } = opened();
    const { client } = await createClientRegistry(storage.clients).register({
      name: 'rows',
      redirectUris: ['https://rp.example.test/cb'],
      postLogoutRedirectUris: [],
      public: false,
      firstParty: true,
      grantTypes: ['authorization_code', 'refresh_token'],
      scope: 'openid offline_access',
    });
    const viaTypeorm = await storage.dataSource.manager.getRepository(ClientEntity).findOneBy({ id: client.id });
    expect(await storage.clients.find(client.id)).toEqual(viaTypeorm);
    expect(await storage.clients.find('no-such-client')).toBeNull();
  });

  it('reads a user as findOneBy does, disabled or not', async () => {
    const { storage } = opened();
    const user = await storage.users.create({
      email: `Rows-${Date.now()}@example.test`,
      name: null,
      passwordHash: null,
      emailVerified: true,
      totpSecretEncrypted: null,
    });
    const repository = storage.dataSource.manager.getRepository(UserEntity);
    expect(await storage.users.findById(user.id)).toEqual(await repository.findOneBy({ id: user.id }));
    await storage.users.setDisabled(user.id, true);
    const disabled = await storage.users.findById(user.id);
    expect(disabled).toEqual(await repository.findOneBy({ id: user.id }));
    expect(disabled?.disabledAt).toBeInstanceOf(Date);
    expect(await storage.users.findById('00000000-0000-4000-8000-000000000000')).toBeNull();
  });

  it("reads a password sign-in's user by any spelling of the email, with its password hash", async () => {
    const { storage } = opened();
    const stamp = Date.now();
    const withPassword = await storage.users.create({
      email: `Sign-In-${stamp}@example.test`,
      name: 'Signer',
      passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
      emailVerified: true,
      totpSecretEncrypted: null,
    });
    const withoutPassword = await storage.users.create({
      email: `no-password-${stamp}@example.test`,
      name: null,
      passwordHash: null,
      emailVerified: false,
      totpSecretEncrypted: null,
    });
    const repository = storage.dataSource.manager.getRepository(UserEntity);
    const found = await storage.users.findByEmailWithPasswordHash(`  sign-in-${stamp}@EXAMPLE.test `);
    expect(found?.user).toEqual(await repository.findOneBy({ id: withPassword.id }));
    expect(found?.passwordHash).toBe(await storage.users.passwordHash(withPassword.id));
    expect(found?.passwordHash).toMatch(/^\$argon2id\$/);
    const bare = await storage.users.findByEmailWithPasswordHash(withoutPassword.email);
    expect(bare?.user.id).toBe(withoutPassword.id);
    expect(bare?.passwordHash).toBeNull();
    expect(await storage.users.findByEmailWithPasswordHash(`nobody-${stamp}@example.test`)).toBeNull();
    expect(await storage.users.findByEmailWithPasswordHash(`sign-in-${stamp}@example.test\u0000`)).toBeNull();
  });
});
