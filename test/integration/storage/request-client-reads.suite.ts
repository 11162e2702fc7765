import { STORE_BACKENDS } from '../../helpers/backends.js';
import { openTestStorage, registerStorageClient } from '../../helpers/storage.js';
import { createRequestClientReads } from '../../../src/oidc/request-client-reads.js';
import type { ClientsRepository } from '../../../src/storage/clients.repository.js';
import { BOOT_TIMEOUT } from '../../helpers/sessions.js';

/**
 * The client memo lives for one request only: another request (on this replica or any
 * other) reads the row again, so a replaced secret or a removed client counts at once.
 */
describe.each(STORE_BACKENDS)('client rows read once per request (%s)', (backend) => {
  let opened: Awaited<ReturnType<typeof openTestStorage>>;
  let clientId: string;
  let reads: number;
  let counted: Pick<ClientsRepository, 'find'>;
  beforeAll(async () => {
    opened = await openTestStorage(backend);
    clientId = await registerStorageClient(opened.storage.clients, 'memo');
    // The real repository, counting the statements it is asked for.
    counted = {
      find: (id) => {
        reads++;
        return opened.storage.clients.find(id);
      },
    };
  }, BOOT_TIMEOUT);
  beforeEach(() => {
    reads = 0;
  });
  afterAll(async () => {
    await opened?.dispose();
  });

  it('reads the row once for the pending check and the provider of one request', async () => {
    const memo = createRequestClientReads(counted);
    const request = {};
    expect(await memo.statusOf(clientId, request)).toBe('active');
    const row = await memo.find(clientId, request);
    expect(row?.id).toBe(clientId);
    expect(await memo.find(clientId, request)).toBe(row);
    expect(reads).toBe(1);
  });

  it('a later request sees a secret replaced and a client removed since the earlier one', async () => {
    const memo = createRequestClientReads(counted);
    const earlier = {};
    const before = await memo.find(clientId, earlier);
    await opened.storage.clients.update(clientId, { secretHash: 'replaced-digest' });
    expect((await memo.find(clientId, {}))?.secretHash).toBe('replaced-digest');
    expect(before?.secretHash).not.toBe('replaced-digest');

    await opened.storage.clients.update(clientId, { status: 'pending' });
    expect(await memo.statusOf(clientId, {})).toBe('pending');
    await opened.storage.clients.update(clientId, { status: 'active' });
    expect(reads).toBe(3);
  });

  it('forgets what a request read once that request wrote the client', async () => {
    const memo = createRequestClientReads(counted);
    const request = {};
    await memo.find(clientId, request);
    await opened.storage.clients.update(clientId, { name: 'renamed' });
    memo.forget(clientId, request);
    expect((await memo.find(clientId, request))?.name).toBe('renamed');
    expect(reads).toBe(2);
  });

  it('outside a request every call reads the table', async () => {
    const memo = createRequestClientReads(counted);
    await memo.find(clientId);
    await memo.find(clientId);
    expect(reads).toBe(2);
  });
});
