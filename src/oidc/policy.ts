import { interactionPolicy } from 'oidc-provider';

const { base, Check, Prompt } = interactionPolicy;

/**
 * oidc-provider's login and consent prompts, with `select_account` in front (OIDC Core
 * §3.1.2.1). A requestable prompt gets its `<name>_prompt` check from the library, so
 * this one runs only when the RP sends prompt=select_account. Second factors join as a
 * prompt of their own in a later change.
 */
export function buildInteractionPolicy() {
  const policy = base();
  policy.add(new Prompt({ name: 'select_account', requestable: true }), 0);
  // A session whose account is gone or disabled (findAccount gives undefined) must sign in
  // again. The library's login checks look only at session.accountId, and the consent
  // checks then read a Grant that loadGrant never made (lib/actions/authorization/session.js).
  policy.get('login')?.checks.add(new Check('account_unavailable', 'End-User authentication is required', 'login_required',
    (ctx) => Boolean(ctx.oidc.session?.accountId && !ctx.oidc.account)), 0);
  return policy;
}
