import type { Context } from 'koa';
import { z } from 'zod';
import { AppError } from '../../http/errors.js';
import { checkbox } from '../kit/form-fields.js';
import { formErrorsOf, type FormErrors } from '../kit/form-errors.js';

export type { FormErrors };

/**
 * Runs a change; when the service refuses the input, shows the form again (with what the
 * admin typed and the errors) instead of an error page.
 */
export async function submitForm(
  work: () => Promise<void>,
  showAgain: (errors: FormErrors, status: number) => Promise<void>,
): Promise<void> {
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
export const confirmForm = z.object({ confirm: checkbox() });

/** Refuses a deletion whose "confirm" box (confirmForm) was not ticked. */
export function requireConfirmation(confirmed: boolean): void {
  if (!confirmed) {
    throw new AppError('confirmation_required', 400, 'Tick the box to confirm, then press the button again.');
  }
}
