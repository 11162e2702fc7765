import { z } from 'zod';

/**
 * The shapes an urlencoded form field takes, as zod schemas for a page's form (form.ts). The
 * body parser (qs) gives a string for a field sent once, an array for one sent again and an
 * object for a bracketed name; a text field that arrives as anything but one string was not
 * sent by our page, and is refused naming the field instead of being read as ''.
 */
const ONE_VALUE = { error: 'must be sent once, as text' };
/** The value of every checkbox on our pages. */
const CHECKED = '1';

/** A text field; missing reads as '' (an empty input is not sent by every browser). */
export function text(options: { trim?: boolean } = {}) {
  const value = z.string(ONE_VALUE);
  return (options.trim ? value.trim() : value).default('');
}

/** A text field where empty means "not given": undefined. */
export const optionalText = (options: { trim?: boolean } = {}) =>
  text(options).transform((value) => value || undefined);

/**
 * A checkbox: on only when sent with its own value, `1` (every box of ours has value="1"); absent,
 * or any other text (`true; expires=never`), is unticked, so a hand-made value is never a yes.
 */
export const checkbox = () =>
  z
    .string(ONE_VALUE)
    .optional()
    .transform((value) => value === CHECKED);

/** A field that may repeat (checkboxes of one name, a multi-select): every non-empty value, in order. */
export const list = () =>
  z
    .union([z.string(), z.array(z.string())], { error: 'must be text values' })
    .optional()
    .transform((value) =>
      (value === undefined ? [] : Array.isArray(value) ? value : [value]).filter((item) => item !== ''),
    );

/** A textarea of one value a line (redirect URIs): each line trimmed, blank lines dropped. */
export const lines = () =>
  text().transform((value) =>
    value
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean),
  );

/**
 * Fields named `<name>[<key>]` (custom attributes: `attributes[team]`), which qs gives as an
 * object: key → text, each sent once; none sent reads as {}.
 */
export const keyedText = () =>
  z
    .record(z.string(), z.string(ONE_VALUE))
    .optional()
    .transform((value) => value ?? {});
