import type { UserChanges } from '../../admin/users.service.js';
import type { WithConsoleContext } from './context.js';
import type { FormErrors } from './forms.js';
import type { ConsoleRouteTools } from './pages.js';
import { describeEvents } from './audit-view.js';

export const userPath = (id: string): string => `/admin/users/${encodeURIComponent(id)}`;

/** The user's page with one of its forms refused: that form keeps what the admin typed. */
export interface UserPageState {
  errors?: FormErrors;
  profile?: Required<UserChanges>;
  /** The custom attribute values as the admin typed them (a refused attributes form). */
  attributes?: Record<string, string>;
  status?: number;
}

/** Everything about one user on one page: profile, status, password, factors, roles, sessions, grants, linked identities, recent events. */
export function createUserPage({ deps, show }: Pick<ConsoleRouteTools, 'deps' | 'show'>) {
  const { users, roles, sessions, audit, identities, attributes } = deps.admin;
  return async function showUser(ctx: WithConsoleContext, id: string, state: UserPageState = {}): Promise<void> {
    const detail = await users.get(id);
    const [allRoles, userSessions, grants, events, linkedIdentities, custom] = await Promise.all([
      roles.list(),
      sessions.sessions(id),
      sessions.grants(id),
      audit.query({ subjectId: id, limit: 10 }),
      identities.list(id),
      attributes.of(id),
    ]);
    const { user } = detail;
    await show(
      ctx,
      'user',
      {
        title: user.name ? `${user.name} (${user.email})` : user.email,
        detail,
        profile: state.profile ?? { name: user.name, email: user.email, emailVerified: user.emailVerified },
        assignable: allRoles.filter((r) => !detail.roles.includes(r.name)),
        sessions: userSessions,
        grants,
        linkedIdentities,
        // Every custom attribute, editable here whoever may edit it on /account.
        attributes: custom.definitions.map((d) => ({
          name: d.name,
          label: d.label,
          type: d.type,
          required: d.required,
          editableBy: d.editableBy,
          scope: d.scope,
          value: state.attributes?.[d.name] ?? String(custom.values[d.name] ?? ''),
        })),
        events: await describeEvents(events, deps.storage),
        errors: state.errors ?? {},
      },
      state.status,
    );
  };
}
