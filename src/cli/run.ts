import { ConfigError } from '../config/load.js';
import { DomainError } from '../errors/domain-errors.js';
import { cliLinesOf } from './cli-errors.js';
import { CliUsageError, parseCommand, type CliIo } from './io.js';
import { openCliContext, type CliContextOptions } from './context.js';
import { usersCommand } from './users.js';
import { clientsCommand } from './clients.js';
import { keysCommand } from './keys.js';
import { grantsCommand } from './grants.js';
import { rolesCommand } from './roles.js';
import { registrationCommand } from './registration.js';
import { connectionsCommand } from './connections.js';
import { resourcesCommand } from './resources.js';

const USAGE = `usage: gatehouse <command> [options]   (from a checkout: npm run cli -- <command>)

  migrate                                   apply pending database migrations
  users create --email E --password P [--name N] [--totp-secret BASE32]
  users list | users disable --email E | users enable --email E
  users import FILE.jsonl                   all users of the file, or none (docs/import.md)
  users export [--out FILE]                 every user with password hash and TOTP secret: keep it safe
  users set-password --email E --password P | users mfa-reset --email E
  clients create --name N --redirect-uri U [--redirect-uri U ...] [--post-logout-redirect-uri U]
                 [--public] [--first-party] [--grant-types a,b] [--scope "openid profile ..."]
                 [--auth-method client_secret_basic|client_secret_post|private_key_jwt|none]
                 [--jwks-uri https://… | --jwks JSON|@file] [--id-token-alg ES256|RS256]
                 [--mfa optional|required] [--visible-roles a,b] [--admin-scopes admin:read,admin:write]
                 [--backchannel-logout-uri https://… [--backchannel-logout-session-required]]
                 [--refresh-reuse-grace SECONDS] [--dpop-bound] [--require-par] [--fapi]
                 [--sms on|off] [--email-sign-in on|off]
                 [--subject-type public|pairwise [--sector-identifier-uri https://…]]
                 [--frontchannel-logout-uri https://… [--frontchannel-logout-session-required]]
                 [--userinfo-alg ES256|RS256]
                 [--logo-uri https://…] [--policy-uri https://…] [--tos-uri https://…]   on the consent page
                 (--grant-types takes urn:ietf:params:oauth:grant-type:device_code for the device flow)
  clients update CLIENT_ID [any option of clients create]   only the options given change; a list
                 option replaces the whole list, an empty value clears a field, --no-public,
                 --no-first-party and --no-backchannel-logout-session-required turn a switch off
  clients list | clients delete CLIENT_ID
  clients pending | clients approve CLIENT_ID | clients reject CLIENT_ID
  registration token create [--ttl SECONDS] [--note TEXT] | registration token list
  registration token revoke ID             initial access tokens for dynamic client registration
  roles create NAME [--description D] | roles list | roles delete NAME
  roles assign --email E --role NAME | roles unassign --email E --role NAME
  resources list | resources show RESOURCE | resources delete RESOURCE   (RESOURCE: indicator or id)
  resources create INDICATOR --name N [--audience A] [--access-token-ttl SECONDS] [--permissions-claim]
  resources update RESOURCE [--name N] [--audience A] [--access-token-ttl SECONDS] [--[no-]permissions-claim]
  resources permissions add RESOURCE PERMISSION [--description D] | resources permissions remove RESOURCE PERMISSION
  roles permissions NAME | clients permissions CLIENT_ID      the permissions a role grants, a client holds
  roles grant-permission NAME --resource RESOURCE --permission P      (revoke-permission: the same options)
  clients grant-permission CLIENT_ID --resource RESOURCE --permission P   (machine clients: client_credentials)
  users identities --email E              the upstream identities linked to a user
  users unlink --email E --connection ID    remove one (even the last way to sign in: audited)
  connections create ID --display-name N --client-id C
                 [--preset custom|google|microsoft|github|gitlab|discord|apple] [--kind oidc|oauth2]
                 [--issuer https://…] [--authorization-endpoint U] [--token-endpoint U] [--userinfo-endpoint U]
                 [--client-secret-file PATH|- | --private-key-file PATH|- | --client-secret S]
                 [--client-auth-method client_secret_basic|client_secret_post|private_key_jwt]
                 [--private-key-id KID] [--scopes a,b] [--claim NAME=CLAIM ...] [--order N] [--icon NAME]
                 [--no-enabled] [--create-accounts] [--trust-email-verification] [--trust-upstream-mfa]
                 [--mfa-acr-values a,b] [--allowed-email-domains a,b] [--home-realm-domains a,b]
                 [--allowed-clients a,b] [--role-rule group:G=ROLE|domain:D=ROLE ...] [--upstream-sign-out]
                 [--hosted-domain D] [--tenant T] [--base-url U] [--api-url U] [--team-id T] [--key-id K]
  connections update ID [any option of connections create]   only the options given change;
                 the secret is kept unless given; --no-<switch> turns a switch off
  connections list | connections delete ID  (deleting removes the identities linked through it)
  grants list --email E | grants revoke GRANT_ID | grants revoke --email E --client-id C
  keys list | keys rotate

  A secret is best given from a file (--client-secret-file PATH, or - for standard input):
  the command line is kept in the shell's history and shown in the process list.
  --json prints machine-readable output. Configuration comes from the same settings and
  environment variables as the server (DATABASE_URL, DATA_DIR, KEY_ENCRYPTION_SECRET, ...).`;

