import type { Context, Next } from 'koa';
import type { MessageParams } from '../i18n/catalogue.js';
import { parseJson } from '../typed-json.js';
import { fieldOf, findUnstorableText } from '../storage/storable-text.js';
import { AppError } from './errors.js';
import { readFormBody, readJsonObjectBody } from './request-body.js';

/**
 * A request field holding text PostgreSQL cannot store (U+0000, a lone surrogate;
 * storage/storable-text.ts): 400 naming the field, before anything reads or writes the
 * database with it. The code is OAuth's: `invalid_client_metadata` for registration metadata
 * (RFC 7591 §3.2.2), `invalid_request` for anything else (RFC 6749 §4.1.2.1, §5.2).
 */
class UnstorableInputError extends AppError {
  constructor(
    code: 'invalid_request' | 'invalid_client_metadata',
    readonly field: string,
  ) {
    super(code, 400, 'errors.unstorableText');
    this.name = 'UnstorableInputError';
  }

  override details(): Record<string, unknown> {
    return { field: this.field };
  }

  override messageParams(): MessageParams {
    return { field: this.field };
  }
}

/** Throws UnstorableInputError for the first unstorable string in `value`. */
export function assertStorable(
  value: unknown,
  where: string,
  code: 'invalid_request' | 'invalid_client_metadata' = 'invalid_request',
): void {
  const found = findUnstorableText(value);
  if (found) throw new UnstorableInputError(code, fieldOf(found, where));
}

/**
 * Every request's query parameters, for our pages and the provider's endpoints alike
 * (login_hint, state, nonce, ui_locales…). Runs before any router, and reads no path, so no
 * spelling of a path gets past it.
 */
export async function refuseUnstorableQuery(ctx: Context, next: Next): Promise<void> {
  if (ctx.querystring) assertStorable(ctx.query, 'query');
  await next();
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The body of every request that reaches oidc-provider (token, introspection, revocation,
 * PAR, /auth and end_session form posts, registration JSON), parsed once by request-body.ts
 * and left where the provider reads it. Reads no path: whatever spelling the provider's router
 * accepts, this has seen the body first. The only JSON bodies the provider reads are
 * registration metadata (RFC 7591 POST, RFC 7592 PUT), hence invalid_client_metadata.
 * Our own routes' bodies are checked by their parser (http/body-parser.ts).
 */
export async function refuseUnstorableProviderInput(ctx: Context, next: Next): Promise<void> {
  if (BODY_METHODS.has(ctx.method)) {
    if (ctx.is('application/json')) {
      const body = await readJsonObjectBody(ctx);
      assertStorable(body ?? jsonText((ctx.request as { body?: unknown }).body), 'body', 'invalid_client_metadata');
    } else if (ctx.is('application/x-www-form-urlencoded')) {
      assertStorable(await readFormBody(ctx), 'body');
    }
  }
  await next();
}

/** A JSON body that is not an object (left as its text by readJsonObjectBody), parsed to be checked. */
function jsonText(body: unknown): unknown {
  if (typeof body !== 'string') return undefined;
  try {
    return parseJson(body);
  } catch {
    return undefined;
  }
}
