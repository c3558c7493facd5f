/**
 * A tiny Lookout app for the auth tests: the real `createApp` (error rendering and all) with one
 * route group behind an auth middleware:
 *
 *   GET /read?repository=team/app[&reference=v1]  → assertRead, then {repository, subject, mode}
 *   GET /whoami                                   → assertAuthenticated, then {mode, subject, all, anonymous}
 *   GET /visible?repository=a&repository=b        → {visible: filterReadable(...)}
 */
import Router from '@koa/router';
import { createApp } from '../../src/http/create-app.ts';
import { accessOf } from '../../src/http/auth/access-of.ts';
import type { AuthHandle } from '../../src/http/auth/auth-handle.ts';
import { filterReadable } from '../../src/http/auth/filter-readable.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { serve } from '../helpers/http.ts';

/** One answer of the test app. */
export interface Answer {
  status: number;
  body: { code?: string; message?: string; [k: string]: unknown };
  challenge: string | null;
}

/** The test app's base URL and a `get` that returns status, JSON body and `WWW-Authenticate`. */
export interface AuthTestApp {
  url: string;
  get(pathAndQuery: string, authorization?: string): Promise<Answer>;
}

/** Serves the test app with `auth` on 127.0.0.1 until `t` ends. */
export async function startAuthTestApp(t: Parameters<typeof serve>[0], auth: AuthHandle): Promise<AuthTestApp> {
  const router = new Router();
  router.use(auth.middleware);
  router.get('/read', async (ctx) => {
    const access = accessOf(ctx);
    const reference = typeof ctx.query.reference === 'string' ? ctx.query.reference : undefined;
    await access.assertRead(String(ctx.query.repository ?? ''), reference === undefined ? {} : { reference });
    ctx.body = { repository: ctx.query.repository, subject: access.subject, mode: access.mode };
  });
  router.get('/whoami', (ctx) => {
    const access = accessOf(ctx);
    access.assertAuthenticated();
    ctx.body = { mode: access.mode, subject: access.subject, all: access.all, anonymous: access.anonymous };
  });
  router.get('/visible', async (ctx) => {
    const asked = ctx.query.repository;
    const repositories = Array.isArray(asked) ? asked : asked === undefined ? [] : [asked];
    ctx.body = { visible: await filterReadable(accessOf(ctx), repositories) };
  });
  const app = createApp({ logger: createLogger('silent'), metrics: createMetrics({ processMetrics: false }), bodyLimitBytes: 1024, trustProxy: false, routers: [router] });
  const url = await serve(t, app.callback());
  t.teardown(() => auth.close());
  return {
    url,
    async get(pathAndQuery, authorization) {
      const res = await fetch(`${url}${pathAndQuery}`, { headers: authorization === undefined ? {} : { authorization } });
      return { status: res.status, body: (await res.json()) as Answer['body'], challenge: res.headers.get('www-authenticate') };
    },
  };
}
