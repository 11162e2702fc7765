import type { CliIo } from './io.js';
import { CliUsageError, parseCommand, required, table } from './io.js';
import type { Runner } from './context.js';
import type { PermissionHolder } from '../storage/permissions.repository.js';

/** The subcommands that list, grant and revoke a holder's permissions (`roles …`, `clients …`). */
const PERMISSION_SUBCOMMANDS = ['permissions', 'grant-permission', 'revoke-permission'] as const;
type PermissionSubcommand = (typeof PERMISSION_SUBCOMMANDS)[number];

export const isPermissionSubcommand = (sub: string | undefined): sub is PermissionSubcommand =>
  (PERMISSION_SUBCOMMANDS as readonly (string | undefined)[]).includes(sub);

/**
 * `roles permissions NAME`, `roles grant-permission NAME --resource R --permission P`,
 * `roles revoke-permission NAME --resource R --permission P`, and the same for
 * `clients … CLIENT_ID`: one shape for both kinds of holder, as in the admin API.
 */
export async function holderPermissionsCommand(
  holder: PermissionHolder,
  sub: PermissionSubcommand,
  args: string[],
  run: Runner,
  io: CliIo,
): Promise<void> {
  const keyFlag = holder === 'role' ? 'role' : 'client-id';
  const keyJson = holder === 'role' ? 'role' : 'client_id';
  const changes = sub !== 'permissions';
  const { values, positionals } = parseCommand(
    args,
    {
      [keyFlag]: { type: 'string' },
      ...(changes ? { resource: { type: 'string' }, permission: { type: 'string' } } : {}),
    },
    1,
  );
  const flag = (name: string): string | undefined => {
    const value = (values as Record<string, string | boolean | undefined>)[name];
    return typeof value === 'string' ? value : undefined;
  };
  const key = required(flag(keyFlag) ?? positionals[0], keyFlag);
  if (!changes) {
    const held = await run((s) => s.admin.permissions.permissionsOf(holder, key));
    if (values.json) io.out(JSON.stringify({ [keyJson]: key, permissions: held }));
    else table(held.map((h) => ({ resource: h.resource, permission: h.permission }))).forEach((l) => io.out(l));
    return;
  }
  const resource = required(flag('resource'), 'resource');
  const permission = required(flag('permission'), 'permission');
  const held = await run((s) =>
    sub === 'grant-permission'
      ? s.admin.permissions.grant(holder, key, resource, permission, s.actor)
      : s.admin.permissions.revoke(holder, key, resource, permission, s.actor),
  );
  if (values.json) io.out(JSON.stringify({ [keyJson]: key, permissions: held }));
  else if (sub === 'grant-permission') io.out(`${holder} ${key} holds ${permission} on ${resource}`);
  else io.out(`${holder} ${key} no longer holds ${permission} on ${resource}`);
}

/** For the unknown-subcommand line of `roles` and `clients`. */
export function unknownSubcommand(command: string, sub: string | undefined, own: string[]): CliUsageError {
  const all = [...own, ...PERMISSION_SUBCOMMANDS];
  return new CliUsageError(
    `unknown ${command} command "${sub ?? ''}": use ${all.slice(0, -1).join(', ')} or ${all[all.length - 1] ?? ''}`,
  );
}
