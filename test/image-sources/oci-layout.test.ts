import test, { type ExecutionContext } from 'ava';
import { mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Scanner } from '../../src/ecosystems/scanner.ts';
import { ImageSourceError, type ImageSourceErrorKind } from '../../src/indexer/image-source-error.ts';
import { LayerDigestError, LayerError } from '../../src/indexer/layer-errors.ts';
import { readLayer } from '../../src/indexer/layer-reader.ts';
import { openOciLayout, type OciLayoutOptions } from '../../src/indexer/oci-layout-source.ts';
import { OciLayoutBuilder, type BuiltManifest } from '../helpers/oci-image-builder.ts';

const OS: Scanner = { name: 'os', version: '1', kind: 'distribution', files: { paths: ['etc/os-release'] }, scan: () => ({}) };
const AMD64 = { os: 'linux', architecture: 'amd64' };
const ARM64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-oci-layout-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A layout with an image of two layers (gzip and zstd) for each platform given. */
async function layoutWith(t: ExecutionContext, platforms: { os: string; architecture: string; variant?: string }[]) {
  const dir = await tempDir(t);
  const layout = await OciLayoutBuilder.create(dir);
  const base = await layout.addLayer([{ path: 'etc/os-release', content: 'ID=test\nVERSION_ID=1\n' }]);
  const images: BuiltManifest[] = [];
  for (const platform of platforms) {
    const top = await layout.addLayer([{ path: 'opt/arch.txt', content: `${platform.architecture}\n` }], { compression: 'zstd' });
    images.push(await layout.addImage({ layers: [base, top], platform }));
  }
  return { dir, layout, images };
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function refused(t: ExecutionContext, dir: string, options: OciLayoutOptions, kind: ImageSourceErrorKind, message?: RegExp): Promise<void> {
  const error = await t.throwsAsync(openOciLayout(dir, options), { instanceOf: ImageSourceError });
  t.is(error.kind, kind, error.message);
  t.notRegex(error.message, /\n/);
  if (message) t.regex(error.message, message);
}

function blobFile(dir: string, digest: string): string {
  return path.join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

test('one platform, tagged: the manifest, config, and layers exactly as stored, readable by readLayer', async (t) => {
  const { dir, layout, images } = await layoutWith(t, [AMD64]);
  const built = images[0]!;
  await layout.tag('v1', built);
  const opened = await openOciLayout(dir, { tag: 'v1' });
  t.is(opened.images.length, 1);
  t.deepEqual(opened.skipped, []);
  t.is(opened.tag, 'v1');
  const image = opened.images[0]!;
  t.is(image.digest, built.digest);
  t.is(image.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  t.deepEqual(image.platform, AMD64);
  t.deepEqual(
    image.layers,
    built.layers!.map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size })),
  );
  const config = await image.config();
  t.is(config.digest, built.config!.digest);
  t.deepEqual(config.diffIds, built.layers!.map((l) => l.diffId));
  t.is(config.os, 'linux');
  for (const [i, layer] of built.layers!.entries()) t.true((await bytesOf(await image.openLayer(i))).equals(layer.bytes));
  const read = await readLayer(await image.openLayer(0), { scanners: [OS], digest: image.layers[0]!.digest, diffId: config.diffIds[0]!, mediaType: image.layers[0]!.mediaType });
  t.is(read.scanners.get('os')!.files.get('etc/os-release')?.data.toString(), 'ID=test\nVERSION_ID=1\n');
  const zstd = await readLayer(await image.openLayer(1), { scanners: [OS], digest: image.layers[1]!.digest, diffId: config.diffIds[1]!, mediaType: image.layers[1]!.mediaType });
  t.is(zstd.stats.format, 'zstd');
});

test('the only image is opened without a tag, tagged or not', async (t) => {
  const { dir, layout, images } = await layoutWith(t, [AMD64]);
  // Untagged: index.json lists the manifest without a name.
  await writeFile(
    path.join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: images[0]!.mediaType, digest: images[0]!.digest, size: images[0]!.size }] }),
  );
  t.is((await openOciLayout(dir)).images[0]!.digest, images[0]!.digest);
  await layout.tag('only', images[0]!);
  t.is((await openOciLayout(dir)).images[0]!.digest, images[0]!.digest);
});

