import { InvalidInputError } from '../errors/domain-errors.js';
import type { AttributeDefinitionRow, AttributeEditor, AttributeType } from '../storage/attributes.repository.js';
import type { StoredAttributes } from '../storage/entities/user.entity.js';

/**
 * The rules of custom user attributes (issue 19): what an admin may define, and how a value of
 * each type is read from JSON (the admin API) or from a form field (the console, /account).
 * Messages are English without the field in front; the field is the attribute's name.
 */

export const ATTRIBUTE_TYPES = ['string', 'number', 'boolean', 'date'] as const satisfies readonly AttributeType[];
export const ATTRIBUTE_EDITORS = ['admin', 'user'] as const satisfies readonly AttributeEditor[];

/**
 * The scopes an attribute may be released under: the OpenID scopes that carry claims about the
 * user. oidc-provider knows its scopes when it is built, and each needs consent texts in every
 * language, so admins map attributes to these rather than define scopes (docs/decisions.md,
 * "Custom attributes"). Not `openid` (every client would get it) nor `offline_access`/`roles`.
 */
export const ATTRIBUTE_SCOPES = ['profile', 'email', 'address', 'phone'] as const;

/**
 * Claim names an attribute may not take: the registered JWT and OIDC claims, the standard
 * profile claims (OIDC Core §5.1) and those Gatehouse puts in tokens itself.
 */
