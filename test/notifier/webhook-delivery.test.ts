import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeliveryObserver } from '../../src/notifier/delivery-observer.ts';
import { verifyWebhook } from '../../src/notifier/webhook-signature.ts';
import type { WebhookBody } from '../../src/notifier/webhook-body.ts';
import { useDatabase, type TestDatabase } from '../helpers/database.ts';
import {
  addManifests,
  addSubscription,
  deliveryRow,
  drain,
  makeDeliverer,
  PUBLIC_BASE,
  resetNotifierTables,
  SECRET,
  startReceiver,
  testConfig,
  writeRows,
  type ReceivedRequest,
} from './notifier-harness.ts';

const database = useDatabase(test, 'notifier_webhook');
let db: TestDatabase;
test.before(async () => {
  db = await database();
});
// One deliverer claims every due delivery in the database, so the tests here take turns.
test.beforeEach(async () => {
  await resetNotifierTables(db.knex);
});

function verified(t: { true(v: boolean, m?: string): void }, req: ReceivedRequest, secret = SECRET): void {
  const result = verifyWebhook(secret, req.headers as Record<string, string>, req.body);
  t.true(result.ok, JSON.stringify(result));
}

function recordingObserver(): DeliveryObserver & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    queued: (channel, deliveries, notifications) => void events.push(`queued ${channel} ${deliveries}/${notifications}`),
    delivered: (channel, info) => void events.push(`delivered ${channel} after ${info.attempts}`),
    failed: (channel, info) => void events.push(`failed ${channel} ${info.status}`),
    dead: (channel) => void events.push(`dead ${channel}`),
  };
}

test.serial('a batch becomes one signed POST with the full payload', async (t) => {
  const receiver = await startReceiver(t);
  const manifests = await addManifests(db.knex, 3);
  const sub = await addSubscription(db.knex, { name: 'ops hook', channel: 'webhook', target: { url: receiver.url }, secret: SECRET });
  const ids = await writeRows(db.knex, sub, manifests.map((manifest) => ({ manifest })));
  const observer = recordingObserver();
  const { deliverer, store } = makeDeliverer(t, db.knex, { observer });

  const summary = await deliverer.runOnce();
  t.like(summary, { queued: 1, delivered: 1, failed: 0, dead: 0 });
  t.is(receiver.requests.length, 1);
  const req = receiver.requests[0]!;
  t.is(req.method, 'POST');
  t.is(req.url, '/hooks/lookout?token=not-logged');
  t.is(req.headers['content-type'], 'application/json');
  verified(t, req);
  const body = JSON.parse(req.body) as WebhookBody;
  const delivery = (await db.knex('notification_deliveries').first()) as { id: string; state: string; attempts: number; delivered_at: Date | null };
  t.is(req.headers['webhook-id'], delivery.id);
  t.is(body.data.id, delivery.id);
  t.is(body.type, 'lookout.newly-affected');
  t.is(body.data.summary, '3 images newly affected by CVE-2026-1234 (critical)');
  t.deepEqual(body.data.subscription, { id: sub, name: 'ops hook' });
  t.deepEqual(body.data.images.map((i) => i.digest).sort(), manifests.map((m) => m.digest).sort());
  t.deepEqual(body.data.images.flatMap((i) => i.findings.map((f) => f.notificationId)).sort(), [...ids].sort());
  const image = body.data.images.find((i) => i.digest === manifests[0]!.digest)!;
  t.deepEqual(image.links, { status: `${PUBLIC_BASE}/api/v1/images/${manifests[0]!.digest}`, report: `${PUBLIC_BASE}/images/${manifests[0]!.digest}` });
  t.like(image, { registry: 'registry.example.test', repository: 'team/app', tags: ['1.0'] });
  t.like(delivery, { state: 'delivered', attempts: 1 });
  t.truthy(delivery.delivered_at);
  t.deepEqual(observer.events, ['queued webhook 1/3', 'delivered webhook after 1']);
  t.like(await store.counts(), { delivered: 1, pending: 0, dead: 0, unbatched: 0 });

  // nothing left: a second run sends nothing
  t.like(await deliverer.runOnce(), { queued: 0, delivered: 0 });
  t.is(receiver.requests.length, 1);
});

