import type { CliIo } from './io.js';
import { CliUsageError, parseCommand, table } from './io.js';
import type { Runner } from './context.js';
import type { Config } from '../config/schema.js';
import { retiredKeyTtlSeconds } from '../oidc/keys.js';

export async function keysCommand(
  sub: string | undefined,
  args: string[],
  run: Runner,
  config: Config,
  io: CliIo,
): Promise<void> {
  switch (sub) {
    case 'list': {
      const { values } = parseCommand(args, {});
      const keys = await run(async (s) => {
        await s.keys.ensureKeys();
        return s.storage.signingKeys.listAll();
      });
      const rows = keys.map((k) => ({
        kid: k.id,
        use: k.use,
        alg: k.alg,
        state: k.state,
        created: k.createdAt.toISOString(),
        published_until: k.expiresAt?.toISOString() ?? '',
      }));
      if (values.json) io.out(JSON.stringify(rows));
      else table(rows).forEach((line) => io.out(line));
      return;
    }
    case 'rotate': {
      const { values } = parseCommand(args, {});
      const tokenTtl = retiredKeyTtlSeconds(config.ttl);
      const kids = await run(async (s) => {
        await s.keys.ensureKeys();
        return s.admin.keys.rotate(s.actor);
      });
      if (values.json) io.out(JSON.stringify({ active: kids }));
      else {
        io.out(`new signing keys: ${kids.join(', ')}`);
        const { reloadIntervalSeconds, activationDelaySeconds } = config.keys;
        io.out(
          `running servers publish them within ${reloadIntervalSeconds}s and sign with them after ${activationDelaySeconds}s; ` +
            `old keys sign until then and stay in the JWKS ${tokenTtl + activationDelaySeconds}s`,
        );
      }
      return;
    }
    default:
      throw new CliUsageError(`unknown keys command "${sub ?? ''}": use list or rotate`);
  }
}
