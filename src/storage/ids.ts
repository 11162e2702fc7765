/**
 * Users, credentials and audit events are keyed by uuid. Anything else cannot name one of
 * them, and handed to PostgreSQL it would fail the uuid cast (a 500), so callers check first.
 */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (value: string): boolean => UUID.test(value);

/** Text ids (clients): anything without U+0000 (which PostgreSQL text cannot hold), 1–255 characters. */
export const isTextId = (value: string): boolean => /^[^\u0000]{1,255}$/.test(value);
