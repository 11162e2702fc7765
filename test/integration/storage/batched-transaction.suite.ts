import { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestStorage } from '../../helpers/storage.js';
import { statementLog } from '../../helpers/statement-log.js';
import { batchTransaction, type PgClient } from '../../../src/storage/batched-transaction.js';

/**
 * Socket writes made while `work` runs, on every client socket of the process: what a round
 * trip to the database costs us (src/storage/batched-transaction.ts). Nothing else talks
 * meanwhile; the embedded database's own socket server (same process) answers on sockets a
 * server accepted, which are not counted.
 */
async function socketWritesDuring(work: () => Promise<unknown>): Promise<number> {
  const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
  const original = { write: proto._write, writev: proto._writev };
  let writes = 0;
  const accepted = (socket: Socket) => Boolean((socket as unknown as { _server?: unknown })._server);
  proto._write = function (this: Socket, ...args: unknown[]) {
    if (!accepted(this)) writes++;
    return original.write.apply(this, args);
  };
  proto._writev = function (this: Socket, ...args: unknown[]) {
    if (!accepted(this)) writes++;
    return original.writev.apply(this, args);
  };
  try {
    await work();
  } finally {
    proto._write = original.write;
    proto._writev = original.writev;
  }
  return writes;
}

const token = (id: string) => ({
  model: 'AccessToken',
  id,
  payload: { jti: id, kind: 'AccessToken', grantId: `grant-${id}`, accountId: 'someone' },
  expiresInSeconds: 600,
});

/**
 * A token request's transaction (storage.inRequestTransaction) holds its BEGIN back until its
 * first statement and its token saves until its next statement or its COMMIT, and sends each
 * group in one socket write: the refresh rotation's shape (a lookup, a consume, two saves).
 */
