import type { Server } from 'node:http';
import type { Logger } from 'pino';

/** Listens and resolves with the bound port (the one asked for, or the one given for 0). */
export function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/**
 * Stops accepting and waits for requests in flight; idle keep-alive connections close at
 * once, busy ones after their response (they carry Connection: close while draining). Past
 * the grace period the remaining connections are cut, so a hung request cannot hold the exit.
 */
export async function drainServer(server: Server, graceMs: number, log: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), graceMs);
  });
  const outcome = await Promise.race([closed, expired]);
  clearTimeout(timer);
  if (outcome === 'expired') {
    log.warn({ graceMs }, 'requests still in flight after the shutdown grace period; closing their connections');
    server.closeAllConnections();
    await closed;
  }
}