test('two platforms and an attestation behind a tagged index: one image per platform, the attestation skipped with its reason', async (t) => {
  const { dir, layout, images } = await layoutWith(t, [AMD64, ARM64]);
  const attestation = await layout.addAttestation(images[0]!);
  const index = await layout.addIndex([images[0]!, images[1]!, attestation]);
  await layout.tag('multi', index);
  const opened = await openOciLayout(dir, { tag: 'multi' });
  t.deepEqual(opened.images.map((i) => i.digest), [images[0]!.digest, images[1]!.digest]);
  t.deepEqual(opened.images.map((i) => i.platform), [AMD64, ARM64]);
  t.deepEqual(opened.skipped.map((s) => ({ digest: s.digest, reason: s.reason })), [{ digest: attestation.digest, reason: 'attestation-manifest' }]);
  for (const image of opened.images) {
    const last = image.layers.length - 1;
    const read = await readLayer(await image.openLayer(last), { scanners: [{ ...OS, files: { paths: ['opt/arch.txt'] } }] });
    t.is(read.scanners.get('os')!.files.get('opt/arch.txt')?.data.toString(), `${image.platform!.architecture}\n`);
  }

  const arm = await openOciLayout(dir, { tag: 'multi', platforms: [{ os: 'linux', architecture: 'arm64' }] });
  t.deepEqual(arm.images.map((i) => i.digest), [images[1]!.digest]);
  t.deepEqual(arm.skipped.map((s) => s.reason).sort(), ['attestation-manifest', 'platform-not-requested']);
  await refused(t, dir, { tag: 'multi', platforms: [{ os: 'windows' }] }, 'no_match', /holds no container image to scan; skipped: /);
});

test('an attestation manifest without the index annotation is still skipped (platform unknown/unknown in its config)', async (t) => {
  const { dir, layout, images } = await layoutWith(t, [AMD64]);
  const attestation = await layout.addAttestation(images[0]!);
  const bare = { mediaType: attestation.mediaType, digest: attestation.digest, size: attestation.size };
  await layout.tag('multi', await layout.addIndex([images[0]!, bare]));
  const opened = await openOciLayout(dir, { tag: 'multi' });
  t.is(opened.images.length, 1);
  t.deepEqual(opened.skipped, [{ digest: attestation.digest, reason: 'attestation-manifest', detail: 'platform unknown/unknown' }]);
});

test('a nested index is followed; an index nested too deep is skipped', async (t) => {
  const { dir, layout, images } = await layoutWith(t, [AMD64, ARM64]);
  const inner = await layout.addIndex([images[1]!]);
  const outer = await layout.addIndex([images[0]!, inner]);
  await layout.tag('nested', outer);
  const opened = await openOciLayout(dir, { tag: 'nested' });
  t.deepEqual(opened.images.map((i) => i.digest), [images[0]!.digest, images[1]!.digest]);
  const shallow = await openOciLayout(dir, { tag: 'nested', limits: { indexDepth: 1 } });
  t.deepEqual(shallow.images.map((i) => i.digest), [images[0]!.digest]);
  t.deepEqual(shallow.skipped.map((s) => s.reason), ['nested-index-too-deep']);
});

test('tag selection: the tag asked for; several tags and none asked for is ambiguous; an unknown tag lists the names', async (t) => {
  const { dir, layout, images } = await layoutWith(t, [AMD64, ARM64]);
  await layout.tag('amd', images[0]!);
  await layout.tag('arm', images[1]!);
  t.deepEqual((await openOciLayout(dir, { tag: 'arm' })).images.map((i) => i.digest), [images[1]!.digest]);
  t.deepEqual((await openOciLayout(dir, { tag: 'amd' })).images.map((i) => i.digest), [images[0]!.digest]);
  await refused(t, dir, {}, 'ambiguous', /several images \("amd", "arm"\); choose one with oci:DIR:NAME/);
  await refused(t, dir, { tag: 'v9' }, 'no_match', /no image named "v9"; its names are "amd", "arm"/);
});

