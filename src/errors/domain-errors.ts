/**
 * The one vocabulary of refusals: what domain code, services and storage throw when the
 * caller's input or request cannot be done. Each surface maps them once: the admin API and
 * the error pages in http/domain-error-response.ts, the pages' forms in web/kit/form-errors.ts,
 * the CLI in cli/cli-errors.ts. A field is named as in the admin API's JSON (snake_case:
 * `redirect_uris`, `totp_secret`); a message is plain English without the field in front, so
 * no surface strips anything off it. This folder imports nothing of ours, so every layer may
 * import it.
 */
export abstract class DomainError extends Error {}

/**
 * A field's value breaks a rule of its form (not an email address, not an https URL).
 * `catalogue`, when the domain has one, says it in the user's language (pages that speak it).
 */
export class InvalidInputError extends DomainError {
  constructor(
    readonly field: string,
    message: string,
    readonly catalogue?: CatalogueMessage,
  ) {
    super(message);
    this.name = 'InvalidInputError';
  }
}

/** A catalogue message (key and values) for surfaces that speak the user's language. */
export interface CatalogueMessage {
  key: string;
  params: Record<string, string | number>;
}

/**
 * A well-formed value a policy of this deployment refuses: the password policy, an email
 * domain that may not register. `rule` names the policy's rule, for pages that explain it in
 * the user's language; `catalogue`, when the domain has one, is that explanation.
 */
export class PolicyRefusedError extends DomainError {
  constructor(
    readonly field: string,
    readonly rule: string,
    message: string,
    readonly catalogue?: CatalogueMessage,
  ) {
    super(message);
    this.name = 'PolicyRefusedError';
  }
}

/** The value conflicts with what exists (an email another user has, a role name taken). */
export class ConflictError extends DomainError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** What the caller named does not exist (or is not theirs to see): `what` is "user", "client", "role"… */
export class NotFoundError extends DomainError {
  constructor(readonly what: string) {
    super(`${what} was not found`);
    this.name = 'NotFoundError';
  }
}

/** One problem of a file: the 1-based line (null: the whole file), the field (null: the whole line), what is wrong. */
export interface FileProblem {
  line: number | null;
  field: string | null;
  message: string;
}

/** A file refused as a whole (the user import): nothing of it was used; each problem names its line. */
export class InvalidFileError extends DomainError {
  constructor(readonly problems: FileProblem[]) {
    super(`nothing imported: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the file`);
    this.name = 'InvalidFileError';
  }
}

/** The refusals that name one field of the input. */
export type FieldRefusal = InvalidInputError | PolicyRefusedError | ConflictError;

export function isFieldRefusal(error: unknown): error is FieldRefusal {
  return error instanceof InvalidInputError || error instanceof PolicyRefusedError || error instanceof ConflictError;
}
