import type pg from 'pg';
import { STORE_BACKENDS } from '../../helpers/backends.js';
import { announcement, openTestStorage, otherWriter, registerStorageClient } from '../../helpers/storage.js';
import type { ChangeEvent } from '../../../src/storage/change-feed.js';
import { BOOT_TIMEOUT } from '../../helpers/sessions.js';
import { poolAcquires } from '../../helpers/statement-log.js';

/**
 * Client rows kept in memory between requests (src/storage/row-cache.ts): read from the
 * database once, then served from memory until a committed change to the row is announced
 * (migrations/1765843200000-change-notifications.ts), by this process or anyone else.
 */
describe.each(STORE_BACKENDS)('client rows kept in memory between requests (%s)', (backend) => {
  let opened: Awaited<ReturnType<typeof openTestStorage>>;
  let writer: pg.Client;
  let clientId: string;
  const events: ChangeEvent[] = [];

  /** Resolves when the feed has announced a change to `id` (PostgreSQL delivers it after the commit). */
  const announced = (id: string, table = 'clients') => announcement(opened.storage.changes, table, id);
  /** Connections the storage takes from its pool for `read`: 0 when the row came from memory. */
  let acquires: ReturnType<typeof poolAcquires>;
  const connectionsFor = (read: () => Promise<unknown>) => acquires.during(read);

  beforeAll(async () => {
    opened = await openTestStorage(backend, { keepRows: true });
    clientId = await registerStorageClient(opened.storage.clients, 'kept');
    opened.storage.changes.subscribe((event) => events.push(event));
    // Every statement outside a transaction takes a connection from the pool first.
    acquires = poolAcquires(opened.storage.dataSource);
    writer = otherWriter(backend, opened.config);
    await writer.connect();
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await writer?.end();
    await opened?.dispose();
  });

  it('the feed is live, and a second read of a client sends nothing to the database', async () => {
    expect(opened.storage.changes.isLive()).toBe(true);
    await opened.storage.clients.find(clientId);
    expect(await connectionsFor(() => opened.storage.clients.find(clientId))).toBe(0);
    // A client that does not exist is asked for again each time: absence is never kept.
    expect(await opened.storage.clients.find('no-such-client')).toBeNull();
    expect(await connectionsFor(() => opened.storage.clients.find('no-such-client'))).toBe(1);
  });

  it('a client disabled by another connection is read disabled as soon as the change is announced', async () => {
    expect((await opened.storage.clients.find(clientId))?.status).toBe('active');
    const change = announced(clientId);
    await writer.query(`UPDATE clients SET status = 'disabled' WHERE id = $1`, [clientId]);
    await change;
    expect((await opened.storage.clients.find(clientId))?.status).toBe('disabled');
    const back = announced(clientId);
    await writer.query(`UPDATE clients SET status = 'active' WHERE id = $1`, [clientId]);
    await back;
  });

  it('a change rolled back by another connection is not announced, and what was kept stays', async () => {
    await opened.storage.clients.find(clientId);
    const before = events.length;
    await writer.query('BEGIN');
    await writer.query(`UPDATE clients SET name = 'never' WHERE id = $1`, [clientId]);
    await writer.query('ROLLBACK');
    // A committed change after it is: the rolled-back one came first, had it been announced.
    const change = announced(clientId);
    await writer.query(`UPDATE clients SET name = 'kept again' WHERE id = $1`, [clientId]);
    await change;
    expect(events.slice(before).filter((e) => e !== 'reset' && e.id === clientId)).toHaveLength(1);
    expect((await opened.storage.clients.find(clientId))?.name).toBe('kept again');
  });

  it('our own update is read at once, inside its transaction and after it, and a rolled-back one is not kept', async () => {
    await opened.storage.clients.find(clientId);
    await opened.storage.transaction(async (tx) => {
      await tx.clients.update(clientId, { name: 'inside' });
      expect((await tx.clients.find(clientId))?.name).toBe('inside');
    });
    expect((await opened.storage.clients.find(clientId))?.name).toBe('inside');
    await expect(
      opened.storage.transaction(async (tx) => {
        await tx.clients.update(clientId, { name: 'rolled back' });
        expect((await tx.clients.find(clientId))?.name).toBe('rolled back');
        throw new Error('abandon');
      }),
    ).rejects.toThrow('abandon');
    expect((await opened.storage.clients.find(clientId))?.name).toBe('inside');
  });

  it('user rows too: disabled elsewhere, changed here inside a transaction, their attributes rewritten', async () => {
    const from = events.length;
    const user = await opened.storage.users.create({
      email: `kept-${backend}@example.test`,
      name: 'Kept',
      emailVerified: true,
      passwordHash: null,
      totpSecretEncrypted: null,
    });
    // Its INSERT is announced too (at once on the embedded database, a moment later from PostgreSQL):
    // a read overtaken by that announcement keeps nothing, so read once it has come.
    const inserted = (e: ChangeEvent) => e !== 'reset' && e.table === 'users' && e.id === user.id;
    if (!events.slice(from).some(inserted)) await announced(user.id, 'users');
    await opened.storage.users.findById(user.id);
    expect(await connectionsFor(() => opened.storage.users.findById(user.id))).toBe(0);
    const change = announced(user.id, 'users');
    await writer.query('UPDATE users SET disabled_at = now() WHERE id = $1', [user.id]);
    await change;
    expect((await opened.storage.users.findById(user.id))?.disabledAt).toBeInstanceOf(Date);
    await opened.storage.transaction(async (tx) => {
      await tx.users.update(user.id, { name: 'Renamed' });
      expect((await tx.users.findById(user.id))?.name).toBe('Renamed');
    });
    expect((await opened.storage.users.findById(user.id))?.name).toBe('Renamed');
    await opened.storage.attributes.setValues(user.id, { team: 'blue' });
    expect((await opened.storage.users.findById(user.id))?.attributes).toEqual({ team: 'blue' });
  });

  it('the connections list is kept whole: a row added, disabled or changed by anyone drops it, a rolled-back change does not', async () => {
    const list = () => opened.storage.connections.list();
    const row = (id: string, position: number) => ({
      id,
      displayName: `Upstream ${id}`,
      kind: 'oidc' as const,
      preset: null,
      enabled: true,
      position,
      settings: {},
      secretSealed: null,
    });
    // Our own INSERT is announced too: a read overtaken by that announcement keeps nothing.
    const created = announced('kept-one', 'connections');
    await opened.storage.connections.create(row('kept-one', 1));
    await created;
    expect((await list()).map((c) => c.id)).toEqual(['kept-one']);
    expect(await connectionsFor(list)).toBe(0);
    expect(Object.isFrozen(await list())).toBe(true);
    expect(Object.isFrozen((await list())[0]?.settings)).toBe(true);

    const added = announced('kept-two', 'connections');
    await writer.query(
      `INSERT INTO connections (id, display_name, kind, position) VALUES ('kept-two', 'Upstream kept-two', 'oidc', 2)`,
    );
    await added;
    expect((await list()).map((c) => c.id)).toEqual(['kept-one', 'kept-two']);
    const disabled = announced('kept-one', 'connections');
    await writer.query(`UPDATE connections SET enabled = false WHERE id = 'kept-one'`);
    await disabled;
    expect((await list()).map((c) => [c.id, c.enabled])).toEqual([
      ['kept-one', false],
      ['kept-two', true],
    ]);

    const before = events.length;
    await writer.query('BEGIN');
    await writer.query(`DELETE FROM connections WHERE id = 'kept-two'`);
    await writer.query('ROLLBACK');
    // A committed change after it is: the rolled-back one came first, had it been announced.
    const renamed = announced('kept-two', 'connections');
    await writer.query(`UPDATE connections SET display_name = 'Renamed elsewhere' WHERE id = 'kept-two'`);
    await renamed;
    expect(events.slice(before).filter((e) => e !== 'reset' && e.table === 'connections')).toHaveLength(1);
    expect((await list()).map((c) => c.displayName)).toEqual(['Upstream kept-one', 'Renamed elsewhere']);
  });

  it('our own connection writes are read at once, inside their transaction and after it; a rolled-back one is not kept', async () => {
    const list = () => opened.storage.connections.list();
    const names = async () => (await list()).map((c) => c.displayName);
    const [first] = await list();
    if (!first) throw new Error('the previous test made the connections');
    await opened.storage.transaction(async (tx) => {
      await tx.connections.update({ ...first, displayName: 'Inside' });
      expect((await tx.connections.list()).map((c) => c.displayName)).toContain('Inside');
    });
    // Not waiting for PostgreSQL's announcement: this process dropped the list when the transaction ended.
    expect(await names()).toContain('Inside');
    await expect(
      opened.storage.transaction(async (tx) => {
        await tx.connections.create({ ...first, id: 'kept-never', position: 9 });
        expect((await tx.connections.list()).map((c) => c.id)).toContain('kept-never');
        throw new Error('abandon');
      }),
    ).rejects.toThrow('abandon');
    expect((await list()).map((c) => c.id)).not.toContain('kept-never');
    await opened.storage.connections.delete(first.id);
    expect((await list()).map((c) => c.id)).not.toContain(first.id);
  });

  it('a deleted client is not found, and a row kept is never a shared object anyone can change', async () => {
    const row = await opened.storage.clients.find(clientId);
    expect(Object.isFrozen(row)).toBe(true);
    expect(Object.isFrozen(row?.metadata)).toBe(true);
    const change = announced(clientId);
    await writer.query('DELETE FROM clients WHERE id = $1', [clientId]);
    await change;
    expect(await opened.storage.clients.find(clientId)).toBeNull();
  });
});

