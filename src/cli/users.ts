import { chmod, readFile, writeFile } from 'node:fs/promises';
import type { CliIo } from './io.js';
import { toJsonLines } from '../accounts/user-import.js';
import { InvalidFileError, NotFoundError } from '../errors/domain-errors.js';
import { CliUsageError, parseCommand, required, table } from './io.js';
import type { Runner } from './context.js';

export async function usersCommand(sub: string | undefined, args: string[], run: Runner, io: CliIo): Promise<void> {
  switch (sub) {
    case 'create': {
      const { values } = parseCommand(args, {
        email: { type: 'string' },
        password: { type: 'string' },
        name: { type: 'string' },
        'totp-secret': { type: 'string' },
      });
      const email = required(values.email, 'email');
      const password = required(values.password, 'password');
      const user = await run((s) =>
        s.admin.users.create(
          {
            email,
            password,
            name: values.name ?? null,
            totpSecret: values['totp-secret'] ?? null,
          },
          s.actor,
        ),
      );
      if (values.json) io.out(JSON.stringify({ id: user.id, email: user.email, name: user.name }));
      else io.out(`created user ${user.email} (id ${user.id})`);
      return;
    }
    case 'list': {
      const { values } = parseCommand(args, {});
      const users = await run((s) => s.storage.users.list({ includeDisabled: true }));
      if (values.json) {
        io.out(
          JSON.stringify(
            users.map((u) => ({ id: u.id, email: u.email, name: u.name, disabled: u.disabledAt !== null })),
          ),
        );
      } else {
        table(
          users.map((u) => ({
            id: u.id,
            email: u.email,
            name: u.name ?? '',
            status: u.disabledAt ? 'disabled' : 'active',
          })),
        ).forEach((line) => io.out(line));
      }
      return;
    }
    case 'disable':
    case 'enable': {
      const { values } = parseCommand(args, { email: { type: 'string' } });
      const email = required(values.email, 'email');
      await run(async (s) => s.admin.users.setDisabled(await s.userIdFor(email), sub === 'disable', s.actor));
      if (values.json) io.out(JSON.stringify({ email, disabled: sub === 'disable' }));
      else io.out(`${sub}d ${email}`);
      return;
    }
    case 'set-password': {
      const { values } = parseCommand(args, { email: { type: 'string' }, password: { type: 'string' } });
      const email = required(values.email, 'email');
      const password = required(values.password, 'password');
      await run(async (s) => s.admin.users.setPassword(await s.userIdFor(email), password, s.actor));
      if (values.json) io.out(JSON.stringify({ email, passwordChanged: true }));
      else io.out(`password changed for ${email}`);
      return;
    }
    case 'mfa-reset': {
      const { values } = parseCommand(args, { email: { type: 'string' } });
      const email = required(values.email, 'email');
      const removed = await run(async (s) => s.admin.users.resetFactors(await s.userIdFor(email), s.actor));
      if (values.json) io.out(JSON.stringify({ email, removed }));
      else
        io.out(
          `removed ${removed} second-factor credential(s) of ${email}; they sign in with their password alone until they enrol again`,
        );
      return;
    }
    case 'identities': {
      const { values, positionals } = parseCommand(args, { email: { type: 'string' } }, 1);
      const email = required(values.email ?? positionals[0], 'email');
      const identities = await run(async (s) => s.admin.identities.list(await s.userIdFor(email)));
      const rows = identities.map((i) => ({
        connection: i.connectionId,
        name: i.connectionName,
        email: i.email ?? '',
        linked: i.createdAt.toISOString(),
        last_used: i.lastUsedAt?.toISOString() ?? '',
      }));
      if (values.json) io.out(JSON.stringify(rows));
      else table(rows).forEach((line) => io.out(line));
      return;
    }
    case 'unlink': {
      const { values } = parseCommand(args, { email: { type: 'string' }, connection: { type: 'string' } });
      const email = required(values.email, 'email');
      const connection = required(values.connection, 'connection');
      const { signInMethodLeft } = await run(async (s) =>
        s.admin.identities.unlink(await s.userIdFor(email), connection, s.actor),
      ).catch((error: unknown) => {
        throw error instanceof NotFoundError
          ? new CliUsageError(`${email} has no identity linked through ${connection}`)
          : error;
      });
      if (values.json) {
        io.out(JSON.stringify({ email, connection, unlinked: true, signInMethodLeft }));
        return;
      }
      io.out(`removed ${email}'s identity at ${connection}`);
      if (!signInMethodLeft)
        io.out(`  ${email} has no way left to sign in: set a password (users set-password) or send a reset link`);
      return;
    }
    case 'import': {
      const { values, positionals } = parseCommand(args, {}, 1);
      const file = positionals[0];
      if (!file) throw new CliUsageError('usage: gatehouse users import FILE.jsonl');
      const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new CliUsageError(`cannot read ${file}: ${error.code ?? error.message}`);
      });
      try {
        const summary = await run((s) => s.admin.users.import(text, s.actor));
        if (values.json) {
          io.out(JSON.stringify(summary));
        } else {
          const hashes = Object.entries(summary.passwordHashes)
            .map(([scheme, n]) => `${n} ${scheme}`)
            .join(', ');
          io.out(
            `imported ${summary.imported} user(s); password hashes: ${hashes}; with an authenticator app: ${summary.withTotp}`,
          );
          if (summary.roleAssignments > 0) {
            io.out(
              `role assignments: ${summary.roleAssignments}${summary.rolesCreated.length > 0 ? `; roles created: ${summary.rolesCreated.join(', ')}` : ''}`,
            );
          }
        }
      } catch (error) {
        if (error instanceof InvalidFileError && values.json)
          io.out(JSON.stringify({ imported: 0, problems: error.problems }));
        throw error;
      }
      return;
    }
    case 'export': {
      const { values } = parseCommand(args, { out: { type: 'string' } });
      const records = await run((s) => s.userImport.exportUsers());
      const text = toJsonLines(records);
      if (values.out === undefined) {
        if (text) io.out(text.slice(0, -1));
        return;
      }
      // Password hashes and TOTP secrets: readable by the owner only, even if the file existed.
      await writeFile(values.out, text, { mode: 0o600 });
      await chmod(values.out, 0o600);
      if (values.json) io.out(JSON.stringify({ exported: records.length, file: values.out }));
      else
        io.out(
          `exported ${records.length} user(s) to ${values.out}; it holds password hashes and TOTP secrets: keep it like the database`,
        );
      return;
    }
    default:
      throw new CliUsageError(
        `unknown users command "${sub ?? ''}": use create, list, disable, enable, set-password, mfa-reset, identities, unlink, import or export`,
      );
  }
}
