import type { UserRow } from '../storage/entities/user.entity.js';
import type { Storage } from '../storage/storage.js';
import type { AuditLog, RequestOrigin } from '../security/audit.js';
import type { PasswordHasher } from './passwords.js';
import type { EmailAddressService } from './email-address.js';
import type { PasswordPolicy } from './password-policy.js';
import { checkEmail, checkName } from './user-fields.js';
import { ConflictError, PolicyRefusedError } from '../errors/domain-errors.js';
import { isAllowedDomain, type SignUpSettings } from './sign-up-settings.js';

export interface SignUpInput {
  email: string;
  name: string;
  password: string;
}

/**
 * What a registration did. The caller must answer both the same way (no account enumeration)
 * and only differs in the mail it sends afterwards.
 */
export type SignUpOutcome =
  { kind: 'created'; user: UserRow; verificationToken: string } | { kind: 'address-taken'; owner: UserRow };

/**
 * Self-registration and the verification of the address it gives. No HTTP here: routes
 * validate nothing themselves, call these, and render one page whatever the outcome.
 */
export function createSignUpService(deps: {
  storage: Pick<Storage, 'users' | 'transaction'>;
  passwords: PasswordHasher;
  /** The password policy (docs/passwords.md); its refusal is a PolicyRefusedError on 'password'. */
  policy: PasswordPolicy;
  audit: AuditLog;
  emailAddress: Pick<EmailAddressService, 'issueVerification'>;
  settings: SignUpSettings;
}) {
  const { storage, passwords, audit, settings } = deps;

  /** The owner's side of a registration for their address: a security event, nothing else changes. */
  async function recordAttemptOnTakenAddress(owner: UserRow, origin: RequestOrigin): Promise<SignUpOutcome> {
    await storage.transaction((tx) => audit.within(tx).record('signup.address_taken', { subjectId: owner.id }, origin));
    return { kind: 'address-taken', owner };
  }

  return {
    /**
     * Registers an account, or finds that the address has one. Both branches cost the same:
     * input checks, one argon2 hash, one lookup and one transaction with an audit event, so the
     * response time does not tell whether the address is known (ASVS 5 6.3.8).
     * Throws InvalidInputError for bad input ('email', 'name') and PolicyRefusedError for what a
     * policy refuses ('email' at a domain that may not register, rule `email_domain`; 'password').
     * `linkData` rides on the verification link (the interaction to continue after it).
     */
    async register(
      input: SignUpInput,
      origin: RequestOrigin = {},
      linkData: Record<string, string> = {},
    ): Promise<SignUpOutcome> {
      const email = checkEmail(input.email);
      if (!isAllowedDomain(email, settings.allowedEmailDomains))
        throw new PolicyRefusedError('email', 'email_domain', 'this domain may not register');
      const name = checkName(input.name);
      const passwordHash = await passwords.hash(await deps.policy.enforce(input.password, { email }));
      const owner = await storage.users.findByEmail(email);
      if (owner) return recordAttemptOnTakenAddress(owner, origin);
      try {
        return await storage.transaction(async (tx) => {
          const user = await tx.users.create({
            email,
            name,
            emailVerified: false,
            passwordHash,
            totpSecretEncrypted: null,
            selfRegistered: true,
          });
          const verificationToken = await deps.emailAddress.issueVerification(tx, user, linkData);
          await audit.within(tx).record('signup.registered', { actorId: user.id, subjectId: user.id }, origin);
          return { kind: 'created', user, verificationToken };
        });
      } catch (error) {
        // Registered a moment ago by a concurrent request: the same answer as any taken address.
        const racer =
          error instanceof ConflictError && error.field === 'email' ? await storage.users.findByEmail(email) : null;
        if (racer) return recordAttemptOnTakenAddress(racer, origin);
        throw error;
      }
    },

    /** A self-registered account whose address is not verified may not finish a sign-in (when so configured). */
    mustVerifyBeforeSignIn(user: UserRow): boolean {
      return settings.requireEmailVerification && user.selfRegisteredAt !== null && !user.emailVerified;
    },
  };
}