test('a full reference as the ref name, and containerd image names, select too', async (t) => {
  const { dir, images } = await layoutWith(t, [AMD64, ARM64]);
  const entry = (m: BuiltManifest, annotations: Record<string, string>) => ({ mediaType: m.mediaType, digest: m.digest, size: m.size, annotations });
  await writeFile(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        entry(images[0]!, { 'org.opencontainers.image.ref.name': 'registry.example/app:1.0' }),
        entry(images[1]!, { 'io.containerd.image.name': 'docker.io/library/app:2.0', 'org.opencontainers.image.ref.name': '2.0' }),
      ],
    }),
  );
  t.is((await openOciLayout(dir, { tag: 'registry.example/app:1.0' })).images[0]!.digest, images[0]!.digest);
  t.is((await openOciLayout(dir, { tag: 'docker.io/library/app:2.0' })).images[0]!.digest, images[1]!.digest);
  t.is((await openOciLayout(dir, { tag: '2.0' })).images[0]!.digest, images[1]!.digest);
});

test('artifacts are skipped with a reason; a layout of artifacts only has no image to scan', async (t) => {
  const { dir, layout, images } = await layoutWith(t, [AMD64]);
  const sbom = await layout.addArtifact({ artifactType: 'application/spdx+json', content: '{}', layerMediaType: 'application/spdx+json' });
  const chart = await layout.addArtifact({ artifactType: '', content: 'chart', layerMediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', configMediaType: 'application/vnd.cncf.helm.config.v1+json' });
  await layout.tag('all', await layout.addIndex([images[0]!, sbom, { mediaType: chart.mediaType, digest: chart.digest, size: chart.size }]));
  const opened = await openOciLayout(dir, { tag: 'all' });
  t.is(opened.images.length, 1);
  t.deepEqual(opened.skipped.map((s) => [s.digest, s.reason]), [
    [sbom.digest, 'artifact'],
    [chart.digest, 'artifact'],
  ]);
  t.regex(opened.skipped[1]!.detail, /helm/);
  await layout.tag('chart', chart);
  await refused(t, dir, { tag: 'chart' }, 'no_match', /holds no container image/);
});

test('a corrupted layer blob (same size) fails while it streams with LayerDigestError; a wrong size is found when opening', async (t) => {
  const { dir, layout, images } = await layoutWith(t, [AMD64]);
  await layout.tag('v1', images[0]!);
  const layer = images[0]!.layers![1]!;
  const file = blobFile(dir, layer.digest);
  const bytes = await readFile(file);
  bytes.writeUInt8(bytes.readUInt8(bytes.length - 5) ^ 0xff, bytes.length - 5);
  await writeFile(file, bytes);
  const opened = await openOciLayout(dir, { tag: 'v1' });
  const error = await t.throwsAsync(bytesOf(await opened.images[0]!.openLayer(1)), { instanceOf: LayerDigestError });
  t.is(error.expected, layer.digest);
  t.true((await bytesOf(await opened.images[0]!.openLayer(0))).equals(images[0]!.layers![0]!.bytes));

  await writeFile(file, Buffer.concat([bytes, Buffer.from('x')]));
  await refused(t, dir, { tag: 'v1' }, 'digest_mismatch', /layer 1 blob sha256:[0-9a-f]{64} is \d+ bytes, its descriptor says \d+/);
});

test('a layer blob that grows after opening fails while it streams', async (t) => {
  const { dir, layout, images } = await layoutWith(t, [AMD64]);
  await layout.tag('v1', images[0]!);
  const opened = await openOciLayout(dir, { tag: 'v1' });
  const layer = images[0]!.layers![0]!;
  await writeFile(blobFile(dir, layer.digest), Buffer.concat([layer.bytes, Buffer.from('more')]));
  const error = await t.throwsAsync(bytesOf(await opened.images[0]!.openLayer(0)), { instanceOf: LayerError });
  t.is(error.code, 'layer_size_mismatch');
});

test('a corrupted manifest or config blob is refused when opening', async (t) => {
  const { dir, layout, images } = await layoutWith(t, [AMD64]);
  await layout.tag('v1', images[0]!);
  const configFile = blobFile(dir, images[0]!.config!.digest);
  const config = await readFile(configFile);
  await writeFile(configFile, Buffer.from(config.toString().replace('"amd64"', '"arm64"')));
  await refused(t, dir, { tag: 'v1' }, 'digest_mismatch', /config blob sha256:[0-9a-f]{64} hashes to sha256:/);
  await writeFile(configFile, config);
  const manifestFile = blobFile(dir, images[0]!.digest);
  await writeFile(manifestFile, Buffer.from(images[0]!.bytes.toString().replace('"schemaVersion":2', '"schemaVersion":3')));
  await refused(t, dir, { tag: 'v1' }, 'digest_mismatch', /manifest blob sha256:[0-9a-f]{64} hashes to/);
});

test('a missing blob is named', async (t) => {
  const { dir, layout, images } = await layoutWith(t, [AMD64]);
  await layout.tag('v1', images[0]!);
  await unlink(blobFile(dir, images[0]!.layers![1]!.digest));
  await refused(t, dir, { tag: 'v1' }, 'not_found', new RegExp(`blob ${images[0]!.layers![1]!.digest} is missing`));
});

test('paths escaping the layout: a traversal in an index digest, a blob symlinked outside', async (t) => {
  const { dir, layout, images } = await layoutWith(t, [AMD64]);
  await writeFile(
    path.join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:../../../../etc/passwd', size: 100 }] }),
  );
  await refused(t, dir, {}, 'invalid', /index\.json is invalid: manifests\.0\.digest: not a valid sha256\/sha512 digest/);

  await layout.tag('v1', images[0]!);
  const outside = path.join(await tempDir(t), 'secret');
  const layer = images[0]!.layers![0]!;
  await writeFile(outside, layer.bytes);
  await unlink(blobFile(dir, layer.digest));
  await symlink(outside, blobFile(dir, layer.digest));
  await refused(t, dir, { tag: 'v1' }, 'not_allowed', /blob sha256:[0-9a-f]{64} resolves outside the layout directory/);
  // A symlink that stays inside the layout is fine.
  const inside = path.join(dir, 'blobs', 'copy');
  await writeFile(inside, layer.bytes);
  await unlink(blobFile(dir, layer.digest));
  await symlink(inside, blobFile(dir, layer.digest));
  t.is((await openOciLayout(dir, { tag: 'v1' })).images.length, 1);
});

test('not a layout: a missing directory, a file, no oci-layout, another version, a bad index.json, an index.json over its cap', async (t) => {
  const { dir, layout, images } = await layoutWith(t, [AMD64]);
  await layout.tag('v1', images[0]!);
  await refused(t, path.join(dir, 'nope'), {}, 'not_found', /does not exist/);
  await refused(t, path.join(dir, 'oci-layout'), {}, 'not_an_image', /is not a directory/);
  await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '2.0.0' }));
  await refused(t, dir, {}, 'unsupported', /image layout version "2\.0\.0"/);
  await writeFile(path.join(dir, 'oci-layout'), 'nope');
  await refused(t, dir, {}, 'invalid', /oci-layout is not valid JSON/);
  await unlink(path.join(dir, 'oci-layout'));
  await refused(t, dir, {}, 'not_an_image', /it has no oci-layout/);
  await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const index = await readFile(path.join(dir, 'index.json'));
  await refused(t, dir, { limits: { indexBytes: 10 } }, 'too_large', /index\.json of \d+ bytes is over the limit of 10/);
  await writeFile(path.join(dir, 'index.json'), '{"schemaVersion": 2, "manifests": [');
  await refused(t, dir, {}, 'invalid', /index\.json is not valid JSON/);
  await writeFile(path.join(dir, 'index.json'), images[0]!.bytes);
  await refused(t, dir, {}, 'invalid', /index\.json is not an image index/);
  await writeFile(path.join(dir, 'index.json'), index);
  await refused(t, dir, { limits: { manifestBytes: 10 } }, 'too_large', /manifest sha256:[0-9a-f]{64} of \d+ bytes is over the limit of 10/);
});
