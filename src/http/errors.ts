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
}

export function assertThat(condition: unknown, error: () => AppError): asserts condition {
  if (!condition) throw error();
}
