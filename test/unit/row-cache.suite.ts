import type { EntityManager, QueryRunner } from 'typeorm';
import { ALL, createRowCache } from '../../src/storage/row-cache.js';
import type { ChangeEvent, ChangeFeed } from '../../src/storage/change-feed.js';

/**
 * The rules of src/storage/row-cache.ts on their own, with a feed driven by hand (the real
 * feeds and databases are in test/integration/storage/kept-rows.suite.ts).
 */
function handFeed() {
  const listeners = new Set<(event: ChangeEvent) => void>();
  let live = true;
  const feed: ChangeFeed = {
    isLive: () => live,
    ready: async () => undefined,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: async () => undefined,
  };
  return {
    feed,
    announce: (event: ChangeEvent) => listeners.forEach((listener) => listener(event)),
    setLive: (value: boolean) => {
      live = value;
    },
  };
}

/** A pooled EntityManager (no transaction), and one whose transaction is open until `end()`. */
const pooled = {} as EntityManager;
function inTransaction() {
  const runner = { isTransactionActive: true, isReleased: false } as QueryRunner;
  return {
    runner,
    manager: { queryRunner: runner } as unknown as EntityManager,
    end: () => Object.assign(runner, { isTransactionActive: false, isReleased: true }),
  };
}

interface Row {
  id: string;
  name: string;
  nested: { value: number };
}

describe('rows kept in memory (row-cache)', () => {
  let loads = 0;
  const loader = (name: string) => async (): Promise<Row> => {
    loads++;
    return { id: 'a', name, nested: { value: 1 } };
  };
  beforeEach(() => {
    loads = 0;
  });

  it('keeps a row read once, frozen to the bottom, and never keeps an absent one', async () => {
    const cache = createRowCache<Row>(handFeed().feed, 'clients');
    const row = await cache.read('a', loader('first'));
    expect(await cache.read('a', loader('second'))).toBe(row);
    expect(loads).toBe(1);
    expect(Object.isFrozen(row?.nested)).toBe(true);
    await cache.read('missing', async () => null);
    await cache.read('missing', async () => null);
    let misses = 0;
    await cache.read('missing', async () => {
      misses++;
      return null;
    });
    expect(misses).toBe(1);
  });

  it('drops a row on its announcement, on a table-wide one and on reset; other tables are not its business', async () => {
    const { feed, announce } = handFeed();
    const cache = createRowCache<Row>(feed, 'clients');
    await cache.read('a', loader('v1'));
    announce({ table: 'users', id: 'a' });
    expect((await cache.read('a', loader('v2')))?.name).toBe('v1');
    announce({ table: 'clients', id: 'a' });
    expect((await cache.read('a', loader('v2')))?.name).toBe('v2');
    announce({ table: 'clients', id: '*' });
    expect((await cache.read('a', loader('v3')))?.name).toBe('v3');
    announce('reset');
    expect((await cache.read('a', loader('v4')))?.name).toBe('v4');
  });

  it('a read overtaken by an announcement keeps nothing: its row may predate the change', async () => {
    const { feed, announce } = handFeed();
    const cache = createRowCache<Row>(feed, 'clients');
    let release: () => void = () => undefined;
    const slow = cache.read('a', async () => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return { id: 'a', name: 'stale', nested: { value: 0 } };
    });
    announce({ table: 'clients', id: 'a' });
    release();
    expect((await slow)?.name).toBe('stale');
    expect((await cache.read('a', loader('fresh')))?.name).toBe('fresh');
  });

  it('serves and keeps nothing while the feed is not live, and starts empty when it is again', async () => {
    const { feed, setLive } = handFeed();
    const cache = createRowCache<Row>(feed, 'clients');
    await cache.read('a', loader('kept'));
    setLive(false);
    expect((await cache.read('a', loader('down 1')))?.name).toBe('down 1');
    expect((await cache.read('a', loader('down 2')))?.name).toBe('down 2');
    setLive(true);
    expect((await cache.read('a', loader('up')))?.name).toBe('up');
    expect(loads).toBe(4);
  });

  it("a transaction's write keeps the row out until the transaction has ended", async () => {
    const cache = createRowCache<Row>(handFeed().feed, 'clients');
    await cache.read('a', loader('before'));
    const tx = inTransaction();
    cache.writing(tx.manager, 'a');
    cache.wrote(tx.manager, 'a');
    // Anyone's read meanwhile goes to the database (the transaction reads its own write there) and is not kept.
    expect((await cache.read('a', loader('during 1')))?.name).toBe('during 1');
    expect((await cache.read('a', loader('during 2')))?.name).toBe('during 2');
    cache.settle(tx.runner); // still open: nothing settles
    expect((await cache.read('a', loader('during 3')))?.name).toBe('during 3');
    tx.end();
    cache.settle(tx.runner);
    await cache.read('a', loader('after'));
    expect((await cache.read('a', loader('not read')))?.name).toBe('after');
  });

  it('a pooled write drops the row before and after its statement', async () => {
    const cache = createRowCache<Row>(handFeed().feed, 'clients');
    await cache.read('a', loader('old'));
    cache.writing(pooled, 'a');
    // A read racing the statement may see the old row: it may be kept, but the write's end drops it.
    await cache.read('a', loader('racing'));
    cache.wrote(pooled, 'a');
    expect((await cache.read('a', loader('new')))?.name).toBe('new');
  });
  it('a table kept whole is dropped by a change to any of its rows, and kept out while a transaction writes any', async () => {
    const { feed, announce } = handFeed();
    const cache = createRowCache<Row[]>(feed, 'connections', { wholeTable: true });
    let lists = 0;
    const list = (name: string) => async () => {
      lists++;
      return [{ id: 'a', name, nested: { value: 1 } }];
    };
    const nameOf = async (name: string) => (await cache.read(ALL, list(name)))?.[0]?.name;
    expect(await nameOf('v1')).toBe('v1');
    expect(await nameOf('not read')).toBe('v1');
    announce({ table: 'clients', id: 'b' });
    expect(await nameOf('not read')).toBe('v1');
    announce({ table: 'connections', id: 'b' });
    expect(await nameOf('v2')).toBe('v2');
    cache.writing(pooled, 'c');
    cache.wrote(pooled, 'c');
    expect(await nameOf('v3')).toBe('v3');
    const tx = inTransaction();
    cache.writing(tx.manager, 'd');
    cache.wrote(tx.manager, 'd');
    expect(await nameOf('during 1')).toBe('during 1');
    expect(await nameOf('during 2')).toBe('during 2');
    tx.end();
    cache.settle(tx.runner);
    expect(await nameOf('after')).toBe('after');
    expect(await nameOf('not read')).toBe('after');
    // An empty table is a list too, and kept: most deployments have no connections.
    announce({ table: 'connections', id: '*' });
    let empties = 0;
    const empty = async () => {
      empties++;
      return [];
    };
    await cache.read(ALL, empty);
    await cache.read(ALL, empty);
    expect(empties).toBe(1);
    expect(lists).toBe(6);
  });
});
