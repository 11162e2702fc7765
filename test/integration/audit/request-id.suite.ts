import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';

/** X-Request-Id: a caller's plain id is kept; anything else is replaced, never echoed. */
describe.each(HTTP_BACKENDS)('request ids (%s)', (backend) => {
  const server = useTestServer(backend);

  const requestIdFor = async (presented?: string) => {
    const response = await fetch(
      `${server.issuer}/healthz`,
      presented === undefined ? {} : { headers: { 'x-request-id': presented } },
    );
    return response.headers.get('x-request-id');
  };

  it("gives each request a fresh uuid, and keeps a caller's plain id", async () => {
    const [first, second] = [await requestIdFor(), await requestIdFor()];
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(second).not.toBe(first);
    expect(await requestIdFor('lb-0123456789abcdef')).toBe('lb-0123456789abcdef');
  });

  it('replaces an id with markup, spaces, or the wrong length instead of echoing it', async () => {
    for (const hostile of ['<script>alert(1)</script>', 'has spaces in it', 'short', 'x'.repeat(65)]) {
      const id = await requestIdFor(hostile);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
