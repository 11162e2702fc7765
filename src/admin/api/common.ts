import { z } from 'zod';
import type { KeysetPosition, Page } from '../../storage/keyset.js';
import { FieldError } from '../errors.js';

/** An opaque cursor: the keyset position of the last item of the previous page. */
export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id])).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): KeysetPosition | undefined {
  if (cursor === undefined) return undefined;
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const createdAt = new Date(String(at));
    if (typeof at !== 'string' || typeof id !== 'string' || Number.isNaN(createdAt.getTime()) || id.length > 255) throw new Error('bad cursor');
    return { createdAt, id };
  } catch {
    throw new FieldError('cursor', 'is not a cursor this API returned');
  }
}

export const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('Items per page (1–200).'),
  cursor: z.string().max(400).optional().describe('The next_cursor of the previous page.'),
});

/** `{ items, next_cursor }`: next_cursor is null on the last page. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), next_cursor: z.string().nullable() });
}

export function pageResponse<Row, View>(page: Page<Row>, view: (row: Row) => View) {
  return { items: page.items.map(view), next_cursor: page.next ? encodeCursor(page.next) : null };
}

export const idParams = z.strictObject({ id: z.string().min(1).max(255) });
export const timestamp = z.string().describe('RFC 3339 date-time');
export const iso = (date: Date | null) => (date ? date.toISOString() : null);
