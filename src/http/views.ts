import { join } from 'node:path';
import ejs from 'ejs';
import { packageRoot } from '../config/package-root.js';

export type ViewLocals = Record<string, unknown>;

export interface ViewRenderer {
  /** Renders views/<name>.ejs inside views/_layout.ejs. */
  render(name: string, locals: ViewLocals & { title: string }): Promise<string>;
}

export function createViewRenderer(options: { productName: string; cache: boolean }): ViewRenderer {
  const dir = join(packageRoot, 'views');
  const renderFile = (file: string, data: ViewLocals) =>
    ejs.renderFile(join(dir, file), data, { cache: options.cache, async: false, root: dir });
  return {
    async render(name, locals) {
      const data = { productName: options.productName, ...locals };
      const body = await renderFile(`${name}.ejs`, data);
      return renderFile('_layout.ejs', { ...data, body });
    },
  };
}
