import { readFile } from 'node:fs/promises';
import type { CliIo } from './io.js';
import { CliUsageError, parseCommand, required, table } from './io.js';
import type { Runner } from './context.js';
import type { Config } from '../config/schema.js';
import { NotFoundError } from '../errors/domain-errors.js';
import type { ClaimMapping, Connection, ConnectionInput, RoleRule } from '../federation/connection.js';
import { federationRedirectUri } from '../federation/federation.service.js';

/** The flags of `connections create`, which `connections update` takes too (each one given replaces that field). */
const CONNECTION_FLAGS = {
  id: { type: 'string' },
  'display-name': { type: 'string' },
  preset: { type: 'string' },
  kind: { type: 'string' },
  issuer: { type: 'string' },
  'authorization-endpoint': { type: 'string' },
  'token-endpoint': { type: 'string' },
  'userinfo-endpoint': { type: 'string' },
  'client-id': { type: 'string' },
  'client-auth-method': { type: 'string' },
  'client-secret': { type: 'string' },
  'client-secret-file': { type: 'string' },
  'private-key-file': { type: 'string' },
  'private-key-id': { type: 'string' },
  scopes: { type: 'string' },
  claim: { type: 'string', multiple: true },
  enabled: { type: 'boolean' },
  order: { type: 'string' },
  icon: { type: 'string' },
  'allowed-email-domains': { type: 'string' },
  'home-realm-domains': { type: 'string' },
  'create-accounts': { type: 'boolean' },
  'trust-email-verification': { type: 'boolean' },
  'trust-upstream-mfa': { type: 'boolean' },
  'mfa-acr-values': { type: 'string' },
  'allowed-clients': { type: 'string' },
  'role-rule': { type: 'string', multiple: true },
  'upstream-sign-out': { type: 'boolean' },
  'hosted-domain': { type: 'string' },
  tenant: { type: 'string' },
  'base-url': { type: 'string' },
  'api-url': { type: 'string' },
  'team-id': { type: 'string' },
  'key-id': { type: 'string' },
} as const;

type Values = ReturnType<typeof parseCommand<typeof CONNECTION_FLAGS>>['values'];

const list = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** `--claim email_verified=verified_email`: the API's names of the mapping, the upstream's claim. */
const CLAIMS: Record<string, keyof ClaimMapping> = {
  subject: 'subject',
  email: 'email',
  email_verified: 'emailVerified',
  name: 'name',
  given_name: 'givenName',
  family_name: 'familyName',
  picture: 'picture',
  groups: 'groups',
};

function claimsFrom(flags: string[]): Partial<ClaimMapping> {
  const mapping: Partial<ClaimMapping> = {};
  for (const flag of flags) {
    const [, key = '', claim = ''] = /^([a-z_]+)=(.*)$/.exec(flag) ?? [];
    const field = CLAIMS[key];
    if (!field)
      throw new CliUsageError(`--claim must be NAME=CLAIM with NAME one of ${Object.keys(CLAIMS).join(', ')}`);
    mapping[field] = claim;
  }
  return mapping;
}

/** `--role-rule group:eng=engineering` or `--role-rule domain:corp.example=staff`. */
function roleRulesFrom(flags: string[]): RoleRule[] {
  return flags.map((flag) => {
    const [, by, match = '', role = ''] = /^(group|domain):(.+)=([^=]+)$/.exec(flag) ?? [];
    if (!by) throw new CliUsageError('--role-rule must be group:GROUP=ROLE or domain:DOMAIN=ROLE');
    return by === 'group' ? { group: match, role } : { emailDomain: match, role };
  });
}

/** The option flags and the preset option each sets. */
const OPTION_FLAGS = {
  'hosted-domain': 'hostedDomain',
  tenant: 'tenant',
  'base-url': 'baseUrl',
  'api-url': 'apiUrl',
  'team-id': 'teamId',
  'key-id': 'keyId',
} as const;

type PresetOptions = NonNullable<ConnectionInput['options']>;

function optionsFrom(values: Values): PresetOptions | undefined {
  const given = (Object.keys(OPTION_FLAGS) as Array<keyof typeof OPTION_FLAGS>).filter(
    (flag) => values[flag] !== undefined,
  );
  if (given.length === 0) return undefined;
  // An empty value removes the option (`--base-url ''`).
  return Object.fromEntries(given.map((flag) => [OPTION_FLAGS[flag], values[flag] === '' ? undefined : values[flag]]));
}

/**
 * The secret from a file (`-`: standard input) rather than the command line, where the shell's
 * history and the process list would keep it. One trailing line break is the file's, not the secret's.
 */
