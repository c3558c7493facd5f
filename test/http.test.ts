import test from 'ava';
import Router from '@koa/router';
import { request } from 'node:http';
import { buildLookout } from '../src/app/composition-root.ts';
import { NotFoundError } from '../src/errors/app-error.ts';
import { createApp } from '../src/http/create-app.ts';
import { readJsonBody } from '../src/http/read-json-body.ts';
import { createLogger } from '../src/log/create-logger.ts';
import { createMetrics } from '../src/metrics/metrics.ts';
import { useDatabase, createTestDatabase } from './helpers/database.ts';
import { serve } from './helpers/http.ts';
import { testConfig } from './helpers/test-config.ts';

const database = useDatabase(test, 'http', async (db) => {
  await db.knex.raw('create table things (name text primary key)');
  await db.knex('things').insert({ name: 'taken' });
});

/** An app with routes that fail in each way the error middleware must render. */
async function errorApp(t: Parameters<typeof serve>[0]): Promise<string> {
  const db = await database();
  const router = new Router();
  router.get('/boom', () => {
    throw new Error('connection string postgres://admin:hunter2@db/x leaked');
  });
  router.get('/missing', () => {
    throw new NotFoundError('image sha256:abc is not known');
  });
  router.post('/things', async (ctx) => {
    const body = (await readJsonBody(ctx, 64)) as { name: string };
    await db.knex('things').insert({ name: body.name });
    ctx.status = 201;
    ctx.body = body;
  });
  const app = createApp({ logger: createLogger('silent'), metrics: createMetrics({ processMetrics: false }), bodyLimitBytes: 128, trustProxy: false, routers: [router] });
  return serve(t, app.callback());
}

test('an unexpected error is a 500 with a generic message and the request id', async (t) => {
  const base = await errorApp(t);
  const res = await fetch(`${base}/boom`, { headers: { 'x-request-id': 'req-123' } });
  t.is(res.status, 500);
  t.is(res.headers.get('x-request-id'), 'req-123');
  const body = (await res.json()) as { code: string; message: string };
  t.deepEqual(body, { code: 'internal_error', message: 'internal error (request req-123)' });
});

test('an exposed error keeps its status, code and message', async (t) => {
  const base = await errorApp(t);
  const res = await fetch(`${base}/missing`);
  t.is(res.status, 404);
  t.deepEqual(await res.json(), { code: 'not_found', message: 'image sha256:abc is not known' });
});

test('a PostgreSQL unique violation is rendered as 409 conflict', async (t) => {
  const base = await errorApp(t);
  const ok = await fetch(`${base}/things`, { method: 'POST', body: JSON.stringify({ name: 'fresh' }) });
  t.is(ok.status, 201);
  const dup = await fetch(`${base}/things`, { method: 'POST', body: JSON.stringify({ name: 'taken' }) });
  t.is(dup.status, 409);
  t.deepEqual(await dup.json(), { code: 'conflict', message: 'already exists (things_pkey)' });
});

test('bodies: invalid JSON is 400, oversized is 413 (declared or streamed), whatever the content type', async (t) => {
  const base = await errorApp(t);
  const bad = await fetch(`${base}/things`, { method: 'POST', headers: { 'content-type': 'application/vnd.docker.distribution.events.v1+json' }, body: '{"name":' });
  t.is(bad.status, 400);
  const badBody = (await bad.json()) as { code: string; message: string };
  t.is(badBody.code, 'invalid_json');
  t.regex(badBody.message, /^request body is not valid JSON: /);

  const big = await fetch(`${base}/things`, { method: 'POST', body: JSON.stringify({ name: 'x'.repeat(500) }) });
  t.is(big.status, 413);
  t.is(((await big.json()) as { code: string }).code, 'payload_too_large');

  // Chunked, no Content-Length: stopped while streaming (route limit 64 < body < app limit 128).
  const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${base}/things`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.write(`{"name":"${'y'.repeat(40)}`);
    req.end(`${'z'.repeat(40)}"}`);
  });
  t.is(streamed.status, 413);
  t.is(JSON.parse(streamed.body).code, 'payload_too_large');

  const empty = await fetch(`${base}/things`, { method: 'POST' });
  t.is(empty.status, 400);
});

