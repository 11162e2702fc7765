import type { Config } from '../config/schema.js';

/**
 * Gatehouse's own client metadata field: false turns email sign-in (links and codes without a
 * password) off for this client while the deployment offers it (codes.emailSignIn).
 */
export const EMAIL_SIGN_IN_FIELD = 'gatehouse_email_sign_in';
/**
 * Gatehouse's own client metadata field: false turns the SMS second factor off for this
 * client (a restricted authenticator, NIST SP 800-63B §5.1.3.3); sms.enabled turns it off everywhere.
 */
export const SMS_FIELD = 'gatehouse_sms';

type ClientMetadata = Readonly<Record<string, unknown>> | undefined;

/** Only an explicit false turns a method off for a client: absent means the deployment's setting. */
const clientAllows = (metadata: ClientMetadata, field: string) => metadata?.[field] !== false;

export function emailSignInAllowed(config: Pick<Config, 'codes'>, client?: ClientMetadata): boolean {
  return config.codes.emailSignIn && clientAllows(client, EMAIL_SIGN_IN_FIELD);
}

export function emailSecondFactorAllowed(config: Pick<Config, 'codes'>): boolean {
  return config.codes.emailSecondFactor;
}

export function smsAllowed(config: Pick<Config, 'sms'>, client?: ClientMetadata): boolean {
  return config.sms.enabled && clientAllows(client, SMS_FIELD);
}

/**
 * Whole seconds until another code may be asked for, `resendAfterSeconds` after one was sent at
 * `sentAt` (epoch ms), seen at `now` (the process's clock, which tests move): 0 once it may.
 * The pages show it and refuse an early resend with it; the shared limiter `codeResend` stays
 * the guard across browsers and replicas (docs/abuse-protection.md).
 */
export function secondsUntilResend(sentAt: number, resendAfterSeconds: number, now: number): number {
  return Math.max(0, Math.ceil((sentAt + resendAfterSeconds * 1000 - now) / 1000));
}
