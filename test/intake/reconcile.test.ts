import anyTest, { type TestFn } from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildLookout, type Lookout } from '../../src/app/composition-root.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { OciLayoutBuilder, type BuiltManifest } from '../helpers/oci-image-builder.ts';
import { deleteManifest, HAVE_REGISTRY, NO_REGISTRY, pushImage, startRegistry, type RunningRegistry } from '../helpers/registry-harness.ts';
import { testConfig } from '../helpers/test-config.ts';

// A registry that sends no notifications at all (as after a restart lost its in-memory queue):
// reconciliation finds the pushes, tag moves and deletes by walking the catalog and tag lists.

interface Context {
  db: TestDatabase;
  registry: RunningRegistry;
  lookout: Lookout;
  dir: string;
  one: BuiltManifest;
  two: BuiltManifest;
  multi: BuiltManifest;
}

const test = anyTest as TestFn<Context>;
const maybe = HAVE_REGISTRY ? test.serial : test.serial.skip;
const note = HAVE_REGISTRY ? '' : NO_REGISTRY;

if (HAVE_REGISTRY) {
  test.before(async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-reconcile-'));
    const layout = await OciLayoutBuilder.create(dir);
    const osRelease = { path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.19.1\n' };
    const one = await layout.addImage({ layers: [await layout.addLayer([osRelease, { path: 'lib/apk/db/installed', content: 'P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\n' }])], platform: { os: 'linux', architecture: 'amd64' } });
    const two = await layout.addImage({ layers: [await layout.addLayer([osRelease, { path: 'lib/apk/db/installed', content: 'P:musl\nV:1.2.4-r3\nA:x86_64\no:musl\n\n' }])], platform: { os: 'linux', architecture: 'amd64' } });
    const arm = await layout.addImage({ layers: [await layout.addLayer([osRelease])], platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    const multi = await layout.addIndex([one, arm]);
    await layout.tag('one', one);
    await layout.tag('two', two);
    await layout.tag('multi', multi);

    // No notifications configured: Lookout hears of nothing.
    const registry = await startRegistry();
    for (const n of Array.from({ length: 3 }, (_, i) => i)) await pushImage(dir, 'one', registry, `team/svc${n}:v1`);
    await pushImage(dir, 'two', registry, 'team/svc0:v2');
    await pushImage(dir, 'multi', registry, 'team/multi:latest', { all: true });

    const db = await createTestDatabase('reconcile');
    const config = testConfig(db.url, {
      registries: [{ name: 'local', url: registry.url, webhookSecret: 'reconcile-secret-0123' }],
      intake: { debounceSeconds: 0, reconcileIntervalMinutes: 60 },
    });
    const lookout = await buildLookout(config, { logger: createLogger('silent'), migrate: false });
    t.context = { db, registry, lookout, dir, one, two, multi };
  });

  test.after.always(async (t) => {
    await t.context.lookout?.stop();
    await t.context.registry?.stop();
    await t.context.db?.drop();
    if (t.context.dir) await rm(t.context.dir, { recursive: true, force: true });
  });
}

async function tags(t: { context: Context }): Promise<string[]> {
  const live = await t.context.lookout.images.liveTags(1);
  return [...live].flatMap(([repo, m]) => [...m].map(([tag, digest]) => `${repo}:${tag} ${digest.slice(7, 15)}`)).sort();
}

const short = (m: BuiltManifest) => m.digest.slice(7, 15);

maybe(`at start, the first pass finds every tag the registry never announced and indexes the images${note}`, async (t) => {
  const { lookout, one, two, multi } = t.context;
  await lookout.start();
  const expected = [`team/multi:latest ${short(multi)}`, `team/svc0:v1 ${short(one)}`, `team/svc0:v2 ${short(two)}`, `team/svc1:v1 ${short(one)}`, `team/svc2:v1 ${short(one)}`];
  for (let i = 0; i < 300 && (await tags(t)).length < expected.length; i++) await sleep(200);
  t.deepEqual(await tags(t), expected);
  for (const digest of [one.digest, two.digest]) {
    let status: string | undefined;
    for (let i = 0; i < 300; i++) {
      status = (await lookout.images.manifestByDigest(digest))?.status;
      if (status === 'done' || status === 'failed') break;
      await sleep(200);
    }
    t.is(status, 'done', digest);
  }
  const index = await lookout.images.manifestByDigest(multi.digest);
  t.is(index?.kind, 'index');
  // The next pass is already queued, an hour out.
  const next = await t.context.db.knex.raw(`select count(*)::int as n from pgboss.job where name = 'registry-reconcile' and state = 'created' and start_after > now() + interval '50 minutes'`);
  t.is(next.rows[0].n, 1);
});

maybe(`a pass with nothing new changes nothing${note}`, async (t) => {
  const before = await tags(t);
  const summary = await t.context.lookout.reconciler.reconcile('local');
  t.deepEqual(summary, { repositories: 4, tags: 5, ingested: 0, removed: 0, failed: 0 });
  t.deepEqual(await tags(t), before);
});

maybe(`a tag moved and a manifest deleted without a word: the next pass follows both, keeping the tag's history${note}`, async (t) => {
  const { lookout, registry, dir, one, two } = t.context;
  await pushImage(dir, 'two', registry, 'team/svc1:v1');
  t.is(await deleteManifest(registry, 'team/svc2', one.digest), 202);
  const summary = await lookout.reconciler.reconcile('local');
  t.deepEqual(summary, { repositories: 4, tags: 4, ingested: 1, removed: 1, failed: 0 });
  const now = await tags(t);
  t.true(now.includes(`team/svc1:v1 ${short(two)}`), 'the moved tag points at the new digest');
  t.false(now.some((x) => x.startsWith('team/svc2:')), 'the deleted one is gone');
  const repo = await lookout.images.repositoryId(1, 'team/svc1');
  t.deepEqual((await lookout.images.tagHistory(repo, 'v1')).map((h) => [h.digest, h.until === null]), [
    [one.digest, false],
    [two.digest, true],
  ]);
});

maybe(`an unreadable registry fails the pass without removing anything${note}`, async (t) => {
  const { db, lookout } = t.context;
  const before = await tags(t);
  // A second configuration of the same database whose registry has nothing listening.
  const broken = await buildLookout(
    testConfig(db.url, { registries: [{ name: 'local', url: 'http://127.0.0.1:9', webhookSecret: 'reconcile-secret-0123' }], roles: ['api'] }),
    { logger: createLogger('silent'), migrate: false },
  );
  t.teardown(() => broken.stop());
  await broken.syncConfig();
  const err = await t.throwsAsync(() => broken.reconciler.reconcile('local'));
  t.regex(err!.message, /127\.0\.0\.1:9|unavailable|ECONNREFUSED/);
  t.deepEqual(await tags(t), before);
  t.truthy(lookout);
});
