import type Router from '@koa/router';
import { z } from 'zod';
import type { ResourceInput, ResourceWithPermissions } from '../../permissions/permissions.service.js';
import type { WithForm } from '../kit/form.js';
import { checkbox, text } from '../kit/form-fields.js';
import type { WithConsoleContext } from './context.js';
import { confirmForm, param, requireConfirmation, submitForm, type FormErrors } from './forms.js';
import { redirectDone, type ConsoleRouteTools } from './pages.js';

/** The fields of a resource a form edits; the TTL is text, empty for the default. */
const resourceFields = z.object({
  name: text({ trim: true }),
  audience: text({ trim: true }),
  access_token_ttl: text({ trim: true }),
  permissions_claim: checkbox(),
});
const newResourceForm = resourceFields.extend({ indicator: text({ trim: true }) });
/** Prefixed: the resource's own form on the same page has a `name` too. */
const permissionForm = z.object({ permission_name: text({ trim: true }), permission_description: text() });
const removePermissionForm = z.object({ name: text() });

type ResourceFormValues = z.output<typeof newResourceForm>;
type PermissionFormValues = z.output<typeof permissionForm>;

const EMPTY_RESOURCE: ResourceFormValues = {
  indicator: '',
  name: '',
  audience: '',
  access_token_ttl: '',
  permissions_claim: false,
};
const EMPTY_PERMISSION: PermissionFormValues = { permission_name: '', permission_description: '' };

const resourcePath = (id: string): string => `/admin/resources/${encodeURIComponent(id)}`;

/** The form's values as the service takes them; the service checks each (a bad TTL names its field). */
const changesOf = (form: z.output<typeof resourceFields>): Omit<ResourceInput, 'indicator'> => ({
  name: form.name,
  audience: form.audience || null,
  // Empty: the default; anything else must be a whole number, which the service checks.
  accessTokenTtl: form.access_token_ttl === '' ? undefined : Number(form.access_token_ttl),
  permissionsClaim: form.permissions_claim,
});

const formValuesOf = (r: ResourceWithPermissions): ResourceFormValues => ({
  indicator: r.indicator,
  name: r.name,
  audience: r.audience ?? '',
  access_token_ttl: String(r.accessTokenTtl),
  permissions_claim: r.permissionsClaim,
});

/**
 * API resources (issue 19): the list with each resource's permissions and a form for a new one;
 * a resource's page edits it, adds and removes permissions, and deletes it. Roles and clients
 * are granted permissions on their own pages (permission-grants.ts).
 */
export function addResourceRoutes(router: Router, { deps, show, view, change }: ConsoleRouteTools): void {
  const { permissions } = deps.admin;

  const showResources = async (
    ctx: WithConsoleContext,
    input: ResourceFormValues,
    errors: FormErrors = {},
    status = 200,
  ) => {
    const resources = await Promise.all((await permissions.listResources()).map((r) => permissions.getResource(r.id)));
    await show(ctx, 'resources', { title: 'API resources', resources, input, errors }, status);
  };

  const showResource = async (
    ctx: WithConsoleContext,
    id: string,
    state: { input?: ResourceFormValues; permission?: PermissionFormValues; errors?: FormErrors; status?: number } = {},
  ) => {
    const resource = await permissions.getResource(id);
    await show(
      ctx,
      'resource',
      {
        title: `API resource ${resource.name}`,
        resource,
        input: state.input ?? formValuesOf(resource),
        permission: state.permission ?? EMPTY_PERMISSION,
        errors: state.errors ?? {},
      },
      state.status,
    );
  };

  router.get('/resources', ...view, (ctx: WithConsoleContext) => showResources(ctx, EMPTY_RESOURCE));

  router.post(
    '/resources',
    ...change(newResourceForm),
    async (ctx: WithConsoleContext & WithForm<typeof newResourceForm>) => {
      const input = ctx.state.form;
      await submitForm(
        async () => {
          const resource = await permissions.createResource(
            { indicator: input.indicator, ...changesOf(input) },
            ctx.state.console.actor,
          );
          redirectDone(ctx, resourcePath(resource.id), 'resource-created');
        },
        (errors, status) => showResources(ctx, input, errors, status),
      );
    },
  );

  router.get('/resources/:id', ...view, (ctx: WithConsoleContext) => showResource(ctx, param(ctx, 'id')));

  router.post(
    '/resources/:id',
    ...change(resourceFields),
    async (ctx: WithConsoleContext & WithForm<typeof resourceFields>) => {
      const id = param(ctx, 'id');
      const current = await permissions.getResource(id);
      const input = { ...ctx.state.form, indicator: current.indicator };
      await submitForm(
        async () => {
          await permissions.updateResource(current.id, changesOf(input), ctx.state.console.actor);
          redirectDone(ctx, resourcePath(current.id), 'resource-saved');
        },
        (errors, status) => showResource(ctx, current.id, { input, errors, status }),
      );
    },
  );

  router.post(
    '/resources/:id/permissions',
    ...change(permissionForm),
    async (ctx: WithConsoleContext & WithForm<typeof permissionForm>) => {
      const id = param(ctx, 'id');
      const permission = ctx.state.form;
      await submitForm(
        async () => {
          await permissions.createPermission(
            id,
            { name: permission.permission_name, description: permission.permission_description },
            ctx.state.console.actor,
          );
          redirectDone(ctx, resourcePath(id), 'permission-added');
        },
        // The service names the permission's fields `name` and `description`; the form, prefixed.
        (errors, status) =>
          showResource(ctx, id, {
            permission,
            errors: Object.fromEntries(
              Object.entries(errors).map(([field, message]) => [`permission_${field}`, message]),
            ),
            status,
          }),
      );
    },
  );

  router.post(
    '/resources/:id/permissions/remove',
    ...change(removePermissionForm),
    async (ctx: WithConsoleContext & WithForm<typeof removePermissionForm>) => {
      const id = param(ctx, 'id');
      await permissions.deletePermission(id, ctx.state.form.name, ctx.state.console.actor);
      redirectDone(ctx, resourcePath(id), 'permission-removed');
    },
  );

  router.post(
    '/resources/:id/delete',
    ...change(confirmForm),
    async (ctx: WithConsoleContext & WithForm<typeof confirmForm>) => {
      requireConfirmation(ctx.state.form.confirm);
      await permissions.deleteResource(param(ctx, 'id'), ctx.state.console.actor);
      redirectDone(ctx, '/admin/resources', 'resource-deleted');
    },
  );
}
