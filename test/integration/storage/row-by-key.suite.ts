import { STORE_BACKENDS } from '../../helpers/backends.js';
import { openTestStorage } from '../../helpers/storage.js';
import { createClientRegistry } from '../../../src/clients/client-registry.js';
import { ClientEntity } from '../../../src/storage/entities/client.entity.js';
import { UserEntity } from '../../../src/storage/entities/user.entity.js';
import { BOOT_TIMEOUT } from '../../helpers/sessions.js';

/** The raw primary-key reads give exactly the rows TypeORM's findOneBy gives. */
describe.each(STORE_BACKENDS)('rows by key (%s)', (backend) => {
  let opened: Awaited<ReturnType<typeof openTestStorage>>;
  beforeAll(async () => {
    opened = await openTestStorage(backend);
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await opened?.dispose();
  });

  it('reads a client as findOneBy does', async () => {
    const { storage } = opened;
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
    const { storage } = opened;
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
});
