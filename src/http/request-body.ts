import type { Context } from 'koa';

/** oidc-provider's own body limit (lib/shared/selective_body.js). */
const MAX_BODY_BYTES = 56 * 1024;

export type FormBody = Record<string, string | string[]>;

interface WithParsedBody {
  body?: unknown;
}

async function readRaw(ctx: Context): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) ctx.throw(413, 'request entity too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The urlencoded form of a request, read once. Left in `ctx.request.body`, where
 * oidc-provider reads an already-parsed body (lib/shared/selective_body.js), so the middleware
 * in front of it and the provider see the same parameters.
 */
export async function readFormBody(ctx: Context): Promise<FormBody | undefined> {
  const request = ctx.request as WithParsedBody;
  if (isRecord(request.body)) return request.body as FormBody;
  if (!ctx.is('application/x-www-form-urlencoded') || !ctx.req.readable) return undefined;
  const form = new URLSearchParams(await readRaw(ctx));
  const body: FormBody = Object.fromEntries(
    [...new Set(form.keys())].map((key) => {
      const values = form.getAll(key);
      return [key, values.length === 1 ? (values[0] ?? '') : values];
    }),
  );
  request.body = body;
  return body;
}

/**
 * A JSON object body, read once and left in `ctx.request.body` like readFormBody. A body
 * that is not a JSON object is left there as its text, for oidc-provider to refuse with
 * its own invalid_request.
 */
export async function readJsonObjectBody(ctx: Context): Promise<Record<string, unknown> | undefined> {
  const request = ctx.request as WithParsedBody;
  if (isRecord(request.body)) return request.body;
  if (!ctx.is('application/json') || !ctx.req.readable) return undefined;
  const text = await readRaw(ctx);
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRecord(parsed)) {
      request.body = parsed;
      return parsed;
    }
  } catch {
    // fall through: the provider answers invalid_request for a body it cannot parse
  }
  request.body = text;
  return undefined;
}
