/**
 * Text PostgreSQL cannot store, found before it is stored:
 * - U+0000: text and jsonb cannot hold it (errors 22021, 22P05);
 * - a lone UTF-16 surrogate (from a JSON "\ud800" escape): not a Unicode scalar value, so it has
 *   no UTF-8 form (RFC 3629 §3). jsonb refuses the escape (22P05) and the driver would turn it
 *   into U+FFFD in a text column, storing something other than what was sent.
 * Such input is refused as bad input (a 400 naming the field), never a 500 or a silent change.
 */
type UnstorableProblem = 'must not contain U+0000' | 'must not contain a lone surrogate (invalid Unicode)';

export interface UnstorableText {
  /** Where the text is: object keys and array indexes from the top, [] for the value itself. */
  path: Array<string | number>;
  problem: UnstorableProblem;
}

// Without the u flag a regex sees UTF-16 code units, so an unpaired half is visible to it.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/**
 * Any character that could be a problem: one scan with a plain class, so that the usual text
 * (every query, body and stored payload string passes here) skips the lookaround patterns.
 */
const SUSPECT = /[\u0000\ud800-\udfff]/;

/**
 * `text` with what PostgreSQL cannot store replaced by U+FFFD: for values that reach storage
 * without passing an input check (oidc-provider's own payloads), which must not fail a request.
 */
export function storableForm(text: string): string {
  return SUSPECT.test(text) ? text.replace(UNSTORABLE, '\ufffd') : text;
}

function problemOf(text: string): UnstorableProblem | undefined {
  if (!SUSPECT.test(text)) return undefined;
  if (text.includes('\u0000')) return 'must not contain U+0000';
  if (LONE_SURROGATE.test(text)) return 'must not contain a lone surrogate (invalid Unicode)';
  return undefined;
}

/** The first string (or object key) in `value` PostgreSQL cannot store, or undefined. */
export function findUnstorableText(value: unknown, path: Array<string | number> = []): UnstorableText | undefined {
  if (typeof value === 'string') {
    const problem = problemOf(value);
    return problem ? { path, problem } : undefined;
  }
  const entries: Array<[string | number, unknown]> = Array.isArray(value)
    ? [...value.entries()]
    : value && typeof value === 'object'
      ? Object.entries(value)
      : [];
  for (const [key, item] of entries) {
    // A key is stored too (jsonb metadata), and cannot be named by a path it breaks.
    const keyProblem = typeof key === 'string' ? problemOf(key) : undefined;
    if (keyProblem) return { path, problem: keyProblem };
    const found = findUnstorableText(item, [...path, key]);
    if (found) return found;
  }
  return undefined;
}

/** The path as one field name (`jwks.keys.0.kty`), or `fallback` for the value itself. */
export function fieldOf(found: UnstorableText, fallback: string): string {
  return found.path.length > 0 ? found.path.join('.') : fallback;
}
