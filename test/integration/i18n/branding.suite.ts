import { HTTP_BACKENDS } from '../../helpers/backends.js';
import { useTestServer } from '../../helpers/server.js';
import { UserAgent, buildRp, openAuthorization } from '../../helpers/sessions.js';

const BRANDING = {
  productName: 'Acme ID',
  logoUrl: 'https://cdn.acme.example/brand/logo.svg',
  colours: { primary: '#c0ffee', primaryText: '#000000', background: '#101820', surface: '#fafafa', text: '#222' },
};

describe.each(HTTP_BACKENDS)('branding (%s)', (backend) => {
  const server = useTestServer(backend, { branding: BRANDING });

  it('names the product and shows the logo, in the page language, with the CSP allowing only that image origin', async () => {
    const rp = await buildRp(server);
    const ua = new UserAgent(server.issuer);
    const { page } = await openAuthorization(ua, rp, server.issuer);
    expect(page.html).toContain('<title>Sign in · Acme ID</title>');
    expect(page.html).toContain(
      '<img class="brand-logo" src="https://cdn.acme.example/brand/logo.svg" alt="Acme ID logo"> Acme ID</p>',
    );
    expect(page.html).toContain('<link rel="stylesheet" href="/assets/brand.css">');
    expect(page.html).not.toContain('Gatehouse');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("img-src 'self' data: https://cdn.acme.example;");
    expect(csp).toContain("style-src 'self';");

    const german = await ua.request('/does/not/exist', { headers: { 'accept-language': 'de' } });
    expect(german.html).toContain('<title>Seite nicht gefunden · Acme ID</title>');
    expect(german.html).toContain('alt="Logo von Acme ID"');
  });

  it('serves the colours as CSS custom properties with a validator', async () => {
    const first = await fetch(`${server.issuer}/assets/brand.css`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const css = await first.text();
    expect(css).toContain('--gh-accent: #c0ffee;');
    expect(css).toContain('--gh-accent-text: #000000;');
    expect(css).toContain('--gh-bg: #101820;');
    expect(css).toContain('--gh-card: #fafafa;');
    expect(css).toContain('--gh-text: #222;');
    // Links take the brand colour only where it reads on the card: #c0ffee on #fafafa does not (WCAG 4.5:1).
    expect(css).toContain('--gh-link: #222;');
    const base = await (await fetch(`${server.issuer}/assets/style.css`)).text();
    expect(base).toMatch(/^a \{ color: var\(--gh-link, var\(--gh-accent\)\); \}$/m);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);

    const again = await fetch(`${server.issuer}/assets/brand.css`, { headers: { 'if-none-match': etag ?? '' } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const stale = await fetch(`${server.issuer}/assets/brand.css`, {
      headers: { 'if-none-match': '"something-else"' },
    });
    expect(stale.status).toBe(200);
    expect((await fetch(`${server.issuer}/assets/brand.css`, { method: 'POST' })).status).toBe(404);
  });

  it("names the product on the account pages' sign-in in the user's language", async () => {
    const ua = new UserAgent(server.issuer);
    let page = await ua.request('/account', { headers: { 'accept-language': 'de' } });
    while (page.location) page = await ua.request(page.location, { headers: { 'accept-language': 'de' } });
    expect(page.html).toContain('um mit <strong>Ihrem Konto bei Acme ID</strong> fortzufahren');
  });
});