/**
 * Runs one CLI invocation; returns the exit code (0 ok, 1 failure, 2 bad arguments). Tests
 * may pass a small breached-password list, as they do to createGatehouse.
 */
export async function runCli(
  argv: string[],
  env: Record<string, string | undefined>,
  io: CliIo,
  options: Pick<CliContextOptions, 'breachedList'> = {},
): Promise<number> {
  const [command, sub, ...rest] = argv;
  try {
    if (!command || command === 'help' || command === '--help' || command === '-h') {
      io.out(USAGE);
      return command ? 0 : 2;
    }
    const context = openCliContext(env, { ...options, mayCreateData: command === 'migrate' });
    const run = context.with.bind(context);
    switch (command) {
      case 'migrate': {
        const { values } = parseCommand(sub === undefined ? [] : [sub, ...rest], {});
        const applied = await run(async (s) => s.opened.migrationsApplied);
        io.out(
          values.json
            ? JSON.stringify({ applied })
            : applied.length
              ? `applied: ${applied.join(', ')}`
              : 'database is up to date',
        );
        return 0;
      }
      case 'users':
        await usersCommand(sub, rest, run, io);
        return 0;
      case 'clients':
        await clientsCommand(sub, rest, run, io);
        return 0;
      case 'grants':
        await grantsCommand(sub, rest, run, io);
        return 0;
      case 'roles':
        await rolesCommand(sub, rest, run, io);
        return 0;
      case 'resources':
        await resourcesCommand(sub, rest, run, io);
        return 0;
      case 'registration':
        await registrationCommand(sub, rest, run, io);
        return 0;
      case 'keys':
        await keysCommand(sub, rest, run, context.config, io);
        return 0;
      case 'connections':
        await connectionsCommand(sub, rest, run, context.config, io);
        return 0;
      default:
        throw new CliUsageError(`unknown command "${command}" (see gatehouse help)`);
    }
  } catch (error) {
    // The services' refusals (bad field, unknown name, conflict, a bad file) are the operator's input: exit 2.
    if (error instanceof DomainError) {
      cliLinesOf(error, command ?? '').forEach((line) => io.err(`gatehouse: ${line}`));
      return 2;
    }
    if (error instanceof CliUsageError) {
      io.err(`gatehouse: ${error.message}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      io.err(`gatehouse: ${error.message}`);
      return 2;
    }
    io.err(`gatehouse: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
