import { loadConfig } from '../../src/config/load.js';
import type { ConfigOverrides } from '../../src/config/schema.js';
import { DARK_SCHEME, brandStylesheet, contrastRatio, logoOrigin } from '../../src/http/brand.js';
import { configProblems } from '../helpers/config-problems.js';

/** Branding overrides may be partial or wrong on purpose: the schema, not the type, judges them. */
const problemsOf = (branding: Record<string, unknown>) => configProblems({}, { branding } as ConfigOverrides);

describe('branding configuration', () => {
  it('defaults to Gatehouse, no logo and the stylesheet colours', () => {
    const { branding } = loadConfig({});
    expect(branding.productName).toBe('Gatehouse');
    expect(branding.logoUrl).toBe('');
    expect(brandStylesheet(branding.colours)).toMatch(
      /^:root \{\n {2}color-scheme: light dark;\n {2}--gh-accent: #1f5fbf;\n {2}--gh-accent-text: #ffffff;\n {2}--gh-bg: #f4f5f7;\n {2}--gh-card: #ffffff;\n {2}--gh-text: #1d2330;\n {2}--gh-link: #1f5fbf;\n\}\n@media \(prefers-color-scheme: dark\)/,
    );
  });

  describe('the dark scheme', () => {
    const base = loadConfig({}).branding.colours;
    const darkPart = (css: string) => css.slice(css.indexOf('@media (prefers-color-scheme: dark)'));

    it('meets WCAG 2.2 AA in every pair it sets', () => {
      const on = (a: keyof typeof DARK_SCHEME, b: keyof typeof DARK_SCHEME) =>
        contrastRatio(DARK_SCHEME[a], DARK_SCHEME[b]);
      for (const text of ['text', 'muted', 'error', 'primary'] as const) {
        expect(on(text, 'surface')).toBeGreaterThanOrEqual(4.5);
        expect(on(text, 'background')).toBeGreaterThanOrEqual(4.5);
      }
      expect(on('primaryText', 'primary')).toBeGreaterThanOrEqual(4.5);
      expect(on('border', 'surface')).toBeGreaterThanOrEqual(3);
    });

    it("keeps the operator's accent where it shows on the dark card, and uses its own where it does not", () => {
      // The default blue is made for white cards: about 2.7:1 on the dark one.
      const byDefault = darkPart(brandStylesheet(base));
      expect(byDefault).toContain(`--gh-accent: ${DARK_SCHEME.primary};`);
      expect(byDefault).toContain(`--gh-card: ${DARK_SCHEME.surface};`);
      const yellow = darkPart(brandStylesheet({ ...base, primary: '#ffcc00', primaryText: '#000000' }));
      expect(yellow).toContain('--gh-accent: #ffcc00;');
      expect(yellow).toContain('--gh-accent-text: #000000;');
      expect(yellow).toContain('--gh-link: #ffcc00;');
      // Readable as a button, yet its text on it is not: the dark scheme's own pair.
      expect(darkPart(brandStylesheet({ ...base, primary: '#ffcc00', primaryText: '#ffffff' }))).toContain(
        `--gh-accent: ${DARK_SCHEME.primary};`,
      );
    });

    it("leaves an operator's own dark colours alone in both schemes", () => {
      const css = brandStylesheet({ ...base, background: '#000000', surface: '#111111', text: '#eeeeee' });
      expect(css).not.toContain('prefers-color-scheme');
      expect(css).toContain('color-scheme: dark;');
      expect(css).toContain('--gh-card: #111111;');
    });
  });

  it('gives links the primary colour when it reads on the card, else the text colour (WCAG 4.5:1)', () => {
    const base = loadConfig({}).branding.colours;
    expect(contrastRatio('#000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrastRatio('#777777', '#fff')).toBeCloseTo(4.48, 2);
    expect(brandStylesheet({ ...base, primary: '#C00' })).toContain('--gh-link: #C00;');
    // Yellow on white is about 1.6:1: links fall back to the text colour.
    expect(brandStylesheet({ ...base, primary: '#ffcc00' })).toContain('--gh-link: #1d2330;');
    // On a dark card the same yellow reads well.
    expect(brandStylesheet({ ...base, primary: '#ffcc00', surface: '#111', text: '#eeeeee' })).toContain(
      '--gh-link: #ffcc00;',
    );
  });

  it('takes a product name, an https or same-site logo and hex colours', () => {
    for (const logoUrl of ['https://cdn.example.com/brand/logo.svg', '/brand/logo.png', '']) {
      expect(
        problemsOf({
          productName: 'Acme ID',
          logoUrl,
          colours: { primary: '#C00', primaryText: '#fff', background: '#000000', surface: '#111', text: '#eeeeee' },
        }),
      ).toEqual([]);
    }
    expect(logoOrigin('https://cdn.example.com/brand/logo.svg')).toBe('https://cdn.example.com');
    expect(logoOrigin('/brand/logo.png')).toBeUndefined();
  });

  it.each([['red'], ['#12345'], ['#1f5fbf; } body { display: none'], ['rgb(1,2,3)'], ['#fff\n']])(
    'refuses the colour %j at boot',
    (primary) => {
      expect(problemsOf({ colours: { primary } })).toEqual([
        'branding.colours.primary: must be a hex colour such as #1f5fbf',
      ]);
    },
  );

  it.each([
    ['javascript:alert(1)'],
    ['JavaScript:alert(1)'],
    ['data:image/svg+xml,<svg onload=alert(1)>'],
    ['http://cdn.example.com/logo.png'],
    ['//evil.example/logo.png'],
    ['/\\evil.example/logo.png'],
    ['https://user:secret@cdn.example.com/logo.png'],
    ['logo.png'],
    ['/logo.png" onerror="alert(1)'],
  ])('refuses the logo URL %j at boot', (logoUrl) => {
    expect(problemsOf({ logoUrl })).toEqual([
      'branding.logoUrl: must be an https:// URL or a path starting with / (or empty)',
    ]);
  });

  it('refuses an empty product name or one with markup or control characters', () => {
    expect(problemsOf({ productName: '  ' })).toEqual([expect.stringMatching(/^branding.productName: /)]);
    expect(problemsOf({ productName: '<b>Acme</b>' })).toEqual([
      'branding.productName: must be plain text without control characters or < >',
    ]);
    expect(problemsOf({ productName: 'Acme\nID' })).toEqual([
      'branding.productName: must be plain text without control characters or < >',
    ]);
    expect(problemsOf({ unknown: true })).toEqual([expect.stringMatching(/^branding: .*unknown/i)]);
  });
});
