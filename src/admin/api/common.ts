import { z } from 'zod';
import {
  decodeKeysetCursor,
  encodeKeysetCursor,
  type IdForm,
  type KeysetPosition,
  type Page,
} from '../../storage/keyset.js';
import { InvalidInputError } from '../../errors/domain-errors.js';

export const encodeCursor = encodeKeysetCursor;

/** The position a cursor names; a cursor this API did not make is a 400, not a failed query. */
export function decodeCursor(cursor: string | undefined, idForm: IdForm = 'text'): KeysetPosition | undefined {
  if (cursor === undefined) return undefined;
  const position = decodeKeysetCursor(cursor, idForm);
  if (!position) throw new InvalidInputError('cursor', 'is not a cursor this API returned');
  return position;
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
