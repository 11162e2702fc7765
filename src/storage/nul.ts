/**
 * PostgreSQL text and jsonb cannot hold U+0000 (errors 22021, 22P05): input that would be
 * stored is checked for it first, so it is refused as bad input rather than failing as a 500.
 * Returns the path of the first string holding it, or undefined.
 */
export function pathOfNul(value: unknown, path: Array<string | number> = []): Array<string | number> | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  const entries: Array<[string | number, unknown]> = Array.isArray(value) ? [...value.entries()] : value && typeof value === 'object' ? Object.entries(value) : [];
  for (const [key, item] of entries) {
    const found = pathOfNul(item, [...path, key]);
    if (found) return found;
  }
  return undefined;
}
