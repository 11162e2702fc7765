import pg from 'pg';

/** The channel migrations/1765843200000-change-notifications.ts announces committed changes on. */
export const CHANGE_CHANNEL = 'gatehouse_changes';

/** A committed change to one row (`id`), or to every row of the table (`*`, TRUNCATE). */
export interface RowChange {
  table: string;
  id: string;
}

/** A change, or `reset`: changes may have been missed (the feed was down), forget everything. */
export type ChangeEvent = RowChange | 'reset';

/**
 * Committed changes to the tables whose rows this process keeps in memory (row-cache.ts), from
 * whoever made them: this process, another replica, the CLI, an operator's psql.
 */
export interface ChangeFeed {
  /** True while every committed change reaches this process; a cache serves nothing otherwise. */
  isLive(): boolean;
  /** Settles once the feed's first attempt to go live has ended, live or not (boot waits for it). */
  ready(): Promise<void>;
  subscribe(listener: (event: ChangeEvent) => void): () => void;
  close(): Promise<void>;
}

/** `<table>:<id>` as the trigger sends it. */
function parseChange(payload: string): RowChange | undefined {
  const colon = payload.indexOf(':');
  if (colon <= 0 || colon === payload.length - 1) return undefined;
  return { table: payload.slice(0, colon), id: payload.slice(colon + 1) };
}

function listeners() {
  const all = new Set<(event: ChangeEvent) => void>();
  return {
    subscribe(listener: (event: ChangeEvent) => void) {
      all.add(listener);
      return () => {
        all.delete(listener);
      };
    },
    emit(event: ChangeEvent) {
      for (const listener of all) listener(event);
    },
  };
}

/** For processes that keep nothing in memory across requests (the CLI): never live. */
export function noChangeFeed(): ChangeFeed {
  return {
    isLive: () => false,
    ready: async () => undefined,
    subscribe: () => () => undefined,
    close: async () => undefined,
  };
}

/**
 * The embedded database's feed. Its connections share PGlite's one session, which LISTENs
 * once; a notification comes out in the output of whichever connection committed, and the
 * socket server (pglite-socket-server.ts) hands each one here. It runs in this process, so it
 * cannot miss one: always live.
 */
export function embeddedChangeFeed() {
  const { subscribe, emit } = listeners();
  return {
    isLive: () => true,
    ready: async () => undefined,
    subscribe,
    close: async () => undefined,
    /** A NotificationResponse's channel and payload, as the socket server saw it. */
    deliver(channel: string, payload: string): void {
      if (channel !== CHANGE_CHANNEL) return;
      const change = parseChange(payload);
      emit(change ?? 'reset');
    },
  } satisfies ChangeFeed & { deliver(channel: string, payload: string): void };
}

export interface PostgresFeedOptions {
  /** How often the listening connection is checked; a silently dead one is found within about this. */
  pingIntervalMs?: number;
  /** Wait before connecting again after the connection was lost (doubles up to 16×). */
  retryDelayMs?: number;
}

/**
 * PostgreSQL's feed: one connection of its own, outside the pool, LISTENing on the channel.
 * While it is down (PostgreSQL restarting, the network gone) the feed is not live, so caches
 * read the database as if they did not exist; once it LISTENs again it says `reset` first, as
 * changes may have been missed meanwhile.
 */
export function postgresChangeFeed(url: string, options: PostgresFeedOptions = {}): ChangeFeed {
  const pingIntervalMs = options.pingIntervalMs ?? 5000;
  const retryDelayMs = options.retryDelayMs ?? 500;
  const { subscribe, emit } = listeners();
  let client: pg.Client | undefined;
  let live = false;
  let closed = false;
  let failures = 0;
  let retry: NodeJS.Timeout | undefined;
  let ping: NodeJS.Timeout | undefined;

  const drop = (lost: pg.Client) => {
    if (client !== lost) return;
    client = undefined;
    live = false;
    clearInterval(ping);
    emit('reset');
    lost.end().catch(() => undefined);
    if (closed) return;
    const delay = retryDelayMs * 2 ** Math.min(failures++, 4);
    retry = setTimeout(() => void connect(), delay);
    retry.unref();
  };

  const connect = async () => {
    const next = new pg.Client({
      connectionString: url,
      keepAlive: true,
      connectionTimeoutMillis: 5000,
      query_timeout: 5000,
      application_name: 'gatehouse-change-feed',
    });
    client = next;
    next.on('notification', (message) => {
      if (message.channel !== CHANGE_CHANNEL) return;
      emit((message.payload && parseChange(message.payload)) || 'reset');
    });
    next.on('error', () => drop(next));
    next.on('end', () => drop(next));
    try {
      await next.connect();
      await next.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch {
      drop(next);
      return;
    }
    if (closed || client !== next) return;
    failures = 0;
    // Anything kept before this LISTEN may predate a change nobody told us about.
    emit('reset');
    live = true;
    ping = setInterval(() => {
      next.query('SELECT 1').catch(() => drop(next));
    }, pingIntervalMs);
    ping.unref();
  };

  const first = connect();
  return {
    isLive: () => live,
    ready: () => first,
    subscribe,
    async close() {
      closed = true;
      live = false;
      clearTimeout(retry);
      clearInterval(ping);
      const last = client;
      client = undefined;
      await last?.end().catch(() => undefined);
    },
  };
}
