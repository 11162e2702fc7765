import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { openAccountPage } from '../../helpers/account-pages.js';
import {
  UserAgent,
  alertText,
  buildRp,
  follow,
  openAuthorization,
  submitLogin,
  textOf,
  type TestRp,
} from '../../helpers/sessions.js';
import { csrfToken, type Page } from '../../helpers/user-agent.js';
import { buildTotpUser, finishAtRp, stepKind, submitCode, totpCode, wrongTotpCode } from '../mfa/support.js';

/** A browser that sends one Accept-Language with every request. */
class BrowserIn extends UserAgent {
  constructor(
    origin: string,
    private readonly language: string,
  ) {
    super(origin);
  }

  override request(url: string, init: Parameters<UserAgent['request']>[1] = {}): Promise<Page> {
    return super.request(url, { ...init, headers: { 'accept-language': this.language, ...init.headers } });
  }
}

const langOf = (page: Page) => /<html lang="([^"]*)">/.exec(page.html)?.[1];
const titleOf = (page: Page) => /<title>([^<]*)<\/title>/.exec(page.html)?.[1];

describe.each(HTTP_BACKENDS)('page languages (%s)', (backend) => {
  let rp: TestRp;
  // A domain as the issuer: the sign-in page offers passkeys only there (WebAuthn needs one), and this test reads its German error.
  const server = useTestServer(backend, {}, { issuerHost: 'localhost' });
  beforeAll(async () => {
    rp = await buildRp(server, { name: 'Lohnportal' });
  });

  it('advertises the languages in discovery', async () => {
    const metadata = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(metadata.ui_locales_supported).toEqual(['en', 'de']);
  });

  it('speaks German on every step of a sign-in whose RP asked for ui_locales=de, over an English browser', async () => {
    const user = await buildTotpUser(server);
    const ua = new BrowserIn(server.issuer, 'en-US,en;q=0.9');
    const { request, page } = await openAuthorization(ua, rp, server.issuer, { ui_locales: 'de' });
    expect(page.status).toBe(200);
    expect(langOf(page)).toBe('de');
    expect(titleOf(page)).toBe('Anmelden · Gatehouse');
    expect(textOf(page.html)).toContain('um mit Lohnportal fortzufahren');
    expect(page.html).toContain('<label for="email">E-Mail-Adresse</label>');
    expect(page.html).toContain('<label for="password">Passwort</label>');
    expect(page.html).toContain('data-cancelled="Die Anfrage wurde abgebrochen');

    // The JSON errors our WebAuthn script shows are in the sign-in's language too.
    const verify = /data-verify="([^"]+)"/.exec(page.html)?.[1] ?? '';
    const noResponse = await ua.postJson(verify, {}, { 'x-csrf-token': csrfToken(page.html) });
    expect(noResponse.status).toBe(400);
    expect(JSON.parse(noResponse.html)).toEqual({
      error: 'invalid_request',
      error_description: 'Der Browser hat keine WebAuthn-Antwort gesendet.',
    });

    const wrong = await submitLogin(ua, page, user.email, `${user.password}x`);
    expect(wrong.status).toBe(401);
    expect(langOf(wrong)).toBe('de');
    expect(alertText(wrong.html)).toBe('Die E-Mail-Adresse oder das Passwort ist nicht korrekt.');

    const done = await submitLogin(ua, wrong, user.email, user.password);
    const mfa = await follow(ua, done.location ?? '', server.issuer);
    expect(stepKind(mfa)).toBe('mfa');
    expect(langOf(mfa)).toBe('de');
    expect(textOf(mfa.html)).toContain('Bestätigen Sie, dass Sie es sind');
    expect(textOf(mfa.html)).toContain('Code aus Ihrer Authenticator-App');

    const wrongCode = await submitCode(ua, mfa, 'totp', await wrongTotpCode(user.secret));
    expect(wrongCode.status).toBe(401);
    expect(langOf(wrongCode)).toBe('de');
    expect(alertText(wrongCode.html)).toBe('Dieser Code ist nicht korrekt.');

    const tokens = await finishAtRp(
      ua,
      server,
      rp,
      await submitCode(ua, wrongCode, 'totp', await totpCode(user.secret)),
      request,
    );
    expect(tokens.claims()?.sub).toBe(user.id);
  });

  it('shows the consent step in German with ui_locales=de', async () => {
    const user = await server.buildUser();
    const thirdParty = await buildRp(server, { name: 'Analytik GmbH', firstParty: false });
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, thirdParty, server.issuer, {
      ui_locales: 'de',
      scope: 'openid email',
      prompt: 'consent',
    });
    const consent = await follow(
      ua,
      (await submitLogin(ua, page, user.email, user.password)).location ?? '',
      server.issuer,
    );
    expect(langOf(consent)).toBe('de');
    expect(textOf(consent.html)).toContain('Analytik GmbH möchte:');
    expect(textOf(consent.html)).toContain('Ihre E-Mail-Adresse sehen und ob sie bestätigt ist');
    expect(consent.html).toContain('value="allow">Erlauben</button>');
  });

  it('falls back to English for a language it does not have, and ignores a hostile ui_locales', async () => {
    for (const uiLocales of ['fr', 'xx-<script>', 'en-GB']) {
      const ua = new BrowserIn(server.issuer, 'fr-FR,fr;q=0.9');
      const { page } = await openAuthorization(ua, rp, server.issuer, { ui_locales: uiLocales });
      expect(page.status).toBe(200);
      expect(langOf(page)).toBe('en');
      expect(page.html).toContain('<label for="email">Email address</label>');
      expect(page.html).not.toContain('<script>');
    }
    const missing = await new BrowserIn(server.issuer, 'fr').get('/does/not/exist');
    expect(langOf(missing)).toBe('en');
    expect(alertText(missing.html)).toBe('The page you asked for does not exist.');
  });

  it("answers a German browser with German error pages, ours and the provider's", async () => {
    const ua = new BrowserIn(server.issuer, 'de-DE,de;q=0.9,en;q=0.5');
    const missing = await ua.get('/does/not/exist');
    expect(missing.status).toBe(404);
    expect(langOf(missing)).toBe('de');
    expect(titleOf(missing)).toBe('Seite nicht gefunden · Gatehouse');
    expect(alertText(missing.html)).toBe('Die angeforderte Seite existiert nicht.');
    expect(missing.html).toContain('Fehlercode: <code>not_found</code>');
    expect(missing.headers.get('vary')).toMatch(/accept-language/i);

    const refused = await ua.get(
      `/auth?client_id=nope&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(rp.client.redirectUri)}`,
    );
    expect(refused.status).toBe(400);
    expect(titleOf(refused)).toBe('Anmeldeanfrage abgelehnt · Gatehouse');
    expect(alertText(refused.html)).toMatch(
      /^Die Anwendung, die Sie hierher geschickt hat, ist diesem Dienst nicht bekannt/,
    );
    expect(refused.html).toContain('Fehlercode: <code>invalid_client</code>');
    // The provider's own description stays as the detail, for whoever reports the problem.
    expect(refused.html).toMatch(/<span data-error-detail>[^<]+<\/span>/);

    // The operators' console stays English whatever the browser prefers (docs/i18n.md).
    const adminPage = await ua.get('/admin/no-such-page');
    expect(adminPage.status).toBe(404);
    expect(langOf(adminPage)).toBe('en');
    expect(alertText(adminPage.html)).toBe('The page you asked for does not exist.');

    const expired = await ua.get('/interaction/nope');
    expect(expired.status).toBe(400);
    expect(alertText(expired.html)).toBe(
      'Diese Anmeldeanfrage ist abgelaufen oder wurde bereits abgeschlossen. Kehren Sie zur Anwendung zurück und beginnen Sie erneut.',
    );
  });

  it('shows the account page in German with German dates and event names', async () => {
    const user = await server.buildUser();
    const ua = new BrowserIn(server.issuer, 'de');
    const page = await openAccountPage(ua, user.email, user.password);
    expect(langOf(page)).toBe('de');
    expect(titleOf(page)).toBe('Ihr Konto · Gatehouse');
    expect(page.html).toContain('data-totp-status>Nicht aktiv.');
    expect(page.html).toContain('Noch 0 von 10 übrig.');
    expect(page.html).toContain('<label for="new-password">Neues Passwort (mindestens 12 Zeichen)</label>');
    const event = /<tr data-event="signin.password.succeeded"><td>([^<]+)<\/td><td>([^<]+)<\/td>/.exec(page.html);
    expect(event?.[1]).toMatch(/^\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2} UTC$/);
    expect(event?.[2]).toBe('Mit Passwort angemeldet');

    const wrong = await ua.post('/account/password', {
      csrf: /name="csrf" value="([^"]+)"/.exec(page.html)?.[1] ?? '',
      current_password: 'not it',
      new_password: 'a long enough new password',
    });
    expect(wrong.status).toBe(400);
    expect(alertText(wrong.html)).toBe('Ihr aktuelles Passwort ist nicht korrekt.');
  });
});
