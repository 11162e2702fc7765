import type { CliIo } from './io.js';
import { CliUsageError, parseCommand, required, table } from './io.js';
import type { Runner } from './context.js';

/** Consents a user gave (oidc-provider Grants); revoking one ends its tokens and asks for consent again. */
export async function grantsCommand(sub: string | undefined, args: string[], run: Runner, io: CliIo): Promise<void> {
  switch (sub) {
    case 'list': {
      const { values } = parseCommand(args, { email: { type: 'string' } });
      const email = required(values.email, 'email');
      const grants = await run(async (s) => s.storage.sessions.listGrants(await s.userIdFor(email)));
      const rows = grants.map((g) => ({
        grant_id: g.id,
        client_id: g.clientId,
        scope: g.scope,
        created: g.createdAt.toISOString(),
      }));
      if (values.json) io.out(JSON.stringify(rows));
      else table(rows).forEach((line) => io.out(line));
      return;
    }
    case 'revoke': {
      const { values, positionals } = parseCommand(
        args,
        {
          'grant-id': { type: 'string' },
          email: { type: 'string' },
          'client-id': { type: 'string' },
        },
        1,
      );
      const grantId = values['grant-id'] ?? positionals[0];
      if (grantId) {
        await run((s) => s.storage.oidc.revokeGrant(grantId));
        if (values.json) io.out(JSON.stringify({ grant_id: grantId, revoked: true }));
        else io.out(`revoked grant ${grantId}`);
        return;
      }
      // Withdraw the consent itself: every grant the user gave this client, in every session.
      const email = required(values.email, 'email (or a GRANT_ID)');
      const clientId = required(values['client-id'], 'client-id');
      const removed = await run(async (s) => s.storage.sessions.revokeConsent(await s.userIdFor(email), clientId));
      if (values.json) io.out(JSON.stringify({ email, client_id: clientId, revoked: removed > 0 }));
      else
        io.out(removed > 0 ? `revoked ${email}'s consent for ${clientId}` : `${email} has no consent for ${clientId}`);
      return;
    }
    default:
      throw new CliUsageError(`unknown grants command "${sub ?? ''}": use list or revoke`);
  }
}
