import type { Context } from 'koa';
import type { Translator } from '../i18n/translator.js';
import type { WithTranslator } from '../http/localize.js';
import type { SignUpService, SignUpSettings } from '../accounts/sign-up.js';
import type { EmailAddressService } from '../accounts/email-address.js';
import type { PublicFormCsrf } from '../security/csrf.js';
import type { AccountMail } from './account-mail.js';

/** What the sign-up, verification and change-of-address routes share (built once in gatehouse.ts). */
export interface SelfServiceDeps {
  settings: SignUpSettings;
  signUp: SignUpService;
  emailAddress: EmailAddressService;
  mail: AccountMail;
  /** CSRF of the pages behind mailed links, which no session backs. */
  publicForm: PublicFormCsrf;
}

/** The request's language (src/http/localize.ts), for pages and for the mails a visitor asks for. */
export function translatorOf(ctx: Context): Translator {
  return (ctx.state as WithTranslator['state']).i18n;
}
