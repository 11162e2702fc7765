import type { Context, Next } from 'koa';
import { errors as oidcErrors } from 'oidc-provider';
import type { Logger } from 'pino';
import { AppError, ServiceUnavailableError } from './errors.js';
import { providerFailure } from './provider-failure.js';
import { httpErrorOf } from './domain-error-response.js';
import { DomainError } from '../errors/domain-errors.js';
import { requestIdOf } from './request-id.js';
import { isDatabaseUnavailable } from '../storage/unavailable.js';
import type { ViewRenderer } from './views.js';
import type { Translator } from '../i18n/translator.js';
import { errorTitle, explainProtocolError } from './error-page.js';

interface HttpishError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
}

/**
 * The admin API, the provider's endpoints for programs (token, introspection, …: RFC 6749
 * §5.2 errors are JSON, whatever Accept says), a client that asks for JSON, or a JSON
 * request (our WebAuthn script) gets a JSON error.
 */
function wantsJson(ctx: Context, programPaths: readonly string[]): boolean {
  return (
    ctx.path.startsWith('/admin/api') ||
    programPaths.some((path) => ctx.path === path || ctx.path.startsWith(`${path}/`)) ||
    ctx.accepts(['html', 'json']) === 'json' ||
    Boolean(ctx.is('application/json'))
  );
}

/**
 * The one mapper from thrown errors to responses, for our routes and, for an unavailable
 * database, the provider's endpoints too. Known errors keep their status and safe message;
 * a database that cannot answer is a 503 with Retry-After; anything else is logged and
 * becomes a plain 500 page or `server_error`. No stack trace ever reaches the client.
 */
export function errorHandler(views: ViewRenderer, log: Logger, english: Translator, programPaths: readonly string[]) {
  return async function errorHandlerMiddleware(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      // The provider answered its own 500 for this; ours is the 503 it should be.
      const failure = providerFailure(ctx);
      if (isDatabaseUnavailable(failure)) {
        // An authorization error may have been on its way to the client as a redirect.
        ctx.remove('Location');
        throw failure;
      }
      if (failure !== undefined)
        log.error({ err: failure, path: ctx.path, requestId: requestIdOf(ctx) }, 'oidc-provider server error');
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new AppError('not_found', 404, 'errors.notFound');
      }
      // The router's allowedMethods answers 405, and 501 for a method it does not know
      // (PROPFIND, TRACE…), with no body. Both are the client's mistake: our 405 page, with
      // the Allow header the router set (RFC 9110 §15.5.6).
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body == null) {
        throw new AppError('method_not_allowed', 405, 'errors.methodNotAllowed');
      }
    } catch (thrown) {
      const caught = isDatabaseUnavailable(thrown)
        ? new ServiceUnavailableError(thrown)
        : thrown instanceof DomainError
          ? httpErrorOf(thrown)
          : thrown;
      const error = caught as HttpishError & Error;
      // Messages of our own errors are catalogue keys (or, from the admin API, plain English).
      const i18n = (ctx.state as { i18n?: Translator }).i18n ?? english;
      let status = 500;
      let code = 'server_error';
      let message = i18n.t('errors.server');
      let detail: string | undefined;
      let details: Record<string, unknown> = {};
      if (error instanceof AppError) {
        status = error.status;
        code = error.code;
        ctx.set(error.headers());
        if (error.expose) {
          // A catalogue key is translated here; any other message is shown as it is.
          message = i18n.message(error.message, error.messageParams(i18n.locale));
          details = error.details();
        }
      } else if (error instanceof oidcErrors.SessionNotFound) {
        status = 400;
        code = 'session_not_found';
        message = i18n.t('errors.sessionNotFound');
      } else if (error instanceof oidcErrors.OIDCProviderError) {
        status = error.status;
        code = error.error;
        ({ message, detail } = explainProtocolError(i18n, code, error.error_description));
      } else {
        const httpStatus = error.status ?? error.statusCode;
        if (httpStatus && httpStatus >= 400 && httpStatus < 500) {
          status = httpStatus;
          code = 'invalid_request';
          // koa's own client errors (a malformed body, a body too large) are English: the page
          // shows its status in the user's language, with their text as the detail.
          message = errorTitle(i18n, status);
          if (error.expose && error.message) detail = error.message;
        }
      }
      if (error instanceof ServiceUnavailableError) {
        // Expected while the database is away, and once per request: a warning, not an error.
        log.warn({ err: error.cause, path: ctx.path, requestId: requestIdOf(ctx) }, 'database unavailable');
      } else if (status >= 500) {
        log.error({ err: error, path: ctx.path, requestId: requestIdOf(ctx) }, 'request failed');
      }
      ctx.status = status;
      ctx.set('Cache-Control', 'no-store');
      if (wantsJson(ctx, programPaths)) {
        // A client of the protocol reads the library's own description; our script shows ours.
        ctx.body = { error: code, error_description: detail ?? message, ...details };
      } else {
        ctx.type = 'html';
        ctx.body = await views.render('error', { title: errorTitle(i18n, status), code, message, detail, i18n });
      }
    }
  };
}