describe.each(HTTP_BACKENDS)('request transactions in fewer round trips (%s)', (backend) => {
  const opened = useTestStorage(backend);
  const storage = () => opened().storage;
  const keepIt = () => true;

  it('a lookup, a consume and two saves: three socket writes where there were six, all committed', async () => {
    const [old, next, access] = [randomUUID(), randomUUID(), randomUUID()];
    await storage().oidc.upsert({ ...token(old), model: 'RefreshToken' });
    // Warm: each connection prepares a statement once, which is not what is counted.
    for (let i = 0; i < 4; i++) {
      await storage().inRequestTransaction(async () => {
        await storage().oidc.find('RefreshToken', randomUUID());
        await storage().oidc.consume('RefreshToken', randomUUID());
        await storage().oidc.upsert(token(randomUUID()));
      }, keepIt);
    }
    const writes = await socketWritesDuring(() =>
      storage().inRequestTransaction(async () => {
        expect(await storage().oidc.find('RefreshToken', old)).toBeDefined();
        expect((await storage().oidc.consume('RefreshToken', old)).outcome).toBe('consumed');
        await storage().oidc.upsert({ ...token(next), model: 'RefreshToken' });
        await storage().oidc.upsert(token(access));
      }, keepIt),
    );
    // [BEGIN + lookup], [consume], [two saves + COMMIT]
    expect(writes).toBe(3);
    expect(await storage().oidc.find('RefreshToken', next)).toBeDefined();
    expect(await storage().oidc.find('AccessToken', access)).toBeDefined();
    expect((await storage().oidc.find('RefreshToken', old))?.consumed).toBeDefined();
  });

  it('a statement after a held-back save sees it: the save goes out first', async () => {
    const id = randomUUID();
    const seen = await storage().inRequestTransaction(async () => {
      await storage().oidc.upsert(token(id));
      return storage().oidc.find('AccessToken', id);
    }, keepIt);
    expect(seen?.jti).toBe(id);
  });

  it('an empty transaction sends nothing', async () => {
    const writes = await socketWritesDuring(() => storage().inRequestTransaction(async () => 'nothing', keepIt));
    expect(writes).toBe(0);
  });

  it('a held-back save that fails fails the commit with its own error, and nothing of the transaction stays', async () => {
    const [kept, failing] = [randomUUID(), randomUUID()];
    const attempt = storage().inRequestTransaction(async () => {
      await storage().oidc.upsert(token(kept));
      // Past PostgreSQL's int: the statement fails ("integer out of range", 22003).
      await storage().oidc.upsert({ ...token(failing), expiresInSeconds: 2 ** 40 });
    }, keepIt);
    await expect(attempt).rejects.toMatchObject({ code: '22003' });
    expect(await storage().oidc.find('AccessToken', kept)).toBeUndefined();
    expect(await storage().oidc.find('AccessToken', failing)).toBeUndefined();
    // The connection went back to the pool usable, and unbatched.
    await storage().oidc.upsert(token(kept));
    expect(await storage().oidc.find('AccessToken', kept)).toBeDefined();
  });

  it('a refused outcome rolls the held-back saves back without sending them', async () => {
    const id = randomUUID();
    const { statements } = await statementLog(storage().dataSource).during(() =>
      storage().inRequestTransaction(
        async () => {
          await storage().oidc.find('AccessToken', randomUUID());
          await storage().oidc.upsert(token(id));
          return 'refused';
        },
        () => false,
      ),
    );
    expect(statements.some((text) => text.includes('SELECT payload'))).toBe(true);
    expect(statements.some((text) => text.includes('INSERT INTO oidc_payloads'))).toBe(false);
    expect(await storage().oidc.find('AccessToken', id)).toBeUndefined();
  });

  it('a client goes back to the pool as it came: its own query function and pipelining restored', async () => {
    const runner = storage().dataSource.createQueryRunner();
    try {
      const client = (await runner.connect()) as PgClient;
      let counted = 0;
      const original = client.query.bind(client);
      const own = ((statement: Parameters<PgClient['query']>[0], values?: unknown[]) => {
        counted++;
        return original(statement, values);
      }) as PgClient['query'];
      client.query = own;
      const batched = batchTransaction(client);
      expect(client.pipeline).toBe(true);
      await client.query('START TRANSACTION');
      expect(await client.query('SELECT 1 AS one')).toMatchObject({ rows: [{ one: 1 }] });
      await client.query('COMMIT');
      batched.stop();
      expect(client.query).toBe(own);
      expect(client.pipeline).toBe(false);
      // Through the wrapper: BEGIN, the SELECT and the COMMIT.
      expect(counted).toBe(3);
    } finally {
      await runner.release();
    }
  });

  describe('a transaction of its own (storage.transaction)', () => {
    const newUser = async () =>
      storage().users.create({
        email: `${randomUUID()}@batched.example`,
        name: null,
        emailVerified: true,
        passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
        totpSecretEncrypted: null,
      });
    const lastUsed = async (userId: string) =>
      (
        await storage().dataSource.query<Array<{ last_used_at: Date | null }>>(
          "SELECT last_used_at FROM credentials WHERE user_id = $1 AND type = 'password'",
          [userId],
        )
      )[0]?.last_used_at ?? null;

    it("a sign-in's bookkeeping (last use and its audit event) goes out in one socket write, and commits", async () => {
      for (let i = 0; i < 4; i++) {
        const warm = await newUser();
        await storage().transaction(async (tx) => {
          await tx.users.markPasswordUsed(warm.id);
          await tx.audit.record({ action: 'signin.password.succeeded', actorId: warm.id, subjectId: warm.id });
        });
      }
      const user = await newUser();
      const writes = await socketWritesDuring(() =>
        storage().transaction(async (tx) => {
          await tx.users.markPasswordUsed(user.id);
          await tx.audit.record({ action: 'signin.password.succeeded', actorId: user.id, subjectId: user.id });
        }),
      );
      expect(writes).toBe(1);
      expect(await lastUsed(user.id)).toBeInstanceOf(Date);
      expect((await storage().audit.forSubject(user.id)).map((e) => e.action)).toEqual(['signin.password.succeeded']);
    });

    it('an audit event the database refuses fails the transaction, and the update before it is rolled back', async () => {
      const user = await newUser();
      const attempt = storage().transaction(async (tx) => {
        await tx.users.markPasswordUsed(user.id);
        // Longer than the column's 64 characters: "value too long" (22001).
        await tx.audit.record({ action: 'x'.repeat(65), subjectId: user.id });
      });
      await expect(attempt).rejects.toMatchObject({ code: '22001' });
      expect(await lastUsed(user.id)).toBeNull();
      expect(await storage().audit.forSubject(user.id)).toEqual([]);
    });
  });
});
