import anyTest, { type TestFn } from 'ava';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAuth } from '../../src/http/auth/create-auth.ts';
import { clairRoutes } from '../../src/http/routes/clair-routes.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { addManifests, addSubscription, drain, makeDeliverer, testConfig, writeRows } from '../notifier/notifier-harness.ts';
import { buildServices, clairTypesDir, HAVE_REFERENCE, NO_REFERENCE, serveRouters, type CompatServices } from './compat-harness.ts';
import { SchemaCheck } from './schema-check.ts';

interface Callback {
  body: { notification_id: string; callback: string };
}

interface Context {
  db: TestDatabase;
  services: CompatServices;
  url: string;
  receiver: { url: string; received: Callback[]; server: Server };
  schemas: SchemaCheck;
  closers: Array<() => Promise<void>>;
}

const test = anyTest as TestFn<Context>;
const maybe = HAVE_REFERENCE ? test.serial : test.serial.skip;
const note = HAVE_REFERENCE ? '' : NO_REFERENCE;

/** Quay's end of the webhook: records each callback and answers 200. */
async function startReceiver(): Promise<Context['receiver']> {
  const received: Callback[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/secscan/notification`, received, server };
}

test.before(async (t) => {
  const closers: Array<() => Promise<void>> = [];
  const db = await createTestDatabase('compat_clair_notifier');
  const services = await buildServices(db, []);
  const logger = createLogger('silent');
  const served = await serveRouters([clairRoutes({ ...services.compat.clair, auth: createAuth({ mode: 'none' }, { logger }), logger })]);
  const receiver = await startReceiver();
  closers.push(served.close, () => new Promise<void>((resolve) => receiver.server.close(() => resolve())), () => services.compat.close());
  t.context = { db, services, url: served.url, receiver, schemas: new SchemaCheck({ dir: clairTypesDir() }), closers };
});

test.after.always(async (t) => {
  for (const close of (t.context.closers ?? []).reverse()) await close().catch(() => undefined);
  await t.context.db?.drop();
});

/**
 * The published schema of a vulnerability summary (core fields, `unevaluatedProperties: false`)
 * has no `links` or `description`, yet Clair sends both (its `VulnSummary`), the published example
 * page shows them, and Quay reads them: that one disagreement between schema and wire is let through.
 */
function withoutSummaryText(problems: string[]): string[] {
  return problems.filter((p) => !/^\$\.notifications\[\d+\]\.vulnerability\.(links|description): not allowed \(unevaluated\)$/.test(p));
}

async function get(t: { context: Context }, pathname: string) {
  const res = await fetch(`${t.context.url}${pathname}`);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text === '' ? undefined : (JSON.parse(text) as any) };
}

async function del(t: { context: Context }, pathname: string) {
  const res = await fetch(`${t.context.url}${pathname}`, { method: 'DELETE' });
  const text = await res.text();
  return { status: res.status, text, json: text === '' ? undefined : (JSON.parse(text) as any) };
}

maybe(`Quay's notification flow: the webhook names a notification id and its callback; the callback pages by next until the last page; DELETE acknowledges${note}`, async (t) => {
  const { knex } = t.context.db;
  const subscription = await addSubscription(knex, { channel: 'clair', target: { url: t.context.receiver.url } });
  const manifests = await addManifests(knex, 5);
  const written = await writeRows(
    knex,
    subscription,
    manifests.map((manifest, i) => ({ manifest, spec: { vulnerability: `CVE-2026-100${i}`, event: i === 4 ? 'resolved' : 'newly-affected', severity: 'High' } })),
  );
  const { deliverer } = makeDeliverer(t, knex, { config: testConfig({ publicBaseUrl: t.context.url }) });
  await drain(deliverer, async () => t.context.receiver.received.length > 0);
  t.is(t.context.receiver.received.length, 1, 'one callback for the batch');
  const { body } = t.context.receiver.received[0]!;
  t.deepEqual(t.context.schemas.check('notification_webhook.schema.json', body), []);
  t.is(body.callback, `${t.context.url}/notifier/api/v1/notification/${body.notification_id}`);

  const seen: string[] = [];
  let next: string | undefined;
  let pages = 0;
  do {
    const page = await get(t, `/notifier/api/v1/notification/${body.notification_id}?page_size=2${next ? `&next=${next}` : ''}`);
    t.is(page.status, 200, page.text);
    t.regex(page.headers.get('content-type') ?? '', /^application\/vnd\.clair\.notification_page\.v1\+json/);
    t.deepEqual(withoutSummaryText(t.context.schemas.check('notification_page.schema.json', page.json)), []);
    t.is(page.json.page.size, page.json.notifications.length);
    for (const n of page.json.notifications) seen.push(n.id);
    next = page.json.page.next;
    if (next !== undefined) t.is(next, page.json.notifications.at(-1).id, 'next is the last id of the page');
    pages++;
  } while (next !== undefined && pages < 10);
  t.is(pages, 3);
  t.deepEqual([...seen].sort(), [...written].sort(), 'every notification once');

  const all = await get(t, `/notifier/api/v1/notification/${body.notification_id}`);
  t.is(all.json.page.size, 5);
  t.is(all.json.page.next, undefined, 'no next on the last page');
  const resolved = all.json.notifications.find((n: any) => n.vulnerability.name === 'CVE-2026-1004');
  t.like(resolved, { reason: 'removed', manifest: manifests[4]!.digest, vulnerability: { normalized_severity: 'High', package: { name: 'openssl' } } });

  const deleted = await del(t, `/notifier/api/v1/notification/${body.notification_id}`);
  t.is(deleted.status, 200);
  t.is(deleted.text, '');
  t.is((await get(t, `/notifier/api/v1/notification/${body.notification_id}`)).status, 404);
  t.is((await del(t, `/notifier/api/v1/notification/${body.notification_id}`)).status, 200, 'deleting again is not an error');
});