async function readSecret(path: string, flag: string, io: CliIo): Promise<string> {
  let text: string;
  if (path === '-') {
    if (!io.stdin) throw new CliUsageError(`--${flag} -: no standard input to read`);
    text = await io.stdin();
  } else {
    text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new CliUsageError(`--${flag}: cannot read ${path}: ${error.code ?? error.message}`);
    });
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '') throw new CliUsageError(`--${flag}: ${path === '-' ? 'standard input' : path} is empty`);
  return secret;
}

/** An empty value clears an optional field (`--issuer ''`, `--scopes ''`: the preset's). */
const optional = (value: string | undefined) => (value === '' ? undefined : value);

/** The fields the flags name, and only those (update merges them over the connection). */
async function changesFrom(values: Values, io: CliIo): Promise<Partial<ConnectionInput>> {
  const sources = [
    values['client-secret'] !== undefined,
    values['client-secret-file'] !== undefined,
    values['private-key-file'] !== undefined,
  ];
  if (sources.filter(Boolean).length > 1)
    throw new CliUsageError('give one of --client-secret, --client-secret-file and --private-key-file');
  if (values['client-secret-file'] === '-' && values['private-key-file'] === '-')
    throw new CliUsageError('only one secret can come from standard input');
  const changes: Partial<ConnectionInput> = {};
  const set = <K extends keyof ConnectionInput>(key: K, value: ConnectionInput[K] | undefined, given: boolean) => {
    if (given) changes[key] = value as ConnectionInput[K];
  };
  set('displayName', values['display-name'], values['display-name'] !== undefined);
  set('preset', values.preset as ConnectionInput['preset'], values.preset !== undefined);
  set('kind', values.kind as ConnectionInput['kind'], values.kind !== undefined);
  set('issuer', optional(values.issuer), values.issuer !== undefined);
  set(
    'authorizationEndpoint',
    optional(values['authorization-endpoint']),
    values['authorization-endpoint'] !== undefined,
  );
  set('tokenEndpoint', optional(values['token-endpoint']), values['token-endpoint'] !== undefined);
  set('userinfoEndpoint', optional(values['userinfo-endpoint']), values['userinfo-endpoint'] !== undefined);
  set('clientId', values['client-id'], values['client-id'] !== undefined);
  set(
    'clientAuthMethod',
    optional(values['client-auth-method']) as ConnectionInput['clientAuthMethod'],
    values['client-auth-method'] !== undefined,
  );
  if (values['client-secret'] !== undefined) changes.clientSecret = values['client-secret'];
  if (values['client-secret-file'] !== undefined)
    changes.clientSecret = await readSecret(values['client-secret-file'], 'client-secret-file', io);
  if (values['private-key-file'] !== undefined)
    changes.privateKey = await readSecret(values['private-key-file'], 'private-key-file', io);
  set('privateKeyId', optional(values['private-key-id']), values['private-key-id'] !== undefined);
  set('scopes', values.scopes ? list(values.scopes) : undefined, values.scopes !== undefined);
  set('claimMapping', claimsFrom(values.claim ?? []), values.claim !== undefined);
  set('enabled', values.enabled, values.enabled !== undefined);
  if (values.order !== undefined) {
    if (!/^\d+$/.test(values.order)) throw new CliUsageError('--order must be a whole number');
    changes.order = Number(values.order);
  }
  set('icon', optional(values.icon) ?? null, values.icon !== undefined);
  set(
    'allowedEmailDomains',
    list(values['allowed-email-domains'] ?? ''),
    values['allowed-email-domains'] !== undefined,
  );
  set('homeRealmDomains', list(values['home-realm-domains'] ?? ''), values['home-realm-domains'] !== undefined);
  set('createAccounts', values['create-accounts'], values['create-accounts'] !== undefined);
  set('trustEmailVerification', values['trust-email-verification'], values['trust-email-verification'] !== undefined);
  set('trustUpstreamMfa', values['trust-upstream-mfa'], values['trust-upstream-mfa'] !== undefined);
  set('mfaAcrValues', list(values['mfa-acr-values'] ?? ''), values['mfa-acr-values'] !== undefined);
  // An empty list is "every client" (null), not "no client": a connection nobody sees would be a disabled one.
  set(
    'allowedClients',
    values['allowed-clients'] ? list(values['allowed-clients']) : null,
    values['allowed-clients'] !== undefined,
  );
  set('roleRules', roleRulesFrom(values['role-rule'] ?? []), values['role-rule'] !== undefined);
  set('upstreamSignOut', values['upstream-sign-out'], values['upstream-sign-out'] !== undefined);
  set('options', optionsFrom(values), optionsFrom(values) !== undefined);
  return changes;
}

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** A connection as the CLI's JSON: the admin API's snake_case names; it holds no secret, only has_secret. */
function connectionJson(connection: Connection, issuer: string): Record<string, unknown> {
  const convert = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(convert);
    if (value instanceof Date) return value.toISOString();
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [snake(k), convert(v)]));
    return value;
  };
  return {
    ...(convert(connection) as Record<string, unknown>),
    redirect_uri: federationRedirectUri(issuer, connection.id),
  };
}

