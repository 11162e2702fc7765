import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import { z } from 'zod';
import { createForms, validateForm, type WithForm } from '../../src/web/kit/form.js';
import { checkbox, lines, list, optionalText, text } from '../../src/web/kit/form-fields.js';
import { AppError } from '../../src/http/errors.js';
import { InvalidInputError } from '../../src/errors/domain-errors.js';
import { httpErrorOf } from '../../src/http/domain-error-response.js';

/** Runs validateForm over a posted body as the body parser leaves it; returns the typed form or the error. */
async function validate<S extends z.ZodType>(schema: S, body: unknown): Promise<z.output<S>> {
  const ctx = { request: { body }, state: {} } as unknown as WithForm<S>;
  await validateForm(schema)(ctx, async () => {});
  return ctx.state.form;
}

async function refusal(schema: z.ZodType, body: unknown): Promise<InvalidInputError> {
  try {
    await validate(schema, body);
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error('the form was accepted');
}

describe('the form kit (src/web/kit/form.ts, form-fields.ts)', () => {
  const profile = z.object({
    email: text({ trim: true }),
    name: text(),
    verified: checkbox(),
    roles: list(),
    uris: lines(),
    alg: optionalText(),
  });

  it("gives the route the schema's typed output", async () => {
    const form = await validate(profile, {
      email: '  a@example.com ',
      name: ' Ann ',
      verified: '1',
      roles: ['admin', 'ops'],
      uris: 'https://a/cb\r\n\n  https://b/cb  ',
      alg: 'ES256',
      csrf: 'x',
    });
    // Typed: each of these assignments fails `npm run typecheck` if the output type drifts.
    const email: string = form.email;
    const verified: boolean = form.verified;
    const roles: string[] = form.roles;
    const alg: string | undefined = form.alg;
    expect({ email, name: form.name, verified, roles, uris: form.uris, alg }).toEqual({
      email: 'a@example.com',
      name: ' Ann ',
      verified: true,
      roles: ['admin', 'ops'],
      uris: ['https://a/cb', 'https://b/cb'],
      alg: 'ES256',
    });
    // Fields the schema does not list (the csrf token, a button) are not passed on.
    expect(form).not.toHaveProperty('csrf');
  });

  it('reads missing fields as today: empty text, unticked box, empty list and lines, no optional value', async () => {
    expect(await validate(profile, {})).toEqual({
      email: '',
      name: '',
      verified: false,
      roles: [],
      uris: [],
      alg: undefined,
    });
    expect(await validate(profile, { alg: '', verified: '' })).toMatchObject({ alg: undefined, verified: false });
  });

  it("takes only a box's own value, 1, as ticked", async () => {
    expect((await validate(profile, { verified: '1' })).verified).toBe(true);
    expect((await validate(profile, { verified: 'on' })).verified).toBe(false);
    expect((await validate(profile, { verified: 'true; expires=never' })).verified).toBe(false);
  });

  it('takes a list sent once as a one-item list, and drops empty values', async () => {
    expect((await validate(profile, { roles: 'admin' })).roles).toEqual(['admin']);
    expect((await validate(profile, { roles: ['', 'ops', ''] })).roles).toEqual(['ops']);
  });

  it('refuses a text field sent twice or as an object, naming it (a 400, not a silent "")', async () => {
    const twice = await refusal(profile, { email: ['a@example.com', 'b@example.com'] });
    expect(httpErrorOf(twice).status).toBe(400);
    expect(twice.field).toBe('email');
    expect(twice.message).toBe('must be sent once, as text');
    expect(httpErrorOf(twice).message).toBe('email: must be sent once, as text');
    expect((await refusal(profile, { name: { nested: 'x' } })).field).toBe('name');
    expect((await refusal(profile, { verified: ['1', '1'] })).field).toBe('verified');
    expect((await refusal(profile, { roles: { 0: 'a' } })).field).toBe('roles');
    expect((await refusal(profile, { uris: ['a', 'b'] })).field).toBe('uris');
  });

  it('names the field of a schema rule (an enum) too', async () => {
    const kind = z.object({ kind: z.enum(['passkey', 'security_key']) });
    expect((await refusal(kind, { kind: 'other' })).field).toBe('kind');
  });

  describe('createForms: body, CSRF, then fields, on a real Koa app', () => {
    let server: Server;
    let base: string;
    const signUp = z.object({ email: text({ trim: true }), tags: list() });

    beforeAll(async () => {
      const app = new Koa();
      app.use(async (ctx, next) => {
        try {
          await next();
        } catch (thrown) {
          // As the app's error handler does: a domain refusal becomes its HTTP answer first.
          const error = thrown instanceof InvalidInputError ? httpErrorOf(thrown) : thrown;
          if (!(error instanceof AppError)) throw error;
          ctx.status = error.status;
          ctx.body = { error: error.code, message: error.message };
        }
      });
      const router = new Router();
      const form = createForms({
        limit: '1kb',
        csrf: (ctx, token) => token === `good${String(ctx.state.binding ?? '')}`,
      });
      router.post('/sign-up', ...form(signUp), (ctx: WithForm<typeof signUp>) => {
        ctx.body = ctx.state.form;
      });
      // A surface's check (the session a token is bound to) runs after the body, before the token.
      const loadBinding: Koa.Middleware = async (ctx, next) => {
        ctx.state.binding =
          (ctx.request as { body?: Record<string, unknown> }).body?.session === 'yes' ? '-session' : undefined;
        if (ctx.state.binding === undefined) throw new AppError('session_expired', 401, 'no session');
        await next();
      };
      router.post('/bound', ...form(signUp, loadBinding), (ctx: WithForm<typeof signUp>) => {
        ctx.body = ctx.state.form;
      });
      router.post('/button', ...form(), (ctx: WithForm<z.ZodObject>) => {
        ctx.body = ctx.state.form;
      });
      app.use(router.routes());
      server = await new Promise((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
        }),
    );

    const post = async (path: string, body: string) => {
      const response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      const answer = await response.text();
      // Our handler answers JSON; koa's own client errors (413) plain text.
      return { status: response.status, body: (answer.startsWith('{') ? JSON.parse(answer) : answer) as unknown };
    };

    it('parses repeated fields into the typed form', async () => {
      expect(await post('/sign-up', 'csrf=good&email=+a%40example.com+&tags=x&tags=y')).toEqual({
        status: 200,
        body: { email: 'a@example.com', tags: ['x', 'y'] },
      });
      expect(await post('/button', 'csrf=good&extra=1')).toEqual({ status: 200, body: {} });
    });

    it("runs the surface's checks between the body and the token", async () => {
      expect(await post('/bound', 'csrf=good-session&session=yes&email=a')).toEqual({
        status: 200,
        body: { email: 'a', tags: [] },
      });
      expect((await post('/bound', 'csrf=good-session&email=a')).status).toBe(401);
      expect((await post('/bound', 'csrf=good&session=yes&email=a')).status).toBe(403);
    });

    it('refuses a missing or wrong CSRF token (403) before reading any field', async () => {
      expect((await post('/sign-up', 'email=a&email=b')).status).toBe(403);
      expect((await post('/sign-up', 'csrf=bad&email=a')).status).toBe(403);
      expect((await post('/sign-up', 'csrf=good&csrf=good&email=a')).status).toBe(403);
    });

    it('answers a malformed field with a 400 naming it', async () => {
      expect(await post('/sign-up', 'csrf=good&email=a&email=b')).toEqual({
        status: 400,
        body: { error: 'invalid_request', message: 'email: must be sent once, as text' },
      });
      expect(await post('/sign-up', 'csrf=good&tags[x]=1')).toMatchObject({
        status: 400,
        body: { message: 'tags: must be text values' },
      });
    });

    it("refuses a body over the surface's limit", async () => {
      expect((await post('/sign-up', `csrf=good&email=${'a'.repeat(2000)}`)).status).toBe(413);
    });
  });
});
