import { interactionPolicy } from 'oidc-provider';

const { base, Prompt } = interactionPolicy;

/**
 * oidc-provider's login and consent prompts, with `select_account` in front (OIDC Core
 * §3.1.2.1). A requestable prompt gets its `<name>_prompt` check from the library, so
 * this one runs only when the RP sends prompt=select_account. Second factors join as a
 * prompt of their own in a later change.
 */
export function buildInteractionPolicy() {
  const policy = base();
  policy.add(new Prompt({ name: 'select_account', requestable: true }), 0);
  return policy;
}
