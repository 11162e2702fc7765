import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/schema.js';
import {
  firstFactorOf,
  hasSecondFactor,
  levelOfAcr,
  meets,
  requestedLevel,
  secondStepChannels,
} from '../accounts/authentication-level.js';
import { MFA_POLICY } from '../clients/client-metadata.js';

const { base, Check, Prompt } = interactionPolicy;

/** A user's second factors as a sign-in to one client sees them. */
interface SignInFactors {
  /** An app, a key or recovery codes: a factor that can complete a second step. */
  enrolled: boolean;
  /** The email and SMS second factors the user turned on, less what the deployment or client turned off. */
  codeChannels: Array<'email' | 'sms'>;
}

export interface PolicyDeps {
  /** Read once per resume, in one statement: most users have no second factor, and every sign-in asks. */
  signInFactorsOf(accountId: string, clientMetadata?: Readonly<Record<string, unknown>>): Promise<SignInFactors>;
  /** Whether a sign-in to this client may use SMS codes (the deployment's sms.enabled, the client's gatehouse_sms). */
  smsAllowedFor(clientMetadata?: Readonly<Record<string, unknown>>): boolean;
  mfaPolicy: Config['mfa']['policy'];
  acr: Config['acr'];
}

/**
 * The second sign-in step, as a prompt between login and consent (oidc-provider docs,
 * "modifying the default interaction policy"). It is asked for when the user has a second
 * factor (an app, a key, recovery codes, or codes by email or SMS), when the global or client policy requires one (then the user enrols one), or when
 * the RP's acr_values want more than the session has (step-up). Once the step is done in
 * this interaction it is not asked again, so an acr the user cannot reach does not loop:
 * the ID token's acr tells the RP what was reached.
 */
function mfaPrompt(deps: PolicyDeps) {
  const summaries = new WeakMap<KoaContextWithOIDC, Promise<SignInFactors>>();
  const factors = (ctx: KoaContextWithOIDC, accountId: string) => {
    let summary = summaries.get(ctx);
    if (!summary) summaries.set(ctx, (summary = deps.signInFactorsOf(accountId, ctx.oidc.client?.metadata())));
    return summary;
  };
  /** The signed-in session when the second step is still open in this interaction. */
  const pending = (ctx: KoaContextWithOIDC) => {
    const { session } = ctx.oidc;
    return session?.accountId && ctx.oidc.account && !ctx.oidc.result?.mfa
      ? { accountId: session.accountId, amr: session.amr, acr: session.acr }
      : undefined;
  };
  /**
   * Whether the session's second factor counts for this client. One proven by SMS does not
   * where SMS is off (the client's gatehouse_sms, or sms.enabled since): a client that turned SMS
   * off never takes it, not even from a session another client's sign-in made (docs/factors.md).
   */
  const secondFactorDone = (ctx: KoaContextWithOIDC, amr: readonly string[] | undefined) =>
    hasSecondFactor(amr) && !((amr ?? []).includes('sms') && !deps.smsAllowedFor(ctx.oidc.client?.metadata()));

  return new Prompt(
    { name: 'mfa', requestable: false },
    (ctx) => ({ level: requestedLevel(ctx.oidc.params?.acr_values as string | undefined, deps.acr) ?? null }),
    new Check('mfa_enrolled', 'a second factor is enrolled for this account', 'interaction_required', async (ctx) => {
      const session = pending(ctx);
      if (!session || secondFactorDone(ctx, session.amr)) return Check.NO_NEED_TO_PROMPT;
      const { enrolled, codeChannels } = await factors(ctx, session.accountId);
      if (enrolled) return Check.REQUEST_PROMPT;
      // A code by email or SMS counts as a second factor, where this client may offer it.
      return secondStepChannels(codeChannels, firstFactorOf(session.amr), undefined).length > 0
        ? Check.REQUEST_PROMPT
        : Check.NO_NEED_TO_PROMPT;
    }),
    new Check('mfa_required', 'a second factor is required', 'interaction_required', (ctx) => {
      const session = pending(ctx);
      if (!session || secondFactorDone(ctx, session.amr)) return Check.NO_NEED_TO_PROMPT;
      const required = deps.mfaPolicy === 'required' || ctx.oidc.client?.metadata()[MFA_POLICY] === 'required';
      return required ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    }),
    new Check(
      'acr_step_up',
      'the requested authentication context is stronger than the session',
      'interaction_required',
      (ctx) => {
        const session = pending(ctx);
        const wanted = requestedLevel(ctx.oidc.params?.acr_values as string | undefined, deps.acr);
        if (!session || !wanted) return Check.NO_NEED_TO_PROMPT;
        return meets(levelOfAcr(session.acr, deps.acr), wanted) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
      },
    ),
  );
}

/**
 * oidc-provider's login and consent prompts, with `select_account` in front (OIDC Core
 * §3.1.2.1) and the second-factor step between login and consent. A requestable prompt gets
 * its `<name>_prompt` check from the library, so select_account runs only when the RP sends
 * prompt=select_account.
 */
export function buildInteractionPolicy(deps: PolicyDeps) {
  const policy = base();
  policy.add(new Prompt({ name: 'select_account', requestable: true }), 0);
  // A session whose account is gone or disabled (findAccount gives undefined) must sign in
  // again. The library's login checks look only at session.accountId, and the consent
  // checks then read a Grant that loadGrant never made (lib/actions/authorization/session.js).
  policy
    .get('login')
    ?.checks.add(
      new Check('account_unavailable', 'End-User authentication is required', 'login_required', (ctx) =>
        Boolean(ctx.oidc.session?.accountId && !ctx.oidc.account),
      ),
      0,
    );
  policy.add(
    mfaPrompt(deps),
    policy.findIndex((prompt) => prompt.name === 'consent'),
  );
  return policy;
}
