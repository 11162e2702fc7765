import type { AuditQuery } from '../../storage/audit.repository.js';
import type { UsersRepository } from '../../storage/users.repository.js';
import { decodeCursor } from './pages.js';
import { isUuid } from '../../storage/ids.js';
import type { FormErrors } from './forms.js';

/** The audit page's filter form, as typed (it is shown again as it was). */
export interface AuditFilterForm {
  actor: string;
  subject: string;
  action: string;
  client: string;
  from: string;
  to: string;
}

const ACTION = /^[a-z0-9_.]{1,64}$/;
/** What <input type="datetime-local"> sends (or a plain date); the console reads it as UTC. */
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$/;

const text = (value: unknown) => (typeof value === 'string' ? value.trim().slice(0, 320) : '');

export function auditFilterForm(query: Record<string, unknown>): AuditFilterForm {
  return {
    actor: text(query.actor),
    subject: text(query.subject),
    action: text(query.action),
    client: text(query.client),
    from: text(query.from),
    to: text(query.to),
  };
}

function utcTime(value: string): Date | undefined {
  if (!LOCAL_TIME.test(value)) return undefined;
  const time = new Date(value.includes('T') ? `${value}Z` : `${value}T00:00:00Z`);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

/**
 * The form as a query for the audit service, or the errors that stop it. Actor and subject
 * are a user id or an email address (looked up here: admins know people by email; a deleted
 * user's events are found by id).
 */
export async function auditQueryOf(
  form: AuditFilterForm,
  before: unknown,
  limit: number,
  users: Pick<UsersRepository, 'findByEmail'>,
): Promise<{ query: AuditQuery; errors: FormErrors }> {
  const errors: FormErrors = {};
  const query: AuditQuery = { limit, before: decodeCursor(before, 'uuid') };
  for (const [key, column] of [
    ['actor', 'actorId'],
    ['subject', 'subjectId'],
  ] as const) {
    if (!form[key]) continue;
    const id = isUuid(form[key]) ? form[key] : (await users.findByEmail(form[key]))?.id;
    if (id) query[column] = id;
    else errors[key] = 'no user has this id or email address';
  }
  if (form.action) {
    if (ACTION.test(form.action)) query.action = form.action;
    else errors.action = 'an action name ("user.created") or a prefix ending in a dot ("user.")';
  }
  if (form.client) query.clientId = form.client;
  for (const key of ['from', 'to'] as const) {
    if (!form[key]) continue;
    const time = utcTime(form[key]);
    if (time) query[key] = time;
    else errors[key] = 'a date and time, as YYYY-MM-DD HH:MM (UTC)';
  }
  if (query.from && query.to && query.from > query.to) errors.to = 'must be after the start of the range';
  return { query, errors };
}
