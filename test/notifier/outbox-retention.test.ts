import test from 'ava';
import { useDatabase, type TestDatabase } from '../helpers/database.ts';
import { addManifests, addSubscription, drain, makeDeliverer, resetNotifierTables, SECRET, startReceiver, testConfig, writeRows } from './notifier-harness.ts';

const database = useDatabase(test, 'notifier_retention');
let db: TestDatabase;
test.before(async () => {
  db = await database();
});
test.beforeEach(async () => {
  await resetNotifierTables(db.knex);
  await db.knex('notification_findings').delete();
});

const DAY = 86_400_000;

/** A finding as a feed run writes it, and `count` lean outbox rows naming it for `subscriptionId`. */
async function leanRows(subscriptionId: string, manifests: { id: number }[], vulnerability: string): Promise<string> {
  const finding = { vulnerability, aliases: [], package: 'openssl', ecosystem: 'dpkg', installedVersion: '3.0.11-1', fixedVersion: null, severity: 'High', vendorSeverity: 'high', links: [] };
  const [row] = await db.knex('notification_findings')
    .insert({ event: 'newly-affected', vuln_name: vulnerability, package_name: 'openssl', installed_version: '3.0.11-1', ecosystem: 'dpkg', finding: JSON.stringify(finding), links_base: 'https://lookout.example.test' })
    .returning<{ id: string }[]>('id');
  const registry = (await db.knex('registries').where({ name: 'local' }).first('id')) ?? (await db.knex('registries').insert({ name: 'local', url: 'http://127.0.0.1:9' }).returning('id'))[0];
  const [repository] = await db.knex('repositories').insert({ registry_id: registry.id, name: `team/app-${vulnerability}` }).returning('id');
  await db.knex('notifications').insert(
    manifests.map((m) => ({ subscription_id: subscriptionId, manifest_id: m.id, vuln_name: vulnerability, event: 'newly-affected', finding_id: row!.id, repository_id: repository.id })),
  );
  return row!.id;
}

test.serial('ended deliveries past the retention period go with their rows and findings; nothing comes back to be sent again', async (t) => {
  const receiver = await startReceiver(t);
  const refusing = await startReceiver(t, (_n, _req, res) => void res.writeHead(404).end('no such hook'));
  const manifests = await addManifests(db.knex, 6);
  const ok = await addSubscription(db.knex, { channel: 'webhook', target: { url: receiver.url }, secret: SECRET });
  const dead = await addSubscription(db.knex, { channel: 'webhook', target: { url: refusing.url }, secret: SECRET });
  await writeRows(db.knex, ok, manifests.slice(0, 2).map((manifest) => ({ manifest })));
  const oldFinding = await leanRows(ok, manifests.slice(2, 4), 'CVE-2026-0001');
  await writeRows(db.knex, dead, [{ manifest: manifests[4]! }]);
  const { deliverer, store } = makeDeliverer(t, db.knex, { config: testConfig({ retentionMs: 30 * DAY }) });
  await drain(deliverer, async () => (await store.counts()).pending === 0 && (await store.counts()).unbatched === 0);
  t.like(await store.counts(), { delivered: 1, dead: 1, unbatched: 0 });
  t.is(receiver.requests.length, 1);

  // Within the period nothing goes.
  t.deepEqual(await deliverer.prune(), { deliveries: 0, notifications: 0, findings: 0 });

  // A young delivery, a young finding, and an unbatched row written long ago (its subscription is gone).
  const young = await leanRows(ok, [manifests[5]!], 'CVE-2026-0002');
  await drain(deliverer, async () => (await store.counts()).unbatched === 0);
  t.like(await store.counts(), { delivered: 2, dead: 1 });
  const gone = await addSubscription(db.knex, { channel: 'webhook', target: { url: receiver.url } });
  await writeRows(db.knex, gone, [{ manifest: manifests[0]! }]);
  await db.knex('subscriptions').where({ id: gone }).update({ deleted_at: db.knex.fn.now() });
  await db.knex('notifications').where({ subscription_id: gone }).update({ created_at: new Date(Date.now() - 40 * DAY) });

  // The first two deliveries ended 40 days ago.
  const firstTwo = await db.knex('notification_deliveries').whereIn('subscription_id', [ok, dead]).orderBy('created_at').limit(2).pluck('id');
  const [youngDelivery] = await db.knex('notifications').where({ finding_id: young }).pluck('delivery_id');
  t.false(firstTwo.includes(youngDelivery));
  await db.knex('notification_deliveries').whereIn('id', firstTwo).update({ delivered_at: db.knex.raw("case when state = 'delivered' then now() - interval '40 days' end"), last_attempt_at: new Date(Date.now() - 40 * DAY), created_at: new Date(Date.now() - 41 * DAY) });
  await db.knex('notification_findings').update({ occurred_at: new Date(Date.now() - 40 * DAY) });

  const pruned = await deliverer.prune();
  t.deepEqual(pruned, { deliveries: 2, notifications: 2 + 2 + 1 + 1, findings: 1 }, 'two deliveries; their five rows and the unbatched one; the old finding');
  t.deepEqual(await db.knex('notification_deliveries').pluck('id'), [youngDelivery]);
  t.deepEqual(await db.knex('notification_findings').pluck('id'), [young], 'the finding a kept row names stays, however old');
  t.false((await db.knex('notification_findings').pluck('id')).includes(oldFinding));
  t.like(await store.counts(), { delivered: 1, dead: 0, unbatched: 0 }, 'no row of a deleted delivery is back in the outbox');
  t.is((await store.listDead({ limit: 10 })).length, 0);

  await drain(deliverer, async () => true);
  t.is(receiver.requests.length, 2, 'nothing is sent again');
  t.deepEqual(await deliverer.prune(), { deliveries: 0, notifications: 0, findings: 0 });
});

