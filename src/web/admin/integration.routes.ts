import type Router from '@koa/router';
import { z } from 'zod';
import type { ClientRow } from '../../storage/entities/client.entity.js';
import type { WithForm } from '../kit/form.js';
import { optionalText } from '../kit/form-fields.js';
import type { WithConsoleContext } from './context.js';
import { param, submitForm, type FormErrors } from './forms.js';
import { redirectDone, type ConsoleRouteTools } from './pages.js';
import {
  deviceSnippets,
  machineSnippets,
  signInSnippets,
  type IntegrationValues,
  type Snippet,
} from './integration-snippets.js';
import { createTrySignIn, tryRefusal } from './try-sign-in.js';
import { DEVICE_CODE_GRANT } from '../../clients/client-flows.js';
import { NotFoundError } from '../../errors/domain-errors.js';

const tryForm = z.object({ client_secret: optionalText({ trim: true }) });

const stringList = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/** The snippets that fit how the client gets its tokens. */
function snippetsFor(grantTypes: string[], values: IntegrationValues): Snippet[] {
  if (grantTypes.includes('authorization_code')) return signInSnippets(values);
  if (grantTypes.includes(DEVICE_CODE_GRANT)) return deviceSnippets(values);
  if (grantTypes.includes('client_credentials')) return machineSnippets(values);
  return [];
}

/**
 * A client's integration page (issue 21): the values an application is configured with, the
 * copy-paste snippets for the common relying-party libraries filled in with them, and "Try
 * sign-in" (try-sign-in.ts), whose test callback an admin registers for the client explicitly.
 */
export function addIntegrationRoutes(router: Router, { deps, show, view, change }: ConsoleRouteTools): void {
  const clients = deps.admin.clients;
  const { issuer } = deps.config;
  const trySignIn = createTrySignIn({ issuer, kv: deps.storage.kv, box: deps.box, host: deps.host });
  const integrationPath = (id: string) => `/admin/clients/${encodeURIComponent(id)}/integration`;

  const showIntegration = async (
    ctx: WithConsoleContext,
    client: ClientRow,
    extra: { errors?: FormErrors; status?: number } = {},
  ) => {
    const m = client.metadata;
    const redirectUris = stringList(m.redirect_uris);
    const appRedirects = redirectUris.filter((uri) => uri !== trySignIn.callbackUri);
    const values: IntegrationValues = {
      issuer,
      discoveryUrl: `${issuer}/.well-known/openid-configuration`,
      clientId: client.id,
      redirectUri: appRedirects[0],
      postLogoutRedirectUri: stringList(m.post_logout_redirect_uris)[0],
      scope: typeof m.scope === 'string' ? m.scope : 'openid',
      authMethod:
        typeof m.token_endpoint_auth_method === 'string' ? m.token_endpoint_auth_method : 'client_secret_basic',
    };
    await show(
      ctx,
      'client-integration',
      {
        title: `Connect ${client.name}`,
        client,
        values,
        redirectUris,
        snippets: snippetsFor(stringList(m.grant_types), values),
        tryCallback: trySignIn.callbackUri,
        tryRefusal: tryRefusal(client),
        tryRegistered: trySignIn.registered(client),
        errors: extra.errors ?? {},
      },
      extra.status,
    );
  };

  router.get('/clients/:id/integration', ...view, async (ctx: WithConsoleContext) => {
    await showIntegration(ctx, await clients.get(param(ctx, 'id')));
  });

  /** Adds or removes the test callback: an audited change of the client's redirect URIs, like any edit. */
  const setTryCallback = (present: boolean, done: string) => async (ctx: WithConsoleContext) => {
    const client = await clients.get(param(ctx, 'id'));
    const others = stringList(client.metadata.redirect_uris).filter((uri) => uri !== trySignIn.callbackUri);
    await submitForm(
      async () => {
        await clients.update(
          client.id,
          { redirectUris: present ? [...others, trySignIn.callbackUri] : others },
          ctx.state.console.actor,
        );
        redirectDone(ctx, integrationPath(client.id), done);
      },
      (errors, status) => showIntegration(ctx, client, { errors, status }),
    );
  };
  router.post('/clients/:id/try-callback', ...change(), setTryCallback(true, 'try-callback-added'));
  router.post('/clients/:id/try-callback/remove', ...change(), setTryCallback(false, 'try-callback-removed'));

  router.post('/clients/:id/try', ...change(tryForm), async (ctx: WithConsoleContext & WithForm<typeof tryForm>) => {
    const client = await clients.get(param(ctx, 'id'));
    await submitForm(
      async () => {
        const url = await trySignIn.start(ctx.state.console.sessionUid, client, ctx.state.form.client_secret);
        ctx.status = 303;
        ctx.redirect(url);
      },
      (errors, status) => showIntegration(ctx, client, { errors, status }),
    );
  });

  // The test callback. The admin session is checked first (view), so a code that arrives
  // without one goes no further than the sign-in redirect, which drops the query.
  router.get('/try/callback', ...view, async (ctx: WithConsoleContext) => {
    const outcome = await trySignIn.finish(ctx.state.console.sessionUid, ctx.query, ctx.querystring);
    if (!outcome) {
      await show(ctx, 'try-result', { title: 'Test sign-in not found', outcome: null, client: null }, 400);
      return;
    }
    // The client may have been deleted while its sign-in ran.
    const client = await clients.get(outcome.clientId).catch((error: unknown) => {
      if (error instanceof NotFoundError) return null;
      throw error;
    });
    await show(ctx, 'try-result', {
      title: 'claims' in outcome ? 'Test sign-in: ID token' : 'Test sign-in failed',
      outcome,
      client,
    });
  });
}
