import { readFileSync } from 'node:fs';
import type { CliIo } from './io.js';
import { CliUsageError, parseCommand, required, table, wholeSeconds } from './io.js';
import type { Runner } from './context.js';
import { holderPermissionsCommand, isPermissionSubcommand, unknownSubcommand } from './permission-grants.js';
import { NotFoundError } from '../errors/domain-errors.js';
import type { IssuedClient } from '../clients/clients.service.js';
import { clientInputOf, type ClientInput } from '../clients/client-registry.js';
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

/** The flags of `clients create`, which `clients update` takes too (each one it is given replaces that field). */
const CLIENT_FLAGS = {
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
  'backchannel-logout-uri': { type: 'string' },
  'backchannel-logout-session-required': { type: 'boolean' },
  'refresh-reuse-grace': { type: 'string' },
  'subject-type': { type: 'string' },
  'sector-identifier-uri': { type: 'string' },
  'frontchannel-logout-uri': { type: 'string' },
  'frontchannel-logout-session-required': { type: 'boolean' },
  'userinfo-alg': { type: 'string' },
  'dpop-bound': { type: 'boolean' },
  'require-par': { type: 'boolean' },
  fapi: { type: 'boolean' },
  sms: { type: 'string' },
  'email-sign-in': { type: 'string' },
  'logo-uri': { type: 'string' },
  'policy-uri': { type: 'string' },
  'tos-uri': { type: 'string' },
} as const;

type ClientFlagValues = ReturnType<typeof parseCommand<typeof CLIENT_FLAGS>>['values'];

const list = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
/** An empty value clears an optional field (`--jwks-uri ''`). */
const optional = (value: string | undefined) => (value === '' ? undefined : value);

/** Which flag sets each field: a field is changed only when its flag was given. */
const FLAG_OF: Record<keyof ClientInput, keyof typeof CLIENT_FLAGS> = {
  name: 'name',
  redirectUris: 'redirect-uri',
  postLogoutRedirectUris: 'post-logout-redirect-uri',
  public: 'public',
  firstParty: 'first-party',
  grantTypes: 'grant-types',
  scope: 'scope',
  authMethod: 'auth-method',
  idTokenAlg: 'id-token-alg',
  jwksUri: 'jwks-uri',
  jwks: 'jwks',
  mfa: 'mfa',
  visibleRoles: 'visible-roles',
  adminScopes: 'admin-scopes',
  backchannelLogoutUri: 'backchannel-logout-uri',
  backchannelLogoutSessionRequired: 'backchannel-logout-session-required',
  refreshReuseGraceSeconds: 'refresh-reuse-grace',
  subjectType: 'subject-type',
  sectorIdentifierUri: 'sector-identifier-uri',
  frontchannelLogoutUri: 'frontchannel-logout-uri',
  frontchannelLogoutSessionRequired: 'frontchannel-logout-session-required',
  userinfoSignedResponseAlg: 'userinfo-alg',
  dpopBoundAccessTokens: 'dpop-bound',
  requirePushedAuthorizationRequests: 'require-par',
  fapi: 'fapi',
  sms: 'sms',
  emailSignIn: 'email-sign-in',
  logoUri: 'logo-uri',
  policyUri: 'policy-uri',
  tosUri: 'tos-uri',
};

/** `--sms on|off`: node 20's parseArgs has no `--no-…` negation, and off must be sayable. */
function onOff(value: string | undefined, flag: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'on' || value === 'off') return value === 'on';
  throw new CliUsageError(`--${flag} must be on or off`);
}

/**
 * The fields the flags name, and only those: `update` merges them over the stored client, so
 * an absent flag must leave its field alone, while a given empty one clears it.
 */
function changesFrom(values: ClientFlagValues): Partial<ClientInput> {
  const all: ClientInput = {
    name: values.name ?? '',
    redirectUris: values['redirect-uri'] ?? [],
    postLogoutRedirectUris: values['post-logout-redirect-uri'] ?? [],
    public: values.public ?? false,
    firstParty: values['first-party'] ?? false,
    grantTypes: list(values['grant-types'] ?? ''),
    scope: values.scope ?? '',
    authMethod: optional(values['auth-method']),
    idTokenAlg: optional(values['id-token-alg']),
    jwksUri: optional(values['jwks-uri']),
    jwks: values.jwks ? readJwks(values.jwks) : undefined,
    mfa: optional(values.mfa),
    visibleRoles: list(values['visible-roles'] ?? ''),
    adminScopes: list(values['admin-scopes'] ?? ''),
    backchannelLogoutUri: optional(values['backchannel-logout-uri']),
    backchannelLogoutSessionRequired: values['backchannel-logout-session-required'],
    refreshReuseGraceSeconds: values['refresh-reuse-grace']
      ? wholeSeconds(values['refresh-reuse-grace'], 'refresh-reuse-grace')
      : undefined,
    subjectType: optional(values['subject-type']),
    sectorIdentifierUri: optional(values['sector-identifier-uri']),
    frontchannelLogoutUri: optional(values['frontchannel-logout-uri']),
    frontchannelLogoutSessionRequired: values['frontchannel-logout-session-required'],
    userinfoSignedResponseAlg: optional(values['userinfo-alg']),
    dpopBoundAccessTokens: values['dpop-bound'],
    requirePushedAuthorizationRequests: values['require-par'],
    fapi: values.fapi,
    sms: onOff(values.sms, 'sms'),
    emailSignIn: onOff(values['email-sign-in'], 'email-sign-in'),
    logoUri: optional(values['logo-uri']),
    policyUri: optional(values['policy-uri']),
    tosUri: optional(values['tos-uri']),
  };
  const given = (Object.keys(FLAG_OF) as Array<keyof ClientInput>).filter(
    (field) => values[FLAG_OF[field]] !== undefined,
  );
  return Object.fromEntries(given.map((field) => [field, all[field]])) as Partial<ClientInput>;
}

