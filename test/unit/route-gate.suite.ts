import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import { routersUnderTheirPaths } from '../../src/http/route-gate.js';

/** A real Koa app on loopback: our routers behind the gate, then a stand-in for the provider. */
async function serve(
  routers: Router[],
  extra: Koa.Middleware[] = [],
): Promise<{ get: (path: string) => Promise<string>; close: () => Promise<void> }> {
  const app = new Koa();
  app.use(routersUnderTheirPaths(routers, [...extra, ...routers.map((r) => r.routes())]));
  app.use((ctx) => {
    ctx.body = 'provider';
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    get: async (path) => (await fetch(`${base}${path}`)).text(),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
      }),
  };
}

describe('routers only under their own paths (src/http/route-gate.ts)', () => {
  const account = new Router({ prefix: '/account' });
  account.get('/', (ctx) => {
    ctx.body = 'account';
  });
  account.get('/keys/:id', (ctx) => {
    ctx.body = `key ${ctx.params.id}`;
  });
  const interactions = new Router({ prefix: '/interaction/:uid' });
  interactions.get('/login', (ctx) => {
    ctx.body = `login ${ctx.params.uid}`;
  });
  const health = new Router();
  health.get('/healthz', (ctx) => {
    ctx.body = 'ok';
  });

  it('hands a path of theirs to the routers, in any letter case, as they match it', async () => {
    const app = await serve([account, interactions, health]);
    try {
      expect(await app.get('/account')).toBe('account');
      expect(await app.get('/account/keys/k1')).toBe('key k1');
      expect(await app.get('/Account/Keys/k1')).toBe('key k1');
      expect(await app.get('/interaction/abc/login')).toBe('login abc');
      expect(await app.get('/healthz')).toBe('ok');
      // Under a prefix but matching no route: the routers pass it on.
      expect(await app.get('/account/nothing-here')).toBe('provider');
    } finally {
      await app.close();
    }
  });

  it('sends every other path straight on: nothing in the chain runs', async () => {
    const seen: string[] = [];
    const app = await serve(
      [account, interactions, health],
      [
        async (ctx, next) => {
          seen.push(ctx.path);
          await next();
        },
      ],
    );
    try {
      for (const path of ['/token', '/me', '/token/introspection', '/acc'])
        expect(await app.get(path)).toBe('provider');
      expect(seen).toEqual([]);
      expect(await app.get('/account')).toBe('account');
      expect(seen).toEqual(['/account']);
    } finally {
      await app.close();
    }
  });

  it('gives a router whose route starts with a parameter every request', async () => {
    const catchAll = new Router();
    catchAll.get('/:slug', (ctx) => {
      ctx.body = `page ${ctx.params.slug}`;
    });
    const app = await serve([account, catchAll]);
    try {
      expect(await app.get('/token')).toBe('page token');
      expect(await app.get('/account')).toBe('account');
    } finally {
      await app.close();
    }
  });
});
