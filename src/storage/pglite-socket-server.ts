import { createServer, type Server } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from '@electric-sql/pglite-socket';

// Frontend messages that leave per-connection state in the single PGlite session until the
// next Sync: Parse, Bind, Describe, Execute, Close, Flush (extended query protocol) and CopyData.
const BATCH_CONTINUES = new Set(['P', 'B', 'D', 'E', 'C', 'H', 'd'].map((c) => c.charCodeAt(0)));
/**
 * Messages whose answers wait for the batch's Sync (or any other message) before they go to
 * the socket: the client reads nothing before it has sent Sync, so one socket write per batch
 * instead of one per message (Parse, Bind, Describe, Execute, Close; issue 20). A Flush ('H')
 * asks for what is pending and gets it.
 */
const OUTPUT_WAITS = new Set(['P', 'B', 'D', 'E', 'C'].map((c) => c.charCodeAt(0)));
const SYNC = Uint8Array.of(0x53, 0, 0, 0, 4);
const PARSE = 0x50; // 'P'

/** A simple-protocol Query message. */
function simpleQuery(text: string): Uint8Array {
  const sql = Buffer.from(`${text}\0`);
  const message = Buffer.alloc(5 + sql.length);
  message.write('Q', 0);
  message.writeInt32BE(4 + sql.length, 1);
  sql.copy(message, 5);
  return new Uint8Array(message);
}
const ROLLBACK = simpleQuery('ROLLBACK');

/** The statement a Parse message names ('P', length, name, text, …); '' for the unnamed one. */
function parsedName(message: Uint8Array): string {
  if (message[0] !== PARSE) return '';
  const end = message.indexOf(0, 5);
  return end > 5 ? Buffer.from(message.buffer, message.byteOffset + 5, end - 5).toString('utf8') : '';
}

/** Where NotificationResponse messages go: their channel and payload. */
export type NotificationSink = (channel: string, payload: string) => void;

const NOTIFICATION_RESPONSE = 0x41; // 'A'

/**
 * The NotificationResponse messages in one message's output (backend messages: a type byte, a
 * length that counts itself, then the body; for 'A' a pid, the channel and the payload, each
 * string NUL-terminated). Output may arrive in several chunks, so a message split across them
 * is kept until it is whole.
 */
function notificationReader(sink: NotificationSink) {
  let carry = Buffer.alloc(0);
  return (chunk: Uint8Array) => {
    const data =
      carry.length > 0 ? Buffer.concat([carry, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    let at = 0;
    while (data.length - at >= 5) {
      const length = data.readInt32BE(at + 1);
      if (data.length - at < 1 + length) break;
      if (data[at] === NOTIFICATION_RESPONSE) {
        const body = data.subarray(at + 9, at + 1 + length);
        const channelEnd = body.indexOf(0);
        const payloadEnd = body.indexOf(0, channelEnd + 1);
        if (channelEnd >= 0 && payloadEnd > channelEnd)
          sink(body.toString('utf8', 0, channelEnd), body.toString('utf8', channelEnd + 1, payloadEnd));
      }
      at += 1 + length;
    }
    carry = Buffer.from(data.subarray(at));
  };
}

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: Error) => void;
}

/**
 * Feeds the messages of many socket connections into PGlite's one session. pglite-socket's
 * own queue (0.2.17) keeps a connection's turn only inside BEGIN…COMMIT, so two pooled
 * connections' Parse/Bind/Execute/Sync batches interleave: one binds the other's unnamed
 * statement ("portal \"\" does not exist", or rows of the other query), and a thrown
 * error stalls the queue for good (electric-sql/pglite#1046). Here a connection keeps the
 * session from its first message of a batch to its Sync, and for a whole transaction.
 */
class BatchQueue {
  private queue: QueuedMessage[] = [];
  private owner: number | null = null;
  /** Connections that closed; if one still owns the session, drain() ends its batch. */
  private readonly closed = new Set<number>();
  /**
   * Named statements each connection prepared in the one session: they outlive the connection
   * there, so they are deallocated when it closes (data-source.ts names them per connection).
   */
  private readonly prepared = new Map<number, Set<string>>();
  /** Answers held for each connection until its batch's Sync (OUTPUT_WAITS). */
  private readonly heldOutput = new Map<number, Uint8Array[]>();
  private readonly toDeallocate: string[] = [];
  private draining = false;

