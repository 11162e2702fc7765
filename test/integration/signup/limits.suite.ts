import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { startMailCatcher, type MailCatcher } from '../../helpers/mail-catcher.js';
import { uniqueEmail } from '../../helpers/factories.js';
import { BOOT_TIMEOUT, actionOf, buildRp, type TestRp } from '../../helpers/sessions.js';
import { UserAgent, csrfToken } from '../../helpers/user-agent.js';
import { from } from '../limits/support.js';
import { SIGN_UP, openSignUp } from './support.js';

const PASSWORD = 'a long enough passphrase';
const ONE_HOUR = 3600;

/** Sign-up's limits: registrations per IP (429), and notices to a taken address skipped past its limit. */
describe.each(HTTP_BACKENDS)('sign-up rate limits (%s)', (backend) => {
  let server: TestServer;
  let mail: MailCatcher;
  let rp: TestRp;
  beforeAll(async () => {
    mail = await startMailCatcher();
    server = await startTestServer(backend, {
      signUp: SIGN_UP,
      mail: { smtpUrl: mail.url, from: 'Gatehouse <no-reply@example.test>' },
      http: { trustedProxyHops: 1 },
      rateLimits: {
        signUpIp: { points: 2, durationSeconds: ONE_HOUR },
        accountMail: { points: 1, durationSeconds: ONE_HOUR },
      },
    });
    rp = await buildRp(server);
  }, BOOT_TIMEOUT);
  afterAll(async () => {
    await server?.close();
    await mail?.close();
  });

  const register = async (ip: string, email: string) => {
    const ua = new UserAgent(server.issuer);
    const { form } = await openSignUp(ua, rp, server.issuer);
    return ua.post(
      actionOf(form, '/signup'),
      { csrf: csrfToken(form.html), name: '', email, password: PASSWORD },
      from(ip),
    );
  };

  it('answers 429 with Retry-After past the registrations allowed from one address, and other addresses go on', async () => {
    const ip = `198.51.100.${Math.floor(Math.random() * 200) + 1}`;
    expect((await register(ip, uniqueEmail('a'))).status).toBe(200);
    expect((await register(ip, uniqueEmail('b'))).status).toBe(200);
    const refused = await register(ip, uniqueEmail('c'));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await register('203.0.113.9', uniqueEmail('d'))).status).toBe(200);
  });

  it('gives a taken address one notice per window but the same answer every time', async () => {
    const owner = await server.buildUser();
    const first = await register('192.0.2.10', owner.email);
    const second = await register('192.0.2.11', owner.email);
    expect([first.status, second.status]).toEqual([200, 200]);
    await mail.next(owner.email);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(mail.messages.filter((m) => m.to.includes(owner.email.toLowerCase()))).toHaveLength(1);
  });
});
