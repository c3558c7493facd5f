import anyTest, { type TestFn } from 'ava';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildLookout, type Lookout } from '../../src/app/composition-root.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { PgImageStore } from '../../src/store/image-store.ts';
import { ReportService } from '../../src/matcher/report-service.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { testConfig } from '../helpers/test-config.ts';

// The API keeps status heads in memory and drops them when the database announces a change
// (LISTEN lookout_status). Changes here are made through another connection pool, as another
// process (a worker, an updater) makes them: every poll must still see them.

interface Context {
  db: TestDatabase;
  lookout: Lookout;
  base: string;
  /** A store on the test's own pool: "another process". */
  other: PgImageStore;
  registryId: number;
}

const test = anyTest as TestFn<Context>;
const digestOf = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const image = (name: string) => ({ digest: digestOf(name), mediaType: 'application/vnd.oci.image.manifest.v1+json', kind: 'image' as const, size: 1 });

test.before(async (t) => {
  const db = await createTestDatabase('status_cache');
  const config = testConfig(db.url, { roles: ['api'], registries: [{ name: 'local', url: 'http://127.0.0.1:9' }] });
  const lookout = await buildLookout(config, { logger: createLogger('silent'), migrate: false });
  const address = await lookout.start();
  const [registry] = await db.knex('registries').where({ name: 'local' }).select('id');
  t.context = { db, lookout, base: `http://127.0.0.1:${address.port}`, other: new PgImageStore(db.knex), registryId: Number(registry.id) };
});

test.after.always(async (t) => {
  await t.context.lookout?.stop();
  await t.context.db?.drop();
});

async function get(t: { context: Context }, digest: string, etag?: string) {
  const res = await fetch(`${t.context.base}/api/v1/images/${digest}`, { headers: etag ? { 'if-none-match': etag } : {} });
  const text = await res.text();
  return { status: res.status, etag: res.headers.get('etag') ?? '', json: text ? (JSON.parse(text) as any) : null };
}

/** Polls with the ETag until the answer changes (a notification takes a moment), up to 5 s. */
async function changed(t: { context: Context }, digest: string, etag: string) {
  for (let i = 0; i < 100; i++) {
    const res = await get(t, digest, etag);
    if (res.status !== 304) return res;
    await sleep(50);
  }
  throw new Error(`${digest} still answered 304 after 5 s`);
}

test.serial('tag moves, new links, status changes and reports made elsewhere reach the next polls', async (t) => {
  const { other, registryId } = t.context;
  const a = await other.upsertManifest(image('a'));
  const b = await other.upsertManifest(image('b'));
  const repo = await other.repositoryId(registryId, 'team/app');
  await other.linkToRepository(repo, a);
  await other.setTag(repo, 'v1', a);

  const first = await get(t, digestOf('a'));
  t.is(first.status, 200);
  t.deepEqual(first.json.repositories, [{ registry: 'local', repository: 'team/app', tags: ['v1'] }]);
  for (let i = 0; i < 5; i++) t.is((await get(t, digestOf('a'), first.etag)).status, 304, 'unchanged: 304');

  await other.setTag(repo, 'latest', a);
  const tagged = await changed(t, digestOf('a'), first.etag);
  t.deepEqual(tagged.json.repositories[0].tags, ['latest', 'v1']);

  await other.linkToRepository(repo, b);
  await other.setTag(repo, 'latest', b); // moves away from a
  const moved = await changed(t, digestOf('a'), tagged.etag);
  t.deepEqual(moved.json.repositories[0].tags, ['v1']);

  await other.setStatus(a, 'indexing');
  const indexing = await changed(t, digestOf('a'), moved.etag);
  t.is(indexing.json.status, 'indexing');

  // A worker makes the report with its own service and marks the image done.
  const worker = new ReportService({ knex: t.context.db.knex });
  await worker.refresh(a);
  await other.setStatus(a, 'done');
  const done = await changed(t, digestOf('a'), indexing.etag);
  t.is(done.json.status, 'done');
  t.is(done.json.report.vulnerabilityDatabase.generation, 0);
  // A feed run changes the database; the worker remakes the report at the new generation.
  const [run] = await t.context.db.knex('update_runs').insert({ updater: 'test', state: 'changed' }).returning('id');
  await worker.refresh(a);
  const remade = await changed(t, digestOf('a'), done.etag);
  t.is(remade.json.report.vulnerabilityDatabase.generation, Number(run.id), 'the new report is served, not the one kept in memory');
});

