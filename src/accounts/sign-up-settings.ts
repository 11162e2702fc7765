import type { Config } from '../config/schema.js';

// The sign-up settings and the domain rule that both sign-up.ts and email-address.ts (a change
// of address) apply; their own module so that neither service imports the other.

export type SignUpSettings = Config['signUp'];

/** The domain part of an address, lower-cased (IDNs are compared as typed). */
function domainOf(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}

/** Whether an address may register: any domain when the list is empty, else an exact listed one. */
export function isAllowedDomain(email: string, allowed: readonly string[]): boolean {
  return allowed.length === 0 || allowed.includes(domainOf(email));
}
