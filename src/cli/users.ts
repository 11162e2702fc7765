import type { CliIo } from './io.js';
import { CliUsageError, parseCommand, required, table } from './io.js';
import type { CliServices } from './context.js';

type Runner = <T>(work: (s: CliServices) => Promise<T>) => Promise<T>;

export async function usersCommand(sub: string | undefined, args: string[], run: Runner, io: CliIo): Promise<void> {
  switch (sub) {
    case 'create': {
      const { values } = parseCommand(args, {
        email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' }, 'totp-secret': { type: 'string' },
      });
      const email = required(values.email, 'email');
      const password = required(values.password, 'password');
      const user = await run((s) => s.users.create({
        email, password, name: values.name ?? null, totpSecret: values['totp-secret'] ?? null,
      }));
      if (values.json) io.out(JSON.stringify({ id: user.id, email: user.email, name: user.name }));
      else io.out(`created user ${user.email} (id ${user.id})`);
      return;
    }
    case 'list': {
      const { values } = parseCommand(args, {});
      const users = await run((s) => s.users.list());
      if (values.json) {
        io.out(JSON.stringify(users.map((u) => ({ id: u.id, email: u.email, name: u.name, disabled: u.disabledAt !== null }))));
      } else {
        table(users.map((u) => ({ id: u.id, email: u.email, name: u.name ?? '', status: u.disabledAt ? 'disabled' : 'active' })))
          .forEach((line) => io.out(line));
      }
      return;
    }
    case 'disable':
    case 'enable': {
      const { values } = parseCommand(args, { email: { type: 'string' } });
      const email = required(values.email, 'email');
      await run((s) => s.users.setDisabled(email, sub === 'disable'));
      if (values.json) io.out(JSON.stringify({ email, disabled: sub === 'disable' }));
      else io.out(`${sub}d ${email}`);
      return;
    }
    case 'set-password': {
      const { values } = parseCommand(args, { email: { type: 'string' }, password: { type: 'string' } });
      const email = required(values.email, 'email');
      const password = required(values.password, 'password');
      await run((s) => s.users.setPassword(email, password));
      if (values.json) io.out(JSON.stringify({ email, passwordChanged: true }));
      else io.out(`password changed for ${email}`);
      return;
    }
    case 'mfa-reset': {
      const { values } = parseCommand(args, { email: { type: 'string' } });
      const email = required(values.email, 'email');
      const removed = await run(async (s) => s.secondFactors.reset((await s.users.findByEmail(email)).id, null));
      if (values.json) io.out(JSON.stringify({ email, removed }));
      else io.out(`removed ${removed} second-factor credential(s) of ${email}; they sign in with their password alone until they enrol again`);
      return;
    }
    default:
      throw new CliUsageError(`unknown users command "${sub ?? ''}": use create, list, disable, enable, set-password or mfa-reset`);
  }
}