maybe(`notification ids: malformed 400, unknown 404, another channel's delivery 404; bad page_size or next 400${note}`, async (t) => {
  const { knex } = t.context.db;
  const unknown = '5e4b387e-88d3-4364-86fd-063447a6fad2';
  const bad = await get(t, '/notifier/api/v1/notification/not-a-uuid');
  t.is(bad.status, 400);
  t.is(bad.json.code, 'bad-request');
  t.deepEqual(t.context.schemas.check('error.schema.json', bad.json), []);
  t.is((await get(t, `/notifier/api/v1/notification/${unknown}`)).status, 404);
  t.is((await del(t, `/notifier/api/v1/notification/${unknown}`)).status, 404);

  const webhook = await addSubscription(knex, { channel: 'webhook', target: { url: 'http://127.0.0.1:1/hook' }, secret: 'whsec_0123456789abcdef0123456789abcdef' });
  await writeRows(knex, webhook, (await addManifests(knex, 1)).map((manifest) => ({ manifest })));
  const [created] = await t.context.services.notifications.batchPending({ windowSeconds: 0, maxBatchSize: 10 });
  t.truthy(created);
  t.is((await get(t, `/notifier/api/v1/notification/${created!.id}`)).status, 404, 'only Clair-channel deliveries are served');

  const clair = await addSubscription(knex, { channel: 'clair', target: { url: t.context.receiver.url } });
  await writeRows(knex, clair, (await addManifests(knex, 1)).map((manifest) => ({ manifest })));
  const [mine] = await t.context.services.notifications.batchPending({ windowSeconds: 0, maxBatchSize: 10 });
  t.is((await get(t, `/notifier/api/v1/notification/${mine!.id}?page_size=0`)).status, 400);
  t.is((await get(t, `/notifier/api/v1/notification/${mine!.id}?page_size=ten`)).status, 400);
  t.is((await get(t, `/notifier/api/v1/notification/${mine!.id}?next=nope`)).status, 400);
  t.is((await get(t, `/notifier/api/v1/notification/${mine!.id}?page_size=100000`)).json.page.size, 1, 'page_size is capped, not refused');
});

maybe(`vulnerability_report before any vulnerability data was loaded: 202 with no body, as Clair answers${note}`, async (t) => {
  const res = await get(t, `/matcher/api/v1/vulnerability_report/sha256:${'a'.repeat(64)}`);
  t.is(res.status, 202);
  t.is(res.text, '');
});
