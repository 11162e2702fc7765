/**
 * A field of what a user or an admin typed breaks an account rule (email, name, password
 * policy, TOTP secret). Each surface maps it once: a form message, a 400 naming the field,
 * a CLI exit. Its own module so that the rules (password-policy.ts, user-fields.ts) and the
 * services using them can all import it without importing each other.
 */
export class UserInputError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'UserInputError';
  }
}
