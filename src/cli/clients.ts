import { readFileSync } from 'node:fs';
import type { CliIo } from './io.js';
import { CliUsageError, parseCommand, required, table, wholeSeconds } from './io.js';
import type { Runner } from './context.js';
import { NotFoundError } from '../admin/errors.js';
import { clientInputOf } from '../oidc/client-registry.js';
import { fieldOf, findUnstorableText } from '../storage/storable-text.js';
import { parseJson } from '../typed-json.js';

/** --jwks takes the JWK Set as JSON, or @path to a file holding it. */
function readJwks(value: string): unknown {
  let jwks: unknown;
  try {
    jwks = parseJson(value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : value);
  } catch {
    throw new CliUsageError('--jwks must be a JSON JWK Set or @path to one');
  }
  // The same rule as every HTTP input (storage/storable-text.ts): refused here, not a database error.
  const unstorable = findUnstorableText(jwks);
  if (unstorable) throw new CliUsageError(`--jwks ${fieldOf(unstorable, 'value')}: ${unstorable.problem}`);
  return jwks;
}

export async function clientsCommand(sub: string | undefined, args: string[], run: Runner, io: CliIo): Promise<void> {
  switch (sub) {
    case 'create': {
      const { values } = parseCommand(args, {
        name: { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true },
        'post-logout-redirect-uri': { type: 'string', multiple: true },
        public: { type: 'boolean' },
        'first-party': { type: 'boolean' },
        'grant-types': { type: 'string' },
        scope: { type: 'string' },
        'auth-method': { type: 'string' },
        'id-token-alg': { type: 'string' },
        'jwks-uri': { type: 'string' },
        jwks: { type: 'string' },
        mfa: { type: 'string' },
        'visible-roles': { type: 'string' },
        'admin-scopes': { type: 'string' },
        'refresh-reuse-grace': { type: 'string' },
      });
      const name = required(values.name, 'name');
      const grantTypes = (values['grant-types'] ?? 'authorization_code,refresh_token').split(',').map((g) => g.trim()).filter(Boolean);
      const { client, clientSecret } = await run((s) => s.admin.clients.create({
        name,
        redirectUris: values['redirect-uri'] ?? [],
        postLogoutRedirectUris: values['post-logout-redirect-uri'] ?? [],
        public: values.public ?? false,
        firstParty: values['first-party'] ?? false,
        grantTypes,
        scope: values.scope ?? 'openid profile email offline_access',
        authMethod: values['auth-method'],
        idTokenAlg: values['id-token-alg'],
        jwksUri: values['jwks-uri'],
        jwks: values.jwks === undefined ? undefined : readJwks(values.jwks),
        mfa: values.mfa,
        visibleRoles: values['visible-roles']?.split(',').map((r) => r.trim()).filter(Boolean),
        adminScopes: values['admin-scopes']?.split(',').map((r) => r.trim()).filter(Boolean),
        refreshReuseGraceSeconds: values['refresh-reuse-grace'] === undefined ? undefined : wholeSeconds(values['refresh-reuse-grace'], 'refresh-reuse-grace'),
      }, s.actor));
      if (values.json) {
        io.out(JSON.stringify({ client_id: client.id, client_secret: clientSecret, name: client.name, first_party: client.firstParty, ...client.metadata }));
        return;
      }
      io.out(`created client "${client.name}"`);
      io.out(`  client_id:     ${client.id}`);
      if (clientSecret) io.out(`  client_secret: ${clientSecret}   (shown once: store it now)`);
      return;
    }
    case 'list': {
      const { values } = parseCommand(args, {});
      const clients = await run((s) => s.storage.clients.list());
      if (values.json) {
        io.out(JSON.stringify(clients.map((c) => ({ client_id: c.id, name: c.name, first_party: c.firstParty, ...c.metadata }))));
        return;
      }
      table(clients.map((c) => ({
        client_id: c.id,
        name: c.name,
        type: c.secretHash || c.metadata.token_endpoint_auth_method === 'private_key_jwt' ? 'confidential' : 'public',
        party: c.firstParty ? 'first' : 'third',
        redirect_uris: ((c.metadata.redirect_uris as string[] | undefined) ?? []).join(' '),
      }))).forEach((line) => io.out(line));
      return;
    }
    case 'delete': {
      const { values, positionals } = parseCommand(args, { 'client-id': { type: 'string' } }, 1);
      const id = required(values['client-id'] ?? positionals[0], 'client-id');
      await run((s) => s.admin.clients.delete(id, s.actor)).catch((error: unknown) => {
        throw error instanceof NotFoundError ? new CliUsageError(`no client with id ${id}`) : error;
      });
      if (values.json) io.out(JSON.stringify({ client_id: id, deleted: true }));
      else io.out(`deleted client ${id}`);
      return;
    }
    case 'pending': {
      const { values } = parseCommand(args, {});
      // The queue is short by nature; one page of 200 is the whole of any sane one.
      const pending = await run((s) => s.admin.clients.page({ status: 'pending', limit: 200 }));
      const rows = pending.items.map((c) => ({
        client_id: c.id, name: c.name, redirect_uris: clientInputOf(c).redirectUris.join(' '), scope: clientInputOf(c).scope, registered: c.createdAt.toISOString(),
      }));
      if (values.json) io.out(JSON.stringify(rows));
      else table(rows).forEach((line) => io.out(line));
      return;
    }
    case 'approve':
    case 'reject': {
      const { values, positionals } = parseCommand(args, {}, 1);
      const id = required(positionals[0], 'client-id');
      // Through the admin services, like every operator change: audited with the CLI actor.
      await run(async (s) => {
        if (sub === 'approve') await s.admin.clients.approve(id, s.actor);
        else await s.admin.clients.reject(id, s.actor);
      });
      const outcome = sub === 'approve' ? 'approved' : 'rejected';
      if (values.json) io.out(JSON.stringify({ client_id: id, outcome }));
      else io.out(`${outcome} client ${id}`);
      return;
    }
    default:
      throw new CliUsageError(`unknown clients command "${sub ?? ''}": use create, list, delete, pending, approve or reject`);
  }
}
