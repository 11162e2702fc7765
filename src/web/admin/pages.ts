import type { Middleware } from 'koa';
import { decodeKeysetCursor, encodeKeysetCursor, type IdForm, type KeysetPosition } from '../../storage/keyset.js';
import type { ViewLocals } from '../../http/views.js';
import type { FormGuard } from '../kit/form.js';
import type { ConsoleDeps, WithConsoleContext } from './context.js';
import { underBase } from '../../http/base-path.js';

/** What a finished change says on the page it redirects to (`?done=<key>`). */
const NOTICES: Record<string, string> = {
  'client-created':
    'The client was registered. It has no secret: it is a public client, or authenticates with its own keys.',
  'client-saved': 'The client was saved.',
  'try-callback-added': "Gatehouse's test callback is now one of this client's redirect URIs: Try sign-in is ready.",
  'try-callback-removed': "Gatehouse's test callback is no longer one of this client's redirect URIs.",
  'client-deleted': 'The client was deleted, with every grant and token it held.',
  'client-approved': 'The client was approved; it can now obtain tokens.',
  'client-rejected': 'The registration was rejected and the client deleted.',
  'user-created': 'The user was created.',
  'user-saved': 'The user was saved.',
  'attributes-saved': "The user's attributes were saved.",
  'user-disabled': 'The user was disabled and signed out everywhere.',
  'user-enabled': 'The user was enabled.',
  'user-deleted': 'The user was deleted.',
  'password-set': 'The password was set.',
  'lockout-cleared': 'Sign-in was unlocked: failed attempts are forgotten and every wait has ended.',
  'code-factor-removed': 'The code factor was removed.',
  'factors-reset': 'The second factors were removed; the user will be asked to set one up again where one is required.',
  'role-assigned': 'The role was assigned.',
  'role-unassigned': 'The role was removed from the user.',
  'session-ended': 'The session was ended.',
  'sessions-ended': 'The user was signed out everywhere.',
  'grant-revoked': 'The grant was revoked, with its tokens.',
  'role-created': 'The role was created.',
  'role-saved': 'The role was saved.',
  'role-deleted': 'The role was deleted.',
  'resource-created': 'The API resource was created. Add its permissions, then grant them to roles or clients.',
  'resource-saved': 'The API resource was saved.',
  'resource-deleted': 'The API resource was deleted, with its permissions and every grant of them.',
  'permission-added': 'The permission was added.',
  'permission-removed': 'The permission was removed, with every grant of it.',
  'permission-granted': 'The permission was granted; the next token shows it.',
  'permission-revoked': 'The permission was revoked; the next token no longer carries it.',
  'connection-created': 'The connection was created. Register its redirect URI at the provider.',
  'connection-saved': 'The connection was saved.',
  'connection-deleted': 'The connection was deleted, with every identity linked through it.',
  'identity-removed': 'The linked identity was removed.',
  'identity-removed-last':
    'The linked identity was removed. The user has no way left to sign in: set a password or send a reset link.',
  'keys-rotated':
    'New signing keys were created and sign from now on; the old ones stay published until the tokens they signed expire.',
};

export type ShowPage = (
  ctx: WithConsoleContext,
  view: string,
  locals: ViewLocals & { title: string },
  status?: number,
) => Promise<void>;

/** Renders views/admin/<view>.ejs for the signed-in admin, with the notice of the change just made. */
export function createShowPage(deps: Pick<ConsoleDeps, 'views'>): ShowPage {
  return async (ctx, view, locals, status = 200) => {
    const done = typeof ctx.query.done === 'string' ? NOTICES[ctx.query.done] : undefined;
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = await deps.views.render(`admin/${view}`, {
      notice: done,
      errors: {},
      ...locals,
      admin: ctx.state.console,
      wide: true,
    });
  };
}

/** After a change: 303 to a page that names what happened (post/redirect/get). */
export function redirectDone(ctx: WithConsoleContext, path: string, done: string): void {
  ctx.status = 303;
  ctx.redirect(underBase(ctx, `${path}${path.includes('?') ? '&' : '?'}done=${done}`));
}

/** What every route file gets from the router. */
export interface ConsoleRouteTools {
  deps: ConsoleDeps;
  show: ShowPage;
  /** Before a page: the admin session. */
  view: Middleware[];
  /** Before a change: the form's body, the admin session, the CSRF token, then the fields. */
  change: FormGuard;
}

/** "Next page" links carry the same cursor as the API; a malformed one reads as "from the start". */
export const encodeCursor = encodeKeysetCursor;
export function decodeCursor(value: unknown, idForm: IdForm): KeysetPosition | undefined {
  return typeof value === 'string' ? decodeKeysetCursor(value, idForm) : undefined;
}