test.serial('pruning many deliveries works in bounded statements to the end', async (t) => {
  const manifests = await addManifests(db.knex, 1);
  const sub = await addSubscription(db.knex, { channel: 'webhook', target: { url: 'http://127.0.0.1:9/' } });
  const ended = new Date(Date.now() - 90 * DAY);
  const ids = await db.knex('notification_deliveries')
    .insert(Array.from({ length: 4500 }, (_, i) => ({ subscription_id: sub, state: i % 2 ? 'delivered' : 'dead', attempts: 1, created_at: ended, last_attempt_at: ended, delivered_at: i % 2 ? ended : null })))
    .returning<{ id: string }[]>('id');
  await db.knex.batchInsert(
    'notifications',
    ids.map((d, i) => ({ subscription_id: sub, manifest_id: manifests[0]!.id, vuln_name: `CVE-2026-${i}`, event: 'newly-affected', payload: '{}', delivery_id: d.id })),
    1000,
  );
  const { deliverer } = makeDeliverer(t, db.knex, { config: testConfig({ retentionMs: 30 * DAY }) });
  t.deepEqual(await deliverer.prune(), { deliveries: 4500, notifications: 4500, findings: 0 });
  t.is(Number((await db.knex('notifications').count('* as n'))[0]!.n), 0);
});

test.serial('the running notifier prunes on its first pass, after sending what is due', async (t) => {
  const receiver = await startReceiver(t);
  const manifests = await addManifests(db.knex, 2);
  const sub = await addSubscription(db.knex, { channel: 'webhook', target: { url: receiver.url }, secret: SECRET });
  const ended = new Date(Date.now() - 60 * DAY);
  const [old] = await db.knex('notification_deliveries').insert({ subscription_id: sub, state: 'delivered', attempts: 1, created_at: ended, last_attempt_at: ended, delivered_at: ended }).returning<{ id: string }[]>('id');
  await db.knex('notifications').insert({ subscription_id: sub, manifest_id: manifests[0]!.id, vuln_name: 'CVE-2026-0009', event: 'newly-affected', payload: '{}', delivery_id: old!.id });
  await writeRows(db.knex, sub, [{ manifest: manifests[1]! }]);
  const { deliverer, store } = makeDeliverer(t, db.knex, { config: testConfig({ retentionMs: 30 * DAY }) });
  const stop = new AbortController();
  const running = deliverer.run(stop.signal);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && ((await store.get(old!.id)) !== null || receiver.requests.length === 0)) await new Promise((r) => setTimeout(r, 25));
  stop.abort();
  await running;
  t.is(await store.get(old!.id), null, 'the delivery ended 60 days ago is gone');
  t.is(receiver.requests.length, 1, 'the waiting row was sent');
  t.like(await store.counts(), { delivered: 1, unbatched: 0 });
});
