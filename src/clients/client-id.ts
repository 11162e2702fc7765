import { randomBytes, randomInt } from 'node:crypto';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A new client id: one random letter or digit, then 128 random bits in base64url (23
 * characters, ~134 bits). Plain base64url could start with "-", which a command line reads as
 * an option (`gatehouse clients delete -o4Et…` failed), or "_". The lead character adds
 * entropy rather than re-drawing the 128 bits, so no id is weaker than before.
 */
export function newClientId(): string {
  return `${ALPHANUMERIC[randomInt(ALPHANUMERIC.length)] ?? 'c'}${randomBytes(16).toString('base64url')}`;
}
