import type { Context } from 'koa';
import { z } from 'zod';
import type { AdminScope } from '../../clients/client-metadata.js';
import type { AdminActor } from '../../security/admin-actor.js';
import { InvalidInputError } from '../../errors/domain-errors.js';
import { fieldOf, findUnstorableText } from '../../storage/storable-text.js';

type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';

const none = z.object({});
type NoInput = typeof none;
/** Where a route takes no body, a body with fields is a mistake worth telling (unknown field). */
const noBody = z.strictObject({});

/**
 * One admin API operation: its input and output schemas validate requests and document the
 * API (openapi.ts builds /admin/api/v1/openapi.json from these same objects).
 */
export interface AdminRoute<
  P extends z.ZodType = NoInput,
  Q extends z.ZodType = NoInput,
  B extends z.ZodType = NoInput,
  R extends z.ZodType = z.ZodType,
> {
  method: Method;
  /** Koa-style path under /admin/api/v1, e.g. /clients/:id. */
  path: string;
  summary: string;
  tag: string;
  scope: AdminScope;
  params?: P;
  query?: Q;
  body?: B;
  /** The request body is a JSON Lines file (text), not a JSON document. */
  textBody?: boolean;
  status: number;
  response?: R;
  /** The operation can answer 409 (a duplicate email or role name). */
  conflicts?: boolean;
  handler(input: {
    params: z.output<P>;
    query: z.output<Q>;
    body: z.output<B>;
    actor: AdminActor;
    ctx: Context;
  }): Promise<z.input<R> | undefined>;
}

/** Keeps each route's types precise while the router holds them in one list. */
export function defineRoute<
  P extends z.ZodType = NoInput,
  Q extends z.ZodType = NoInput,
  B extends z.ZodType = NoInput,
  R extends z.ZodType = z.ZodType,
>(route: AdminRoute<P, Q, B, R>): AnyAdminRoute {
  return route as unknown as AnyAdminRoute;
}

export type AnyAdminRoute = AdminRoute<z.ZodType, z.ZodType, z.ZodType, z.ZodType>;

/** Parses one part of the request; the first problem becomes a 400 naming its field. */
export function parseInput<S extends z.ZodType>(schema: S | undefined, value: unknown, where: string): z.output<S> {
  const result = (schema ?? (where === 'body' ? noBody : none)).safeParse(value ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    const field =
      issue?.code === 'unrecognized_keys'
        ? issue.keys.join(', ')
        : issue && issue.path.length > 0
          ? issue.path.join('.')
          : where;
    throw new InvalidInputError(
      field,
      issue?.code === 'unrecognized_keys' ? 'unknown field' : (issue?.message ?? 'is not valid'),
    );
  }
  const unstorable = findUnstorableText(result.data);
  if (unstorable) throw new InvalidInputError(fieldOf(unstorable, where), unstorable.problem);
  return result.data as z.output<S>;
}