const RESERVED = new Set([
  // RFC 7519 §4.1, OIDC Core §2 and §5.1, RFC 9068, RFC 8693, RFC 9449.
  ...['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'auth_time', 'nonce', 'acr', 'amr', 'azp', 'sid'],
  ...['at_hash', 'c_hash', 's_hash', 'client_id', 'scope', 'cnf', 'act', 'may_act', 'events', 'typ'],
  ...['name', 'given_name', 'family_name', 'middle_name', 'nickname', 'preferred_username', 'profile'],
  ...['picture', 'website', 'email', 'email_verified', 'gender', 'birthdate', 'zoneinfo', 'locale'],
  ...['phone_number', 'phone_number_verified', 'address', 'updated_at', '_claim_names', '_claim_sources'],
  // Gatehouse's own.
  ...['roles', 'permissions', 'groups'],
]);
const NAME = /^[a-z][a-z0-9_]{0,63}$/;

export function checkAttributeName(name: string): string {
  if (!NAME.test(name))
    throw new InvalidInputError('name', 'must be 1 to 64 lower-case letters, digits or _, starting with a letter');
  if (RESERVED.has(name)) throw new InvalidInputError('name', `"${name}" is a standard or reserved claim`);
  return name;
}

export function checkAttributeLabel(label: string): string {
  const value = label.trim();
  if (value.length === 0 || value.length > 200 || /[\u0000-\u001f\u007f]/.test(value))
    throw new InvalidInputError('label', 'must be 1 to 200 characters on one line');
  return value;
}

export function checkAttributeScope(scope: string): string {
  if (!(ATTRIBUTE_SCOPES as readonly string[]).includes(scope))
    throw new InvalidInputError('scope', `must be one of ${ATTRIBUTE_SCOPES.join(', ')}`);
  return scope;
}

const oneOf = <T extends string>(field: string, allowed: readonly T[], value: string): T => {
  if (!(allowed as readonly string[]).includes(value))
    throw new InvalidInputError(field, `must be one of ${allowed.join(', ')}`);
  return value as T;
};
export const checkAttributeType = (type: string) => oneOf('type', ATTRIBUTE_TYPES, type);
export const checkAttributeEditor = (editor: string) => oneOf('editable_by', ATTRIBUTE_EDITORS, editor);

type AttributeValue = string | number | boolean;
type Definition = Pick<AttributeDefinitionRow, 'name' | 'type' | 'required'>;

const MAX_TEXT = 1000;

/** Why a value is refused: the English message, and the catalogue key the pages in the user's language show. */
const VALUE_RULES = {
  string: ['must be a string', 'attributes.errors.invalid'],
  text: [`must be at most ${MAX_TEXT} characters on one line, without control characters`, 'attributes.errors.text'],
  number: ['must be a number', 'attributes.errors.number'],
  boolean: ['must be true or false', 'attributes.errors.boolean'],
  date: ['must be a date YYYY-MM-DD', 'attributes.errors.date'],
  required: ['is required', 'attributes.errors.required'],
  adminOnly: ['only an administrator can change this attribute', 'attributes.errors.adminOnly'],
  unknown: ['is not a defined attribute', 'attributes.errors.invalid'],
  form: ['must be sent once, as text', 'attributes.errors.invalid'],
} as const;

const refuse = (name: string, rule: keyof typeof VALUE_RULES): InvalidInputError => {
  const [message, key] = VALUE_RULES[rule];
  return new InvalidInputError(name, message, { key, params: {} });
};

function checkString(name: string, value: string): string {
  const text = value.trim();
  if (text.length > MAX_TEXT || /[\u0000-\u001f\u007f]/.test(text)) throw refuse(name, 'text');
  return text;
}

/** A calendar date YYYY-MM-DD (RFC 3339 full-date), released as that string. */
function checkDate(name: string, value: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  const [y, m, d] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [0, 0, 0];
  const date = new Date(Date.UTC(y, m - 1, d));
  if (!match || y < 1 || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d)
    throw refuse(name, 'date');
  return value.trim();
}

/** A value as JSON gives it (the admin API): the JSON type must be the attribute's; null clears. */
function fromJson(def: Definition, value: unknown): AttributeValue | null {
  if (value === null) return null;
  switch (def.type) {
    case 'string':
      if (typeof value !== 'string') throw refuse(def.name, 'string');
      return checkString(def.name, value) || null;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw refuse(def.name, 'number');
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw refuse(def.name, 'boolean');
      return value;
    case 'date':
      if (typeof value !== 'string') throw refuse(def.name, 'date');
      return checkDate(def.name, value);
  }
}

/** A value as a form field gives it (text; booleans as `true`/`false` from a select): '' clears. */
function fromForm(def: Definition, value: unknown): AttributeValue | null {
  if (typeof value !== 'string') throw refuse(def.name, 'form');
  const text = value.trim();
  if (text === '') return null;
  switch (def.type) {
    case 'string':
      return checkString(def.name, text);
    case 'number':
      if (!/^-?\d+(\.\d+)?$/.test(text) || !Number.isFinite(Number(text))) throw refuse(def.name, 'number');
      return Number(text);
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw refuse(def.name, 'boolean');
      return text === 'true';
    case 'date':
      return checkDate(def.name, text);
  }
}

export type AttributeInput = 'json' | 'form';

/**
 * The values after a change: each given one is read by its attribute's type (null or '' clears
 * it, which a required attribute refuses). Names that are not defined are refused; `mayEdit`
 * says whether the editor may change an attribute (the user only those editable by users).
 */
export function applyAttributeChanges(
  definitions: readonly AttributeDefinitionRow[],
  current: StoredAttributes,
  changes: Record<string, unknown>,
  input: AttributeInput,
  mayEdit: (def: AttributeDefinitionRow) => boolean,
): StoredAttributes {
  const byName = new Map(definitions.map((d) => [d.name, d]));
  const next: StoredAttributes = { ...attributesOf(definitions, current) };
  for (const [name, raw] of Object.entries(changes)) {
    const def = byName.get(name);
    if (!def) throw refuse(name, 'unknown');
    if (!mayEdit(def)) throw refuse(name, 'adminOnly');
    const value = input === 'json' ? fromJson(def, raw) : fromForm(def, raw);
    if (value === null) {
      if (def.required) throw refuse(name, 'required');
      delete next[name];
    } else next[name] = value;
  }
  return next;
}

/** The stored values of the attributes defined now (a deleted attribute's leftovers never show). */
export function attributesOf(definitions: readonly Pick<AttributeDefinitionRow, 'name' | 'type'>[], stored: unknown) {
  const source = typeof stored === 'object' && stored !== null ? (stored as Record<string, unknown>) : {};
  const values: StoredAttributes = {};
  for (const def of definitions) {
    const value = source[def.name];
    const expected = def.type === 'date' ? 'string' : def.type;
    if (typeof value === expected) values[def.name] = value as AttributeValue;
  }
  return values;
}
