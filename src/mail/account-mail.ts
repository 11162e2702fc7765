import type { Logger } from 'pino';
import type { Mailer, OutgoingMail } from './mailer.js';
import type { Translator } from '../i18n/translator.js';

/** An address as a notice may show it to the old mailbox: enough to recognise, not to harvest (a***@example.com). */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  return `${email.slice(0, Math.min(1, at))}***${email.slice(at)}`;
}

/**
 * The mails of self-registration and of a change of address. Each is sent in the background:
 * the page a visitor sees must not wait for (or, by its timing, reveal) an SMTP round trip, so
 * a failure is logged (never the link: it is a secret) and the user can ask again.
 */
export function createAccountMail(deps: { mailer: Mailer; log: Logger; issuer: string; productName: string }) {
  const { mailer, log, issuer, productName } = deps;
  /**
   * A link to one of our pages, in the language the mail is written in (ui_locales, see
   * src/http/localize.ts). The path is appended to the issuer, not resolved against it, so an
   * issuer's path prefix (https://id.example.com/auth) stays in the link.
   */
  const url = (path: string, i18n: Translator, token?: string) => {
    const link = new URL(`${issuer}${path}`);
    if (token) link.searchParams.set('token', token);
    link.searchParams.set('ui_locales', i18n.locale);
    return link.toString();
  };

  function sendInBackground(mail: OutgoingMail): void {
    mailer.send(mail).catch((error: unknown) => {
      log.error(
        { template: mail.template, error: error instanceof Error ? error.message : String(error) },
        'account mail could not be sent',
      );
    });
  }

  const send = (
    to: string,
    template: string,
    i18n: Translator,
    locals: Record<string, string>,
    subjectKey = `email.${template}.subject`,
  ) => sendInBackground({ to, template, subjectKey, i18n, locals: { productName, ...locals } });

  return {
    /** The link that proves the address (verify-email). */
    verifyAddress: (to: string, token: string, i18n: Translator) =>
      send(to, 'verify-email', i18n, { link: url('/email/verify', i18n, token) }),

    /** To the owner of an address someone tried to register again: sign in or reset instead. */
    registrationOnTakenAddress: (to: string, i18n: Translator) =>
      send(to, 'signup-existing-account', i18n, {
        signInLink: url('/account', i18n),
        resetLink: url('/password/forgot', i18n),
      }),

    /** To the new address of a change: the link that makes the change. */
    confirmNewAddress: (to: string, token: string, i18n: Translator) =>
      send(to, 'change-email', i18n, { link: url('/email/change', i18n, token) }),

    /** To the owner of an address someone tried to move another account to: nothing changed, and what to do if worried. */
    changeToTakenAddress: (to: string, i18n: Translator) =>
      send(to, 'email-change-attempt', i18n, {
        signInLink: url('/account', i18n),
        resetLink: url('/password/forgot', i18n),
      }),

    /** To the old address once the change is made: the account has moved, and what to do if that was not its owner. */
    addressChangedNotice: (to: string, newEmail: string, i18n: Translator) =>
      send(to, 'email-changed-notice', i18n, {
        newEmail: maskEmail(newEmail),
        resetLink: url('/password/forgot', i18n),
      }),

    /** The link that lets the owner of the address choose a new password (reset-password). */
    passwordReset: (to: string, token: string, minutes: number, i18n: Translator) =>
      send(
        to,
        'password-reset',
        i18n,
        { email: to, link: url('/password/reset', i18n, token), minutes: String(minutes) },
        'password-mail.reset.subject',
      ),

    /** To a disabled account that asked for a reset: no link (none could help), contact the administrator. */
    resetOfDisabledAccount: (to: string, i18n: Translator) =>
      send(to, 'password-reset-disabled', i18n, { email: to }, 'password-mail.disabled.subject'),

    /** After a reset: the password changed, and what to do if that was not the owner. */
    passwordChanged: (to: string, i18n: Translator) =>
      send(
        to,
        'password-changed',
        i18n,
        { email: to, when: i18n.formatDate(new Date()), resetUrl: url('/password/forgot', i18n) },
        'password-mail.changed.subject',
      ),
  };
}

export type AccountMail = ReturnType<typeof createAccountMail>;
