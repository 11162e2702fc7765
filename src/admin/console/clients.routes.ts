import type Router from '@koa/router';
import { clientInputOf, type ClientInput } from '../../oidc/client-registry.js';
import type { ClientRow } from '../../storage/entities/client.entity.js';
import type { WithConsoleContext } from './context.js';
import { decodeCursor, encodeCursor } from './pages.js';
import { param, requireConfirmation, submitForm, type FormErrors } from './forms.js';
import { redirectDone, type ConsoleRouteTools } from './pages.js';
import { CLIENT_CHOICES, NEW_CLIENT, clientInputFrom, isBuiltInClient } from './client-form.js';

const PAGE_SIZE = 50;

/**
 * Clients: list, the pending-approval queue, create, edit, delete, rotate the secret. A new
 * secret is shown once, on the response to the POST that made it (no-store like every page).
 */
export function addClientRoutes(router: Router, { deps, show, view, change }: ConsoleRouteTools): void {
  const clients = deps.admin.clients;

  const showSecret = (ctx: WithConsoleContext, client: ClientRow, clientSecret: string | null, status: number) =>
    show(ctx, 'client-secret', { title: clientSecret ? 'Client secret' : 'Client created', client, clientSecret }, status);

  const showForm = (ctx: WithConsoleContext, input: ClientInput, extra: { client?: ClientRow; errors?: FormErrors; status?: number }) =>
    show(ctx, 'client-form', {
      title: extra.client ? `Client ${extra.client.name}` : 'New client', input, client: extra.client, errors: extra.errors ?? {}, choices: CLIENT_CHOICES,
    }, extra.status);

  router.get('/clients', ...view, async (ctx: WithConsoleContext) => {
    const page = await clients.page({ after: decodeCursor(ctx.query.after, 'text'), limit: PAGE_SIZE });
    await show(ctx, 'clients', {
      title: 'Clients', clients: page.items, next: page.next && encodeCursor(page.next), isBuiltIn: isBuiltInClient,
    });
  });

  router.get('/clients/pending', ...view, async (ctx: WithConsoleContext) => {
    const page = await clients.page({ status: 'pending', after: decodeCursor(ctx.query.after, 'text'), limit: PAGE_SIZE });
    await show(ctx, 'pending', { title: 'Waiting for approval', clients: page.items, next: page.next && encodeCursor(page.next) });
  });

  router.get('/clients/new', ...view, (ctx: WithConsoleContext) => showForm(ctx, NEW_CLIENT, {}));

  router.post('/clients', ...change, async (ctx: WithConsoleContext) => {
    const input = clientInputFrom(ctx);
    await submitForm(async () => {
      const { client, clientSecret } = await clients.create(input, ctx.state.console.actor);
      await showSecret(ctx, client, clientSecret, 201);
    }, (errors, status) => showForm(ctx, input, { errors, status }));
  });

  router.get('/clients/:id', ...view, async (ctx: WithConsoleContext) => {
    const client = await clients.get(param(ctx, 'id'));
    await showForm(ctx, clientInputOf(client), { client });
  });

  router.post('/clients/:id', ...change, async (ctx: WithConsoleContext) => {
    const client = await clients.get(param(ctx, 'id'));
    const input = clientInputFrom(ctx);
    await submitForm(async () => {
      const updated = await clients.update(client.id, input, ctx.state.console.actor);
      // A client that now authenticates with a secret gets one, shown once.
      if (updated.clientSecret) return showSecret(ctx, updated.client, updated.clientSecret, 200);
      redirectDone(ctx, `/admin/clients/${encodeURIComponent(client.id)}`, 'client-saved');
    }, (errors, status) => showForm(ctx, input, { client, errors, status }));
  });

  router.post('/clients/:id/rotate-secret', ...change, async (ctx: WithConsoleContext) => {
    const client = await clients.get(param(ctx, 'id'));
    const clientSecret = await clients.rotateSecret(client.id, ctx.state.console.actor);
    await showSecret(ctx, client, clientSecret, 200);
  });

  router.post('/clients/:id/delete', ...change, async (ctx: WithConsoleContext) => {
    requireConfirmation(ctx);
    await clients.delete(param(ctx, 'id'), ctx.state.console.actor);
    redirectDone(ctx, '/admin/clients', 'client-deleted');
  });

  router.post('/clients/:id/approve', ...change, async (ctx: WithConsoleContext) => {
    await clients.approve(param(ctx, 'id'), ctx.state.console.actor);
    redirectDone(ctx, '/admin/clients/pending', 'client-approved');
  });

  router.post('/clients/:id/reject', ...change, async (ctx: WithConsoleContext) => {
    await clients.reject(param(ctx, 'id'), ctx.state.console.actor);
    redirectDone(ctx, '/admin/clients/pending', 'client-rejected');
  });
}