/** PostgreSQL's feed is a connection of its own, which can be lost while the pool works. */
describe.each(STORE_BACKENDS.filter((b) => b === 'postgres'))(
  'client rows while the change feed is down (%s)',
  (backend) => {
    let opened: Awaited<ReturnType<typeof openTestStorage>>;
    let admin: pg.Client;
    let clientId: string;
    let acquires: ReturnType<typeof poolAcquires>;
    /** The feed's events, as they come. */
    const next = (wanted: (event: ChangeEvent) => boolean) =>
      new Promise<void>((resolve) => {
        const stop = opened.storage.changes.subscribe((event) => {
          if (!wanted(event)) return;
          stop();
          resolve();
        });
      });

    beforeAll(async () => {
      opened = await openTestStorage(backend, { keepRows: true });
      clientId = await registerStorageClient(opened.storage.clients, 'feed down');
      acquires = poolAcquires(opened.storage.dataSource);
      admin = otherWriter(backend, opened.config);
      await admin.connect();
    }, BOOT_TIMEOUT);
    afterAll(async () => {
      await admin?.end();
      await opened?.dispose();
    });

    it('reads every client from the database until it listens again, then keeps rows afresh', async () => {
      await opened.storage.clients.find(clientId);
      await opened.storage.connections.list();
      const lost = next((event) => event === 'reset');
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE application_name = 'gatehouse-change-feed' AND datname = current_database()`,
      );
      await lost;
      expect(opened.storage.changes.isLive()).toBe(false);
      // A change made while nobody listens would go unannounced: nothing may be served from memory.
      await admin.query(`UPDATE clients SET name = 'changed unheard' WHERE id = $1`, [clientId]);
      const reads = await acquires.during(async () => {
        expect((await opened.storage.clients.find(clientId))?.name).toBe('changed unheard');
        expect((await opened.storage.clients.find(clientId))?.name).toBe('changed unheard');
      });
      expect(reads).toBe(2);
      // The connections list too: a connection added meanwhile is listed at once.
      await admin.query(`INSERT INTO connections (id, display_name, kind) VALUES ('unheard', 'Unheard', 'oidc')`);
      expect((await opened.storage.connections.list()).map((c) => c.id)).toEqual(['unheard']);

      // It connects again on its own (after half a second) and starts with nothing kept.
      await next((event) => event === 'reset');
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(opened.storage.changes.isLive()).toBe(true);
      await opened.storage.clients.find(clientId);
      const again = await acquires.during(async () => {
        expect((await opened.storage.clients.find(clientId))?.name).toBe('changed unheard');
      });
      expect(again).toBe(0);
    });
  },
);
