import type Router from '@koa/router';
import type { Connection } from '../../federation/connection.js';
import { federationRedirectUri } from '../../federation/federation.service.js';
import type { WithForm } from '../kit/form.js';
import type { WithConsoleContext } from './context.js';
import { confirmForm, param, requireConfirmation, submitForm, type FormErrors } from './forms.js';
import { redirectDone, type ConsoleRouteTools } from './pages.js';
import { userPath } from './user-page.js';
import {
  CONNECTION_CHOICES,
  NEW_CONNECTION,
  connectionForm,
  connectionFormValues,
  connectionInputOf,
  formFieldOf,
  withoutSecrets,
  type ConnectionFormValues,
} from './connection-form.js';

const connectionPath = (id: string): string => `/admin/connections/${encodeURIComponent(id)}`;

/**
 * Connections (issue 17): the upstream identity providers people may sign in through. List,
 * create, edit, delete, through the connections service (validated and audited there). The
 * secret and private key are write-only: never shown, blank on edit keeps the stored one.
 * Also a user's linked identities, removed through the admin identities service.
 */
export function addConnectionRoutes(router: Router, { deps, show, view, change }: ConsoleRouteTools): void {
  const { connections, identities } = deps.admin;
  const redirectUri = (id: string) => federationRedirectUri(deps.config.issuer, id);

  const showForm = (
    ctx: WithConsoleContext,
    values: ConnectionFormValues,
    extra: { connection?: Connection; errors?: FormErrors; status?: number },
  ) =>
    show(
      ctx,
      'connection-form',
      {
        title: extra.connection ? `Connection ${extra.connection.displayName}` : 'New connection',
        values: withoutSecrets(values),
        connection: extra.connection,
        redirectUri: extra.connection
          ? redirectUri(extra.connection.id)
          : redirectUri('ID').replace(/\/ID\/callback$/, '/<id>/callback'),
        errors: extra.errors ?? {},
        choices: CONNECTION_CHOICES,
      },
      extra.status,
    );

  /** The service names fields as the API does (`options.hosted_domain`); the form, flat. */
  const besideFields = (errors: FormErrors): FormErrors =>
    Object.fromEntries(Object.entries(errors).map(([field, message]) => [formFieldOf(field), message]));

  router.get('/connections', ...view, async (ctx: WithConsoleContext) => {
    await show(ctx, 'connections', { title: 'Connections', connections: await connections.list() });
  });

  router.get('/connections/new', ...view, (ctx: WithConsoleContext) => showForm(ctx, NEW_CONNECTION, {}));

  router.post(
    '/connections',
    ...change(connectionForm),
    async (ctx: WithConsoleContext & WithForm<typeof connectionForm>) => {
      const values = ctx.state.form;
      await submitForm(
        async () => {
          const created = await connections.create(connectionInputOf(values), ctx.state.console.actor);
          redirectDone(ctx, connectionPath(created.id), 'connection-created');
        },
        (errors, status) => showForm(ctx, values, { errors: besideFields(errors), status }),
      );
    },
  );

  router.get('/connections/:id', ...view, async (ctx: WithConsoleContext) => {
    const connection = await connections.get(param(ctx, 'id'));
    await showForm(ctx, connectionFormValues(connection), { connection });
  });

  router.post(
    '/connections/:id',
    ...change(connectionForm),
    async (ctx: WithConsoleContext & WithForm<typeof connectionForm>) => {
      const connection = await connections.get(param(ctx, 'id'));
      const values = ctx.state.form;
      await submitForm(
        async () => {
          // The id never changes; a blank secret or key is left out, so the stored one stays.
          const { id: _id, ...changes } = connectionInputOf({ ...values, id: connection.id });
          await connections.update(connection.id, changes, ctx.state.console.actor);
          redirectDone(ctx, connectionPath(connection.id), 'connection-saved');
        },
        (errors, status) =>
          showForm(ctx, { ...values, id: connection.id }, { connection, errors: besideFields(errors), status }),
      );
    },
  );

  router.post(
    '/connections/:id/delete',
    ...change(confirmForm),
    async (ctx: WithConsoleContext & WithForm<typeof confirmForm>) => {
      requireConfirmation(ctx.state.form.confirm);
      await connections.delete(param(ctx, 'id'), ctx.state.console.actor);
      redirectDone(ctx, '/admin/connections', 'connection-deleted');
    },
  );

  router.post(
    '/users/:id/identities/:connection/remove',
    ...change(confirmForm),
    async (ctx: WithConsoleContext & WithForm<typeof confirmForm>) => {
      requireConfirmation(ctx.state.form.confirm);
      const userId = param(ctx, 'id');
      const { signInMethodLeft } = await identities.unlink(userId, param(ctx, 'connection'), ctx.state.console.actor);
      redirectDone(ctx, userPath(userId), signInMethodLeft ? 'identity-removed' : 'identity-removed-last');
    },
  );
}
