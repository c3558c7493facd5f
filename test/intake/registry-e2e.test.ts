import anyTest, { type TestFn } from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildLookout, type Lookout } from '../../src/app/composition-root.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { OciLayoutBuilder, type BuiltManifest } from '../helpers/oci-image-builder.ts';
import { deleteManifest, freePort, HAVE_REGISTRY, NO_REGISTRY, pushImage, startRegistry, type RunningRegistry } from '../helpers/registry-harness.ts';
import { testConfig } from '../helpers/test-config.ts';

interface Context {
  db: TestDatabase;
  registry: RunningRegistry;
  lookout: Lookout;
  dir: string;
  a: BuiltManifest;
  b: BuiltManifest;
  arm: BuiltManifest;
  multi: BuiltManifest;
  baseDigest: string;
}

const test = anyTest as TestFn<Context>;
const maybe = HAVE_REGISTRY ? test.serial : test.serial.skip;
const note = HAVE_REGISTRY ? '' : NO_REGISTRY;
const SECRET = 'registry-e2e-secret';

const status = (name: string, version: string, source?: string) =>
  `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\n${source ? `Source: ${source}\n` : ''}Maintainer: Debian Maintainers <debian-devel@lists.debian.org>\nDescription: ${name}\n`;

if (HAVE_REGISTRY) {
  test.before(async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-e2e-'));
    const layout = await OciLayoutBuilder.create(dir);
    const base = await layout.addLayer([
      { path: 'etc', type: 'directory' },
      { path: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
      { path: 'usr/lib/os-release', content: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n' },
      { path: 'var/lib/dpkg/status', content: [status('libc6', '2.36-9+deb12u4', 'glibc'), status('zlib1g', '1:1.2.13.dfsg-1', 'zlib')].join('\n') },
    ]);
    const appLayer = await layout.addLayer([
      { path: 'var/lib/dpkg/status', content: [status('libc6', '2.36-9+deb12u4', 'glibc'), status('zlib1g', '1:1.2.13.dfsg-1', 'zlib'), status('curl', '7.88.1-10+deb12u5')].join('\n') },
      { path: 'usr/local/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA', content: 'Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n' },
    ]);
    const otherLayer = await layout.addLayer([{ path: 'usr/lib/node_modules/left-pad/package.json', content: '{"name":"left-pad","version":"1.3.0"}' }], { compression: 'zstd' });
    const a = await layout.addImage({ layers: [base, appLayer], platform: { os: 'linux', architecture: 'amd64' } });
    const b = await layout.addImage({ layers: [base, otherLayer], platform: { os: 'linux', architecture: 'amd64' } });
    const arm = await layout.addImage({ layers: [base], platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    const multi = await layout.addIndex([a, arm]);
    await layout.tag('a', a);
    await layout.tag('b', b);
    await layout.tag('multi', multi);

    const db = await createTestDatabase('registry_e2e');
    const port = await freePort();
    const registry = await startRegistry({ notifications: { url: `http://127.0.0.1:${port}/webhooks/distribution/local`, secret: SECRET } });
    const config = testConfig(db.url, {
      server: { port },
      registries: [{ name: 'local', url: registry.url, webhookSecret: SECRET }],
      intake: { debounceSeconds: 1 },
    });
    const lookout = await buildLookout(config, { logger: createLogger('silent'), migrate: false });
    await lookout.start();
    t.context = { db, registry, lookout, dir, a, b, arm, multi, baseDigest: base.digest };
  });

  test.after.always(async (t) => {
    await t.context.lookout?.stop();
    await t.context.registry?.stop();
    await t.context.db?.drop();
    if (t.context.dir) await rm(t.context.dir, { recursive: true, force: true });
  });
}

/** Waits until the image is indexed (or failed), up to a minute. */
async function indexed(t: { context: Context }, digest: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const row = await t.context.lookout.images.manifestByDigest(digest);
    if (row && (row.status === 'done' || row.status === 'failed')) return row;
    if (Date.now() > deadline) return row;
    await sleep(200);
  }
}

async function packagesOf(t: { context: Context }, digest: string): Promise<string[]> {
  const rows = await t.context.db.knex('manifest_packages as mp')
    .join('manifests as m', 'm.id', 'mp.manifest_id')
    .join('packages as p', 'p.id', 'mp.package_id')
    .join('layers as l', 'l.id', 'mp.introduced_in')
    .where('m.digest', digest)
    .select('p.ecosystem', 'p.name', 'p.version', 'p.source_name', 'l.digest as layer');
  return rows
    .map((r) => `${r.ecosystem}:${r.name}@${r.version}${r.source_name && r.source_name !== r.name ? ` (${r.source_name})` : ''} from ${r.layer === t.context.baseDigest ? 'base' : 'app'}`)
    .sort();
}

async function blobGets(t: { context: Context }, digest: string): Promise<number> {
  const log = await t.context.registry.log();
  // The registry logs each request it completed (text format: msg="response completed" … method=GET uri=…).
  return log.split('\n').filter((line) => line.includes('response completed') && line.includes('http.request.method=GET') && line.includes(`/blobs/${digest}`)).length;
}

maybe(`a push is received, the image fetched, verified and indexed, with the layer that introduced each package${note}`, async (t) => {
  const { a, registry, lookout, db } = t.context;
  await pushImage(t.context.dir, 'a', registry, 'demo/app:v1');
  const row = await indexed(t, a.digest);
  t.is(row?.status, 'done', row?.statusReason ?? '');
  t.deepEqual(await packagesOf(t, a.digest), [
    'dpkg:curl@7.88.1-10+deb12u5 from app',
    'dpkg:libc6@2.36-9+deb12u4 (glibc) from base',
    'dpkg:zlib1g@1:1.2.13.dfsg-1 (zlib) from base',
    'pypi:requests@2.31.0 from app',
  ]);
  const distribution = await db.knex('manifests as m').join('distributions as d', 'd.id', 'm.distribution_id').where('m.digest', a.digest).first('d.did', 'd.version_codename');
  t.deepEqual(distribution, { did: 'debian', version_codename: 'bookworm' });
  const layers = await db.knex('layers').whereIn('digest', a.layers!.map((l) => l.digest)).select('digest', 'compression', 'uncompressed_size');
  t.is(layers.length, 2);
  for (const layer of layers) {
    t.is(layer.compression, 'gzip', 'every layer was fetched and decompressed');
    t.true(Number(layer.uncompressed_size) > 0);
  }
  t.is(await lookout.images.currentTag(await lookout.images.repositoryId(1, 'demo/app'), 'v1'), a.digest);
  const event = await db.knex('webhook_events').where({ digest: a.digest, action: 'push' }).first();
  t.is(event.state, 'processed');
});

maybe(`an image sharing its base layer with an earlier one fetches only its new layer${note}`, async (t) => {
  const { b, lookout, baseDigest } = t.context;
  const before = await blobGets(t, baseDigest);
  t.true(before >= 1);
  await pushImage(t.context.dir, 'b', t.context.registry, 'demo/app:v2');
  const row = await indexed(t, b.digest);
  t.is(row?.status, 'done', row?.statusReason ?? '');
  t.is(await blobGets(t, baseDigest), before, 'the shared base layer was not fetched again');
  t.is(await blobGets(t, b.layers![1]!.digest), 1, 'the new zstd layer was fetched once');
  t.deepEqual(await packagesOf(t, b.digest), ['dpkg:libc6@2.36-9+deb12u4 (glibc) from base', 'dpkg:zlib1g@1:1.2.13.dfsg-1 (zlib) from base', 'npm:left-pad@1.3.0 from app']);
  void lookout;
});

maybe(`an OCI index with two platforms: each platform image is indexed once, the index lists them${note}`, async (t) => {
  const { arm, db, lookout, a } = t.context;
  const scansBefore = await db.knex('layer_scans').count('* as n').first();
  await pushImage(t.context.dir, 'multi', t.context.registry, 'demo/multi:v1', { all: true });
  const armRow = await indexed(t, arm.digest);
  t.is(armRow?.status, 'done', armRow?.statusReason ?? '');
  const index = await db.knex('manifests').where({ kind: 'index' }).first();
  t.truthy(index);
  const children = await db.knex('manifest_children as c').join('manifests as m', 'm.id', 'c.child_id').where('c.index_id', index.id).orderBy('c.position').select('m.digest', 'c.platform_arch');
  t.deepEqual(children.map((c) => c.platform_arch).sort(), ['amd64', 'arm64']);
  t.true(children.some((c) => c.digest === a.digest));
  // Every layer of the index was already known: no new layer scans.
  t.is(Number((await db.knex('layer_scans').count('* as n').first())?.n), Number(scansBefore?.n));
  t.is(await lookout.images.currentTag(await lookout.images.repositoryId(1, 'demo/multi'), 'v1'), index.digest);
  const jobs = await db.knex.raw(`select count(*)::int as n from pgboss.job where name = 'index-manifest' and data->>'digest' = ?`, [arm.digest]);
  t.is(jobs.rows[0].n, 1, 'the child push and the index push caused one index job for the child');
});

maybe(`a Docker v2 schema 2 manifest is indexed like an OCI one${note}`, async (t) => {
  const { db } = t.context;
  await pushImage(t.context.dir, 'a', t.context.registry, 'demo/docker:v1', { format: 'v2s2' });
  let docker: { digest: string } | undefined;
  for (let i = 0; i < 100 && !docker; i++) {
    docker = await db.knex('manifests').where({ media_type: 'application/vnd.docker.distribution.manifest.v2+json' }).first('digest');
    if (!docker) await sleep(200);
  }
  t.truthy(docker);
  const row = await indexed(t, docker!.digest);
  t.is(row?.status, 'done', row?.statusReason ?? '');
  t.is((await packagesOf(t, docker!.digest)).length, 4);
});

maybe(`re-pushing the same digest scans nothing again; a retag and a tag move keep the tag's history${note}`, async (t) => {
  const { a, b, db, lookout } = t.context;
  const before = await lookout.images.manifestByDigest(a.digest);
  const events = Number((await db.knex('webhook_events').where({ digest: a.digest }).count('* as n').first())?.n);
  await pushImage(t.context.dir, 'a', t.context.registry, 'demo/app:v1');
  await pushImage(t.context.dir, 'a', t.context.registry, 'demo/app:v3');
  for (let i = 0; i < 100; i++) {
    const processed = await db.knex('webhook_events').where({ digest: a.digest, state: 'processed' }).count('* as n').first();
    if (Number(processed?.n) >= events + 2) break;
    await sleep(200);
  }
  await sleep(1500); // room for a (wrong) second index job to run
  const after = await lookout.images.manifestByDigest(a.digest);
  t.deepEqual(after?.indexedAt, before?.indexedAt, 'not indexed again');
  const repo = await lookout.images.repositoryId(1, 'demo/app');
  t.is(await lookout.images.currentTag(repo, 'v3'), a.digest);

  await pushImage(t.context.dir, 'b', t.context.registry, 'demo/app:v1');
  for (let i = 0; i < 100 && (await lookout.images.currentTag(repo, 'v1')) !== b.digest; i++) await sleep(200);
  const history = await lookout.images.tagHistory(repo, 'v1');
  t.deepEqual(history.map((h) => h.digest), [a.digest, b.digest]);
  t.truthy(history[0]!.until, 'the old entry is closed');
  t.is(history[1]!.until, null);
});

maybe(`a delete marks the manifest and its tags gone in that repository${note}`, async (t) => {
  const { b, db, lookout, registry } = t.context;
  t.is(await deleteManifest(registry, 'demo/app', b.digest), 202);
  const repo = await lookout.images.repositoryId(1, 'demo/app');
  for (let i = 0; i < 100 && (await lookout.images.currentTag(repo, 'v1')) !== null; i++) await sleep(200);
  t.is(await lookout.images.currentTag(repo, 'v1'), null);
  t.is(await lookout.images.currentTag(repo, 'v2'), null);
  const link = await db.knex('repository_manifests as rm').join('manifests as m', 'm.id', 'rm.manifest_id').where({ 'rm.repository_id': repo, 'm.digest': b.digest }).first('rm.deleted_at');
  t.truthy(link.deleted_at);
  t.is(await lookout.images.currentTag(repo, 'v3'), t.context.a.digest, 'other tags stay');
});