/** What a client looks like on the command line's JSON output: the API's metadata names. */
const clientJson = ({ client, clientSecret }: IssuedClient) => ({
  client_id: client.id,
  client_secret: clientSecret,
  name: client.name,
  first_party: client.firstParty,
  ...client.metadata,
});

function printIssued(io: CliIo, issued: IssuedClient, json: boolean | undefined, verb: string): void {
  if (json) {
    io.out(JSON.stringify(clientJson(issued)));
    return;
  }
  io.out(`${verb} client "${issued.client.name}"`);
  io.out(`  client_id:     ${issued.client.id}`);
  if (issued.clientSecret) io.out(`  client_secret: ${issued.clientSecret}   (shown once: store it now)`);
}

/** An id the services do not know is the operator's typo: one line, exit 2. */
const unknownClient =
  (id: string) =>
  (error: unknown): never => {
    throw error instanceof NotFoundError ? new CliUsageError(`no client with id ${id}`) : error;
  };

export async function clientsCommand(sub: string | undefined, args: string[], run: Runner, io: CliIo): Promise<void> {
  // The permissions a machine client holds itself (client_credentials): permission-grants.ts.
  if (isPermissionSubcommand(sub)) return holderPermissionsCommand('client', sub, args, run, io);
  switch (sub) {
    case 'create': {
      const { values } = parseCommand(args, CLIENT_FLAGS);
      const name = required(values.name, 'name');
      const given = changesFrom(values);
      const issued = await run((s) =>
        s.admin.clients.create(
          {
            redirectUris: [],
            postLogoutRedirectUris: [],
            public: false,
            firstParty: false,
            grantTypes: ['authorization_code', 'refresh_token'],
            scope: 'openid profile email offline_access',
            ...given,
            name,
          },
          s.actor,
        ),
      );
      printIssued(io, issued, values.json, 'created');
      return;
    }
    case 'update': {
      // --no-public, --no-first-party, --no-backchannel-logout-session-required turn a switch off.
      const { values, positionals } = parseCommand(args, CLIENT_FLAGS, 1, { allowNegative: true });
      const id = required(positionals[0], 'client-id (CLIENT_ID)');
      const changes = changesFrom(values);
      if (Object.keys(changes).length === 0)
        throw new CliUsageError('nothing to change: give at least one option of clients create');
      const issued = await run((s) => s.admin.clients.update(id, changes, s.actor)).catch(unknownClient(id));
      printIssued(io, issued, values.json, 'updated');
      return;
    }
    case 'list': {
      const { values } = parseCommand(args, {});
      const clients = await run((s) => s.storage.clients.list());
      if (values.json) {
        io.out(
          JSON.stringify(
            clients.map((c) => ({ client_id: c.id, name: c.name, first_party: c.firstParty, ...c.metadata })),
          ),
        );
        return;
      }
      table(
        clients.map((c) => ({
          client_id: c.id,
          name: c.name,
          type: c.secretHash || c.metadata.token_endpoint_auth_method === 'private_key_jwt' ? 'confidential' : 'public',
          party: c.firstParty ? 'first' : 'third',
          redirect_uris: ((c.metadata.redirect_uris as string[] | undefined) ?? []).join(' '),
        })),
      ).forEach((line) => io.out(line));
      return;
    }
    case 'delete': {
      const { values, positionals } = parseCommand(args, { 'client-id': { type: 'string' } }, 1);
      const id = required(values['client-id'] ?? positionals[0], 'client-id');
      await run((s) => s.admin.clients.delete(id, s.actor)).catch(unknownClient(id));
      if (values.json) io.out(JSON.stringify({ client_id: id, deleted: true }));
      else io.out(`deleted client ${id}`);
      return;
    }
    case 'pending': {
      const { values } = parseCommand(args, {});
      // The queue is short by nature; one page of 200 is the whole of any sane one.
      const pending = await run((s) => s.admin.clients.page({ status: 'pending', limit: 200 }));
      const rows = pending.items.map((c) => ({
        client_id: c.id,
        name: c.name,
        redirect_uris: clientInputOf(c).redirectUris.join(' '),
        scope: clientInputOf(c).scope,
        registered: c.createdAt.toISOString(),
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
      throw unknownSubcommand('clients', sub, ['create', 'update', 'list', 'delete', 'pending', 'approve', 'reject']);
  }
}
