import type { AuditEventRow } from '../../storage/entities/audit-event.entity.js';
import type { Storage } from '../../storage/storage.js';

/** Someone or something an event names: what people read, the full id on hover, a link where there is a page. */
interface NamedParty {
  label: string;
  /** The full id (the title attribute); absent when the label is all there is (the CLI's OS account). */
  id?: string;
  href?: string;
}

interface DetailField {
  label: string;
  value: string;
  /** Set when the value names a client: its name is shown, the id on hover. */
  party?: NamedParty;
}

/** An audit event as the console shows it: names instead of ids, details as labelled fields. */
export interface EventView {
  event: AuditEventRow;
  when: string;
  actor?: NamedParty;
  subject?: NamedParty;
  client?: NamedParty;
  details: DetailField[];
}

/** The CLI records its operator as the origin's user agent (src/cli/context.ts cliActor). */
const CLI_AGENT = /^gatehouse-cli \(.*\)$/;

/** Labels of the detail keys the code writes; any other key reads as words ("waitSeconds" → "Wait seconds"). */
const DETAIL_LABELS: Record<string, string> = {
  client: 'Client',
  fields: 'Fields changed',
  kids: 'Key ids',
  ttlSeconds: 'Lifetime (seconds)',
  aaguid: 'Authenticator model (AAGUID)',
};

const words = (key: string) => {
  const spaced = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/_/g, ' ')
    .toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
};

const text = (value: unknown): string => {
  if (value === null || value === undefined) return '—';
  if (Array.isArray(value)) return value.map(text).join(', ') || '—';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
};

const userParty = (id: string, emails: Map<string, string>): NamedParty => ({
  label: emails.get(id) ?? 'deleted user',
  id,
  href: emails.has(id) ? `/admin/users/${encodeURIComponent(id)}` : undefined,
});

/** A client by name; a deleted one by the name its event recorded, if any. */
const clientParty = (id: string, names: Map<string, string>, recorded?: unknown): NamedParty => {
  const name = names.get(id);
  if (name !== undefined) return { label: name, id, href: `/admin/clients/${encodeURIComponent(id)}` };
  return { label: typeof recorded === 'string' ? `${recorded} (deleted)` : 'deleted client', id };
};

/**
 * Names the users and clients of a page of events, with one query for each: an admin reads
 * "ada@example.com" and "Shop", not "3f2a9c1e"; the full id stays on hover and in the links.
 */
export async function describeEvents(
  events: AuditEventRow[],
  storage: Pick<Storage, 'users' | 'clients'>,
): Promise<EventView[]> {
  const userIds = events.flatMap((e) => [e.actorId, e.subjectId]).filter((id): id is string => id !== null);
  const clientIds = events
    .flatMap((e) => [e.clientId, typeof e.details.client === 'string' ? e.details.client : null])
    .filter((id): id is string => id !== null);
  const [emails, names] = await Promise.all([storage.users.emailsOf(userIds), storage.clients.namesOf(clientIds)]);
  return events.map((event) => {
    const cli =
      !event.actorId && event.userAgent && CLI_AGENT.test(event.userAgent) ? { label: event.userAgent } : undefined;
    return {
      event,
      when: event.createdAt.toISOString().replace('T', ' ').slice(0, 19),
      actor: event.actorId ? userParty(event.actorId, emails) : cli,
      subject: event.subjectId ? userParty(event.subjectId, emails) : undefined,
      client: event.clientId ? clientParty(event.clientId, names) : undefined,
      details: Object.entries(event.details).map(([key, value]) => ({
        label: DETAIL_LABELS[key] ?? words(key),
        value: text(value),
        party:
          key === 'client' && typeof value === 'string' ? clientParty(value, names, event.details.name) : undefined,
      })),
    };
  });
}
