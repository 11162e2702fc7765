import type { SignUpService } from '../accounts/sign-up.js';
import type { SignUpSettings } from '../accounts/sign-up-settings.js';
import type { EmailAddressService } from '../accounts/email-address.js';
import type { PublicFormCsrf } from '../security/csrf.js';
import type { AccountMail } from './account-mail.js';
import type { RateLimits } from '../security/rate-limits.js';

/** What the sign-up, verification and change-of-address routes share (built once in gatehouse.ts). */
export interface SelfServiceDeps {
  settings: SignUpSettings;
  signUp: SignUpService;
  emailAddress: EmailAddressService;
  mail: AccountMail;
  /** CSRF of the pages behind mailed links, which no session backs. */
  publicForm: PublicFormCsrf;
  /** Per-IP limits on sign-up and per-account limits on the mails these forms send. */
  limits: RateLimits;
}
