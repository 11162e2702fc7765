import type { CodeFactorSummary } from '../../codes/code-factors.js';
import type { CodeChannel } from './code-channels.js';

/**
 * The parts of the second step's page (views/interaction/mfa.ejs): a security key or passkey,
 * the app's code, a recovery code, the field of a code just sent, and "send a code by email /
 * SMS".
 */
export type MfaBlock = 'webauthn' | 'totp' | 'recovery' | 'sent' | CodeChannel;

/** The page's order when nothing says otherwise (the order before the default factor existed). */
const USUAL: readonly MfaBlock[] = ['webauthn', 'totp', 'recovery', 'email', 'sms'];

/**
 * The order the second step shows what this sign-in may use (docs/factors.md, "The default
 * second factor"): a code just sent first (the person chose it on this page), then the user's
 * default second factor when the page shows it, then the rest in the usual order. Nothing is
 * hidden; a default the page does not show (SMS turned off for this client, a code factor the
 * RP's acr rules out) leaves the usual order.
 */
export function secondStepOrder(input: {
  shown: ReadonlySet<MfaBlock>;
  sent: CodeChannel | undefined;
  defaultFactor: CodeFactorSummary['defaultFactor'];
}): MfaBlock[] {
  const { shown, sent, defaultFactor } = input;
  const first: MfaBlock[] = [];
  if (sent) first.push('sent');
  if (defaultFactor && shown.has(defaultFactor)) first.push(defaultFactor);
  return [...first, ...USUAL.filter((block) => shown.has(block) && !first.includes(block))];
}

/**
 * The block whose field or button gets the page's focus: the first one a person acts on at
 * once. The key's button appears only with scripts and recovery codes sit folded away, so
 * neither takes it.
 */
export function focusedBlock(order: readonly MfaBlock[]): MfaBlock | undefined {
  return order.find((block) => block !== 'webauthn' && block !== 'recovery');
}
