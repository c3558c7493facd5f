import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKnex } from '../../src/store/database.ts';
import { WebhookSender } from '../../src/notifier/webhook-sender.ts';
import { webhookBody } from '../../src/notifier/webhook-body.ts';
import type { WebhookBody } from '../../src/notifier/webhook-body.ts';
import { PgNotificationStore } from '../../src/store/notification-store.ts';
import { useDatabase, type TestDatabase } from '../helpers/database.ts';
import { addManifests, addSubscription, deliveryRow, deliveryStates, makeDeliverer, resetNotifierTables, SECRET, startReceiver, testConfig, writeRows } from './notifier-harness.ts';
import { buildDeliveryContent } from '../../src/notifier/delivery-content.ts';
import { parseNotificationPayload, type NotificationPayload } from '../../src/notifier/notification-payload.ts';

const database = useDatabase(test, 'notifier_recovery');
let db: TestDatabase;
test.before(async () => {
  db = await database();
});
// One deliverer claims every due delivery in the database, so the tests here take turns.
test.beforeEach(async () => {
  await resetNotifierTables(db.knex);
});

/** A knex pool of its own on the test database, as another process would have. */
function ownPool(t: { teardown(fn: () => Promise<void>): void }) {
  const knex = createKnex(db.url, { poolMax: 4 });
  t.teardown(() => knex.destroy());
  return knex;
}

test.serial('batching: rows wait for the window unless a full batch is there', async (t) => {
  const manifests = await addManifests(db.knex, 25);
  const sub = await addSubscription(db.knex, { channel: 'webhook', target: { url: 'http://127.0.0.1:9/' } });
  const store = new PgNotificationStore(db.knex);
  await writeRows(db.knex, sub, manifests.slice(0, 5).map((manifest) => ({ manifest })));
  t.deepEqual(await store.batchPending({ windowSeconds: 60, maxBatchSize: 10 }), [], 'five young rows wait');
  await writeRows(db.knex, sub, manifests.slice(5).map((manifest) => ({ manifest })));
  const full = await store.batchPending({ windowSeconds: 60, maxBatchSize: 10 });
  t.deepEqual(
    full.map((d) => d.notificationCount),
    [10, 10],
    'two full batches go, the five left wait',
  );
  t.like(await store.counts(), { pending: 2, unbatched: 5 });
  // once the oldest waiting row is older than the window, the rest go too
  await db.knex('notifications').whereNull('delivery_id').update({ created_at: db.knex.raw("now() - interval '2 minutes'") });
  const late = await store.batchPending({ windowSeconds: 60, maxBatchSize: 10 });
  t.deepEqual(
    late.map((d) => [d.subscriptionId, d.channel, d.notificationCount]),
    [[sub, 'webhook', 5]],
  );
  t.like(await store.counts(), { pending: 3, unbatched: 0 });
  // the oldest rows went first: the five written earlier are in the first delivery
  const firstRows = (await db.knex('notifications').where({ delivery_id: full[0]!.id }).select('manifest_id')) as { manifest_id: string }[];
  const inFirst = new Set(firstRows.map((r) => Number(r.manifest_id)));
  t.true(manifests.slice(0, 5).every((m) => inFirst.has(m.id)));
});

test.serial('killed between the outbox write and delivery: a fresh deliverer delivers', async (t) => {
  const receiver = await startReceiver(t);
  const manifests = await addManifests(db.knex, 3);
  const sub = await addSubscription(db.knex, { channel: 'webhook', target: { url: receiver.url }, secret: SECRET });
  // the "old process": it wrote the rows in its transaction, built its deliverer, and died before running it
  const oldPool = createKnex(db.url, { poolMax: 2 });
  const ids = await db.knex.transaction(async (trx) => writeRows(trx, sub, manifests.map((manifest) => ({ manifest }))));
  makeDeliverer(t, oldPool);
  await oldPool.destroy();

  const fresh = makeDeliverer(t, ownPool(t));
  t.like(await fresh.deliverer.runOnce(), { queued: 1, delivered: 1 });
  t.is(receiver.requests.length, 1);
  const body = JSON.parse(receiver.requests[0]!.body) as WebhookBody;
  t.deepEqual(body.data.images.flatMap((i) => i.findings.map((f) => f.notificationId)).sort(), [...ids].sort());
});

test.serial('killed mid-delivery: after the lease runs out another deliverer sends it again with the same id', async (t) => {
  const receiver = await startReceiver(t);
  const [manifest] = await addManifests(db.knex, 1);
  const sub = await addSubscription(db.knex, { name: 'hook', channel: 'webhook', target: { url: receiver.url }, secret: SECRET });
  await writeRows(db.knex, sub, [{ manifest: manifest! }]);

  // the dying process: claims with a one-second lease, sends, and dies before recording the outcome
  const dying = new PgNotificationStore(db.knex);
  await dying.batchPending({ windowSeconds: 0, maxBatchSize: 100 });
  const [claim] = await dying.claimDue(5, 1);
  t.truthy(claim);
  const sender = new WebhookSender({ timeouts: { connectMs: 1000, headersMs: 2000, totalMs: 2000 }, maxErrorBodyBytes: 100, userAgent: 'test' });
  t.teardown(() => sender.close());
  const rows = claim!.notifications.map((n) => ({ notificationId: n.id, payload: (parseNotificationPayload(n.payload) as { payload: NotificationPayload }).payload }));
  const sent = await sender.send({ url: receiver.url, id: claim!.id, secret: SECRET, body: JSON.stringify(webhookBody(buildDeliveryContent(rows), claim!)) });
  t.true(sent.ok);

  const survivor = makeDeliverer(t, ownPool(t), { config: testConfig({ leaseSeconds: 30 }) });
  t.like(await survivor.deliverer.runOnce(), { delivered: 0 }, 'the lease still holds');
  await sleep(1200);
  t.like(await survivor.deliverer.runOnce(), { delivered: 1 });
  t.is(receiver.requests.length, 2);
  t.is(receiver.requests[1]!.headers['webhook-id'], claim!.id, 'the receiver can tell it is the same message');
  t.like(await deliveryRow(db.knex, claim!.id), { state: 'delivered', attempts: 2 });
  // the dead process's late report changes nothing now
  t.is(await dying.recordFailure(claim!, { error: 'late', retryInMs: 10 }), null);
  t.like(await deliveryRow(db.knex, claim!.id), { state: 'delivered' });
});

