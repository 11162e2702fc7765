import type { Context, Middleware, Next } from 'koa';
import { z } from 'zod';
import { bodyParser } from '../../http/body-parser.js';
import { AppError } from '../../http/errors.js';
import { InvalidInputError } from '../../errors/domain-errors.js';

/**
 * A route handler's context once its form passed: `ctx.state.form` is the schema's output.
 * Intersect it with the surface's own context: `WithConsoleContext & WithForm<typeof schema>`.
 */
export type WithForm<S extends z.ZodType> = Context & { state: { form: z.output<S> } };

/** The form of a route that posts nothing but its CSRF token (a button). */
const noFields = z.object({});

/**
 * Parses the posted fields with `schema` into ctx.state.form. Unknown fields are dropped (the
 * csrf token, a submit button's name), so a form's schema lists only what the route reads.
 * The first field that does not fit is a 400 naming it, before the route runs.
 */
export function validateForm<S extends z.ZodType>(schema: S): Middleware {
  return async function validateFormMiddleware(ctx: Context, next: Next): Promise<void> {
    const result = schema.safeParse(postedFields(ctx));
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new InvalidInputError(
        issue && issue.path.length > 0 ? issue.path.join('.') : 'form',
        issue?.message ?? 'is not valid',
      );
    }
    (ctx.state as { form: unknown }).form = result.data;
    await next();
  };
}

function postedFields(ctx: Context): Record<string, unknown> {
  const body = (ctx.request as { body?: unknown }).body;
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

export interface FormOptions<C extends Context> {
  /** The largest body this surface's forms may post (@koa/bodyparser's formLimit, e.g. '16kb'). */
  limit: string;
  /**
   * This surface's CSRF check: true when `token`, the form's `csrf` field, is the one its page
   * gave this browser (bound to the session, the interaction or the public-form cookie).
   */
  csrf: (ctx: C, token: string) => boolean;
  /** What a refused token answers; a 403 "the form expired" page by default. */
  refused?: () => AppError;
}

/**
 * The middleware of a POST form route: the body, then `checks` (what the CSRF binding comes from:
 * the session, the pending sign-in step), the CSRF token, then `schema` (none: no fields).
 */
export type FormGuard = <S extends z.ZodType = typeof noFields>(schema?: S, ...checks: Middleware[]) => Middleware[];

/**
 * One surface's forms: every POST form route runs `form(schema, ...checks)`, which parses the
 * urlencoded body (refusing unstorable text, http/body-parser.ts, before anything else reads
 * it), runs the surface's checks, refuses a form whose CSRF token is not this surface's (before
 * any field is read), then validates the fields into ctx.state.form.
 */
export function createForms<C extends Context = Context>(options: FormOptions<C>): FormGuard {
  const parse = bodyParser({ enableTypes: ['form'], formLimit: options.limit });
  const refused = options.refused ?? (() => new AppError('forbidden', 403, 'common.formExpired'));
  async function checkCsrf(ctx: Context, next: Next): Promise<void> {
    const token = postedFields(ctx).csrf;
    if (typeof token !== 'string' || !options.csrf(ctx as C, token)) throw refused();
    await next();
  }
  return (schema, ...checks) => [parse, ...checks, checkCsrf, validateForm(schema ?? noFields)];
}
