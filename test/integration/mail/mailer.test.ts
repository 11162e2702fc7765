import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import PostalMime from 'postal-mime';
import { createMailer, type Mailer } from '../../../src/mail/mailer.js';
import { createAccountMail } from '../../../src/mail/account-mail.js';
import { createViewRenderer } from '../../../src/http/views.js';
import { loadCatalogue } from '../../../src/i18n/catalogue.js';
import { createTranslators } from '../../../src/i18n/translator.js';
import { startMailCatcher, type MailCatcher } from '../../helpers/mail-catcher.js';
import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { uniqueEmail } from '../../helpers/factories.js';
import { buildRp } from '../../helpers/sessions.js';
import { UserAgent } from '../../helpers/user-agent.js';
import { SIGN_UP, openSignUp, submitSignUp } from '../signup/support.js';

const translatorFor = createTranslators(loadCatalogue());
const views = createViewRenderer({
  brand: { productName: 'Gatehouse', logoUrl: '' },
  cache: false,
  english: translatorFor('en'),
  basePath: '',
});
const LINK = 'http://127.0.0.1:1/email/verify?token=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ';

/** A logger whose JSON lines the test can read. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

const verification = (to: string, locale: 'en' | 'de' = 'en') => ({
  to,
  template: 'verify-email',
  subjectKey: 'email.verify-email.subject',
  i18n: translatorFor(locale),
  locals: { productName: 'Gatehouse', link: LINK },
});

describe('mailer, outbox mode (the embedded default without SMTP_URL)', () => {
  let dir: string;
  let mailer: Mailer;
  const captured = capturingLogger();
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-outbox-'));
    mailer = createMailer({
      smtpUrl: '',
      from: 'Gatehouse <no-reply@localhost>',
      outboxDir: join(dir, 'outbox'),
      views,
      log: captured.log,
    });
  });
  afterAll(() => {
    mailer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes each message as an .eml file and logs its links', async () => {
    expect(mailer.kind).toBe('outbox');
    await mailer.send(verification('someone@example.test'));
    const files = readdirSync(join(dir, 'outbox'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/\.eml$/);
    const eml = readFileSync(join(dir, 'outbox', files[0] ?? ''), 'utf8');
    expect(eml).toMatch(/^To: someone@example\.test$/m);
    expect(eml).toMatch(/^Subject: Confirm your email address for Gatehouse$/m);
    const entry = captured.lines.find((line) => line.msg === 'mail written to the outbox (no SMTP_URL set)');
    expect(entry?.links).toEqual([LINK]);
    expect(entry?.template).toBe('verify-email');
  });

  it('refuses a template that does not exist, writing nothing', async () => {
    await expect(mailer.send({ ...verification('x@example.test'), template: 'no-such-template' })).rejects.toThrow();
    expect(readdirSync(join(dir, 'outbox'))).toHaveLength(1);
  });
});

describe('mailer, SMTP mode', () => {
  let catcher: MailCatcher;
  let mailer: Mailer;
  beforeAll(async () => {
    catcher = await startMailCatcher();
    mailer = createMailer({
      smtpUrl: catcher.url,
      from: 'Gatehouse <no-reply@example.test>',
      outboxDir: join(tmpdir(), 'gh-unused-outbox'),
      views,
      log: capturingLogger().log,
    });
  });
  afterAll(async () => {
    mailer.close();
    await catcher.close();
  });

  it('delivers text and HTML parts in the recipient language over SMTP', async () => {
    expect(mailer.kind).toBe('smtp');
    await mailer.send(verification('empfaenger@example.test', 'de'));
    const message = await catcher.next('empfaenger@example.test');
    expect(message.from).toBe('no-reply@example.test');
    expect(message.subject).toBe('Bestätigen Sie Ihre E-Mail-Adresse für Gatehouse');
    expect(message.links).toEqual([LINK]);
    expect(message.text).toContain('Ihr Gatehouse-Team');
    expect(message.html).toContain(`href="${LINK}"`);
    expect(message.html).toContain('lang="de"');
  });

  it('rejects when the SMTP server is not there', async () => {
    const unreachable = createMailer({
      smtpUrl: 'smtp://127.0.0.1:1',
      from: 'a@example.test',
      outboxDir: join(tmpdir(), 'gh-unused-outbox'),
      views,
      log: capturingLogger().log,
    });
    await expect(unreachable.send(verification('nobody@example.test'))).rejects.toThrow();
    unreachable.close();
  });
});

/** Waits for the background send of a mail to leave a file in the outbox. */
async function outboxFile(dir: string, containing: string): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const found = existsSync(dir)
      ? readdirSync(dir)
          .map((f) => readFileSync(join(dir, f), 'utf8'))
          .find((m) => m.includes(containing))
      : undefined;
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no mail containing ${containing} in ${dir}`);
}

describe.each(HTTP_BACKENDS)('account mail through a server with no SMTP_URL (%s)', (backend) => {
  const server = useTestServer(backend, { signUp: SIGN_UP });

  it('puts the verification mail of a registration in dataDir/outbox', async () => {
    expect(server.gatehouse.mailer.kind).toBe('outbox');
    const email = uniqueEmail('outbox');
    const ua = new UserAgent(server.issuer);
    const { form } = await openSignUp(ua, await buildRp(server), server.issuer);
    expect((await submitSignUp(ua, form, { email, password: 'a long enough passphrase' })).status).toBe(200);
    const eml = await outboxFile(join(server.gatehouse.config.storage.dataDir, 'outbox'), email);
    const parsed = await PostalMime.parse(eml);
    expect(parsed.subject).toBe('Confirm your email address for Gatehouse');
    expect(parsed.text).toMatch(new RegExp(`${server.issuer}/email/verify\\?token=[A-Za-z0-9_-]{43}`));
  });
});

describe('account mail sent in the background', () => {
  it('logs a failed delivery without the link it carried', async () => {
    const captured = capturingLogger();
    const unreachable = createMailer({
      smtpUrl: 'smtp://127.0.0.1:1',
      from: 'a@example.test',
      outboxDir: join(tmpdir(), 'gh-unused-outbox'),
      views,
      log: captured.log,
    });
    const accountMail = createAccountMail({
      mailer: unreachable,
      log: captured.log,
      issuer: 'http://127.0.0.1:1',
      productName: 'Gatehouse',
    });
    const token = 'secret-token-that-must-not-be-logged-000000';
    expect(accountMail.verifyAddress('someone@example.test', token, translatorFor('en'))).toBeUndefined();
    for (
      let attempt = 0;
      attempt < 100 && !captured.lines.some((l) => l.msg === 'account mail could not be sent');
      attempt++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const failure = captured.lines.find((l) => l.msg === 'account mail could not be sent');
    expect(failure?.template).toBe('verify-email');
    expect(JSON.stringify(captured.lines)).not.toContain(token);
    unreachable.close();
  });
});
