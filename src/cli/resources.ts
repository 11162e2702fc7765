import type { CliIo } from './io.js';
import { CliUsageError, parseCommand, required, table, wholeSeconds } from './io.js';
import type { Runner } from './context.js';
import type { ResourceWithPermissions } from '../permissions/permissions.service.js';
import { resourceSettings } from '../permissions/permission-fields.js';

/** A resource on the command line's JSON output: the admin API's field names, permissions by name. */
const resourceJson = (r: ResourceWithPermissions) => ({
  ...resourceSettings(r),
  permissions: r.permissions.map((p) => ({ name: p.name, description: p.description })),
});

/** The flags of `resources create` that `resources update` takes too. */
const RESOURCE_FLAGS = {
  name: { type: 'string' },
  audience: { type: 'string' },
  'access-token-ttl': { type: 'string' },
  'permissions-claim': { type: 'boolean' },
} as const;

/**
 * `gatehouse resources list|show|create|update|delete` and `resources permissions add|remove`:
 * the API resources an admin defines and their named permissions (docs/roles.md, "Permissions").
 * A resource is named by its indicator (or its id).
 */
export async function resourcesCommand(sub: string | undefined, args: string[], run: Runner, io: CliIo): Promise<void> {
  switch (sub) {
    case 'list': {
      const { values } = parseCommand(args, {});
      const resources = await run(async (s) =>
        Promise.all((await s.admin.permissions.listResources()).map((r) => s.admin.permissions.getResource(r.id))),
      );
      if (values.json) {
        io.out(JSON.stringify(resources.map(resourceJson)));
        return;
      }
      table(
        resources.map((r) => ({
          indicator: r.indicator,
          name: r.name,
          permissions: r.permissions.map((p) => p.name).join(' '),
        })),
      ).forEach((line) => io.out(line));
      return;
    }
    case 'show': {
      const { values, positionals } = parseCommand(args, { resource: { type: 'string' } }, 1);
      const key = required(values.resource ?? positionals[0], 'resource');
      const resource = await run((s) => s.admin.permissions.getResource(key));
      if (values.json) {
        io.out(JSON.stringify(resourceJson(resource)));
        return;
      }
      io.out(`${resource.indicator}  ${resource.name}`);
      io.out(`  audience:          ${resource.audience ?? resource.indicator}`);
      io.out(`  access token ttl:  ${resource.accessTokenTtl} s`);
      io.out(`  permissions claim: ${resource.permissionsClaim ? 'yes' : 'no'}`);
      table(resource.permissions.map((p) => ({ permission: p.name, description: p.description ?? '' }))).forEach(
        (line) => io.out(`  ${line}`),
      );
      return;
    }
    case 'create': {
      const { values, positionals } = parseCommand(args, { indicator: { type: 'string' }, ...RESOURCE_FLAGS }, 1);
      const indicator = required(values.indicator ?? positionals[0], 'indicator');
      const name = required(values.name, 'name');
      const created = await run(async (s) => {
        const resource = await s.admin.permissions.createResource(
          {
            indicator,
            name,
            audience: values.audience ?? null,
            accessTokenTtl: ttlOf(values['access-token-ttl']),
            permissionsClaim: values['permissions-claim'] ?? false,
          },
          s.actor,
        );
        return s.admin.permissions.getResource(resource.id);
      });
      if (values.json) io.out(JSON.stringify(resourceJson(created)));
      else io.out(`created resource ${created.indicator} (id ${created.id})`);
      return;
    }
    case 'update': {
      // --no-permissions-claim turns the claim off.
      const { values, positionals } = parseCommand(args, { resource: { type: 'string' }, ...RESOURCE_FLAGS }, 1, {
        allowNegative: true,
      });
      const key = required(values.resource ?? positionals[0], 'resource');
      const change = {
        ...(values.name !== undefined ? { name: values.name } : {}),
        // An empty --audience clears it: the tokens' aud is the indicator again.
        ...(values.audience !== undefined ? { audience: values.audience || null } : {}),
        ...(values['access-token-ttl'] !== undefined ? { accessTokenTtl: ttlOf(values['access-token-ttl']) } : {}),
        ...(values['permissions-claim'] !== undefined ? { permissionsClaim: values['permissions-claim'] } : {}),
      };
      if (Object.keys(change).length === 0)
        throw new CliUsageError(
          'nothing to change: give --name, --audience, --access-token-ttl or --permissions-claim',
        );
      const updated = await run(async (s) => {
        const resource = await s.admin.permissions.getResource(key);
        await s.admin.permissions.updateResource(resource.id, change, s.actor);
        return s.admin.permissions.getResource(resource.id);
      });
      if (values.json) io.out(JSON.stringify(resourceJson(updated)));
      else io.out(`updated resource ${updated.indicator}`);
      return;
    }
    case 'delete': {
      const { values, positionals } = parseCommand(args, { resource: { type: 'string' } }, 1);
      const key = required(values.resource ?? positionals[0], 'resource');
      const indicator = await run(async (s) => {
        const resource = await s.admin.permissions.getResource(key);
        await s.admin.permissions.deleteResource(resource.id, s.actor);
        return resource.indicator;
      });
      if (values.json) io.out(JSON.stringify({ indicator, deleted: true }));
      else io.out(`deleted resource ${indicator}, its permissions and every grant of them`);
      return;
    }
    case 'permissions':
      return permissionsCommand(args[0], args.slice(1), run, io);
    default:
      throw new CliUsageError(
        `unknown resources command "${sub ?? ''}": use list, show, create, update, delete or permissions`,
      );
  }
}

/** `resources permissions add RESOURCE NAME [--description D]` and `resources permissions remove RESOURCE NAME`. */
async function permissionsCommand(sub: string | undefined, args: string[], run: Runner, io: CliIo): Promise<void> {
  if (sub !== 'add' && sub !== 'remove')
    throw new CliUsageError(`unknown resources permissions command "${sub ?? ''}": use add or remove`);
  const { values, positionals } = parseCommand(
    args,
    {
      resource: { type: 'string' },
      name: { type: 'string' },
      ...(sub === 'add' ? { description: { type: 'string' } } : {}),
    },
    2,
  );
  const resource = required(values.resource ?? positionals[0], 'resource');
  const name = required(values.name ?? (values.resource ? positionals[0] : positionals[1]), 'name');
  const description = typeof values.description === 'string' ? values.description : null;
  const indicator = await run(async (s) => {
    const found = await s.admin.permissions.getResource(resource);
    if (sub === 'add') await s.admin.permissions.createPermission(found.id, { name, description }, s.actor);
    else await s.admin.permissions.deletePermission(found.id, name, s.actor);
    return found.indicator;
  });
  const done = sub === 'add' ? 'added' : 'removed';
  if (values.json) io.out(JSON.stringify({ resource: indicator, permission: name, [done]: true }));
  else io.out(`${done} permission ${name} ${sub === 'add' ? 'to' : 'from'} ${indicator}`);
}

function ttlOf(value: string | undefined): number | undefined {
  return value === undefined ? undefined : wholeSeconds(value, 'access-token-ttl');
}
