import { createGuardrails, generate, generateSecret } from 'otplib';
import { TOTP_PERIOD } from '../../src/accounts/totp.js';

// Imported secrets may be 80-bit; otplib refuses secrets under 16 bytes unless told otherwise.
const guardrails = createGuardrails({ MIN_SECRET_BYTES: 10 });

/** A new 20-byte secret as an authenticator app receives it: 32 base32 characters. */
export const newTotpSecret = (): string => generateSecret({ length: 20 });

/**
 * The code an authenticator app shows now, or `stepOffset` time steps away. The server
 * accepts ±1 step, so offset 1 gives a second sign-in a code newer than one just used
 * without waiting for the clock.
 */
export function totpCode(secret: string, stepOffset = 0): Promise<string> {
  return generate({ secret, guardrails, epoch: Math.floor(Date.now() / 1000) + stepOffset * TOTP_PERIOD });
}

/** A six-digit code that no nearby time step of this secret produces. */
export async function wrongTotpCode(secret: string): Promise<string> {
  const near = new Set(await Promise.all([-2, -1, 0, 1, 2].map((offset) => totpCode(secret, offset))));
  for (let n = 0; ; n++) {
    const candidate = String((314159 + n * 7919) % 1_000_000).padStart(6, '0');
    if (!near.has(candidate)) return candidate;
  }
}
