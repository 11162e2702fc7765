import type Router from '@koa/router';
import { z } from 'zod';
import { InvalidInputError } from '../../errors/domain-errors.js';
import type { HeldPermission, PermissionHolder } from '../../storage/permissions.repository.js';
import type { WithForm } from '../kit/form.js';
import { text } from '../kit/form-fields.js';
import type { WithConsoleContext } from './context.js';
import { param, submitForm, type FormErrors } from './forms.js';
import { redirectDone, type ConsoleRouteTools } from './pages.js';

/**
 * One field names a permission: `<resource indicator> <permission name>`. A permission name is a
 * scope token (no spaces), so the last space parts them even if an indicator held one.
 */
const grantForm = z.object({ permission: text({ trim: true }) });

export const grantValue = (held: HeldPermission): string => `${held.resource} ${held.permission}`;

function parseGrant(value: string): HeldPermission {
  const at = value.lastIndexOf(' ');
  if (at <= 0 || at === value.length - 1)
    throw new InvalidInputError('permission', 'choose a permission from the list');
  return { resource: value.slice(0, at), permission: value.slice(at + 1) };
}

/** What the role's or client's page shows: what it holds, and what else it could be granted. */
export interface PermissionsPanel {
  held: HeldPermission[];
  grantable: HeldPermission[];
}

export async function permissionsPanel(
  permissions: ConsoleRouteTools['deps']['admin']['permissions'],
  holder: PermissionHolder,
  key: string,
): Promise<PermissionsPanel> {
  const [held, all] = await Promise.all([permissions.permissionsOf(holder, key), permissions.allPermissions()]);
  const heldValues = new Set(held.map(grantValue));
  return { held, grantable: all.filter((p) => !heldValues.has(grantValue(p))) };
}

/**
 * POST `<page>/permissions` (grant) and `<page>/permissions/revoke` for a role's or a client's
 * page: the same two forms on both, through the permissions service (audited there). A refused
 * choice shows the page again with the message beside the list.
 */
export function addGrantRoutes(
  router: Router,
  { deps, change }: ConsoleRouteTools,
  spec: {
    holder: PermissionHolder;
    /** `/roles/:name` or `/clients/:id`, and the route parameter that holds the key. */
    route: string;
    key: 'name' | 'id';
    pageOf: (key: string) => string;
    showAgain: (ctx: WithConsoleContext, key: string, errors: FormErrors, status: number) => Promise<void>;
  },
): void {
  const { permissions } = deps.admin;
  for (const [suffix, verb] of [
    ['', 'grant'],
    ['/revoke', 'revoke'],
  ] as const) {
    router.post(
      `${spec.route}/permissions${suffix}`,
      ...change(grantForm),
      async (ctx: WithConsoleContext & WithForm<typeof grantForm>) => {
        const key = param(ctx, spec.key);
        await submitForm(
          async () => {
            const { resource, permission } = parseGrant(ctx.state.form.permission);
            await permissions[verb](spec.holder, key, resource, permission, ctx.state.console.actor);
            redirectDone(ctx, spec.pageOf(key), verb === 'grant' ? 'permission-granted' : 'permission-revoked');
          },
          (errors, status) => spec.showAgain(ctx, key, errors, status),
        );
      },
    );
  }
}
