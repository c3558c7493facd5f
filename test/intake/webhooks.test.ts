import test from 'ava';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { createApp } from '../../src/http/create-app.ts';
import { webhookRoutes } from '../../src/http/routes/webhook-routes.ts';
import { IntakeDispatcher } from '../../src/intake/intake-dispatcher.ts';
import { IntakeService, REGISTRY_EVENT_QUEUE, type RegistryEventJob } from '../../src/intake/intake-service.ts';
import { PgBossJobQueue } from '../../src/jobs/pg-boss-job-queue.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { knexJobDb } from '../../src/store/knex-job-db.ts';
import { PgRegistryStore } from '../../src/store/registry-store.ts';
import { PgWebhookEventStore } from '../../src/store/webhook-event-store.ts';
import { ROOT } from '../helpers/cli.ts';
import { useDatabase } from '../helpers/database.ts';
import { serve } from '../helpers/http.ts';
import { testConfig } from '../helpers/test-config.ts';

const database = useDatabase(test, 'intake');
const SECRET = 'test-webhook-secret';
const DIGEST = `sha256:${'e5'.repeat(32)}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** A Lookout intake on the test database with its queue not worked, so jobs stay visible. */
async function intake(t: Parameters<typeof serve>[0]) {
  const db = await database();
  const config = testConfig(db.url, {
    registries: [
      { name: 'local', url: 'http://127.0.0.1:5000', webhookSecret: SECRET },
      { name: 'quay', url: 'http://127.0.0.1:5001', webhookSecret: SECRET, webhookHeader: 'x-lookout-secret' },
      { name: 'nosecret', url: 'http://127.0.0.1:5002' },
    ],
    server: { bodyLimitBytes: 64 * 1024 },
  });
  const registryIds = await new PgRegistryStore(db.knex).sync(config.registries);
  const queue = new PgBossJobQueue({ url: db.url, logger: createLogger('silent'), defaults: config.jobs });
  queue.define<RegistryEventJob>({ queue: REGISTRY_EVENT_QUEUE, handle: async () => undefined });
  await queue.start({ work: false });
  t.teardown(() => queue.stop(1000));
  const metrics = createMetrics({ processMetrics: false });
  const store = new PgWebhookEventStore(db.knex);
  const dispatcher = new IntakeDispatcher({ store, queue, logger: createLogger('silent'), intervalMs: 100 });
  dispatcher.start();
  t.teardown(() => dispatcher.stop());
  const service = new IntakeService({ registries: config.registries, registryIds, store, metrics, logger: createLogger('silent'), onStored: () => dispatcher.wake() });
  const app = createApp({
    logger: createLogger('silent'),
    metrics,
    bodyLimitBytes: config.server.bodyLimitBytes,
    trustProxy: false,
    routers: [webhookRoutes({ intake: service, bodyLimitBytes: config.server.bodyLimitBytes })],
  });
  const base = await serve(t, app.callback());
  return { db, base, queue, store, metrics, registryIds };
}

function envelope(events: object[]): string {
  return JSON.stringify({ events }, null, 3);
}

function manifestPush(id: string, overrides: Record<string, unknown> = {}): object {
  return {
    id,
    timestamp: '2026-11-22T12:42:56.311270974Z',
    action: 'push',
    target: { mediaType: OCI_MANIFEST, size: 345, digest: DIGEST, length: 345, repository: 'demo/app', url: 'http://evil.example:5055/v2/demo/app/manifests/x', tag: 'v1', ...overrides },
    request: { id: 'r', addr: '127.0.0.1:1', host: 'evil.example:5055', method: 'PUT', useragent: 'skopeo/1.9.3' },
    actor: {},
    source: { addr: 'vm:5055', instanceID: 'i' },
  };
}

async function post(base: string, pathname: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.docker.distribution.events.v1+json', authorization: `Bearer ${SECRET}`, ...headers },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function jobsFor(db: Awaited<ReturnType<typeof database>>, rowId: number, wait = true): Promise<number> {
  for (let i = 0; ; i++) {
    const { rows } = await db.knex.raw<{ rows: { n: string }[] }>(`select count(*) as n from pgboss.job where name = ? and (data->>'eventRowId')::bigint = ?`, [REGISTRY_EVENT_QUEUE, rowId]);
    const n = Number(rows[0]!.n);
    if (n > 0 || !wait || i >= 50) return n;
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a Distribution manifest push is stored with its job and answered 202; the same event id again is a duplicate', async (t) => {
  const { db, base, store, registryIds } = await intake(t);
  const id = 'a1b2c3d4-0000-4000-8000-000000000001';
  const first = await post(base, '/webhooks/distribution/local', envelope([manifestPush(id)]));
  t.is(first.status, 202);
  t.deepEqual(first.body, { accepted: 1, duplicates: 0, ignored: 0 });
  const row = await db.knex('webhook_events').where({ event_id: id }).first();
  t.is(row.repository, 'demo/app');
  t.is(row.digest, DIGEST);
  t.is(row.tag, 'v1');
  t.true(['received', 'enqueued'].includes(row.state), 'durable before the answer');
  t.is(row.body.request.host, 'evil.example:5055', 'the raw event is kept verbatim');
  t.is(await jobsFor(db, Number(row.id)), 1, 'the dispatcher gave the event its job');
  t.is((await db.knex('webhook_events').where({ id: row.id }).first()).state, 'enqueued');

  // Distribution re-sends the same id when its 200 came late.
  const again = await post(base, '/webhooks/distribution/local', envelope([manifestPush(id)]));
  t.deepEqual(again.body, { accepted: 0, duplicates: 1, ignored: 0 });
  t.is(Number((await db.knex('webhook_events').where({ event_id: id }).count('* as n').first())?.n), 1);
  t.true((await store.count(registryIds.get('local'))) >= 1);
  t.is(await jobsFor(db, Number(row.id)), 1);
});

test('blob pushes, pulls and mounts are counted, not stored; several events in one envelope are each handled', async (t) => {
  const { db, base, metrics } = await intake(t);
  const blob = { ...manifestPush('blob-1'), target: { mediaType: 'application/octet-stream', digest: DIGEST, repository: 'demo/app' } };
  const pull = { ...manifestPush('pull-1'), action: 'pull' };
  const mount = { ...manifestPush('mount-1'), action: 'mount', target: { mediaType: 'application/octet-stream', digest: DIGEST, repository: 'demo/other', fromRepository: 'demo/app' } };
  const push = manifestPush('push-many-1');
  const res = await post(base, '/webhooks/distribution/local', envelope([blob, pull, mount, push]), {
    'content-type': 'application/vnd.docker.distribution.events.v2+json',
  });
  t.deepEqual(res.body, { accepted: 1, duplicates: 0, ignored: 3 });
  t.deepEqual(await db.knex('webhook_events').whereIn('event_id', ['blob-1', 'pull-1', 'mount-1']).select('id'), []);
  const text = await metrics.render();
  t.regex(text, /lookout_webhook_events_total\{source="distribution",outcome="ignored"\} 3/);
});

test('deletes are stored; an index push is stored; an invalid repository name is ignored', async (t) => {
  const { db, base } = await intake(t);
  const del = { id: 'del-1', action: 'delete', target: { digest: DIGEST, repository: 'demo/app' } };
  const delTag = { id: 'del-2', action: 'delete', target: { repository: 'demo/app', tag: 'v1' } };
  const index = manifestPush('index-1', { mediaType: 'application/vnd.oci.image.index.v1+json' });
  const bad = manifestPush('bad-1', { repository: '../../etc' });
  const res = await post(base, '/webhooks/distribution/local', envelope([del, delTag, index, bad]));
  t.deepEqual(res.body, { accepted: 3, duplicates: 0, ignored: 1 });
  const actions = await db.knex('webhook_events').whereIn('event_id', ['del-1', 'del-2', 'index-1']).orderBy('event_id').pluck('action');
  t.deepEqual(actions, ['delete', 'delete', 'push']);
});

test('refusals: unknown registry 404, wrong or missing secret 401, no secret configured 401, bad bodies 400, too big 413', async (t) => {
  const { base, db } = await intake(t);
  const body = envelope([manifestPush('refused-1')]);
  const unknown = await post(base, '/webhooks/distribution/nope', body);
  t.is(unknown.status, 404);
  t.is(unknown.body.code, 'unknown_registry');
  t.is((await post(base, '/webhooks/distribution/local', body, { authorization: 'Bearer wrong-secret' })).status, 401);
  const missing = await fetch(`${base}/webhooks/distribution/local`, { method: 'POST', body });
  t.is(missing.status, 401);
  t.deepEqual(await missing.json(), { code: 'unauthorized', message: 'missing or wrong webhook secret' });
  const noSecret = await post(base, '/webhooks/distribution/nosecret', body);
  t.is(noSecret.status, 401);
  t.regex(String(noSecret.body.message), /has no webhookSecret configured/);

  const notJson = await post(base, '/webhooks/distribution/local', '{"events": [');
  t.is(notJson.status, 400);
  t.is(notJson.body.code, 'invalid_json');
  const notEnvelope = await post(base, '/webhooks/distribution/local', JSON.stringify({ events: [{ action: 'push' }] }));
  t.is(notEnvelope.status, 400);
  t.is(notEnvelope.body.code, 'invalid_event');
  t.regex(String(notEnvelope.body.message), /events\.0\.id/);
  const big = await post(base, '/webhooks/distribution/local', envelope(Array.from({ length: 400 }, (_, i) => manifestPush(`big-${i}`))));
  t.is(big.status, 413);
  t.is(await db.knex('webhook_events').where('event_id', 'like', 'big-%').count('* as n').first().then((r) => Number(r?.n)), 0);
  t.is(await db.knex('webhook_events').where({ event_id: 'refused-1' }).count('* as n').first().then((r) => Number(r?.n)), 0);
});

test('Harbor: Default and CloudEvents pushes are stored; a retried Default body is a duplicate; pulls are ignored', async (t) => {
  const { base, db } = await intake(t);
  const harbor = { type: 'PUSH_ARTIFACT', occur_at: 1678082303, operator: 'admin', event_data: { resources: [{ digest: DIGEST, tag: 'latest', resource_url: 'harbor.evil/library/busybox:latest' }], repository: { name: 'busybox', namespace: 'library', repo_full_name: 'library/busybox', repo_type: 'public' } } };
  const headers = { 'content-type': 'application/json', authorization: SECRET };
  const first = await post(base, '/webhooks/harbor/local', JSON.stringify(harbor), headers);
  t.deepEqual(first.body, { accepted: 1, duplicates: 0, ignored: 0 });
  t.deepEqual((await post(base, '/webhooks/harbor/local', JSON.stringify(harbor), headers)).body, { accepted: 0, duplicates: 1, ignored: 0 });
  const cloud = { specversion: '1.0', id: '4b2f89a6-548d-4c12-9993-a1f5790b97d2', type: 'harbor.artifact.deleted', source: '/projects/1/webhook/policies/3', time: '2023-03-06T06:08:43Z', data: harbor.event_data };
  const deleted = await post(base, '/webhooks/harbor/local', JSON.stringify(cloud), { ...headers, 'content-type': 'application/cloudevents+json' });
  t.deepEqual(deleted.body, { accepted: 1, duplicates: 0, ignored: 0 });
  const row = await db.knex('webhook_events').where({ event_id: cloud.id }).first();
  t.is(row.action, 'delete');
  t.is(row.repository, 'library/busybox');
  const pulled = await post(base, '/webhooks/harbor/local', JSON.stringify({ ...harbor, type: 'PULL_ARTIFACT' }), headers);
  t.deepEqual(pulled.body, { accepted: 0, duplicates: 0, ignored: 1 });
});

test('Quay: the secret comes in the configured header or the token parameter; tags without digests are stored', async (t) => {
  const { base, db } = await intake(t);
  const push = JSON.stringify({ repository: 'myorg/app', namespace: 'myorg', name: 'app', docker_url: 'quay.evil/myorg/app', homepage: 'https://quay.evil/repository/myorg/app', updated_tags: ['v1', 'latest'] });
  const viaHeader = await post(base, '/webhooks/quay/quay', push, { 'content-type': 'application/json', authorization: '', 'x-lookout-secret': SECRET });
  t.deepEqual(viaHeader.body, { accepted: 1, duplicates: 0, ignored: 0 });
  const viaQuery = await post(base, `/webhooks/quay/quay?token=${SECRET}`, push, { 'content-type': 'application/json', authorization: '' });
  t.is(viaQuery.status, 202);
  t.is((await post(base, '/webhooks/quay/quay?token=nope', push, { authorization: '' })).status, 401);
  const rows = await db.knex('webhook_events').where({ source: 'quay' });
  t.is(rows.length, 2);
  t.deepEqual(rows[0].body.updated_tags, ['v1', 'latest']);
});

test('a job written through a transaction that rolls back does not exist', async (t) => {
  const { db, queue } = await intake(t);
  await t.throwsAsync(
    db.knex.transaction(async (trx) => {
      await queue.enqueue<RegistryEventJob>(REGISTRY_EVENT_QUEUE, { eventRowId: 987654 }, { db: knexJobDb(trx) });
      t.is(await jobsFor({ ...db, knex: trx } as typeof db, 987654, false), 1, 'visible inside the transaction');
      throw new Error('rolled back');
    }),
    { message: 'rolled back' },
  );
  t.is(await jobsFor(db, 987654, false), 0);
});

const captured = path.join(ROOT, '..', 'shared', 'reference', 'registry', 'captured', 'notify');
(existsSync(captured) ? test : test.skip)(
  `every webhook a real registry 2.8 sent is accepted; only its manifest pushes and deletes are stored${existsSync(captured) ? '' : ' (skipped: captured registry traffic is absent)'}`,
  async (t) => {
    const { base } = await intake(t);
    let stored = 0;
    let expected = 0;
    for (const file of readdirSync(captured).filter((f) => /^\d+\.json$/.test(f)).sort()) {
      const request = JSON.parse(readFileSync(path.join(captured, file), 'utf8')) as { body: string };
      for (const e of (JSON.parse(request.body) as { events: { action: string; target?: { mediaType?: string } }[] }).events) {
        if (e.action === 'delete' || (e.action === 'push' && e.target?.mediaType !== 'application/octet-stream')) expected += 1;
      }
      const res = await post(base, '/webhooks/distribution/local', request.body);
      t.is(res.status, 202, file);
      stored += Number(res.body.accepted);
    }
    t.true(expected > 5);
    t.is(stored, expected);
  },
);

test('two dispatchers on one database give each received event exactly one job', async (t) => {
  const { db, queue, store, registryIds } = await intake(t);
  const events = Array.from({ length: 600 }, (_, i) => ({
    source: 'distribution' as const, eventId: `dispatch-${i}`, action: 'push', repository: 'demo/app', tag: null,
    digest: DIGEST, mediaType: OCI_MANIFEST, tags: [], actionable: true, ignoredBecause: null, raw: { i },
  }));
  const stored = await store.recordNew(registryIds.get('local')!, events);
  t.is(stored.length, 600);
  const a = new IntakeDispatcher({ store, queue, logger: createLogger('silent'), batch: 50 });
  const b = new IntakeDispatcher({ store, queue, logger: createLogger('silent'), batch: 50 });
  // These two race each other and the intake's own dispatcher (started by intake()).
  await Promise.all([a.dispatchOnce(), b.dispatchOnce(), a.dispatchOnce()]);
  const ids = stored.map((e) => e.id);
  const jobs = async () =>
    (await db.knex.raw<{ rows: { id: string; n: number }[] }>(
      `select (data->>'eventRowId') as id, count(*)::int as n from pgboss.job where name = ? and (data->>'eventRowId')::bigint = any(?) group by 1`,
      [REGISTRY_EVENT_QUEUE, ids],
    )).rows;
  // A dispatcher skips the rows another one holds: the intake's own may still be finishing its batch.
  let rows = await jobs();
  for (let i = 0; i < 100 && rows.length < 600; i++) {
    await new Promise((r) => setTimeout(r, 100));
    rows = await jobs();
  }
  t.is(rows.length, 600, 'every event has a job');
  t.true(rows.every((r) => r.n === 1), 'no event has two');
});
