import type { WebAuthnRefusal } from '../accounts/webauthn.js';
import { AppError } from './errors.js';

// Shared by the sign-in steps (web/interaction/webauthn.ts) and the account pages' passkey
// management (web/account/webauthn.ts): one mapping of a refused ceremony to a response.

/**
 * What the user reads when a ceremony is refused, by reason (a catalogue key: the error
 * handler translates it for views/public/webauthn.js); status and code for the script.
 */
const REFUSALS: Record<WebAuthnRefusal, { status: number; code: string; message: string }> = {
  malformed: { status: 400, code: 'invalid_request', message: 'webauthn.malformed' },
  challenge: { status: 400, code: 'challenge_expired', message: 'webauthn.challenge' },
  unknown_credential: { status: 401, code: 'unknown_credential', message: 'webauthn.unknownCredential' },
  wrong_user: { status: 401, code: 'wrong_credential', message: 'webauthn.wrongUser' },
  invalid: { status: 401, code: 'verification_failed', message: 'webauthn.invalid' },
  counter_regressed: { status: 401, code: 'credential_suspect', message: 'webauthn.counterRegressed' },
  duplicate: { status: 409, code: 'already_registered', message: 'webauthn.duplicate' },
};

export function refusal(reason: WebAuthnRefusal): AppError {
  const { status, code, message } = REFUSALS[reason];
  return new AppError(code, status, message);
}
