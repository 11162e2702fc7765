import type { CliIo } from './io.js';
import { parseCommand, required, table } from './io.js';
import type { Runner } from './context.js';
import { holderPermissionsCommand, isPermissionSubcommand, unknownSubcommand } from './permission-grants.js';

/** `gatehouse roles create|list|delete|assign|unassign`, and the permissions a role grants (permission-grants.ts). */
export async function rolesCommand(sub: string | undefined, args: string[], run: Runner, io: CliIo): Promise<void> {
  if (isPermissionSubcommand(sub)) return holderPermissionsCommand('role', sub, args, run, io);
  switch (sub) {
    case 'create': {
      const { values, positionals } = parseCommand(
        args,
        { name: { type: 'string' }, description: { type: 'string' } },
        1,
      );
      const name = required(values.name ?? positionals[0], 'name');
      const role = await run((s) => s.admin.roles.create({ name, description: values.description ?? null }, s.actor));
      if (values.json) io.out(JSON.stringify({ id: role.id, name: role.name, description: role.description }));
      else io.out(`created role ${role.name}`);
      return;
    }
    case 'list': {
      const { values } = parseCommand(args, {});
      const roles = await run((s) => s.storage.roles.list());
      if (values.json) {
        io.out(JSON.stringify(roles.map((r) => ({ id: r.id, name: r.name, description: r.description }))));
        return;
      }
      table(roles.map((r) => ({ name: r.name, description: r.description ?? '' }))).forEach((line) => io.out(line));
      return;
    }
    case 'delete': {
      const { values, positionals } = parseCommand(args, { name: { type: 'string' } }, 1);
      const name = required(values.name ?? positionals[0], 'name');
      await run((s) => s.admin.roles.delete(name, s.actor));
      if (values.json) io.out(JSON.stringify({ name, deleted: true }));
      else io.out(`deleted role ${name} and its assignments`);
      return;
    }
    case 'assign':
    case 'unassign': {
      const { values } = parseCommand(args, { email: { type: 'string' }, role: { type: 'string' } });
      const email = required(values.email, 'email');
      const role = required(values.role, 'role');
      const changed = await run(async (s) => {
        const userId = await s.userIdFor(email);
        if (sub === 'assign') {
          await s.admin.roles.assign(userId, role, s.actor);
          return true;
        }
        // Not holding the role is an answer here, not an error.
        if (!(await s.storage.roles.rolesOf(userId)).includes(role)) return false;
        await s.admin.roles.unassign(userId, role, s.actor);
        return true;
      });
      if (values.json) io.out(JSON.stringify({ email, role, [sub === 'assign' ? 'assigned' : 'unassigned']: changed }));
      else if (sub === 'assign') io.out(`${email} holds role ${role}`);
      else io.out(changed ? `${email} no longer holds role ${role}` : `${email} did not hold role ${role}`);
      return;
    }
    default:
      throw unknownSubcommand('roles', sub, ['create', 'list', 'delete', 'assign', 'unassign']);
  }
}
