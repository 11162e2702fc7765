import type { z } from 'zod';

/** JSON.parse as what it really returns: a value of unknown shape (its own type says `any`). */
export const parseJson: (text: string) => unknown = JSON.parse;

/**
 * JSON text read back as a value of a known shape: undefined when it is not JSON or does not
 * fit the schema. For values we wrote ourselves (signed cookies, stored challenges) that an
 * older release may have written in another shape.
 */
export function parseJsonAs<T>(text: string, schema: z.ZodType<T>): T | undefined {
  let value: unknown;
  try {
    value = parseJson(text);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
