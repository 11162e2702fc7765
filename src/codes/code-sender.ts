import type { CodeChannel } from '../storage/one-time-codes.repository.js';

/**
 * What a message with a code says it is for: each has its own text (views/locales/<lang>/codes.json).
 * `link_handoff` is not sent: it is the code a sign-in link shows in a browser other than the one
 * that asked.
 */
export type MessageKind = 'sign_in_code' | 'sign_in_link' | 'second_factor' | 'phone_verification';

/** A code (or a sign-in link) to send to one person. */
interface CodeMessage {
  channel: CodeChannel;
  kind: MessageKind;
  /** An email address, or a phone number in E.164. */
  to: string;
  /** The code to type; for a link, the code a foreign browser would have shown is not here. */
  code?: string;
  /** A sign-in link's token; the sender turns it into the link. */
  linkToken?: string;
  /** Minutes the code or link is valid, for the text. */
  validMinutes: number;
  /** The recipient's language (the request's, since they asked). */
  locale: string;
  /** The account, when there is one (the audit event of a failed delivery names it). */
  userId: string | null;
}

/**
 * The domain's port for outgoing codes; src/delivery/ implements it. `deliver` returns at once:
 * a send runs in the background, so an answer's timing never says whether a message went out,
 * and a failed delivery is the sender's to log, count and audit, never the caller's to show.
 */
export interface CodeSender {
  deliver(message: CodeMessage): void;
}