test.serial('500 three times, then 200: delivered once, every attempt signed with the same webhook-id', async (t) => {
  const receiver = await startReceiver(t, (n, _req, res) => void res.writeHead(n < 3 ? 500 : 200).end(n < 3 ? 'database down' : 'ok'));
  const [manifest] = await addManifests(db.knex, 1);
  const sub = await addSubscription(db.knex, { channel: 'webhook', target: { url: receiver.url }, secret: SECRET });
  await writeRows(db.knex, sub, [{ manifest: manifest! }]);
  const observer = recordingObserver();
  const { deliverer, store } = makeDeliverer(t, db.knex, { observer });

  const first = await deliverer.runOnce();
  t.like(first, { queued: 1, failed: 1, delivered: 0 });
  const id = receiver.requests[0]!.headers['webhook-id'] as string;
  const afterFirst = await deliveryRow(db.knex, id);
  t.like(afterFirst, { state: 'pending', attempts: 1 });
  t.regex(afterFirst.last_error!, /^POST http:\/\/127\.0\.0\.1:\d+ answered 500: database down$/);
  t.false(afterFirst.last_error!.includes('token'), 'the URL path and query stay out of stored errors');

  const total = await drain(deliverer, async () => (await deliveryRow(db.knex, id)).state === 'delivered');
  t.like(total, { delivered: 1, failed: 2, dead: 0 });
  t.is(receiver.requests.length, 4);
  for (const req of receiver.requests) {
    t.is(req.headers['webhook-id'], id);
    verified(t, req);
    t.is(req.body, receiver.requests[0]!.body, 'the body is the same on every retry');
  }
  t.like(await deliveryRow(db.knex, id), { state: 'delivered', attempts: 4 });
  t.deepEqual(observer.events, ['queued webhook 1/1', 'failed webhook 500', 'failed webhook 500', 'failed webhook 500', 'delivered webhook after 4']);
  t.like(await store.counts(), { delivered: 1 });
});

test.serial('404 is final: dead at once with the reason; listed, re-driven, then delivered with the same id', async (t) => {
  let answer = 404;
  const receiver = await startReceiver(t, (_n, _req, res) => void res.writeHead(answer).end(answer === 404 ? 'no such hook' : 'ok'));
  const [manifest] = await addManifests(db.knex, 1);
  const sub = await addSubscription(db.knex, { name: 'gone', channel: 'webhook', target: { url: receiver.url }, secret: SECRET });
  await writeRows(db.knex, sub, [{ manifest: manifest! }]);
  const { deliverer, store } = makeDeliverer(t, db.knex);

  t.like(await deliverer.runOnce(), { queued: 1, dead: 1, failed: 0 });
  const id = receiver.requests[0]!.headers['webhook-id'] as string;
  const dead = await store.listDead({ limit: 10 });
  t.is(dead.length, 1);
  t.like(dead[0], { id, subscriptionId: sub, subscriptionName: 'gone', channel: 'webhook', state: 'dead', attempts: 1, notificationCount: 1 });
  t.regex(dead[0]!.lastError!, /answered 404: no such hook$/);
  t.deepEqual(await store.listDead({ limit: 10, subscriptionId: sub }), dead);
  t.deepEqual(await store.listDead({ limit: 10, before: id }), []);
  t.like(await store.counts(), { dead: 1 });

  // a dead delivery stays dead until someone re-drives it
  t.like(await deliverer.runOnce(), { delivered: 0, dead: 0 });
  t.is(receiver.requests.length, 1);

  answer = 200;
  t.is(await store.redrive('not-a-uuid'), null);
  t.like(await store.redrive(id), { id, state: 'pending', attempts: 0 });
  t.is(await store.redrive(id), null, 'only a dead delivery can be re-driven');
  t.like(await deliverer.runOnce(), { delivered: 1 });
  t.is(receiver.requests.length, 2);
  t.is(receiver.requests[1]!.headers['webhook-id'], id);
  verified(t, receiver.requests[1]!);
  t.like(await store.get(id), { state: 'delivered', attempts: 1, lastError: null });
  t.deepEqual(await store.listDead({ limit: 10 }), []);
});

test.serial('a receiver slower than the timeout is retried with the same id', async (t) => {
  const receiver = await startReceiver(t, async (n, _req, res) => {
    if (n === 0) await sleep(1500);
    if (!res.destroyed) res.writeHead(200).end('ok');
  });
  const [manifest] = await addManifests(db.knex, 1);
  const sub = await addSubscription(db.knex, { channel: 'webhook', target: { url: receiver.url }, secret: SECRET });
  await writeRows(db.knex, sub, [{ manifest: manifest! }]);
  const config = testConfig();
  const { deliverer } = makeDeliverer(t, db.knex, { config: { ...config, webhook: { ...config.webhook, timeouts: { connectMs: 1000, headersMs: 5000, totalMs: 300 } } } });

  const started = performance.now();
  t.like(await deliverer.runOnce(), { failed: 1 });
  t.true(performance.now() - started < 1400, 'the attempt ended at the total timeout, not when the receiver answered');
  const id = receiver.requests[0]!.headers['webhook-id'] as string;
  t.regex((await deliveryRow(db.knex, id)).last_error!, /timed out after 300 ms/);
  await drain(deliverer, async () => (await deliveryRow(db.knex, id)).state === 'delivered');
  t.is(receiver.requests.length, 2);
  t.is(receiver.requests[1]!.headers['webhook-id'], id);
  verified(t, receiver.requests[1]!);
});

