import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet } from 'jose';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer, type TestServer } from '../../helpers/server.js';
import { cli, json } from '../../helpers/cli.js';
import { discoverRp } from '../../helpers/rp.js';

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Plain node:http, so that Host and conditional headers go out exactly as written. */
function send(url: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  const { hostname, port, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: hostname, port, path: pathname + search, method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The current oidc-provider instance on its own port: what it answers when called directly. */
async function serveProviderDirectly(server: TestServer): Promise<{ base: string; close: () => Promise<void> }> {
  const direct: Server = createServer(server.gatehouse.host.current.callback());
  await new Promise<void>((resolve) => direct.listen(0, '127.0.0.1', resolve));
  const { port } = direct.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        direct.closeAllConnections();
        direct.close(() => resolve());
      }),
  };
}

const DISCOVERY = '/.well-known/openid-configuration';
const OAUTH_METADATA = '/.well-known/oauth-authorization-server';
const JWKS = '/jwks';

describe.each(HTTP_BACKENDS)('discovery and JWKS from precomputed bytes (%s)', (backend) => {
  let issuerHost: string;
  const server = useTestServer(backend);
  beforeAll(async () => {
    issuerHost = new URL(server.issuer).host;
  });

  it.each([
    [DISCOVERY, 'application/json; charset=utf-8'],
    [OAUTH_METADATA, 'application/json; charset=utf-8'],
    [JWKS, 'application/jwk-set+json; charset=utf-8'],
  ])('%s is byte for byte what oidc-provider answers, with its headers and ours', async (path, contentType) => {
    const direct = await serveProviderDirectly(server);
    try {
      for (const origin of [undefined, 'https://rp.example.test']) {
        const headers: Record<string, string> = { host: issuerHost, ...(origin ? { origin } : {}) };
        const expected = await send(direct.base + path, { headers });
        const actual = await send(server.issuer + path, { headers: origin ? { origin } : {} });
        expect(expected.status).toBe(200);
        expect(actual.status).toBe(200);
        expect(actual.body.equals(expected.body)).toBe(true);
        expect(actual.headers['content-type']).toBe(contentType);
        expect(actual.headers['content-type']).toBe(expected.headers['content-type']);
        expect(actual.headers['access-control-allow-origin']).toBe(expected.headers['access-control-allow-origin']);
        expect(actual.headers['access-control-allow-origin']).toBe(origin ?? '*');
        expect(actual.headers.vary).toMatch(/Origin/);
        expect(actual.headers['content-length']).toBe(String(expected.body.length));
      }
    } finally {
      await direct.close();
    }
    const res = await send(server.issuer + path);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([DISCOVERY, JWKS])('%s gets the same headers before Koa and through it', async (path) => {
    // Unconditional requests are answered before Koa; an If-None-Match that does not match
    // takes the middleware path. Both must say the same.
    const names = (res: RawResponse) =>
      Object.keys(res.headers)
        .filter((n) => n !== 'date')
        .sort();
    const early = await send(server.issuer + path, {
      headers: { origin: 'https://rp.example.test', 'x-request-id': 'lb-1234567890' },
    });
    const late = await send(server.issuer + path, {
      headers: { origin: 'https://rp.example.test', 'x-request-id': 'lb-1234567890', 'if-none-match': '"other"' },
    });
    expect(late.status).toBe(200);
    expect(names(early)).toEqual(names(late));
    for (const name of names(early)) expect([name, early.headers[name]]).toEqual([name, late.headers[name]]);
    expect(early.headers['x-request-id']).toBe('lb-1234567890');
    expect(early.body.equals(late.body)).toBe(true);
    // a request id that could carry markup into logs is replaced, on the early path too
    const replaced = await send(server.issuer + path, { headers: { 'x-request-id': '<script>alert(1)</script>' } });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers a query string after the path with the same document', async () => {
    const plain = await send(server.issuer + JWKS);
    const withQuery = await send(`${server.issuer}${JWKS}?x=1`);
    expect(withQuery.status).toBe(200);
    expect(withQuery.body.equals(plain.body)).toBe(true);
  });

  it('keeps the issuer and its endpoint paths, and a real relying party discovers it', async () => {
    const doc = JSON.parse((await send(server.issuer + DISCOVERY)).body.toString('utf8')) as Record<string, unknown>;
    expect(doc.issuer).toBe(server.issuer);
    expect(doc.jwks_uri).toBe(`${server.issuer}/jwks`);
    expect(doc.token_endpoint).toBe(`${server.issuer}/token`);
    expect(doc.authorization_endpoint).toBe(`${server.issuer}/auth`);
    const client = await server.buildClient();
    const rp = await discoverRp(server.issuer, client);
    expect(rp.serverMetadata().jwks_uri).toBe(`${server.issuer}/jwks`);
  });

  it.each([DISCOVERY, OAUTH_METADATA, JWKS])(
    '%s has a strong ETag and Cache-Control, and If-None-Match gives 304',
    async (path) => {
      const first = await send(server.issuer + path);
      const etag = first.headers.etag ?? '';
      expect(etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
      // JWKS: no longer than new keys take to start signing after they are published everywhere
      const { activationDelaySeconds, reloadIntervalSeconds } = server.gatehouse.config.keys;
      const cacheControl = `public, max-age=${path === JWKS ? Math.max(0, activationDelaySeconds - reloadIntervalSeconds) : 300}`;
      expect(first.headers['cache-control']).toBe(cacheControl);

      const revalidated = await send(server.issuer + path, { headers: { 'if-none-match': etag } });
      expect(revalidated.status).toBe(304);
      expect(revalidated.body).toHaveLength(0);
      expect(revalidated.headers.etag).toBe(etag);
      expect(revalidated.headers['cache-control']).toBe(cacheControl);

      // RFC 9110 §13.1.2: If-None-Match uses the weak comparison, and takes a list.
      expect((await send(server.issuer + path, { headers: { 'if-none-match': `"other", W/${etag}` } })).status).toBe(
        304,
      );
    },
  );

  it.each([DISCOVERY, JWKS])('%s answers a stale or malformed If-None-Match with the full document', async (path) => {
    const full = await send(server.issuer + path);
    for (const value of ['"stale"', 'garbage', '', `${full.headers.etag ?? ''}x`]) {
      const res = await send(server.issuer + path, { headers: { 'if-none-match': value } });
      expect(res.status).toBe(200);
      expect(res.body.equals(full.body)).toBe(true);
    }
  });

  it.each([DISCOVERY, JWKS])('HEAD %s gives the headers without the body', async (path) => {
    const get = await send(server.issuer + path);
    const head = await send(server.issuer + path, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toHaveLength(0);
    expect(head.headers.etag).toBe(get.headers.etag);
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
    expect(head.headers['content-length']).toBe(String(get.body.length));
  });

  it.each([
    ['POST', DISCOVERY],
    ['PUT', JWKS],
    ['DELETE', JWKS],
    ['PATCH', DISCOVERY],
  ])('refuses %s %s as the provider does', async (method, path) => {
    const res = await send(server.issuer + path, { method, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers.etag).toBeUndefined();
    expect(res.body.toString('utf8')).not.toMatch(/"keys"|"jwks_uri"/);
  });

  it('leaves a CORS preflight to the provider', async () => {
    const res = await send(server.issuer + JWKS, {
      method: 'OPTIONS',
      headers: { origin: 'https://rp.example.test', 'access-control-request-method': 'GET' },
    });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://rp.example.test');
    expect(res.headers['access-control-allow-methods']).toBe('GET');
  });

  it("does not replay the issuer's document to a request for another host", async () => {
    const res = await send(server.issuer + DISCOVERY, { headers: { host: 'internal.example.test' } });
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBeUndefined();
    const doc = JSON.parse(res.body.toString('utf8')) as { jwks_uri: string };
    // what oidc-provider itself answers for that host
    expect(doc.jwks_uri).toBe('http://internal.example.test/jwks');
  });

  it('publishes the new keys with a new ETag after a key rotation, and keeps the discovery ETag', async () => {
    const jwksBefore = await send(server.issuer + JWKS);
    const discoveryBefore = await send(server.issuer + DISCOVERY);
    const rotated = await cli(server, 'keys', 'rotate', '--json');
    expect(rotated.code).toBe(0);
    const { active } = json<{ active: string[] }>(rotated);
    expect(await server.gatehouse.host.reloadKeys()).toBe(true);

    const jwksAfter = await send(server.issuer + JWKS, { headers: { 'if-none-match': jwksBefore.headers.etag ?? '' } });
    expect(jwksAfter.status).toBe(200);
    expect(jwksAfter.headers.etag).not.toBe(jwksBefore.headers.etag);
    const kids = (JSON.parse(jwksAfter.body.toString('utf8')) as { keys: Array<{ kid: string }> }).keys.map(
      (k) => k.kid,
    );
    expect(kids).toEqual(expect.arrayContaining(active));

    // the replayed bytes are the new provider's, not a stale copy
    const direct = await serveProviderDirectly(server);
    try {
      expect(jwksAfter.body.equals((await send(direct.base + JWKS, { headers: { host: issuerHost } })).body)).toBe(
        true,
      );
    } finally {
      await direct.close();
    }
    const keySet = createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
    expect(keySet.jwks()).toBeUndefined();

    const discoveryAfter = await send(server.issuer + DISCOVERY, {
      headers: { 'if-none-match': discoveryBefore.headers.etag ?? '' },
    });
    expect(discoveryAfter.status).toBe(304);
  });
});

describe.each(HTTP_BACKENDS)('discovery and JWKS behind a trusted proxy (%s)', (backend) => {
  const server = useTestServer(backend, { http: { trustedProxyHops: 1 } });

  it("replays the issuer's bytes for the issuer's forwarded host and scheme", async () => {
    const { host } = new URL(server.issuer);
    const res = await send(server.issuer + DISCOVERY, {
      headers: { 'x-forwarded-host': host, 'x-forwarded-proto': 'http' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.etag).toMatch(/^"/);
    expect((JSON.parse(res.body.toString('utf8')) as { issuer: string }).issuer).toBe(server.issuer);
  });

  it('leaves another forwarded host or scheme to the provider', async () => {
    const other = await send(server.issuer + DISCOVERY, {
      headers: { 'x-forwarded-host': 'other.example.test', 'x-forwarded-proto': 'https' },
    });
    expect(other.status).toBe(200);
    expect(other.headers.etag).toBeUndefined();
    expect((JSON.parse(other.body.toString('utf8')) as { jwks_uri: string }).jwks_uri).toBe(
      'https://other.example.test/jwks',
    );
  });
});
