import { createGuardrails, generate, generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';
import type { CredentialsRepository } from '../storage/credentials.repository.js';
import type { SecretBox } from '../security/secret-box.js';

/** RFC 6238 with the parameters every authenticator app supports: SHA-1, 6 digits, 30 s. */
export const TOTP_PERIOD = 30;
const SECRET_BYTES = 20;
// ±1 step (RFC 6238 §5.2: allow for one step of clock drift or transmission delay).
const TOLERANCE_SECONDS = TOTP_PERIOD;
// Imported secrets may be 80-bit (16 base32 characters), below otplib's 128-bit default floor.
const guardrails = createGuardrails({ MIN_SECRET_BYTES: 10 });

export const TOTP_SECRET_CONTEXT = 'credentials:totp';

interface TotpEnrolment {
  secret: string;
  uri: string;
  qrSvg: string;
}

type TotpCheck = 'accepted' | 'invalid' | 'replayed' | 'not-enrolled';

export interface TotpService {
  /**
   * A secret to show the user (a new one, or the pending one shown again); nothing is
   * stored until a code from it is confirmed.
   */
  startEnrolment(accountLabel: string, pendingSecret?: string): Promise<TotpEnrolment>;
  /** Stores the secret (sealed) once the user proves their app produces its codes. */
  confirmEnrolment(userId: string, secret: string, code: string): Promise<boolean>;
  /** A code is accepted at most once: its time step must be newer than the last accepted one. */
  check(userId: string, code: string): Promise<TotpCheck>;
  /** For tests and the CLI: the current code of a secret. */
  currentCode(secret: string): Promise<string>;
  /**
   * The same service reading and writing through a transaction's repositories, so that an
   * enrolment or an accepted code commits with the audit event that records it.
   */
  within(tx: { credentials: CredentialsRepository }): TotpService;
}

export function createTotpService(deps: {
  credentials: CredentialsRepository;
  box: SecretBox;
  issuer: string;
}): TotpService {
  const { credentials, box, issuer } = deps;

  const matchStep = async (secret: string, code: string): Promise<number | null> => {
    if (!/^\d{6}$/.test(code)) return null;
    const result = await verify({ secret, token: code, epochTolerance: TOLERANCE_SECONDS, guardrails });
    return result.valid && 'timeStep' in result ? result.timeStep : null;
  };

  return {
    async startEnrolment(accountLabel: string, pendingSecret?: string): Promise<TotpEnrolment> {
      const secret = pendingSecret ?? generateSecret({ length: SECRET_BYTES });
      const uri = generateURI({ issuer, label: accountLabel, secret });
      const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      return { secret, uri, qrSvg };
    },

    async confirmEnrolment(userId: string, secret: string, code: string): Promise<boolean> {
      const step = await matchStep(secret, code.trim());
      if (step === null) return false;
      const row = await credentials.setTotp(userId, box.seal(secret, TOTP_SECRET_CONTEXT));
      // The confirming code is spent: it cannot be replayed at the next sign-in.
      await credentials.advanceTotpStep(row.id, step);
      return true;
    },

    async check(userId: string, code: string): Promise<TotpCheck> {
      const row = await credentials.findTotp(userId);
      if (!row) return 'not-enrolled';
      const step = await matchStep(box.open(row.secret, TOTP_SECRET_CONTEXT), code.trim());
      if (step === null) return 'invalid';
      // One UPDATE … WHERE lastStep < step: atomic on its own, and inside a transaction the row
      // stays locked until commit, so a concurrent use of the same code waits, re-reads the
      // committed step and affects no row (PostgreSQL READ COMMITTED re-checks the WHERE).
      return (await credentials.advanceTotpStep(row.id, step)) ? 'accepted' : 'replayed';
    },

    currentCode: (secret: string) => generate({ secret, guardrails }),

    within: (tx) => createTotpService({ ...deps, credentials: tx.credentials }),
  };
}