test.serial('a platform image follows its index: the index’s repositories and tags, and their changes', async (t) => {
  const { other, registryId } = t.context;
  const index = await other.upsertManifest({ digest: digestOf('index'), mediaType: 'application/vnd.oci.image.index.v1+json', kind: 'index', size: 1 });
  await other.setIndexChildren(index, [{ digest: digestOf('child'), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 1, platform: { os: 'linux', architecture: 'arm64' }, skipReason: null }]);
  const repo = await other.repositoryId(registryId, 'team/multi');
  await other.linkToRepository(repo, index);
  await other.setTag(repo, 'v1', index);

  const child = await get(t, digestOf('child'));
  t.deepEqual(child.json.repositories, [{ registry: 'local', repository: 'team/multi', tags: ['v1'] }], 'known through its index, with its tags');
  const parent = await get(t, digestOf('index'));
  t.deepEqual(parent.json.manifests.map((m: { digest: string }) => m.digest), [digestOf('child')]);

  await other.deleteFromRepository(repo, digestOf('index'));
  const gone = await changed(t, digestOf('child'), child.etag);
  t.deepEqual(gone.json.repositories, [], 'the index left the repository, so did the child');
  t.deepEqual((await changed(t, digestOf('index'), parent.etag)).json.repositories, []);
});

test.serial('while the listener is disconnected nothing is served from memory; it reconnects', async (t) => {
  const { other, registryId, db } = t.context;
  const c = await other.upsertManifest(image('c'));
  const repo = await other.repositoryId(registryId, 'team/c');
  await other.linkToRepository(repo, c);
  await other.setTag(repo, 'v1', c);
  const before = await get(t, digestOf('c'));

  await db.knex.raw(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'lookout-status-listener' and datname = current_database()`);
  await sleep(100);
  await other.setTag(repo, 'v2', c);
  // No notification can arrive now; the next poll must still see v2.
  const after = await get(t, digestOf('c'), before.etag);
  t.is(after.status, 200);
  t.deepEqual(after.json.repositories[0].tags, ['v1', 'v2']);

  // Listening again within the backoff: changes are announced again.
  let listening = false;
  for (let i = 0; i < 60 && !listening; i++) {
    const { rows } = await db.knex.raw(`select count(*)::int as n from pg_stat_activity where application_name = 'lookout-status-listener' and datname = current_database()`);
    listening = rows[0].n === 1;
    if (!listening) await sleep(100);
  }
  t.true(listening, 'reconnected');
  await sleep(200);
  const cached = await get(t, digestOf('c'), after.etag);
  t.is(cached.status, 304);
  await other.deleteTag(repo, 'v1');
  t.deepEqual((await changed(t, digestOf('c'), after.etag)).json.repositories[0].tags, ['v2']);
});

test.serial('reports dropped twice in a row (feed runs elsewhere): each poll carries the report of the data of the moment', async (t) => {
  const { other, registryId, db } = t.context;
  const m = await other.upsertManifest(image('npm-app'));
  const repo = await other.repositoryId(registryId, 'team/npm');
  await other.linkToRepository(repo, m);
  await other.setTag(repo, 'v1', m);
  const [layer] = await db.knex('layers').insert({ digest: digestOf('npm-layer'), size: 1 }).returning('id');
  await db.knex('manifest_layers').insert({ manifest_id: m, position: 0, layer_id: layer.id });
  const [pkg] = await db.knex('packages').insert({ key: 'npm:left-pad@1.0.0', ecosystem: 'npm', name: 'left-pad', version: '1.0.0' }).returning('id');
  await db.knex('manifest_packages').insert({ manifest_id: m, package_id: pkg.id, path: 'app/node_modules/left-pad/package.json', introduced_in: layer.id });
  await other.setStatus(m, 'done');
  const clean = await get(t, digestOf('npm-app'));
  t.deepEqual(clean.json.report.findings, []);

  // A feed run adds an advisory (and drops the image's report, as runs do).
  const [run] = await db.knex('update_runs').insert({ updater: 'osv-npm', state: 'changed' }).returning('id');
  await db.knex('vulnerabilities').insert({
    updater: 'osv-npm', vkey: 'GHSA-test-0001/left-pad', content_hash: '1', name: 'GHSA-test-0001', ecosystem: 'npm', distribution: null,
    package_name: 'left-pad', affected_range: JSON.stringify({ events: [{ introduced: '0' }, { fixed: '1.3.0' }] }), state: 'fixed',
    normalized_severity: 'High', first_run_id: run.id, last_run_id: run.id,
  });
  await db.knex('reports').where({ manifest_id: m }).delete();
  const affected = await changed(t, digestOf('npm-app'), clean.etag);
  t.deepEqual(affected.json.report.findings.map((f: { vulnerability: string }) => f.vulnerability), ['GHSA-test-0001']);

  // The next run withdraws it (and drops the report again): the poll must not get the previous document.
  await db.knex('vulnerabilities').where({ vkey: 'GHSA-test-0001/left-pad' }).delete();
  await db.knex('update_runs').insert({ updater: 'osv-npm', state: 'changed' });
  await db.knex('reports').where({ manifest_id: m }).delete();
  const withdrawn = await changed(t, digestOf('npm-app'), affected.etag);
  t.deepEqual(withdrawn.json.report.findings, []);
});
