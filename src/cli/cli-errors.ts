import { DomainError, InvalidFileError, isFieldRefusal, type FileProblem } from '../errors/domain-errors.js';

/**
 * The CLI's one mapping of domain errors (exit code 2: the operator's input). A refused field
 * is named as the flag that sets it: the field in kebab case (`totp_secret` → `--totp-secret`),
 * unless the command's table below says otherwise.
 */

/** Per command, the fields whose flag is spelled otherwise; null: no flag sets it (the message stands alone). */
const FLAG_OVERRIDES: Partial<Record<string, Record<string, string | null>>> = {
  clients: {
    redirect_uris: 'redirect-uri',
    post_logout_redirect_uris: 'post-logout-redirect-uri',
    token_endpoint_auth_method: 'auth-method',
    id_token_signed_response_alg: 'id-token-alg',
    refresh_token_reuse_grace_seconds: 'refresh-reuse-grace',
    userinfo_signed_response_alg: 'userinfo-alg',
    dpop_bound_access_tokens: 'dpop-bound',
    require_pushed_authorization_requests: 'require-par',
    // approve/reject of a client that is not pending: the state is the problem, not a flag.
    status: null,
  },
  registration: { ttl_seconds: 'ttl' },
  connections: {
    claim_mapping: 'claim',
    role_rules: 'role-rule',
    private_key: 'private-key-file',
    'options.hosted_domain': 'hosted-domain',
    'options.tenant': 'tenant',
    'options.base_url': 'base-url',
    'options.api_url': 'api-url',
    'options.team_id': 'team-id',
    'options.key_id': 'key-id',
  },
};

/**
 * The flag (`--redirect-uri`) that sets `field` in `command`, or null when none does. A dotted
 * field (`role_rules.0.role`, `allowed_email_domains.2`) is set by the flag of its first part
 * unless the table names the whole path.
 */
function flagOf(command: string, field: string): string | null {
  const overrides = FLAG_OVERRIDES[command] ?? {};
  const head = field.split('.')[0] ?? field;
  const key = field in overrides ? field : head in overrides ? head : undefined;
  if (key !== undefined) {
    const override = overrides[key];
    return override === null || override === undefined ? null : `--${override}`;
  }
  return `--${head.replace(/_/g, '-')}`;
}

/** A problem of an import file as one line, by line number; the file's values are never echoed. */
function problemLine(problem: FileProblem): string {
  const where = problem.line === null ? 'file' : `line ${problem.line}`;
  return problem.field ? `${where}: ${problem.field}: ${problem.message}` : `${where}: ${problem.message}`;
}

/** What `command` prints for a domain error, one line each (the caller prefixes "gatehouse: "). */
export function cliLinesOf(error: DomainError, command: string): string[] {
  if (error instanceof InvalidFileError) return [...error.problems.map(problemLine), error.message];
  if (isFieldRefusal(error)) {
    const flag = flagOf(command, error.field);
    return [flag ? `${flag}: ${error.message}` : error.message];
  }
  return [error.message];
}
