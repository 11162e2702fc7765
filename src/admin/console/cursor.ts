import type { KeysetPosition } from '../../storage/keyset.js';

/**
 * A keyset position in a URL ("next page" links): `<ISO time>_<id>` (the time has no '_').
 * `id` says what the table's ids look like, because a malformed uuid would fail the
 * database's cast; client ids are any text.
 */
export function encodeCursor(position: KeysetPosition): string {
  return `${position.createdAt.toISOString()}_${position.id}`;
}

const ID_PATTERN = {
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  text: /^[^\u0000]{1,255}$/,
};

/** A malformed cursor reads as "from the start", never as an error. */
export function decodeCursor(value: unknown, id: keyof typeof ID_PATTERN): KeysetPosition | undefined {
  if (typeof value !== 'string') return undefined;
  const cut = value.indexOf('_');
  const createdAt = new Date(value.slice(0, cut));
  const rest = value.slice(cut + 1);
  if (cut < 0 || Number.isNaN(createdAt.getTime()) || !ID_PATTERN[id].test(rest)) return undefined;
  return { createdAt, id: rest };
}
