import { connect, type Socket } from 'node:net';

/**
 * A hand-driven HTTP/1.1 connection: the tests hold a request half-sent across a SIGTERM,
 * which fetch cannot do.
 */
export interface RawConnection {
  socket: Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves once `text` has arrived. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves with everything received when the server closes the connection. */
  closed: Promise<string>;
  write(data: string): Promise<void>;
}

export function openRaw(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const waiters: Array<() => void> = [];
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
      for (const w of waiters.splice(0)) w();
    });
    const closed = new Promise<string>((done) =>
      socket.once('close', () => {
        for (const w of waiters.splice(0)) w();
        done(data);
      }),
    );
    socket.once('error', reject);
    socket.once('connect', () =>
      resolve({
        socket,
        received: () => data,
        closed,
        write: (chunk) => new Promise((done, fail) => socket.write(chunk, (err) => (err ? fail(err) : done()))),
        async waitFor(text, timeoutMs = 10_000) {
          const deadline = Date.now() + timeoutMs;
          while (!data.includes(text)) {
            if (socket.destroyed || Date.now() > deadline)
              throw new Error(`did not receive ${JSON.stringify(text)}; got ${JSON.stringify(data)}`);
            await new Promise<void>((wake) => {
              waiters.push(wake);
              setTimeout(wake, 100);
            });
          }
        },
      }),
    );
  });
}

/** The status code and headers of the last final (non-1xx) response in `raw`. */
export function finalResponse(raw: string): { status: number; headers: Record<string, string> } {
  const heads = [...raw.matchAll(/HTTP\/1\.1 (\d{3})[^\r\n]*\r\n((?:[^\r\n]+\r\n)*)\r\n/g)].filter(
    (m) => !(m[1] ?? '').startsWith('1'),
  );
  const last = heads.at(-1);
  if (!last) throw new Error(`no final response in ${JSON.stringify(raw.slice(0, 300))}`);
  const headers: Record<string, string> = {};
  for (const line of (last[2] ?? '').split('\r\n').filter(Boolean)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(last[1]), headers };
}

/** Resolves once a new TCP connection to `port` is refused (the listener has closed). */
export async function refusedWithin(port: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const refused = await new Promise<boolean>((resolve) => {
      const probe = connect(port, '127.0.0.1');
      probe.once('connect', () => {
        probe.destroy();
        resolve(false);
      });
      probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    });
    if (refused) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
