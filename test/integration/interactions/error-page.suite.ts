import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useSharedTestServer } from '../../helpers/server.js';
import { UserAgent, alertText, buildRp, errorCode, textOf } from '../../helpers/sessions.js';

const NOT_FOUND = 'The page you asked for does not exist.';

describe.each(HTTP_BACKENDS)('error pages (%s)', (backend) => {
  const server = useSharedTestServer(backend);

  it('renders an unknown route as our HTML 404 page', async () => {
    const ua = new UserAgent(server.issuer);
    for (const path of ['/does/not/exist', '/interaction', '/auth/extra/segments', '/.env', '/wp-login.php']) {
      const page = await ua.get(path);
      expect(page.status).toBe(404);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(page.html).toMatch(/^<!DOCTYPE html>/);
      expect(page.html).toContain('<title>Page not found · Gatehouse</title>');
      expect(errorCode(page.html)).toBe('not_found');
      expect(alertText(page.html)).toBe(NOT_FOUND);
    }
  });

  it('answers JSON to a client that asks for JSON', async () => {
    const ua = new UserAgent(server.issuer);
    for (const method of ['GET', 'POST', 'DELETE']) {
      const page = await ua.request('/does/not/exist', { method, headers: { accept: 'application/json' } });
      expect(page.status).toBe(404);
      expect(page.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(JSON.parse(page.html)).toEqual({ error: 'not_found', error_description: NOT_FOUND });
    }
    // An interaction that does not exist: the same mapper, the same two shapes.
    const json = await ua.request('/interaction/nope', { headers: { accept: 'application/json' } });
    expect(json.status).toBe(400);
    expect(JSON.parse(json.html)).toMatchObject({ error: 'session_not_found' });
    const html = await ua.get('/interaction/nope');
    expect(html.status).toBe(400);
    expect(errorCode(html.html)).toBe('session_not_found');
    expect(alertText(html.html)).toBe(
      'This sign-in request has expired or was already completed. Go back to the application and start again.',
    );
  });

  it('falls back to HTML for odd Accept headers and never reflects the path', async () => {
    const ua = new UserAgent(server.issuer);
    for (const accept of ['*/*', 'application/xml', 'text/plain;q=0.1', 'garbage/ / ;;;', '']) {
      const page = await ua.request('/<script>alert(1)</script>', { headers: { accept } });
      expect(page.status).toBe(404);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(errorCode(page.html)).toBe('not_found');
      expect(page.html).not.toContain('<script>');
      expect(page.html).not.toContain('alert(1)');
    }
    const head = await ua.request('/does/not/exist', { method: 'HEAD' });
    expect(head.status).toBe(404);
    expect(head.html).toBe('');
  });

  it('answers a method a sign-in step does not take with our 405 page and an Allow header', async () => {
    const ua = new UserAgent(server.issuer);
    for (const method of ['PUT', 'DELETE', 'PROPFIND']) {
      const page = await ua.request('/interaction/some-uid/login', { method });
      expect(page.status).toBe(405);
      expect(page.headers.get('allow')).toBe('POST');
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(errorCode(page.html)).toBe('method_not_allowed');
      expect(page.html).toContain('<title>Method not allowed · Gatehouse</title>');
    }
    const json = await ua.request('/interaction/some-uid/login', {
      method: 'PUT',
      headers: { accept: 'application/json' },
    });
    expect(JSON.parse(json.html)).toMatchObject({ error: 'method_not_allowed' });
  });

  it('renders protocol errors of the provider with our page, without a stack trace', async () => {
    const rp = await buildRp(server);
    const ua = new UserAgent(server.issuer);
    const unknownClient = await ua.get(
      `/auth?client_id=nope&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(rp.client.redirectUri)}`,
    );
    expect(unknownClient.status).toBe(400);
    expect(unknownClient.location).toBeNull();
    expect(unknownClient.html).toContain('<title>Sign-in request refused · Gatehouse</title>');
    expect(errorCode(unknownClient.html)).toBe('invalid_client');

    const wrongRedirect = await ua.get(
      `/auth?client_id=${rp.client.clientId}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`,
    );
    expect(wrongRedirect.status).toBe(400);
    expect(wrongRedirect.location).toBeNull();
    expect(errorCode(wrongRedirect.html)).toBe('invalid_redirect_uri');
    for (const page of [unknownClient, wrongRedirect]) {
      expect(textOf(page.html)).not.toMatch(/\bat .+:\d+:\d+/);
      expect(page.html).not.toContain('Error:');
    }
  });
});
