import { InvalidInputError } from '../errors/domain-errors.js';

/**
 * A role name is what resource servers compare against, so it is kept to a token-friendly
 * alphabet: letters, digits and `_ . : -`, starting with a letter or digit, at most 100.
 * Every way a role comes to exist checks it: the roles service (admin API, console, CLI),
 * the import's record schema (accounts/user-import.ts); the built-in `admin` role is a constant that meets it.
 */
export const ROLE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

const MAX_DESCRIPTION_LENGTH = 500;

export function checkRoleName(name: string): string {
  if (!ROLE_NAME.test(name)) {
    throw new InvalidInputError('name', `"${name}" is not a role name (letters, digits and _ . : -, at most 100)`);
  }
  return name;
}

/** A role's description: trimmed, empty means none, at most 500 characters. */
export function checkRoleDescription(description: string | null | undefined): string | null {
  const value = description?.trim() || null;
  if (value && value.length > MAX_DESCRIPTION_LENGTH)
    throw new InvalidInputError('description', `must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
  return value;
}
