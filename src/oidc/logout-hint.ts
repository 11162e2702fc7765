import type { KoaContextWithOIDC } from 'oidc-provider';
import { allowInlineScript } from '../http/inline-script.js';

/** The claims of a validated id_token_hint that tie it to one session (OIDC Core §2, our `sid` claim). */
interface HintClaims {
  sub?: unknown;
  sid?: unknown;
}

/**
 * RP-Initiated Logout 1.0 §2: the OP MUST ask the End-User whether to log out when no
 * id_token_hint was given or the ID Token "does not belong to the current OP session with the
 * RP"; when it does, and the RP named a registered post_logout_redirect_uri, asking again is
 * the RP's own question twice. True only then:
 * - the provider decoded and validated the hint before the logout page (lib/actions/
 *   end_session.js: signature, issuer, audience = the client; expiry is not checked, which
 *   §2 allows), and checked post_logout_redirect_uri against the client's registered ones;
 * - its `sub` is the session's account, and its `sid` (every ID token carries one,
 *   src/oidc/account.ts) is the session's id for that client: a hint from an earlier session
 *   of the same user, or from another browser, has another sid.
 */
function hintIsForCurrentSession(ctx: KoaContextWithOIDC): boolean {
  const { client, session, params, entities } = ctx.oidc;
  const hint = (entities as { IdTokenHint?: { payload?: HintClaims } }).IdTokenHint?.payload;
  if (!hint || !client || !session?.accountId) return false;
  if (typeof params?.post_logout_redirect_uri !== 'string' || params.post_logout_redirect_uri === '') return false;
  const sid = session.sidFor(client.clientId);
  return (
    typeof hint.sub === 'string' &&
    // A pairwise client's hint carries its own sub (OIDC Core §8.1); its sid alone ties it to this session.
    (hint.sub === session.accountId || client.subjectType === 'pairwise') &&
    typeof hint.sid === 'string' &&
    typeof sid === 'string' &&
    hint.sid === sid
  );
}

/** Posts the provider's logout form on load; `logout=yes` is a hidden field of it (views/logout-continue.ejs). */
const AUTO_SUBMIT = "document.getElementById('op.logoutForm').submit();";

/**
 * Which logout page: the confirmation question, or, for the current session's own hint, a
 * page that posts the provider's confirmation itself (`script`, allowed by its CSP hash).
 */
export function logoutPage(ctx: KoaContextWithOIDC): { view: 'logout' } | { view: 'logout-continue'; script: string } {
  return hintIsForCurrentSession(ctx)
    ? { view: 'logout-continue', script: allowInlineScript(ctx, AUTO_SUBMIT) }
    : { view: 'logout' };
}
