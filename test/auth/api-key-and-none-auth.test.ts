import Router from '@koa/router';
import test, { type ExecutionContext } from 'ava';
import { accessOf } from '../../src/http/auth/access-of.ts';
import { authConfigSchema } from '../../src/http/auth/auth-config.ts';
import { createAuth } from '../../src/http/auth/create-auth.ts';
import { createApp } from '../../src/http/create-app.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { serve } from '../helpers/http.ts';
import { startAuthTestApp, type AuthTestApp } from './auth-test-app.ts';

const KEYS = ['harbor-adapter-key-0001', 'harbor-adapter-key-0002-rotated'];

function app(t: ExecutionContext, config: unknown): Promise<AuthTestApp> {
  return startAuthTestApp(t, createAuth(authConfigSchema.parse(config), { logger: createLogger('silent') }));
}

test('api-key: X-ScannerAdapter-API-Key or Authorization: Bearer, any configured key; grants everything', async (t) => {
  const lookout = await app(t, { mode: 'api-key', keys: KEYS });
  for (const key of KEYS) {
    const res = await fetch(`${lookout.url}/whoami`, { headers: { 'X-ScannerAdapter-API-Key': key } });
    t.is(res.status, 200);
    t.deepEqual(await res.json(), { mode: 'api-key', subject: null, all: true, anonymous: false });
    t.is((await lookout.get('/read?repository=library/nginx', `Bearer ${key}`)).status, 200);
  }
});

test('api-key: missing, wrong, a prefix of a key, or too long is 401', async (t) => {
  const lookout = await app(t, { mode: 'api-key', keys: KEYS });
  const none = await lookout.get('/whoami');
  t.is(none.status, 401);
  t.deepEqual(none.body, { code: 'unauthorized', message: 'an API key is required' });
  for (const wrong of ['harbor-adapter-key-000', `${KEYS[0]}x`, 'x'.repeat(2000)]) {
    const res = await fetch(`${lookout.url}/whoami`, { headers: { 'X-ScannerAdapter-API-Key': wrong } });
    t.is(res.status, 401);
    t.deepEqual(await res.json(), { code: 'invalid_token', message: 'the API key is not valid' });
  }
  t.is((await lookout.get('/whoami', `Basic ${Buffer.from(`u:${KEYS[0]}`).toString('base64')}`)).status, 401);
});

test('api-key: keys shorter than 16 characters are refused at configuration', (t) => {
  const parsed = authConfigSchema.safeParse({ mode: 'api-key', keys: ['short'] });
  t.false(parsed.success);
  t.regex(JSON.stringify(parsed.error?.issues), /at least 16 characters/);
});

test('none: everything is readable and the handle says insecure, so the composition root can warn', async (t) => {
  const handle = createAuth(authConfigSchema.parse({ mode: 'none' }), { logger: createLogger('silent') });
  t.true(handle.insecure);
  t.is(handle.mode, 'none');
  const lookout = await startAuthTestApp(t, handle);
  t.deepEqual((await lookout.get('/whoami')).body, { mode: 'none', subject: null, all: true, anonymous: false });
  t.is((await lookout.get('/read?repository=any/thing')).status, 200);
  t.is((await lookout.get('/read?repository=Not+Valid')).status, 400);
});

test('createAuth picks the mode; only none is insecure', async (t) => {
  const logger = createLogger('silent');
  const configs = [
    { mode: 'api-key', keys: KEYS },
    { mode: 'psk', key: Buffer.alloc(32, 7).toString('base64') },
    { mode: 'registry-delegate', registryUrl: 'http://127.0.0.1:5000' },
  ] as const;
  for (const config of configs) {
    const handle = createAuth(authConfigSchema.parse(config), { logger });
    t.is(handle.mode, config.mode);
    t.false(handle.insecure);
    t.is(typeof handle.middleware, 'function');
    await handle.close();
  }
});

test('a route without the middleware fails closed (500), never open', async (t) => {
  const router = new Router();
  router.get('/read', async (ctx) => {
    await accessOf(ctx).assertRead('team/app');
    ctx.body = { ok: true };
  });
  const url = await serve(t, createApp({ logger: createLogger('silent'), metrics: createMetrics({ processMetrics: false }), bodyLimitBytes: 64, trustProxy: false, routers: [router] }).callback());
  const res = await fetch(`${url}/read`);
  t.is(res.status, 500);
  t.is(((await res.json()) as { code: string }).code, 'internal_error');
});
