import { createServer } from 'node:net';

/**
 * A port free on loopback now. Apart from server.ts so that the system tests that only need a
 * port (they start built servers) do not load the whole program into jest (~1.5 s a file).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
