import type { Context, Next } from 'koa';
import { errors as oidcErrors } from 'oidc-provider';
import type { Logger } from 'pino';
import { AppError } from './errors.js';
import type { ViewRenderer } from './views.js';
import type { Translator } from '../i18n/translator.js';

interface HttpishError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  403: 'Not allowed',
  404: 'Page not found',
  405: 'Method not allowed',
  413: 'Request too large',
  429: 'Too many attempts',
};

/** The admin API, a client that asks for JSON, or a JSON request (our WebAuthn script) gets a JSON error. */
function wantsJson(ctx: Context): boolean {
  return ctx.path.startsWith('/admin/api') || ctx.accepts(['html', 'json']) === 'json' || Boolean(ctx.is('application/json'));
}

/**
 * The one mapper from thrown errors to responses for our routes. Known errors keep their
 * status and safe message; anything else is logged and becomes a plain 500 page or
 * `server_error`. No stack trace ever reaches the client.
 */
export function errorHandler(views: ViewRenderer, log: Logger) {
  return async function errorHandlerMiddleware(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new AppError('not_found', 404, 'The page you asked for does not exist.');
      }
      // The router's allowedMethods answers 405, and 501 for a method it does not know
      // (PROPFIND, TRACE…), with no body. Both are the client's mistake: our 405 page, with
      // the Allow header the router set (RFC 9110 §15.5.6).
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body == null) {
        throw new AppError('method_not_allowed', 405, 'This address does not accept that request method.');
      }
    } catch (caught) {
      const error = caught as HttpishError & Error;
      let status = 500;
      let code = 'server_error';
      let message = 'Something went wrong on our side. Please try again.';
      let details: Record<string, unknown> = {};
      const i18n = (ctx.state as { i18n?: Translator }).i18n;
      if (error instanceof AppError) {
        status = error.status;
        code = error.code;
        ctx.set(error.headers());
        if (error.expose) {
          // A catalogue key is translated here; any other message is shown as it is.
          message = i18n ? i18n.message(error.message, error.messageParams(i18n.locale)) : error.message;
          details = error.details();
        }
      } else if (error instanceof oidcErrors.SessionNotFound) {
        status = 400;
        code = 'session_not_found';
        message = 'This sign-in request has expired or was already completed. Go back to the application and start again.';
      } else if (error instanceof oidcErrors.OIDCProviderError) {
        status = error.status;
        code = error.error;
        message = error.error_description ?? message;
      } else {
        const httpStatus = error.status ?? error.statusCode;
        if (httpStatus && httpStatus >= 400 && httpStatus < 500) {
          status = httpStatus;
          code = 'invalid_request';
          message = error.expose && error.message ? error.message : (TITLES[status] ?? 'Bad request');
        }
      }
      if (status >= 500) log.error({ err: error, path: ctx.path, requestId: ctx.state.requestId }, 'request failed');
      ctx.status = status;
      ctx.set('Cache-Control', 'no-store');
      if (wantsJson(ctx)) {
        ctx.body = { error: code, error_description: message, ...details };
      } else {
        ctx.type = 'html';
        ctx.body = await views.render('error', { title: TITLES[status] ?? 'Error', code, message, i18n });
      }
    }
  };
}