test.serial('two deliverers on one database deliver each delivery once', async (t) => {
  const receiver = await startReceiver(t, async (_n, _req, res) => {
    await sleep(5);
    res.writeHead(204).end();
  });
  const manifests = await addManifests(db.knex, 20);
  const subs = [
    await addSubscription(db.knex, { channel: 'webhook', target: { url: receiver.url }, secret: SECRET }),
    await addSubscription(db.knex, { channel: 'webhook', target: { url: receiver.url }, secret: SECRET }),
  ];
  const ids: string[] = [];
  for (const sub of subs) ids.push(...(await writeRows(db.knex, sub, manifests.map((manifest) => ({ manifest })))));
  const config = testConfig({ batching: { windowSeconds: 0, maxBatchSize: 1 }, concurrency: 3 });
  const a = makeDeliverer(t, ownPool(t), { config });
  const b = makeDeliverer(t, ownPool(t), { config });

  const [ra, rb] = await Promise.all([a.deliverer.runOnce(), b.deliverer.runOnce()]);
  t.is(ra.queued + rb.queued, 40, 'every row went into exactly one delivery');
  t.is(ra.delivered + rb.delivered, 40);
  t.true(ra.delivered > 0 && rb.delivered > 0, `both took a share (${ra.delivered} and ${rb.delivered})`);
  const webhookIds = receiver.requests.map((r) => r.headers['webhook-id']);
  t.is(new Set(webhookIds).size, 40);
  t.is(receiver.requests.length, 40);
  const received = receiver.requests.flatMap((r) => (JSON.parse(r.body) as WebhookBody).data.images.flatMap((i) => i.findings.map((f) => f.notificationId)));
  t.deepEqual(received.sort(), [...ids].sort());
  t.deepEqual([...new Set(await deliveryStates(db.knex))], ['delivered']);
});

test.serial('the polling loop: woken by new rows, stops on its signal', async (t) => {
  const receiver = await startReceiver(t);
  const [manifest] = await addManifests(db.knex, 1);
  const sub = await addSubscription(db.knex, { channel: 'webhook', target: { url: receiver.url }, secret: SECRET });
  const { deliverer } = makeDeliverer(t, db.knex, { config: testConfig({ pollIntervalMs: 60_000 }) });
  const stop = new AbortController();
  const running = deliverer.run(stop.signal);
  await sleep(200); // the loop has found nothing and sleeps for a minute
  const written = performance.now();
  await writeRows(db.knex, sub, [{ manifest: manifest! }]);
  deliverer.wake();
  for (let i = 0; i < 100 && receiver.requests.length === 0; i++) await sleep(20);
  t.is(receiver.requests.length, 1);
  t.true(receiver.requests[0]!.at - written < 2000, 'sent right after the wake-up, not after the poll interval');
  stop.abort();
  await running;
  t.pass();
});

test.serial('the rate limit paces one destination; a long wait hands the delivery back without using an attempt', async (t) => {
  const receiver = await startReceiver(t);
  const manifests = await addManifests(db.knex, 3);
  const sub = await addSubscription(db.knex, { channel: 'webhook', target: { url: receiver.url }, secret: SECRET });
  await writeRows(db.knex, sub, manifests.map((manifest) => ({ manifest })));
  const paced = makeDeliverer(t, db.knex, { config: testConfig({ batching: { windowSeconds: 0, maxBatchSize: 1 }, concurrency: 1, rateLimit: { perSecond: 4, burst: 1 } }) });
  t.like(await paced.deliverer.runOnce(), { delivered: 3, deferred: 0 });
  const gaps = receiver.requests.slice(1).map((r, i) => r.at - receiver.requests[i]!.at);
  t.true(gaps.every((g) => g >= 200), `about 250 ms apart: ${gaps.map((g) => Math.round(g)).join(', ')}`);

  await writeRows(db.knex, sub, manifests.slice(0, 2).map((manifest) => ({ manifest })));
  const slow = makeDeliverer(t, db.knex, { config: testConfig({ batching: { windowSeconds: 0, maxBatchSize: 1 }, concurrency: 1, rateLimit: { perSecond: 0.2, burst: 1 } }) });
  t.like(await slow.deliverer.runOnce(), { delivered: 1, deferred: 1 });
  const deferred = (await db.knex('notification_deliveries').where({ state: 'pending' }).first()) as { id: string; attempts: number };
  t.is(deferred.attempts, 0, 'a deferral is not an attempt');
  const { rows } = await db.knex.raw<{ rows: { wait: number }[] }>('select extract(epoch from next_attempt_at - now())::float as wait from notification_deliveries where id = ?', [deferred.id]);
  t.true(rows[0]!.wait > 3 && rows[0]!.wait <= 5, `due again in ${rows[0]!.wait} s`);
});
