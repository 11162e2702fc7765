import { createServer, type Server } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const TLS_DIR = join(process.cwd(), 'test/fixtures/loopback-tls');

export interface JsonHost {
  /** The https URL of `path` on this host. */
  url(path: string): string;
  close(): Promise<void>;
}

/**
 * JSON documents over https on loopback (a client's sector document, its jwks_uri), with the
 * fixture certificate: OIDC Core §8.1 and Gatehouse's client rules want https, and an issuer on
 * loopback fetches loopback addresses without verifying the certificate. 404 for anything else.
 */
export async function serveJsonOverHttps(documents: Record<string, unknown>): Promise<JsonHost> {
  const served = new Map(Object.entries(documents));
  const server: Server = createServer(
    { key: readFileSync(join(TLS_DIR, 'key.pem')), cert: readFileSync(join(TLS_DIR, 'cert.pem')) },
    (req, res) => {
      const doc = served.get(req.url ?? '');
      if (doc === undefined) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `https://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
