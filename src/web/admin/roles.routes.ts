import type Router from '@koa/router';
import { z } from 'zod';
import type { WithForm } from '../kit/form.js';
import { text } from '../kit/form-fields.js';
import type { WithConsoleContext } from './context.js';
import { confirmForm, param, requireConfirmation, submitForm, type FormErrors } from './forms.js';
import { redirectDone, type ConsoleRouteTools } from './pages.js';
import { addGrantRoutes, grantValue, permissionsPanel } from './permission-grants.js';

interface RoleFormValues {
  name: string;
  description: string;
}

/** The description form; empty clears it. */
const descriptionForm = z.object({ description: text() });
const newRoleForm = descriptionForm.extend({ name: text({ trim: true }) });

const rolePath = (name: string): string => `/admin/roles/${encodeURIComponent(name)}`;

/**
 * Roles: list and create on one page; a role's page edits its description, grants and revokes
 * API permissions, or deletes the role.
 */
export function addRoleRoutes(router: Router, tools: ConsoleRouteTools): void {
  const { deps, show, view, change } = tools;
  const { roles, permissions } = deps.admin;

  const showRoles = async (ctx: WithConsoleContext, input: RoleFormValues, errors: FormErrors = {}, status = 200) =>
    show(ctx, 'roles', { title: 'Roles', roles: await roles.list(), input, errors }, status);

  const showRole = async (
    ctx: WithConsoleContext,
    name: string,
    description?: string,
    errors: FormErrors = {},
    status = 200,
  ) => {
    const role = await roles.get(name);
    await show(
      ctx,
      'role',
      {
        title: `Role ${role.name}`,
        role,
        description: description ?? role.description ?? '',
        permissions: await permissionsPanel(permissions, 'role', role.name),
        grantValue,
        errors,
      },
      status,
    );
  };

  router.get('/roles', ...view, (ctx: WithConsoleContext) => showRoles(ctx, { name: '', description: '' }));

  router.post('/roles', ...change(newRoleForm), async (ctx: WithConsoleContext & WithForm<typeof newRoleForm>) => {
    const input: RoleFormValues = ctx.state.form;
    await submitForm(
      async () => {
        const role = await roles.create(
          { name: input.name, description: input.description || null },
          ctx.state.console.actor,
        );
        redirectDone(ctx, rolePath(role.name), 'role-created');
      },
      (errors, status) => showRoles(ctx, input, errors, status),
    );
  });

  router.get('/roles/:name', ...view, (ctx: WithConsoleContext) => showRole(ctx, param(ctx, 'name')));

  router.post(
    '/roles/:name',
    ...change(descriptionForm),
    async (ctx: WithConsoleContext & WithForm<typeof descriptionForm>) => {
      const name = param(ctx, 'name');
      const { description } = ctx.state.form;
      await submitForm(
        async () => {
          await roles.update(name, description || null, ctx.state.console.actor);
          redirectDone(ctx, rolePath(name), 'role-saved');
        },
        (errors, status) => showRole(ctx, name, description, errors, status),
      );
    },
  );

  router.post(
    '/roles/:name/delete',
    ...change(confirmForm),
    async (ctx: WithConsoleContext & WithForm<typeof confirmForm>) => {
      const name = param(ctx, 'name');
      requireConfirmation(ctx.state.form.confirm);
      await submitForm(
        async () => {
          await roles.delete(name, ctx.state.console.actor);
          redirectDone(ctx, '/admin/roles', 'role-deleted');
        },
        (errors, status) => showRole(ctx, name, undefined, errors, status),
      );
    },
  );

  addGrantRoutes(router, tools, {
    holder: 'role',
    route: '/roles/:name',
    key: 'name',
    pageOf: rolePath,
    showAgain: (ctx, name, errors, status) => showRole(ctx, name, undefined, errors, status),
  });
}
