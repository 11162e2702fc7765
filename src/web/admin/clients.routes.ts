import type Router from '@koa/router';
import { clientInputOf, type ClientInput } from '../../clients/client-registry.js';
import type { ClientRow } from '../../storage/entities/client.entity.js';
import type { WithForm } from '../kit/form.js';
import type { WithConsoleContext } from './context.js';
import { decodeCursor, encodeCursor } from './pages.js';
import { confirmForm, param, requireConfirmation, submitForm, type FormErrors } from './forms.js';
import { redirectDone, type ConsoleRouteTools } from './pages.js';
import {
  CLIENT_CHOICES,
  applicationForm,
  applicationTypeParam,
  clientForm,
  isBuiltInClient,
  newClientFrom,
} from './client-form.js';
import { applicationTypeChoices, applicationTypeInput, usesRedirects } from '../../clients/application-types.js';
import { createSecretHandoff } from './secret-handoff.js';
import { underBase } from '../../http/base-path.js';
import { addGrantRoutes, grantValue, permissionsPanel } from './permission-grants.js';

const PAGE_SIZE = 50;

/** Where a new client goes after its secret (if any) was shown: the guide to connecting the application. */
const integrationPath = (clientId: string) => `/admin/clients/${encodeURIComponent(clientId)}/integration`;

/**
 * Clients: list, the pending-approval queue, create (from an application type, or with the
 * full form), edit, delete, rotate the secret. Every
 * change answers 303 (post/redirect/get: a reload never submits again). A new secret goes
 * through the one-time handoff (secret-handoff.ts) to the page after the redirect, which
 * shows it once; a reload of that page says it was already shown.
 */