test('unknown routes are 404 and wrong methods 405, as {code, message}', async (t) => {
  const base = await errorApp(t);
  const missing = await fetch(`${base}/nothing/here`);
  t.is(missing.status, 404);
  t.deepEqual(await missing.json(), { code: 'route_not_found', message: 'no route for GET /nothing/here' });
  const wrong = await fetch(`${base}/missing`, { method: 'DELETE' });
  t.is(wrong.status, 405);
  t.is(((await wrong.json()) as { code: string }).code, 'method_not_allowed');
  t.regex(wrong.headers.get('allow') ?? '', /GET/);
});

test('healthz, readyz and metrics on a migrated database', async (t) => {
  const db = await createTestDatabase('http_ready');
  t.teardown(() => db.drop());
  const lookout = await buildLookout(testConfig(db.url), { logger: createLogger('silent'), migrate: false });
  lookout.queue.define({ queue: 'probe', handle: async () => undefined });
  const address = await lookout.start();
  t.teardown(() => lookout.stop());
  const base = `http://127.0.0.1:${address.port}`;

  const health = await fetch(`${base}/healthz`);
  t.is(health.status, 200);
  t.deepEqual(await health.json(), { status: 'ok' });

  const ready = await fetch(`${base}/readyz`);
  t.is(ready.status, 200);
  t.deepEqual(await ready.json(), {
    status: 'ready',
    checks: { process: { ok: true }, database: { ok: true }, migrations: { ok: true }, jobs: { ok: true } },
  });

  const id = await lookout.queue.enqueue('probe', {});
  for (let i = 0; i < 100 && (await lookout.queue.get('probe', id!))?.state !== 'completed'; i++) await new Promise((r) => setTimeout(r, 100));
  const metrics = await fetch(`${base}/metrics`);
  t.is(metrics.status, 200);
  t.regex(metrics.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await metrics.text();
  t.regex(text, /lookout_http_requests_total\{method="GET",route="\/readyz",status="200"\} 1/);
  t.regex(text, /lookout_http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/healthz"\} 1/);
  t.regex(text, /lookout_jobs_finished_total\{queue="probe",outcome="completed"\} 1/);
  t.regex(text, /lookout_jobs\{queue="probe",state="queued"\} \d+/);
  t.regex(text, /lookout_process_resident_memory_bytes \d+/);
});

test('readyz is 503 while migrations are pending, healthz stays 200', async (t) => {
  const db = await createTestDatabase('http_unmigrated', { empty: true });
  t.teardown(() => db.drop());
  const lookout = await buildLookout(testConfig(db.url), { logger: createLogger('silent'), migrate: false });
  t.teardown(() => lookout.database.close());
  const base = await serve(t, lookout.app.callback());
  t.is((await fetch(`${base}/healthz`)).status, 200);
  const ready = await fetch(`${base}/readyz`);
  t.is(ready.status, 503);
  const body = (await ready.json()) as { checks: Record<string, { ok: boolean; error?: string }> };
  t.true(body.checks.database!.ok);
  t.false(body.checks.migrations!.ok);
  t.regex(body.checks.migrations!.error!, /^pending: \d{14}_initial_schema\.ts/);
  t.false(body.checks.jobs!.ok);
});

test('readyz is 503 when the database is unreachable', async (t) => {
  const lookout = await buildLookout(testConfig('postgres://lookout@127.0.0.1:1/none'), { logger: createLogger('silent'), migrate: false });
  t.teardown(() => lookout.database.close());
  const base = await serve(t, lookout.app.callback());
  t.is((await fetch(`${base}/healthz`)).status, 200);
  const ready = await fetch(`${base}/readyz`);
  t.is(ready.status, 503);
  const body = (await ready.json()) as { status: string; checks: Record<string, { ok: boolean; error?: string }> };
  t.is(body.status, 'not ready');
  t.false(body.checks.database!.ok);
  t.regex(body.checks.database!.error!, /ECONNREFUSED/);
});
