import type { Context } from 'koa';
import { AppError } from '../../http/errors.js';
import { formErrorsOf, type FormErrors } from '../kit/form-errors.js';
import { formField } from '../../http/body-parser.js';

export { formField };

/** Every value of a repeated field (checkboxes, multi-selects), as strings. */
export function formList(ctx: Context, name: string): string[] {
  const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
  const value = body[name];
  const values = Array.isArray(value) ? value : [value];
  return values.filter((v): v is string => typeof v === 'string' && v !== '');
}

/** A checkbox is on when it was sent at all. */
export const formCheckbox = (ctx: Context, name: string): boolean => formField(ctx, name) !== '';

/** A textarea of one value a line (redirect URIs). */
export const formLines = (ctx: Context, name: string): string[] =>
  formField(ctx, name).split(/\r?\n/).map((line) => line.trim()).filter(Boolean);

export type { FormErrors };

/**
 * Runs a change; when the service refuses the input, shows the form again (with what the
 * admin typed and the errors) instead of an error page.
 */
export async function submitForm(work: () => Promise<void>, showAgain: (errors: FormErrors, status: number) => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    const refused = formErrorsOf(error);
    if (!refused) throw error;
    await showAgain(refused.errors, refused.status);
  }
}

/** A route parameter that must be present (the router guarantees it; the type does not). */
export function param(ctx: Context, name: string): string {
  const value = (ctx as Context & { params?: Record<string, string> }).params?.[name];
  if (!value) throw new AppError('not_found', 404, 'The page you asked for does not exist.');
  return value;
}

/**
 * Deletions cannot be undone: their forms carry a "confirm" checkbox (required in the
 * browser, checked here too, since the console works without JavaScript and HTML validation).
 */
export function requireConfirmation(ctx: Context): void {
  if (!formCheckbox(ctx, 'confirm')) {
    throw new AppError('confirmation_required', 400, 'Tick the box to confirm, then press the button again.');
  }
}
