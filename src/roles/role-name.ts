import { RoleInputError } from '../storage/roles.repository.js';

/**
 * A role name is what resource servers compare against, so it is kept to a token-friendly
 * alphabet: letters, digits and `_ . : -`, starting with a letter or digit, at most 100.
 * Every way a role comes to exist checks it: the roles service (admin API, console, CLI),
 * the import's record schema (accounts/user-import.ts); the built-in `admin` role is a constant that meets it.
 */
export const ROLE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

export function checkRoleName(name: string): string {
  if (!ROLE_NAME.test(name)) {
    throw new RoleInputError('name', `"${name}" is not a role name (letters, digits and _ . : -, at most 100)`);
  }
  return name;
}
