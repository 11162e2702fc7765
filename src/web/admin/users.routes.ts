import { NotFoundError } from '../../errors/domain-errors.js';
import type Router from '@koa/router';
import { z } from 'zod';
import type { NewUserInput } from '../../admin/users.service.js';
import type { WithForm } from '../kit/form.js';
import { checkbox, keyedText, list, text } from '../kit/form-fields.js';
import type { WithConsoleContext } from './context.js';
import { decodeCursor, encodeCursor } from './pages.js';
import { confirmForm, param, requireConfirmation, submitForm, type FormErrors } from './forms.js';
import { redirectDone, type ConsoleRouteTools } from './pages.js';
import { createUserPage, userPath } from './user-page.js';

const PAGE_SIZE = 25;

/** A user's profile as the forms post it; the users service checks each field. */
const profileForm = z.object({ email: text(), name: text(), email_verified: checkbox() });
/** A new user: the profile, an optional first password, and roles to assign. */
const newUserForm = profileForm.extend({ password: text(), roles: list() });
const passwordForm = z.object({ password: text() });
/** The custom attributes as `attributes[<name>]`, each read by its type (accounts/attribute-schema.ts). */
const attributesForm = z.object({ attributes: keyedText() });

/** Users: search and page through them, create, edit, disable/enable, set a password, reset factors, delete. */
export function addUserRoutes(router: Router, tools: ConsoleRouteTools): void {
  const { deps, show, view, change } = tools;
  const { users, roles, attributes } = deps.admin;
  const showUser = createUserPage(tools);

  router.get('/users', ...view, async (ctx: WithConsoleContext) => {
    const search = typeof ctx.query.q === 'string' ? ctx.query.q.slice(0, 200) : '';
    const page = await users.page({ search, after: decodeCursor(ctx.query.after, 'uuid'), limit: PAGE_SIZE });
    await show(ctx, 'users', { title: 'Users', search, users: page.items, next: page.next && encodeCursor(page.next) });
  });

  const showNewUser = async (ctx: WithConsoleContext, input: NewUserInput, errors: FormErrors = {}, status = 200) =>
    show(ctx, 'user-new', { title: 'New user', input, roles: await roles.list(), errors }, status);

  router.get('/users/new', ...view, (ctx: WithConsoleContext) =>
    showNewUser(ctx, { email: '', name: '', emailVerified: false, roles: [] }),
  );

  router.post('/users', ...change(newUserForm), async (ctx: WithConsoleContext & WithForm<typeof newUserForm>) => {
    const { form } = ctx.state;
    const input: NewUserInput = {
      email: form.email,
      name: form.name,
      password: form.password || null,
      emailVerified: form.email_verified,
      roles: form.roles,
    };
    await submitForm(
      async () => {
        const user = await users.create(input, ctx.state.console.actor);
        redirectDone(ctx, userPath(user.id), 'user-created');
      },
      (errors, status) => showNewUser(ctx, { ...input, password: null }, errors, status),
    );
  });

  router.get('/users/:id', ...view, (ctx: WithConsoleContext) => showUser(ctx, param(ctx, 'id')));

  router.post('/users/:id', ...change(profileForm), async (ctx: WithConsoleContext & WithForm<typeof profileForm>) => {
    const id = param(ctx, 'id');
    const { form } = ctx.state;
    const profile = { name: form.name, email: form.email, emailVerified: form.email_verified };
    await submitForm(
      async () => {
        await users.update(id, profile, ctx.state.console.actor);
        redirectDone(ctx, userPath(id), 'user-saved');
      },
      (errors, status) => showUser(ctx, id, { errors, profile, status }),
    );
  });

  router.post(
    '/users/:id/attributes',
    ...change(attributesForm),
    async (ctx: WithConsoleContext & WithForm<typeof attributesForm>) => {
      const id = param(ctx, 'id');
      const typed = ctx.state.form.attributes;
      await submitForm(
        async () => {
          await attributes.set(id, typed, { kind: 'admin', actor: ctx.state.console.actor }, 'form');
          redirectDone(ctx, userPath(id), 'attributes-saved');
        },
        // The refusal names the attribute; its field on the form is attributes[<name>].
        (errors, status) =>
          showUser(ctx, id, {
            errors: Object.fromEntries(
              Object.entries(errors).map(([name, message]) => [`attributes.${name}`, message]),
            ),
            attributes: typed,
            status,
          }),
      );
    },
  );

  router.post('/users/:id/disable', ...change(), async (ctx: WithConsoleContext) => {
    const id = param(ctx, 'id');
    await users.setDisabled(id, true, ctx.state.console.actor);
    redirectDone(ctx, userPath(id), 'user-disabled');
  });

  router.post('/users/:id/enable', ...change(), async (ctx: WithConsoleContext) => {
    const id = param(ctx, 'id');
    await users.setDisabled(id, false, ctx.state.console.actor);
    redirectDone(ctx, userPath(id), 'user-enabled');
  });

  router.post(
    '/users/:id/password',
    ...change(passwordForm),
    async (ctx: WithConsoleContext & WithForm<typeof passwordForm>) => {
      const id = param(ctx, 'id');
      await submitForm(
        async () => {
          await users.setPassword(id, ctx.state.form.password, ctx.state.console.actor);
          redirectDone(ctx, userPath(id), 'password-set');
        },
        (errors, status) => showUser(ctx, id, { errors, status }),
      );
    },
  );

  router.post('/users/:id/reset-factors', ...change(), async (ctx: WithConsoleContext) => {
    const id = param(ctx, 'id');
    await users.resetFactors(id, ctx.state.console.actor);
    redirectDone(ctx, userPath(id), 'factors-reset');
  });

  router.post('/users/:id/code-factors/:channel/remove', ...change(), async (ctx: WithConsoleContext) => {
    const id = param(ctx, 'id');
    const channel = param(ctx, 'channel');
    if (channel !== 'email' && channel !== 'sms') throw new NotFoundError('code factor');
    await users.removeCodeFactor(id, channel, ctx.state.console.actor);
    redirectDone(ctx, userPath(id), 'code-factor-removed');
  });

  router.post('/users/:id/unlock', ...change(), async (ctx: WithConsoleContext) => {
    const id = param(ctx, 'id');
    await users.unlock(id, ctx.state.console.actor);
    redirectDone(ctx, userPath(id), 'lockout-cleared');
  });

  router.post(
    '/users/:id/delete',
    ...change(confirmForm),
    async (ctx: WithConsoleContext & WithForm<typeof confirmForm>) => {
      requireConfirmation(ctx.state.form.confirm);
      await users.delete(param(ctx, 'id'), ctx.state.console.actor);
      redirectDone(ctx, '/admin/users', 'user-deleted');
    },
  );
}