export function addClientRoutes(router: Router, tools: ConsoleRouteTools): void {
  const { deps, show, view, change } = tools;
  const { clients, permissions } = deps.admin;
  const handoff = createSecretHandoff(deps.storage.kv, deps.box);

  /** 303 to the page that shows the secret once. */
  async function redirectToSecret(ctx: WithConsoleContext, clientId: string, clientSecret: string): Promise<void> {
    const ticket = await handoff.put(ctx.state.console.sessionUid, { clientId, clientSecret });
    ctx.status = 303;
    ctx.redirect(underBase(ctx, `/admin/clients/${encodeURIComponent(clientId)}/secret/${ticket}`));
  }

  const showForm = async (
    ctx: WithConsoleContext,
    input: ClientInput,
    extra: { client?: ClientRow; errors?: FormErrors; status?: number },
  ) =>
    show(
      ctx,
      'client-form',
      {
        title: extra.client ? `Client ${extra.client.name}` : 'New client',
        input,
        client: extra.client,
        // What the client holds itself, for client_credentials (permission-grants.ts).
        permissions: extra.client ? await permissionsPanel(permissions, 'client', extra.client.id) : null,
        grantValue,
        errors: extra.errors ?? {},
        choices: CLIENT_CHOICES,
      },
      extra.status,
    );

  router.get('/clients', ...view, async (ctx: WithConsoleContext) => {
    const page = await clients.page({ after: decodeCursor(ctx.query.after, 'text'), limit: PAGE_SIZE });
    await show(ctx, 'clients', {
      title: 'Clients',
      clients: page.items,
      next: page.next && encodeCursor(page.next),
      isBuiltIn: isBuiltInClient,
    });
  });

  router.get('/clients/pending', ...view, async (ctx: WithConsoleContext) => {
    const page = await clients.page({
      status: 'pending',
      after: decodeCursor(ctx.query.after, 'text'),
      limit: PAGE_SIZE,
    });
    await show(ctx, 'pending', {
      title: 'Waiting for approval',
      clients: page.items,
      next: page.next && encodeCursor(page.next),
    });
  });

  /** A new client: its secret shown once, or straight to the integration page. */
  async function created(ctx: WithConsoleContext, input: ClientInput): Promise<void> {
    const { client, clientSecret } = await clients.create(input, ctx.state.console.actor);
    if (clientSecret) return redirectToSecret(ctx, client.id, clientSecret);
    redirectDone(ctx, integrationPath(client.id), 'client-created');
  }

  // "New application" starts from a type (clients/application-types.ts); the full form is one link away.
  router.get('/clients/new', ...view, (ctx: WithConsoleContext) =>
    show(ctx, 'client-new', { title: 'New application', types: applicationTypeChoices() }),
  );

  router.get('/clients/new/custom', ...view, (ctx: WithConsoleContext) =>
    showForm(ctx, newClientFrom(typeof ctx.query.from === 'string' ? ctx.query.from : undefined), {}),
  );

  const showTypeForm = (
    ctx: WithConsoleContext,
    input: { name: string; redirectUris: string[]; postLogoutRedirectUris: string[] },
    extra: { errors?: FormErrors; status?: number } = {},
  ) => {
    const type = applicationTypeParam(param(ctx, 'type'));
    const choice = applicationTypeChoices().find((c) => c.type === type);
    return show(
      ctx,
      'client-new-type',
      {
        title: `New ${choice?.label ?? ''}`,
        type,
        choice,
        redirects: usesRedirects(type),
        input,
        errors: extra.errors ?? {},
      },
      extra.status,
    );
  };

  router.get('/clients/new/:type', ...view, (ctx: WithConsoleContext) =>
    showTypeForm(ctx, { name: '', redirectUris: [], postLogoutRedirectUris: [] }),
  );

  router.post(
    '/clients/new/:type',
    ...change(applicationForm),
    async (ctx: WithConsoleContext & WithForm<typeof applicationForm>) => {
      const type = applicationTypeParam(param(ctx, 'type'));
      const given = ctx.state.form;
      await submitForm(
        () => created(ctx, applicationTypeInput(type, given)),
        (errors, status) => showTypeForm(ctx, given, { errors, status }),
      );
    },
  );

  router.post('/clients', ...change(clientForm), async (ctx: WithConsoleContext & WithForm<typeof clientForm>) => {
    const input = ctx.state.form;
    await submitForm(
      () => created(ctx, input),
      (errors, status) => showForm(ctx, input, { errors, status }),
    );
  });

  router.get('/clients/:id', ...view, async (ctx: WithConsoleContext) => {
    const client = await clients.get(param(ctx, 'id'));
    await showForm(ctx, clientInputOf(client), { client });
  });

  router.post('/clients/:id', ...change(clientForm), async (ctx: WithConsoleContext & WithForm<typeof clientForm>) => {
    const client = await clients.get(param(ctx, 'id'));
    const input = ctx.state.form;
    await submitForm(
      async () => {
        const updated = await clients.update(client.id, input, ctx.state.console.actor);
        // A client that now authenticates with a secret gets one, shown once.
        if (updated.clientSecret) return redirectToSecret(ctx, client.id, updated.clientSecret);
        redirectDone(ctx, `/admin/clients/${encodeURIComponent(client.id)}`, 'client-saved');
      },
      (errors, status) => showForm(ctx, input, { client, errors, status }),
    );
  });

  router.post('/clients/:id/rotate-secret', ...change(), async (ctx: WithConsoleContext) => {
    const client = await clients.get(param(ctx, 'id'));
    const clientSecret = await clients.rotateSecret(client.id, ctx.state.console.actor);
    await redirectToSecret(ctx, client.id, clientSecret);
  });

  // The first GET takes the secret from the handoff; any later one (a reload, the back
  // button, another session) finds it gone and says so, with the way to a new one (410 Gone).
  router.get('/clients/:id/secret/:ticket', ...view, async (ctx: WithConsoleContext) => {
    const client = await clients.get(param(ctx, 'id'));
    const clientSecret = await handoff.take(ctx.state.console.sessionUid, param(ctx, 'ticket'), client.id);
    await show(
      ctx,
      'client-secret',
      { title: clientSecret ? 'Client secret' : 'Secret already shown', client, clientSecret: clientSecret ?? null },
      clientSecret ? 200 : 410,
    );
  });

  router.post(
    '/clients/:id/delete',
    ...change(confirmForm),
    async (ctx: WithConsoleContext & WithForm<typeof confirmForm>) => {
      requireConfirmation(ctx.state.form.confirm);
      await clients.delete(param(ctx, 'id'), ctx.state.console.actor);
      redirectDone(ctx, '/admin/clients', 'client-deleted');
    },
  );

  router.post('/clients/:id/approve', ...change(), async (ctx: WithConsoleContext) => {
    await clients.approve(param(ctx, 'id'), ctx.state.console.actor);
    redirectDone(ctx, '/admin/clients/pending', 'client-approved');
  });

  router.post('/clients/:id/reject', ...change(), async (ctx: WithConsoleContext) => {
    await clients.reject(param(ctx, 'id'), ctx.state.console.actor);
    redirectDone(ctx, '/admin/clients/pending', 'client-rejected');
  });

  addGrantRoutes(router, tools, {
    holder: 'client',
    route: '/clients/:id',
    key: 'id',
    pageOf: (id) => `/admin/clients/${encodeURIComponent(id)}`,
    showAgain: async (ctx, id, errors, status) => {
      const client = await clients.get(id);
      await showForm(ctx, clientInputOf(client), { client, errors, status });
    },
  });
}
