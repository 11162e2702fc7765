import { z } from 'zod';
import { checkbox } from '../kit/form-fields.js';
import type { OthersEndedReason } from '../../accounts/user-sessions.js';
import { accountOrigin } from './account-client.js';
import type { PortalDeps, WithPortalContext } from './context.js';

/** The form field of the "Sign out my other devices" checkbox (views/account/_sign-out-others.ejs). */
export const SIGN_OUT_OTHERS = 'sign_out_others';

/**
 * The form of a change that offers the box; a route's form extends it. A ticked box posts `1`;
 * an unticked one posts nothing, which is the user's "no".
 */
export const signOutOthersForm = z.object({ [SIGN_OUT_OTHERS]: checkbox() });

/**
 * After a changed password or second factor: when the user left "Sign out my other devices"
 * ticked (it is by default, ASVS 5.0 V7.4.3), every other session of theirs ends, with the
 * grants made in them and the refresh tokens under those. The same code as "End all other
 * sessions" (UserSessions.endOthers); this browser's session stays.
 */
export async function signOutOthersIfAsked(
  deps: Pick<PortalDeps, 'userSessions'>,
  ctx: WithPortalContext,
  reason: OthersEndedReason,
  asked: boolean,
): Promise<void> {
  if (!asked) return;
  const { userId, sessionUid } = ctx.state.portal;
  await deps.userSessions.endOthers(userId, sessionUid, accountOrigin(ctx), reason);
}
