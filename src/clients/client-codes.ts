import { EMAIL_SIGN_IN_FIELD, SMS_FIELD } from '../codes/code-policy.js';

/**
 * The per-client switches of issue 18 (src/codes/code-policy.ts reads them): only `false` is
 * stored, so a client without the field follows the deployment's setting (codes.emailSignIn,
 * sms.enabled), as does every client registered before the fields existed.
 */
export interface ClientCodesInput {
  /** false: no SMS codes in sign-ins to this client (a restricted authenticator). */
  sms?: boolean;
  /** false: no email sign-in (link or code without a password) for this client. */
  emailSignIn?: boolean;
}

/** The fields oidc-provider must accept as client metadata (src/oidc/options.ts). */
export const CODE_SWITCH_FIELDS = [SMS_FIELD, EMAIL_SIGN_IN_FIELD] as const;

export function codesMetadata(input: ClientCodesInput): Record<string, unknown> {
  return {
    ...(input.sms === false ? { [SMS_FIELD]: false } : {}),
    ...(input.emailSignIn === false ? { [EMAIL_SIGN_IN_FIELD]: false } : {}),
  };
}

export function codesInputOf(metadata: Record<string, unknown>): Required<ClientCodesInput> {
  return { sms: metadata[SMS_FIELD] !== false, emailSignIn: metadata[EMAIL_SIGN_IN_FIELD] !== false };
}

/** The provider's check of the stored or registered value: a boolean or absent. */
export function validateCodeSwitch(key: string, value: unknown): void {
  if ((CODE_SWITCH_FIELDS as readonly string[]).includes(key) && value !== undefined && typeof value !== 'boolean') {
    throw new Error(`${key} must be a boolean`);
  }
}
