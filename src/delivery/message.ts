/**
 * What the delivery layer sends: a code or sign-in link to one person. The domain's port
 * (codes/code-sender.ts) has the same shape; services.ts joins the two, and the compiler checks
 * they still fit (infrastructure does not import the domain).
 */
export interface CodeMessage {
  channel: 'email' | 'sms';
  kind: 'sign_in_code' | 'sign_in_link' | 'second_factor' | 'phone_verification';
  /** An email address, or a phone number in E.164. */
  to: string;
  code?: string;
  /** A sign-in link's token: the link is `<issuer>/email/sign-in?token=…`. */
  linkToken?: string;
  validMinutes: number;
  locale: string;
  userId: string | null;
}

/** A message ready for a transport: its text written in the recipient's language, its link built. */
export interface OutgoingMessage extends CodeMessage {
  /** The SMS text (one segment), or the plain-text summary of a mail. */
  text: string;
  link?: string;
}

/**
 * One way out for codes (issue 18): mail, the SMS outbox, a signed webhook, a Twilio-compatible
 * API. `send` resolves once the message is accepted and rejects with a DeliveryError otherwise;
 * an error's message never holds the code, the text or a secret.
 */
export interface Transport {
  readonly name: 'mail' | 'outbox' | 'webhook' | 'twilio' | 'none';
  send(message: OutgoingMessage): Promise<void>;
}

/** A delivery that did not go through: what the log and the audit event say (no code, no secret). */
export class DeliveryError extends Error {
  constructor(
    message: string,
    /** The gateway's HTTP status, when it answered. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** Where a sign-in link leads: the page that opens it (the pages' step of issue 18 serves it). */
export const SIGN_IN_LINK_PATH = '/email/sign-in';
