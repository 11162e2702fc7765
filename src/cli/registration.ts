import type { CliIo } from './io.js';
import { CliUsageError, parseCommand, required, table, wholeSeconds } from './io.js';
import type { Runner } from './context.js';
import { NotFoundError } from '../errors/domain-errors.js';

/** `gatehouse registration token create|list|revoke`: initial access tokens (RFC 7591 §3). */
export async function registrationCommand(
  sub: string | undefined,
  args: string[],
  run: Runner,
  io: CliIo,
): Promise<void> {
  if (sub !== 'token')
    throw new CliUsageError(
      `unknown registration command "${sub ?? ''}": use token create, token list or token revoke`,
    );
  const [action, ...rest] = args;
  switch (action) {
    case 'create': {
      const { values } = parseCommand(rest, { ttl: { type: 'string' }, note: { type: 'string' } });
      const created = await run((s) =>
        s.admin.initialAccessTokens.create(
          { ttlSeconds: values.ttl === undefined ? undefined : wholeSeconds(values.ttl, 'ttl'), note: values.note },
          s.actor,
        ),
      );
      if (values.json) {
        io.out(JSON.stringify({ token: created.token, id: created.id, expires_at: created.expiresAt.toISOString() }));
        return;
      }
      io.out(`initial access token ${created.id}, valid until ${created.expiresAt.toISOString()}`);
      io.out(`  token: ${created.token}   (shown once: hand it to the developer)`);
      return;
    }
    case 'list': {
      const { values } = parseCommand(rest, {});
      const tokens = await run((s) => s.admin.initialAccessTokens.list());
      const rows = tokens.map((t) => ({
        id: t.id,
        note: t.note ?? '',
        created: t.createdAt.toISOString(),
        expires: t.expiresAt?.toISOString() ?? '',
      }));
      if (values.json) io.out(JSON.stringify(rows));
      else table(rows).forEach((line) => io.out(line));
      return;
    }
    case 'revoke': {
      const { values, positionals } = parseCommand(rest, {}, 1);
      const id = required(positionals[0], 'id');
      // Through the admin services like every operator change: audited with the CLI actor.
      await run((s) => s.admin.initialAccessTokens.revoke(id, s.actor)).catch((error: unknown) => {
        throw error instanceof NotFoundError ? new CliUsageError(`no live initial access token with id ${id}`) : error;
      });
      if (values.json) io.out(JSON.stringify({ id, revoked: true }));
      else io.out(`revoked initial access token ${id}`);
      return;
    }
    default:
      throw new CliUsageError(`unknown registration token command "${action ?? ''}": use create, list or revoke`);
  }
}