test.serial('429 with Retry-After: the next attempt waits at least that long', async (t) => {
  const receiver = await startReceiver(t, (_n, _req, res) => void res.writeHead(429, { 'retry-after': '120' }).end());
  const [manifest] = await addManifests(db.knex, 1);
  const sub = await addSubscription(db.knex, { channel: 'webhook', target: { url: receiver.url }, secret: SECRET });
  await writeRows(db.knex, sub, [{ manifest: manifest! }]);
  const { deliverer } = makeDeliverer(t, db.knex);

  t.like(await deliverer.runOnce(), { failed: 1 });
  const id = receiver.requests[0]!.headers['webhook-id'] as string;
  const row = await deliveryRow(db.knex, id);
  const { rows } = await db.knex.raw<{ rows: { wait: number }[] }>('select extract(epoch from next_attempt_at - now())::float as wait from notification_deliveries where id = ?', [id]);
  t.like(row, { state: 'pending', attempts: 1 });
  t.true(rows[0]!.wait > 110 && rows[0]!.wait <= 120, `waits ${rows[0]!.wait} s`);
  t.regex(row.last_error!, /answered 429/);
});

test.serial('408 and 503 are retried until the attempts run out, then the delivery is dead', async (t) => {
  const receiver = await startReceiver(t, (n, _req, res) => void res.writeHead(n % 2 === 0 ? 503 : 408).end());
  const [manifest] = await addManifests(db.knex, 1);
  const sub = await addSubscription(db.knex, { channel: 'webhook', target: { url: receiver.url }, secret: SECRET });
  await writeRows(db.knex, sub, [{ manifest: manifest! }]);
  const { deliverer } = makeDeliverer(t, db.knex, { config: testConfig({ retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 } }) });

  const total = await drain(deliverer, async () => (await db.knex('notification_deliveries').where({ state: 'dead' }).first()) !== undefined);
  t.like(total, { failed: 2, dead: 1, delivered: 0 });
  t.is(receiver.requests.length, 3);
  const row = (await db.knex('notification_deliveries').first()) as { attempts: number; last_error: string };
  t.is(row.attempts, 3);
  t.regex(row.last_error, /answered 503 \(after 3 attempts\)$/);
});

