import { join } from 'node:path';
import ejs from 'ejs';
import { packageRoot } from '../config/package-root.js';
import type { Translator } from '../i18n/translator.js';

export type ViewLocals = Record<string, unknown>;

export interface ViewRenderer {
  /**
   * Renders views/<name>.ejs inside views/_layout.ejs. Templates get the request's language
   * as `t(key, params)`, `locale`, `formatDate`, `formatNumber` (English when no i18n is given).
   */
  render(name: string, locals: ViewLocals & { title: string; i18n?: Translator }): Promise<string>;
  /** Renders one template on its own (no layout): e-mail bodies. */
  renderPart(file: string, locals: ViewLocals & { i18n?: Translator }): Promise<string>;
}

export function createViewRenderer(options: { productName: string; cache: boolean; english: Translator }): ViewRenderer {
  const dir = join(packageRoot, 'views');
  const renderFile = (file: string, data: ViewLocals) =>
    ejs.renderFile(join(dir, file), data, { cache: options.cache, async: false, root: dir });
  const withLanguage = (locals: ViewLocals & { i18n?: Translator }) => {
    const i18n = locals.i18n ?? options.english;
    return {
      productName: options.productName,
      locale: i18n.locale,
      t: i18n.t,
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
