import type { Storage } from '../storage/storage.js';
import type { StoredProfile } from '../storage/entities/user.entity.js';
import type { AuditLog, RequestOrigin } from '../security/audit.js';
import { NotFoundError } from '../errors/domain-errors.js';
import { recordAdminAction, type AdminActor } from '../security/admin-actor.js';
import {
  ADDRESS_FIELDS,
  PROFILE_TEXT_FIELDS,
  applyProfileChanges,
  profileOf,
  type Profile,
  type ProfileChanges,
} from './profile.js';

function stored(profile: Profile): StoredProfile {
  const out: StoredProfile = {};
  for (const field of PROFILE_TEXT_FIELDS) {
    const value = profile[field];
    if (value !== undefined) out[field] = value;
  }
  if (profile.address) {
    const address: Record<string, string> = {};
    for (const field of ADDRESS_FIELDS) {
      const value = profile.address[field];
      if (value !== undefined) address[field] = value;
    }
    out.address = address;
  }
  return out;
}

/** Who changes a profile: the user on /account, or an admin (whose action the caller audits). */
export type ProfileEditor = { kind: 'self'; origin?: RequestOrigin } | { kind: 'admin'; actor: AdminActor };

/** A user's profile claims (OIDC Core §5.1): read, and changed as a whole after validation. */
export function createUserProfiles(deps: { storage: Pick<Storage, 'transaction' | 'users'>; audit: AuditLog }) {
  const { storage, audit } = deps;
  return {
    async get(userId: string): Promise<Profile> {
      const user = await storage.users.findById(userId);
      if (!user) throw new NotFoundError('user');
      return profileOf(user.profile);
    },

    /** Validates and saves, audited with the fields that changed (returned). */
    async update(userId: string, changes: ProfileChanges, editor: ProfileEditor): Promise<string[]> {
      return storage.transaction(async (tx) => {
        const user = await tx.users.findById(userId);
        if (!user) throw new NotFoundError('user');
        const before = profileOf(user.profile);
        const after = applyProfileChanges(before, changes);
        const changed = [...PROFILE_TEXT_FIELDS, 'address' as const].filter(
          (field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]),
        );
        if (changed.length === 0) return [];
        await tx.users.updateProfile(userId, stored(after));
        const details = { fields: changed.map((field) => `profile.${field}`) };
        if (editor.kind === 'self')
          await audit.within(tx).record('user.updated', { actorId: userId, subjectId: userId, details }, editor.origin);
        else await recordAdminAction(audit, tx, editor.actor, 'user.updated', { subjectId: userId, details });
        return changed;
      });
    },
  };
}

export type UserProfiles = ReturnType<typeof createUserProfiles>;
