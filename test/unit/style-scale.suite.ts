import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * views/public/style.css keeps to its spacing and type scale (docs/design.md, issue 21): every
 * margin, padding, gap, font size and line height is a step of the scale, 0 or auto, so an ad-hoc
 * "0.6rem" cannot creep back in. A value outside the scale must be listed below with its reason.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const css = readFileSync(join(root, 'views/public/style.css'), 'utf8');

/** Declarations allowed off the scale, as `selector | property`, each with why. */
const EXCEPTIONS: Record<string, string> = {
  '.chart-svg text | font-size':
    "SVG text is sized in the chart's viewBox units, which scale with the chart, not in the page's rem",
  '.admin-table th, .admin-table td | padding':
    'on a phone each cell leaves room on its left for its label (7.5rem wide) and a gap: a layout width, not a space',
};

interface Declaration {
  selector: string;
  property: string;
  value: string;
}

/** Every declaration with the selector of its rule; rules inside @media count as their own. */
function declarationsOf(source: string): Declaration[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '');
  const found: Declaration[] = [];
  // Innermost blocks only: an @media block holds braces, its rules do not.
  for (const [, head = '', body = ''] of text.matchAll(/([^{}]*)\{([^{}]*)\}/g)) {
    const selector = head.trim().replace(/\s+/g, ' ');
    for (const declaration of body.split(';')) {
      const colon = declaration.indexOf(':');
      if (colon < 0) continue;
      found.push({
        selector,
        property: declaration.slice(0, colon).trim(),
        value: declaration.slice(colon + 1).trim(),
      });
    }
  }
  return found;
}

const SPACING =
  /^(?:(?:margin|padding)(?:-(?:top|right|bottom|left|block|inline)(?:-(?:start|end))?)?|gap|row-gap|column-gap)$/;
/** What each guarded property may hold, one token at a time. */
const ALLOWED: Array<[RegExp, RegExp]> = [
  [SPACING, /^(?:0|auto|var\(--gh-space-\d\))$/],
  [/^font-size$/, /^(?:inherit|var\(--gh-text-[a-z0-9]+\))$/],
  [/^line-height$/, /^(?:inherit|var\(--gh-leading-[a-z0-9]+\))$/],
  // The shorthand would set a size and a line height past the scale: only `font: inherit` (form controls).
  [/^font$/, /^inherit$/],
];

const declarations = declarationsOf(css);
const keyOf = (d: Declaration): string => `${d.selector} | ${d.property}`;
const rootValues = new Map(
  declarations.filter((d) => d.selector === ':root').map((d) => [d.property, d.value] as const),
);

describe('views/public/style.css keeps to its spacing and type scale', () => {
  it('reads the stylesheet: many rules, the scale defined on :root', () => {
    expect(declarations.length).toBeGreaterThan(200);
    expect(rootValues.get('--gh-space-1')).toBe('0.25rem');
  });

  it('uses only the scale (or 0, auto, inherit) for margin, padding, gap, font size and line height', () => {
    const offScale = declarations
      .filter((d) => !(keyOf(d) in EXCEPTIONS))
      .flatMap((d) => {
        const rule = ALLOWED.find(([property]) => property.test(d.property));
        if (!rule) return [];
        const tokens = d.value.replace(/\s*!important$/, '').split(/\s+/);
        return tokens.every((token) => rule[1].test(token)) ? [] : [`${keyOf(d)}: ${d.value}`];
      });
    expect(offScale).toEqual([]);
  });

  it('has each listed exception still in the file (none left behind)', () => {
    const keys = new Set(declarations.map(keyOf));
    expect(Object.keys(EXCEPTIONS).filter((key) => !keys.has(key))).toEqual([]);
  });

  it('defines a spacing scale of six steps on a 0.25rem base, growing', () => {
    const steps = [1, 2, 3, 4, 5, 6].map((n) => rootValues.get(`--gh-space-${n}`) ?? '');
    const rems = steps.map((value) => Number(/^([\d.]+)rem$/.exec(value)?.[1] ?? NaN));
    expect(rems.every((rem) => Number.isInteger(rem / 0.25))).toBe(true);
    expect(rems.every((rem, i) => i === 0 || rem > (rems[i - 1] ?? 0))).toBe(true);
    expect(rootValues.has('--gh-space-7')).toBe(false);
  });

  it('gives each text size a line height, and sizes the headings from the scale', () => {
    const sizes = [...rootValues.keys()].filter((name) => name.startsWith('--gh-text-'));
    expect(sizes.map((name) => name.slice('--gh-text-'.length))).toEqual(['sm', 'base', 'lg', 'xl', '2xl']);
    for (const size of sizes) expect(rootValues.get(size.replace('text', 'leading'))).toMatch(/^\d(\.\d+)?$/);
    const headingSize = (selector: string) =>
      declarations.find((d) => d.selector === selector && d.property === 'font-size')?.value;
    expect([headingSize('h1'), headingSize('h2'), headingSize('h3')]).toEqual([
      'var(--gh-text-2xl)',
      'var(--gh-text-xl)',
      'var(--gh-text-lg)',
    ]);
  });

  it('uses no custom property of the scale that it does not define', () => {
    const used = [...css.matchAll(/var\((--gh-(?:space|text|leading)-[a-z0-9]+)\)/g)].map((match) => match[1] ?? '');
    expect(used.filter((name) => !rootValues.has(name))).toEqual([]);
  });
});
