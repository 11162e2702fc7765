import { ConflictError, isFieldRefusal } from '../../errors/domain-errors.js';
import type { Translator } from '../../i18n/translator.js';

/**
 * The pages' one mapping of domain errors: a refusal of one field becomes a message beside
 * that field. Anything else (not found, a server fault) is not the form's to show: callers
 * re-throw it, and the error handler answers with its page (http/domain-error-response.ts).
 */

/** Field name → message, shown next to that field and in the summary at the top of the form. */
export type FormErrors = Record<string, string>;

/** The console's reading, in English: the field's message, and 409 for a conflict, 400 otherwise. */
export function formErrorsOf(error: unknown): { errors: FormErrors; status: number } | undefined {
  if (!isFieldRefusal(error)) return undefined;
  return { errors: { [error.field]: error.message }, status: error instanceof ConflictError ? 409 : 400 };
}

/**
 * The reading of pages in the user's language: the refused field and one catalogue message
 * for it. The domain's own catalogue message when it gave one (the password policy's rules);
 * otherwise the page's key for `field:rule` (a policy's rule, `email:email_domain`), then for
 * `field`, then `fallback`: a page says no more than its keys do (sign-up never tells whether
 * an address has an account).
 */
export function localizedFormError(
  error: unknown,
  i18n: Translator,
  keys: Record<string, string>,
  fallback: string,
): { field: string; message: string } | undefined {
  if (!isFieldRefusal(error)) return undefined;
  if ('catalogue' in error && error.catalogue)
    return { field: error.field, message: i18n.t(error.catalogue.key, error.catalogue.params) };
  const rule = 'rule' in error ? keys[`${error.field}:${error.rule}`] : undefined;
  return { field: error.field, message: i18n.t(rule ?? keys[error.field] ?? fallback) };
}