test.serial('connection refused is retried; redirects are not followed', async (t) => {
  const down = await startReceiver(t);
  const closedUrl = down.url.replace(/:\d+\//, ':1/'); // port 1: nothing listens
  const redirecting = await startReceiver(t, (_n, _req, res) => void res.writeHead(307, { location: 'http://127.0.0.1:9/elsewhere' }).end());
  const [m1, m2] = await addManifests(db.knex, 2);
  const refused = await addSubscription(db.knex, { channel: 'webhook', target: { url: closedUrl }, secret: SECRET });
  const redirected = await addSubscription(db.knex, { channel: 'webhook', target: { url: redirecting.url }, secret: SECRET });
  await writeRows(db.knex, refused, [{ manifest: m1! }]);
  await writeRows(db.knex, redirected, [{ manifest: m2! }]);
  // retries a minute away, so this run makes one attempt of each
  const { deliverer } = makeDeliverer(t, db.knex, { config: testConfig({ retry: { maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 } }) });

  t.like(await deliverer.runOnce(), { queued: 2, failed: 1, dead: 1 });
  const rows = (await db.knex('notification_deliveries').select('subscription_id', 'state', 'last_error')) as { subscription_id: string; state: string; last_error: string }[];
  const bySub = new Map(rows.map((r) => [r.subscription_id, r]));
  t.like(bySub.get(refused), { state: 'pending' });
  t.regex(bySub.get(refused)!.last_error, /^POST http:\/\/127\.0\.0\.1:1 failed: ECONNREFUSED$/);
  t.like(bySub.get(redirected), { state: 'dead' });
  t.regex(bySub.get(redirected)!.last_error, /answered 307 \(redirects are not followed\)$/);
  t.is(redirecting.requests.length, 1);
});

test.serial('Clair-style subscriptions get the notification id and the callback', async (t) => {
  const receiver = await startReceiver(t);
  const manifests = await addManifests(db.knex, 2);
  const sub = await addSubscription(db.knex, { channel: 'clair', target: { url: receiver.url }, secret: SECRET });
  const ids = await writeRows(db.knex, sub, manifests.map((manifest) => ({ manifest })));
  const { deliverer, store } = makeDeliverer(t, db.knex);

  t.like(await deliverer.runOnce(), { delivered: 1 });
  const req = receiver.requests[0]!;
  const id = req.headers['webhook-id'] as string;
  t.deepEqual(JSON.parse(req.body), { notification_id: id, callback: `${PUBLIC_BASE}/notifier/api/v1/notification/${id}` });
  verified(t, req);
  // what the callback pages through
  const first = await store.notificationsOf(id, { limit: 1 });
  const second = await store.notificationsOf(id, { limit: 1, after: first[0]!.id });
  t.deepEqual([...first, ...second].map((n) => n.id).sort(), [...ids].sort());
  t.deepEqual(await store.notificationsOf(id, { limit: 1, after: second[0]!.id }), []);
});

test.serial('an unsigned subscription, a bad target, a deleted subscription and bad payloads', async (t) => {
  const receiver = await startReceiver(t);
  const [m1, m2, m3, m4] = await addManifests(db.knex, 4);
  const unsigned = await addSubscription(db.knex, { channel: 'webhook', target: { url: receiver.url }, secret: null });
  const badTarget = await addSubscription(db.knex, { channel: 'webhook', target: { url: 'file:///etc/passwd' }, secret: SECRET });
  const deleted = await addSubscription(db.knex, { channel: 'webhook', target: { url: receiver.url }, secret: SECRET });
  const badPayload = await addSubscription(db.knex, { channel: 'webhook', target: { url: receiver.url }, secret: SECRET });
  await writeRows(db.knex, unsigned, [{ manifest: m1! }]);
  await writeRows(db.knex, badTarget, [{ manifest: m2! }]);
  await writeRows(db.knex, deleted, [{ manifest: m3! }]);
  const good = await writeRows(db.knex, badPayload, [{ manifest: m4! }, { manifest: m4!, payload: { version: 1, event: 'newly-affected' } }]);
  const { deliverer, store } = makeDeliverer(t, db.knex);
  await store.batchPending({ windowSeconds: 0, maxBatchSize: 100 }); // batched before the subscription is deleted
  await db.knex('subscriptions').where({ id: deleted }).update({ deleted_at: db.knex.fn.now() });

  t.like(await deliverer.runOnce(), { delivered: 2, dead: 2 });
  const states = new Map(((await db.knex('notification_deliveries').select('subscription_id', 'state', 'last_error')) as { subscription_id: string; state: string; last_error: string | null }[]).map((r) => [r.subscription_id, r]));
  t.like(states.get(unsigned), { state: 'delivered' });
  t.like(states.get(badTarget), { state: 'dead', last_error: 'webhook URL must be http:// or https://' });
  t.like(states.get(deleted), { state: 'dead', last_error: 'the subscription was deleted' });
  t.like(states.get(badPayload), { state: 'delivered' });
  t.is(receiver.requests.length, 2);
  const unsignedReq = receiver.requests.find((r) => r.headers['webhook-signature'] === undefined)!;
  t.truthy(unsignedReq.headers['webhook-id']);
  const partial = receiver.requests.find((r) => r.headers['webhook-signature'] !== undefined)!;
  const body = JSON.parse(partial.body) as WebhookBody;
  t.deepEqual(
    body.data.images.flatMap((i) => i.findings.map((f) => f.notificationId)),
    [good[0]],
    'the row whose payload does not check out is left out, the others go',
  );
});

test.serial('a delivery whose images were deleted meanwhile goes dead with that reason, sending nothing', async (t) => {
  const receiver = await startReceiver(t);
  const [manifest] = await addManifests(db.knex, 1);
  const sub = await addSubscription(db.knex, { channel: 'webhook', target: { url: receiver.url }, secret: SECRET });
  await writeRows(db.knex, sub, [{ manifest: manifest! }]);
  const { deliverer, store } = makeDeliverer(t, db.knex);
  const [created] = await store.batchPending({ windowSeconds: 0, maxBatchSize: 10 });
  await db.knex('manifests').where({ id: manifest!.id }).delete(); // the outbox rows go with it
  t.like(await deliverer.runOnce(), { dead: 1 });
  t.like(await store.get(created!.id), { state: 'dead', notificationCount: 0, lastError: 'its notifications are gone (their images were deleted)' });
  t.is(receiver.requests.length, 0);
});