function printConnection(
  io: CliIo,
  connection: Connection,
  issuer: string,
  json: boolean | undefined,
  verb: string,
): void {
  if (json) {
    io.out(JSON.stringify(connectionJson(connection, issuer)));
    return;
  }
  io.out(
    `${verb} connection ${connection.id} ("${connection.displayName}", ${connection.preset}, ${connection.kind}${connection.enabled ? '' : ', disabled'})`,
  );
  io.out(`  redirect URI to register at the upstream: ${federationRedirectUri(issuer, connection.id)}`);
  if (!connection.hasSecret) io.out('  no client secret or private key is stored');
}

/** An id the services do not know is the operator's typo: one line, exit 2. */
const unknownConnection =
  (id: string) =>
  (error: unknown): never => {
    throw error instanceof NotFoundError ? new CliUsageError(`no connection with id ${id}`) : error;
  };

/** `gatehouse connections create|update|list|delete`: upstream identity providers (docs/federation.md). */
export async function connectionsCommand(
  sub: string | undefined,
  args: string[],
  run: Runner,
  config: Config,
  io: CliIo,
): Promise<void> {
  switch (sub) {
    case 'create': {
      const { values, positionals } = parseCommand(args, CONNECTION_FLAGS, 1, { allowNegative: true });
      const id = required(values.id ?? positionals[0], 'id');
      const displayName = required(values['display-name'], 'display-name');
      const clientId = required(values['client-id'], 'client-id');
      const changes = await changesFrom(values, io);
      const created = await run((s) => s.admin.connections.create({ ...changes, id, displayName, clientId }, s.actor));
      printConnection(io, created, config.issuer, values.json, 'created');
      return;
    }
    case 'update': {
      const { values, positionals } = parseCommand(args, CONNECTION_FLAGS, 1, { allowNegative: true });
      const id = required(positionals[0], 'id (CONNECTION_ID)');
      if (values.id !== undefined)
        throw new CliUsageError("--id: a connection's id does not change (delete it and create another)");
      const changes = await changesFrom(values, io);
      if (Object.keys(changes).length === 0)
        throw new CliUsageError('nothing to change: give at least one option of connections create');
      const updated = await run(async (s) => {
        const current = await s.admin.connections.get(id);
        // --claim and the option flags change the entries they name, not the whole mapping.
        if (changes.claimMapping) changes.claimMapping = { ...current.claimMapping, ...changes.claimMapping };
        if (changes.options) changes.options = { ...current.options, ...changes.options };
        return s.admin.connections.update(id, changes, s.actor);
      }).catch(unknownConnection(id));
      printConnection(io, updated, config.issuer, values.json, 'updated');
      return;
    }
    case 'list': {
      const { values } = parseCommand(args, {});
      const connections = await run((s) => s.admin.connections.list());
      if (values.json) {
        io.out(JSON.stringify(connections.map((c) => connectionJson(c, config.issuer))));
        return;
      }
      table(
        connections.map((c) => ({
          id: c.id,
          name: c.displayName,
          preset: c.preset,
          kind: c.kind,
          enabled: c.enabled ? 'yes' : 'no',
          order: String(c.order),
          secret: c.hasSecret ? 'stored' : 'none',
          creates_accounts: c.createAccounts ? 'yes' : 'no',
        })),
      ).forEach((line) => io.out(line));
      return;
    }
    case 'delete': {
      const { values, positionals } = parseCommand(args, { id: { type: 'string' } }, 1);
      const id = required(values.id ?? positionals[0], 'id');
      await run((s) => s.admin.connections.delete(id, s.actor)).catch(unknownConnection(id));
      if (values.json) io.out(JSON.stringify({ id, deleted: true }));
      else io.out(`deleted connection ${id} and the identities linked through it`);
      return;
    }
    default:
      throw new CliUsageError(`unknown connections command "${sub ?? ''}": use create, update, list or delete`);
  }
}
