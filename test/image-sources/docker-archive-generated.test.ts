import test, { type ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Scanner } from '../../src/ecosystems/scanner.ts';
import { openDockerArchive, type DockerArchiveOptions } from '../../src/indexer/docker-archive-source.ts';
import { ImageSourceError } from '../../src/indexer/image-source-error.ts';
import { LayerDigestError } from '../../src/indexer/layer-errors.ts';
import { readLayer } from '../../src/indexer/layer-reader.ts';
import type { LayerFile } from '../helpers/oci-image-builder.ts';
import { buildDockerSave, type SaveImage, type SaveOptions } from './docker-save-builder.ts';

const OS: Scanner = { name: 'os', version: '1', kind: 'distribution', files: { paths: ['etc/os-release'] }, scan: () => ({}) };

const base: LayerFile[] = [
  { path: 'etc/', type: 'directory' },
  { path: 'etc/os-release', content: 'ID=test\nVERSION_ID=1\n' },
];
const app: LayerFile[] = [{ path: 'app/main.js', content: 'console.log(1)\n'.repeat(2000) }];
const config: LayerFile[] = [{ path: 'etc/app.conf', content: 'port=80\n' }];

/** Two images sharing the base layer (legacy form: a symlink to the first copy). */
const TWO_IMAGES: SaveImage[] = [
  { layers: [base, app, config], repoTags: ['example/app:1.0'] },
  { layers: [base, config], repoTags: ['example/tool:latest', 'registry.example:5000/tool:2'], platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
];

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-docker-save-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes a generated archive and opens it. */
async function open(t: ExecutionContext, images: readonly SaveImage[], build: SaveOptions = {}, options: DockerArchiveOptions = {}) {
  const built = await buildDockerSave(images, build);
  const file = path.join(await tempDir(t), 'image.tar');
  await writeFile(file, built.bytes);
  const archive = await openDockerArchive(file, options);
  t.teardown(() => archive.close());
  return { built, archive, file };
}

async function bytesOf(stream: Readable | AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

for (const compression of ['none', 'gzip', 'zstd'] as const) {
  for (const form of ['legacy', 'oci'] as const) {
    test(`${form} archive, ${compression}, manifest.json last: images, layers in order, config digests as identity, layer bytes exact in any order`, async (t) => {
      const { built, archive } = await open(t, TWO_IMAGES, { form, compression });
      t.is(archive.compression, compression);
      t.is(archive.images.length, 2);
      t.deepEqual(archive.skipped, []);
      for (const [n, image] of archive.images.entries()) {
        const expected = built.images[n]!;
        t.is(image.digest, expected.configDigest);
        const cfg = await image.config();
        t.is(cfg.digest, expected.configDigest);
        t.deepEqual(cfg.diffIds, expected.diffIds);
        t.deepEqual(image.layers.map((l) => l.digest), expected.layerDigests);
        t.deepEqual(image.layers.map((l) => l.size), expected.layerBytes.map((b) => b.length));
        // Backwards, so a compressed archive needs a pass per layer.
        for (let i = image.layers.length - 1; i >= 0; i--) {
          t.true((await bytesOf(await image.openLayer(i))).equals(expected.layerBytes[i]!), `image ${n} layer ${i}`);
        }
      }
      t.deepEqual(archive.images[0]!.repoTags, ['example/app:1.0']);
      t.deepEqual(archive.images[1]!.platform, { os: 'linux', architecture: 'arm64', variant: 'v8' });
    });
  }
}

test('openLayers yields every layer once, in archive order, in one pass; the bytes match', async (t) => {
  const { built, archive } = await open(t, TWO_IMAGES, { compression: 'gzip' });
  const image = archive.images[0]!;
  const seen: number[] = [];
  for await (const { index, stream } of image.openLayers()) {
    t.true((await bytesOf(stream)).equals(built.images[0]!.layerBytes[index]!));
    seen.push(index);
  }
  t.deepEqual([...seen].sort(), [0, 1, 2]);
  t.is(archive.passes, 2);
  // Archive order: by where each layer.tar lies, whatever the image order.
  const order = built.images[0]!.layerNames.map((name, i) => ({ i, at: built.entries.findIndex((e) => e.name === name) }));
  t.deepEqual(seen, order.sort((a, b) => a.at - b.at).map((o) => o.i));
});

test('openLayers drains a stream left unread when the next one is asked for', async (t) => {
  const { built, archive } = await open(t, [{ layers: [base, app, config] }], { compression: 'gzip' });
  const got = new Map<number, Buffer>();
  let skipped = 0;
  for await (const { index, stream } of archive.images[0]!.openLayers()) {
    if (skipped === 0) {
      skipped++;
      continue; // never read
    }
    got.set(index, await bytesOf(stream));
  }
  t.is(got.size, 2);
  for (const [i, bytes] of got) t.true(bytes.equals(built.images[0]!.layerBytes[i]!));
});

test('a layer repeated in one image is yielded for each index by openLayers and readable by openLayer', async (t) => {
  const { built, archive } = await open(t, [{ layers: [base, app, base] }], { compression: 'gzip' });
  const image = archive.images[0]!;
  t.is(image.layers[0]!.digest, image.layers[2]!.digest);
  const seen: number[] = [];
  for await (const { index, stream } of image.openLayers()) {
    t.true((await bytesOf(stream)).equals(built.images[0]!.layerBytes[index]!));
    seen.push(index);
  }
  t.deepEqual([...seen].sort(), [0, 1, 2]);
  t.true((await bytesOf(await image.openLayer(2))).equals(built.images[0]!.layerBytes[0]!));
});

test('compressed archive: layers opened at the same time each get their own pass and all complete', async (t) => {
  const { built, archive } = await open(t, TWO_IMAGES, { compression: 'gzip' });
  const image = archive.images[0]!;
  const streams = await Promise.all(image.layers.map((_, i) => image.openLayer(i)));
  const bytes = await Promise.all(streams.map((s) => bytesOf(s)));
  bytes.forEach((b, i) => t.true(b.equals(built.images[0]!.layerBytes[i]!)));
});

test('compressed archive: reading layers in archive order reuses the pass that read the previous one', async (t) => {
  const { built, archive } = await open(t, [{ layers: [base, app, config] }], { form: 'oci', compression: 'gzip' });
  const image = archive.images[0]!;
  t.is(archive.passes, 1, 'the first pass, reading manifest.json and the config');
  // In the OCI form, layer blobs come in image order, so this is archive order too.
  for (const i of [0, 1, 2]) t.true((await bytesOf(await image.openLayer(i))).equals(built.images[0]!.layerBytes[i]!));
  t.is(archive.passes, 2);
  // Going back needs a new pass.
  await bytesOf(await image.openLayer(0));
  t.is(archive.passes, 3);
  for await (const { stream } of image.openLayers()) await bytesOf(stream);
  t.is(archive.passes, 4);
});

test('gzip-compressed layers: a digest name is the digest; a legacy layer.tar is hashed; readLayer verifies both digests', async (t) => {
  for (const form of ['legacy', 'oci'] as const) {
    for (const compression of ['none', 'gzip'] as const) {
      const { built, archive } = await open(t, [{ layers: [base, app], gzipLayers: [0] }], { form, compression });
      const image = archive.images[0]!;
      const cfg = await image.config();
      t.is(image.layers[0]!.mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
      t.is(image.layers[1]!.mediaType, 'application/vnd.docker.image.rootfs.diff.tar');
      t.is(image.layers[0]!.digest, built.images[0]!.layerDigests[0]!);
      t.not(image.layers[0]!.digest, cfg.diffIds[0]);
      const read = await readLayer(await image.openLayer(0), { scanners: [OS], digest: image.layers[0]!.digest, diffId: cfg.diffIds[0]!, mediaType: image.layers[0]!.mediaType });
      t.is(read.stats.format, 'gzip');
      t.is(read.scanners.get('os')!.files.get('etc/os-release')?.data.toString(), 'ID=test\nVERSION_ID=1\n');
      t.deepEqual(read.notes, []);
    }
  }
});

test('manifest.json first is read as well', async (t) => {
  const { built, archive } = await open(t, TWO_IMAGES, { manifest: 'first', compression: 'gzip' });
  t.is(archive.images[1]!.digest, built.images[1]!.configDigest);
});

test('a reference picks an image by repo tag (Docker Hub names normalised) or by @index', async (t) => {
  const built = await buildDockerSave(TWO_IMAGES, { compression: 'gzip' });
  const file = path.join(await tempDir(t), 'image.tar.gz');
  await writeFile(file, built.bytes);
  for (const [reference, expected] of [
    ['example/app:1.0', 0],
    ['docker.io/example/app:1.0', 0],
    ['example/tool', 1],
    ['registry.example:5000/tool:2', 1],
    ['@1', 1],
  ] as const) {
    const archive = await openDockerArchive(file, { reference });
    t.is(archive.images.length, 1, reference);
    t.is(archive.images[0]!.digest, built.images[expected]!.configDigest, reference);
    await archive.close();
  }
  const missing = await t.throwsAsync(openDockerArchive(file, { reference: 'example/app:2.0' }), { instanceOf: ImageSourceError });
  t.is(missing.kind, 'no_match');
  t.regex(missing.message, /"example\/app:1\.0"/);
  t.is((await t.throwsAsync(openDockerArchive(file, { reference: '@2' }), { instanceOf: ImageSourceError })).kind, 'no_match');
});

test('a platform filter leaves the other images out, with the reason', async (t) => {
  const { built, archive } = await open(t, TWO_IMAGES, {}, { platforms: [{ os: 'linux', architecture: 'arm64' }] });
  t.is(archive.images.length, 1);
  t.is(archive.images[0]!.digest, built.images[1]!.configDigest);
  t.deepEqual(archive.skipped, [{ digest: built.images[0]!.configDigest, reason: 'platform-not-requested', detail: 'platform linux/amd64' }]);
});

test('a layer whose bytes do not match its diff_id fails with LayerDigestError while it streams', async (t) => {
  for (const compression of ['none', 'gzip'] as const) {
    const { archive } = await open(t, [{ layers: [base, app] }], {
      compression,
      tamper: (entries) =>
        entries.map((e) => {
          if (!e.name.endsWith('/layer.tar') || e.data === undefined || !e.data.includes('console.log')) return e;
          const data = Buffer.from(e.data);
          data[data.indexOf('console.log')] = 0x43; // same size, one byte changed
          return { ...e, data };
        }),
    });
    const error = await t.throwsAsync(bytesOf(await archive.images[0]!.openLayer(1)), { instanceOf: LayerDigestError });
    t.is(error.which, 'digest', compression);
    // The other layer is fine.
    await t.notThrowsAsync(bytesOf(await archive.images[0]!.openLayer(0)));
  }
});

test('a config whose bytes do not match its digest name is refused when opening', async (t) => {
  for (const form of ['legacy', 'oci'] as const) {
    const built = await buildDockerSave([{ layers: [base] }], {
      form,
      tamper: (entries) => entries.map((e) => (e.data !== undefined && e.data.includes('"rootfs"') ? { ...e, data: Buffer.from(e.data.toString().replace('"amd64"', '"arm64"')) } : e)),
    });
    const file = path.join(await tempDir(t), 'image.tar');
    await writeFile(file, built.bytes);
    const error = await t.throwsAsync(openDockerArchive(file), { instanceOf: ImageSourceError });
    t.is(error.kind, 'digest_mismatch', form);
    t.regex(error.message, /config .* hashes to sha256:/);
  }
});

test('an aborted signal stops opening and reading', async (t) => {
  const built = await buildDockerSave(TWO_IMAGES, { compression: 'gzip' });
  const file = path.join(await tempDir(t), 'image.tar.gz');
  await writeFile(file, built.bytes);
  const aborted = AbortSignal.abort(new Error('stop'));
  await t.throwsAsync(openDockerArchive(file, { signal: aborted }), { message: 'stop' });
  const archive = await openDockerArchive(file);
  t.teardown(() => archive.close());
  await t.throwsAsync(archive.images[0]!.openLayer(1, aborted), { message: 'stop' });
  const controller = new AbortController();
  const stream = await archive.images[0]!.openLayer(2, controller.signal);
  controller.abort(new Error('later'));
  await t.throwsAsync(bytesOf(stream));
});
