import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { startMailCatcher, type MailCatcher } from '../../helpers/mail-catcher.js';
import { BOOT_TIMEOUT } from '../../helpers/sessions.js';
import { csrfToken } from '../../helpers/user-agent.js';

const backend = HTTP_BACKENDS[0] ?? 'postgres';

interface Answer {
  status: number;
  setCookies: string[];
  html: string;
}

/**
 * The public forms' CSRF cookie under an https issuer (issue 14 finding 8): `__Host-` prefixed,
 * so a sibling subdomain or a plain-http page cannot plant a binding (RFC 6265bis §4.1.3.2).
 * The server listens on plain HTTP behind a (simulated) TLS-terminating proxy.
 */
describe(`public form CSRF cookie under an https issuer (${backend})`, () => {
  let server: TestServer;
  let mail: MailCatcher;
  beforeAll(async () => {
    mail = await startMailCatcher();
    server = await startTestServer(
      backend,
      {
        http: { trustedProxyHops: 1 },
        mail: { smtpUrl: mail.url, from: 'Gatehouse <no-reply@example.test>' },
      },
      { issuerScheme: 'https' },
    );
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await server?.close();
    await mail?.close();
  });

  /** A request as it arrives from the proxy; the issuer is https, the socket plain http. */
  async function send(
    method: 'GET' | 'POST',
    path: string,
    cookie: string,
    form?: Record<string, string>,
  ): Promise<Answer> {
    const listening = `http://127.0.0.1:${server.gatehouse.config.http.port}`;
    const res = await fetch(`${listening}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        'x-forwarded-proto': 'https',
        host: new URL(server.issuer).host,
        ...(cookie ? { cookie } : {}),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(server.issuer).origin } : {}),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    return { status: res.status, setCookies: res.headers.getSetCookie(), html: await res.text() };
  }

  it('sets __Host-gatehouse.form (Secure, Path=/, no Domain) and accepts only that cookie', async () => {
    expect(server.issuer.startsWith('https://')).toBe(true);
    const page = await send('GET', '/password/forgot', '');
    expect(page.status).toBe(200);
    const cookie = page.setCookies.find((c) => c.startsWith('__Host-gatehouse.form=')) ?? '';
    const attrs = cookie
      .split(';')
      .slice(1)
      .map((a) => a.trim().toLowerCase());
    expect(attrs).toEqual(expect.arrayContaining(['path=/', 'secure', 'httponly', 'samesite=strict']));
    expect(attrs.some((a) => a.startsWith('domain='))).toBe(false);
    expect(page.setCookies.some((c) => c.startsWith('gatehouse.form='))).toBe(false);
    const value = cookie.split(';')[0]?.split('=')[1] ?? '';
    expect(value).toMatch(/^[A-Za-z0-9_-]{22,64}$/);
    const csrf = csrfToken(page.html);
    const email = 'nobody-cookie@example.test';

    // The old name, with the very binding the token was made for: refused.
    const oldName = await send('POST', '/password/forgot', `gatehouse.form=${value}`, { csrf, email });
    expect(oldName.status).toBe(403);
    // The prefixed cookie: accepted (the same answer whether or not the address has an account).
    const accepted = await send('POST', '/password/forgot', `__Host-gatehouse.form=${value}`, { csrf, email });
    expect(accepted.status).toBe(200);
  });
});
