/** PostgreSQL's unique_violation (SQLSTATE 23505): the index settled a race or a duplicate the caller could not see. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}
