import type { Repositories } from '../storage/storage.js';

/**
 * Whether the user keeps a way to sign in once the identity at `withoutConnection` is gone: a
 * password, a passkey (a security key is a second factor only), or another linked identity.
 * The person's own unlink is refused without one; an admin's is allowed and audited (docs/decisions.md).
 */
export async function keepsSignInMethod(
  tx: Pick<Repositories, 'identities' | 'users' | 'credentials'>,
  userId: string,
  withoutConnection: string,
): Promise<boolean> {
  const identities = await tx.identities.listForUser(userId);
  if (identities.some((i) => i.connectionId !== withoutConnection)) return true;
  if (await tx.users.passwordHash(userId)) return true;
  return (await tx.credentials.listWebAuthn(userId)).some((c) => c.data.kind !== 'security_key');
}
