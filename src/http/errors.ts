import type { MessageParams } from '../i18n/catalogue.js';

/**
 * An error our own routes throw on purpose. `expose` says whether `message` may be shown
 * to the user; anything else is logged and shown as a generic message.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly expose = true,
  ) {
    super(message);
    this.name = 'AppError';
  }

  /** More members for a JSON error body (the offending field, the problems of a file). */
  details(): Record<string, unknown> {
    return {};
  }

  /** Response headers that go with this error (Retry-After on a 429). */
  headers(): Record<string, string> {
    return {};
  }

  /** Values for a catalogue-key message, formatted for the request's language. */
  messageParams(_locale: string): MessageParams {
    return {};
  }
}

export function assertThat(condition: unknown, error: () => AppError): asserts condition {
  if (!condition) throw error();
}

/**
 * A store the request needs cannot answer now (PostgreSQL stopped, restarting, out of
 * connections, past its statement timeout). The client may retry: 503 with Retry-After
 * (RFC 9110 §15.6.4), `temporarily_unavailable` in OAuth terms (RFC 6749 §4.1.2.1).
 */
export class ServiceUnavailableError extends AppError {
  /** Long enough for a PostgreSQL restart or failover to finish, short enough not to lose the user. */
  static readonly RETRY_AFTER_SECONDS = 5;

  constructor(override readonly cause: unknown) {
    super('temporarily_unavailable', 503, 'errors.oauth.temporarily_unavailable');
    this.name = 'ServiceUnavailableError';
  }

  override headers(): Record<string, string> {
    return { 'Retry-After': String(ServiceUnavailableError.RETRY_AFTER_SECONDS) };
  }
}
