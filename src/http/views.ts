import { join } from 'node:path';
import ejs from 'ejs';
import { packageRoot } from '../config/package-root.js';
import type { MessageParams } from '../i18n/catalogue.js';
import type { Translator } from '../i18n/translator.js';

export type ViewLocals = Record<string, unknown>;

/** What the layout shows of the operator's brand (config `branding`). */
export interface PageBrand {
  productName: string;
  /** An https URL or a path on this server; empty: no logo. */
  logoUrl: string;
}

export interface ViewRenderer {
  /**
   * Renders views/<name>.ejs inside views/_layout.ejs. Templates get the request's language
   * as `t(key, params)`, `tStrong(key, params)`, `locale`, `formatDate`, `formatNumber`
   * (English when no i18n is given), the brand as `productName`, `logoUrl`, and `basePath`,
   * the issuer's path prefix ('' for none) that every path a page links to starts with.
   */
  render(name: string, locals: ViewLocals & { title: string; i18n?: Translator }): Promise<string>;
  /** Renders one template on its own (no layout): e-mail bodies. */
  renderPart(file: string, locals: ViewLocals & { i18n?: Translator }): Promise<string>;
}

/**
 * A message as HTML with each parameter emphasised (<strong>): a sentence that names a client
 * or product keeps the language's word order. Both the text and the values are escaped, so a
 * client name can never become markup.
 */
function emphasised(i18n: Translator, key: string, params: MessageParams = {}): string {
  const marked = Object.fromEntries(Object.keys(params).map((name) => [name, `\u0000${name}\u0000`]));
  return ejs
    .escapeXML(i18n.t(key, marked))
    .replace(/\u0000(\w+)\u0000/g, (_whole, name: string) => `<strong>${ejs.escapeXML(String(params[name]))}</strong>`);
}

export function createViewRenderer(options: {
  brand: PageBrand;
  cache: boolean;
  english: Translator;
  basePath: string;
}): ViewRenderer {
  const dir = join(packageRoot, 'views');
  const renderFile = (file: string, data: ViewLocals) =>
    ejs.renderFile(join(dir, file), data, { cache: options.cache, async: false, root: dir });
  const withLanguage = (locals: ViewLocals & { i18n?: Translator }) => {
    const i18n = locals.i18n ?? options.english;
    return {
      productName: options.brand.productName,
      logoUrl: options.brand.logoUrl,
      basePath: options.basePath,
      locale: i18n.locale,
      t: i18n.t,
      tStrong: (key: string, params?: MessageParams) => emphasised(i18n, key, params),
      formatDate: i18n.formatDate,
      formatNumber: i18n.formatNumber,
      ...locals,
    };
  };
  return {
    async render(name, locals) {
      const data = withLanguage(locals);
      const body = await renderFile(`${name}.ejs`, data);
      return renderFile('_layout.ejs', { ...data, body });
    },
    renderPart: (file, locals) => renderFile(file, withLanguage(locals)),
  };
}
