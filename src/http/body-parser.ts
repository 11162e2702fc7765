import { bodyParser as koaBodyParser } from '@koa/bodyparser';
import type { Context, Next } from 'koa';
import { assertStorable } from './storable-input.js';

type BodyParserOptions = Parameters<typeof koaBodyParser>[0];

/**
 * @koa/bodyparser, then the parsed form or JSON checked for text PostgreSQL cannot store
 * (U+0000, a lone surrogate): the one parser of our pages' forms and our scripts' JSON, so no
 * route can forget the check. A bad field is a 400 page (or JSON error) naming it.
 */
export function bodyParser(options?: BodyParserOptions) {
  const parse = koaBodyParser(options);
  return async function storableBodyParser(ctx: Context, next: Next): Promise<void> {
    await parse(ctx, async () => {
      assertStorable((ctx.request as { body?: unknown }).body, 'body');
      await next();
    });
  };
}