  constructor(
    private readonly db: PGlite,
    private readonly notifications: NotificationSink,
  ) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    const name = parsedName(message);
    if (name) {
      const names = this.prepared.get(handlerId) ?? new Set<string>();
      names.add(name);
      this.prepared.set(handlerId, names);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.drain();
    });
  }

  /** The owner's next message, or anyone's when no batch or transaction is open. */
  private next(): QueuedMessage | undefined {
    const index = this.owner === null ? 0 : this.queue.findIndex((q) => q.handlerId === this.owner);
    return index < 0 ? undefined : this.queue.splice(index, 1)[0];
  }

  private run(message: Uint8Array, onData: (data: Uint8Array) => void): Promise<void> {
    const read = notificationReader(this.notifications);
    return this.db.runExclusive(() =>
      this.db.execProtocolRawStream(message, {
        onRawData: (data) => {
          read(data);
          onData(data);
        },
      }),
    );
  }

  /** Only drain() runs messages and moves `owner`, so a closing connection cannot race it. */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (;;) {
        if (this.owner !== null && this.closed.has(this.owner)) {
          // Left mid-batch or mid-transaction: end the batch, roll back, free the session.
          const discard = () => undefined;
          await this.run(SYNC, discard).catch(discard);
          if (this.db.isInTransaction()) await this.run(ROLLBACK, discard).catch(discard);
          this.owner = null;
        }
        for (const handlerId of this.closed) {
          this.toDeallocate.push(...(this.prepared.get(handlerId) ?? []));
          this.prepared.delete(handlerId);
        }
        this.closed.clear();
        // Only between other connections' batches and transactions: a Query inside one would end it.
        if (this.owner === null) {
          const discard = () => undefined;
          for (const name of this.toDeallocate.splice(0))
            await this.run(simpleQuery(`DEALLOCATE "${name.replaceAll('"', '""')}"`), discard).catch(discard);
        }
        const item = this.next();
        if (!item) break;
        let bytes = 0;
        const output = this.heldOutput.get(item.handlerId) ?? [];
        const deliver = () => {
          this.heldOutput.delete(item.handlerId);
          if (output.length > 0) item.onData(output.length === 1 ? (output[0] as Uint8Array) : Buffer.concat(output));
        };
        try {
          await this.run(item.message, (data) => {
            bytes += data.length;
            // A view of PGlite's memory, valid only during this call: kept, it is copied.
            output.push(Buffer.from(data));
          });
          if (OUTPUT_WAITS.has(item.message[0] ?? 0)) this.heldOutput.set(item.handlerId, output);
          else deliver();
          item.resolve(bytes);
        } catch (error) {
          deliver();
          item.reject(error instanceof Error ? error : new Error(String(error)));
        }
        const continues = BATCH_CONTINUES.has(item.message[0] ?? 0) || this.db.isInTransaction();
        this.owner = continues ? item.handlerId : null;
      }
    } finally {
      this.draining = false;
    }
  }

  /** Called by the handler when its socket closes. */
  clearQueueForHandler(handlerId: number): void {
    this.heldOutput.delete(handlerId);
    this.queue = this.queue.filter((q) => {
      if (q.handlerId === handlerId) q.reject(new Error('connection closed'));
      return q.handlerId !== handlerId;
    });
  }

  /** Called by the handler right after clearQueueForHandler. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    this.closed.add(handlerId);
    await this.drain();
  }
}

/** A Unix socket server for PGlite, like pglite-socket's PGLiteSocketServer but with BatchQueue. */
export async function serveOverSocket(
  db: PGlite,
  path: string,
  maxConnections: number,
  notifications: NotificationSink = () => undefined,
) {
  // pglite-socket types its queue option with an unexported class; BatchQueue has its shape.
  const queryQueue = new BatchQueue(db, notifications) as unknown as PGLiteSocketHandlerOptions['queryQueue'];
  const handlers = new Set<PGLiteSocketHandler>();
  const server: Server = createServer((socket) => {
    const handler = new PGLiteSocketHandler({ queryQueue, closeOnDetach: true });
    handlers.add(handler);
    const forget = () => handlers.delete(handler);
    handler.addEventListener('close', forget);
    handler.addEventListener('error', forget);
    handler.attach(socket).catch(() => {
      forget();
      socket.destroy();
    });
  });
  server.maxConnections = maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    async stop() {
      await Promise.all([...handlers].map((h) => h.detach(true)));
      handlers.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
