import test from 'ava';
import type { Middleware } from 'koa';
import type { AdvisoryService } from '../../src/advisories/advisory-service.ts';
import type { ExceptionService } from '../../src/exceptions/exception-service.ts';
import { createApp } from '../../src/http/create-app.ts';
import type { Access } from '../../src/http/auth/access.ts';
import type { AuthHandle } from '../../src/http/auth/auth-handle.ts';
import { UnauthorizedError } from '../../src/errors/app-error.ts';
import { advisoryRoutes } from '../../src/http/routes/advisory-routes.ts';
import { exceptionRoutes } from '../../src/http/routes/exception-routes.ts';
import { vexRoutes } from '../../src/http/routes/vex-routes.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import type { VexService } from '../../src/vex/vex-service.ts';
import { serve } from '../helpers/http.ts';

// Who may call the operator-data routes: writes (and VEX documents and exceptions at all) need
// access to every repository; a registry caller reading only some repositories gets 403, an
// anonymous one the 401 challenge; advisories may be read by any authenticated caller.

/** A registry-token caller that may pull team/app only (or nobody, anonymously). */
function registryCaller(anonymous: boolean): Access {
  return {
    mode: 'registry-token',
    subject: anonymous ? null : 'alice',
    all: false,
    anonymous,
    lazy: false,
    listed: new Set(anonymous ? [] : ['team/app']),
    canRead: (r) => !anonymous && r === 'team/app',
    mayRead: async (r) => !anonymous && r === 'team/app',
    assertRead: async () => undefined,
    assertAuthenticated: () => {
      if (anonymous) throw new UnauthorizedError('authentication required', { headers: { 'WWW-Authenticate': 'Bearer realm="https://auth.example.test/token"' } });
    },
  };
}

function auth(anonymous: boolean): AuthHandle {
  const middleware: Middleware = async (ctx, next) => {
    ctx.state.access = registryCaller(anonymous);
    await next();
  };
  return { mode: 'registry-token', middleware, insecure: false, close: async () => undefined };
}

/** Services that must never be reached by these callers, except for reading advisories. */
const touched: string[] = [];
const forbidden = new Proxy({}, { get: (_t, name) => () => { touched.push(String(name)); throw new Error(`service.${String(name)} must not be called`); } });
const advisories = { list: async () => ({ items: [], next: null }), get: async (id: string) => ({ id }) } as unknown as AdvisoryService;

async function start(t: Parameters<typeof serve>[0], anonymous: boolean): Promise<string> {
  const handle = auth(anonymous);
  const app = createApp({
    logger: createLogger('silent'),
    metrics: createMetrics({ processMetrics: false }),
    bodyLimitBytes: 65536,
    trustProxy: false,
    routers: [
      advisoryRoutes({ service: new Proxy(advisories, { get: (target, name) => (name === 'list' || name === 'get' ? (target as any)[name] : (forbidden as any)[name]) }), auth: handle, bodyLimitBytes: 65536 }),
      vexRoutes({ service: Object.assign(Object.create(forbidden), { documentLimits: { maxBytes: 65536, maxStatements: 10 } }) as VexService, auth: handle, bodyLimitBytes: 65536 }),
      exceptionRoutes({ service: forbidden as ExceptionService, auth: handle, bodyLimitBytes: 65536 }),
    ],
  });
  return serve(t, app.callback());
}

const WRITES: Array<[string, string, unknown?]> = [
  ['POST', '/api/v1/advisories', { id: 'X-1', affected: [] }],
  ['POST', '/api/v1/advisories?format=osv', { id: 'X-1' }],
  ['PUT', '/api/v1/advisories/X-1', { id: 'X-1', affected: [] }],
  ['DELETE', '/api/v1/advisories/X-1'],
  ['POST', '/api/v1/vex', { '@context': 'https://openvex.dev/ns/v0.2.0' }],
  ['POST', '/api/v1/vex?repository=team/app', { '@context': 'https://openvex.dev/ns/v0.2.0' }],
  ['GET', '/api/v1/vex'],
  ['GET', '/api/v1/vex/1'],
  ['DELETE', '/api/v1/vex/1'],
  ['POST', '/api/v1/exceptions', { vulnerability: 'CVE-2026-1', reason: 'x', expires: '2030-01-01T00:00:00Z' }],
  ['GET', '/api/v1/exceptions'],
  ['GET', '/api/v1/exceptions/00000000-0000-0000-0000-000000000000'],
  ['DELETE', '/api/v1/exceptions/00000000-0000-0000-0000-000000000000'],
];

test('a caller who may read some repositories only: 403 on operator data, advisories readable', async (t) => {
  const base = await start(t, false);
  for (const [method, path, body] of WRITES) {
    const res = await fetch(`${base}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
    t.is(res.status, 403, `${method} ${path}`);
    t.like(await res.json(), { code: 'full_access_required' });
  }
  t.is((await fetch(`${base}/api/v1/advisories`)).status, 200);
  t.is((await fetch(`${base}/api/v1/advisories/X-1`)).status, 200);
  t.deepEqual(touched, [], 'no service was reached');
});

test('an anonymous caller: the 401 challenge everywhere, reads included', async (t) => {
  const base = await start(t, true);
  for (const [method, path, body] of [...WRITES, ['GET', '/api/v1/advisories'] as [string, string]]) {
    const res = await fetch(`${base}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
    t.is(res.status, 401, `${method} ${path}`);
    t.regex(res.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
  }
  t.deepEqual(touched, []);
});
