/**
 * oidc-provider catches every error of its own endpoints and answers it itself: a thrown
 * database error becomes its 500 `server_error` (lib/shared/error_handler.js,
 * lib/shared/authorization_error_handler.js). Its documented `server_error` event hands us
 * the error with the request's context; we keep it here so that our error handler, which the
 * request passes through on its way out, can map it as it maps the errors of our own routes.
 */
const failures = new WeakMap<object, unknown>();

export function recordProviderFailure(ctx: object, error: unknown): void {
  failures.set(ctx, error);
}

/** The server error the provider answered during this request; undefined when there was none. */
export function providerFailure(ctx: object): unknown {
  return failures.get(ctx);
}
