import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { openDockerArchive, type DockerArchiveLimits } from '../../src/indexer/docker-archive-source.ts';
import { ImageSourceError, type ImageSourceErrorKind } from '../../src/indexer/image-source-error.ts';
import { LayerFormatError } from '../../src/indexer/layer-errors.ts';
import type { LayerFile } from '../helpers/oci-image-builder.ts';
import { buildDockerSave, packEntries, type SaveEntry } from './docker-save-builder.ts';

const base: LayerFile[] = [{ path: 'etc/os-release', content: 'ID=test\n' }];
/** Incompressible, so that a cut in a compressed archive falls inside this layer. */
const big: LayerFile[] = [{ path: 'data.bin', content: randomBytes(256 * 1024) }];

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-docker-save-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function fileOf(t: ExecutionContext, bytes: Buffer, name = 'image.tar'): Promise<string> {
  const file = path.join(await tempDir(t), name);
  await writeFile(file, bytes);
  return file;
}

/** Opening `file` fails with one ImageSourceError of `kind`, whose message is one line. */
async function refused(t: ExecutionContext, file: string, kind: ImageSourceErrorKind, message?: RegExp, limits?: Partial<DockerArchiveLimits>): Promise<void> {
  const error = await t.throwsAsync(openDockerArchive(file, limits ? { limits } : {}), { instanceOf: ImageSourceError });
  t.is(error.kind, kind, error.message);
  t.notRegex(error.message, /\n/);
  if (message) t.regex(error.message, message);
}

test('a path that does not exist', async (t) => {
  await refused(t, path.join(await tempDir(t), 'missing.tar'), 'not_found', /does not exist/);
});

test('a directory', async (t) => {
  await refused(t, await tempDir(t), 'unreadable', /not a regular file/);
});

test('an empty file', async (t) => {
  await refused(t, await fileOf(t, Buffer.alloc(0)), 'not_an_image', /empty/);
});

test('a file that is not a tar (text, zeros short of a header, random bytes)', async (t) => {
  await refused(t, await fileOf(t, Buffer.from('hello, this is not an archive\n'.repeat(100))), 'not_an_image', /not a tar archive/);
  await refused(t, await fileOf(t, Buffer.alloc(100)), 'not_an_image');
  await refused(t, await fileOf(t, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251))), 'not_an_image');
});

test('a gzip file that does not hold a tar', async (t) => {
  await refused(t, await fileOf(t, gzipSync(Buffer.from('just text\n'.repeat(200))), 'x.tar.gz'), 'not_an_image', /does not hold a tar archive/);
});

test('an xz or bzip2 archive is named as such', async (t) => {
  await refused(t, await fileOf(t, Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3])), 'unsupported', /xz- or bzip2/);
  await refused(t, await fileOf(t, Buffer.from('BZh91AY&SY')), 'unsupported');
});

test('a truncated plain archive: cut inside a layer, and cut before manifest.json', async (t) => {
  const built = await buildDockerSave([{ layers: [base, big] }]);
  await refused(t, await fileOf(t, built.bytes.subarray(0, 100 * 1024)), 'truncated', /truncated/);
  // Cut exactly at an entry boundary, before manifest.json: every entry whole, but no manifest.
  const manifestAt = built.tar.indexOf(Buffer.from('manifest.json\0'));
  await refused(t, await fileOf(t, built.bytes.subarray(0, manifestAt)), 'not_an_image', /no manifest\.json/);
});

test('a truncated gzip archive', async (t) => {
  const built = await buildDockerSave([{ layers: [base, big] }], { compression: 'gzip' });
  await refused(t, await fileOf(t, built.bytes.subarray(0, Math.floor(built.bytes.length * 0.6)), 'x.tar.gz'), 'truncated', /ends early/);
  // A whole gzip stream of a tar that stops inside an entry.
  await refused(t, await fileOf(t, gzipSync(built.tar.subarray(0, 100 * 1024)), 'y.tar.gz'), 'truncated', /inside an entry/);
});

test('a corrupt gzip archive (bytes changed in the middle, a bad header)', async (t) => {
  const built = await buildDockerSave([{ layers: [base, big] }], { compression: 'gzip' });
  const corrupt = Buffer.from(built.bytes);
  for (let i = 0; i < 64; i++) corrupt.writeUInt8(corrupt.readUInt8(Math.floor(corrupt.length / 2) + i) ^ 0x5a, Math.floor(corrupt.length / 2) + i);
  await refused(t, await fileOf(t, corrupt, 'x.tar.gz'), 'corrupt', /gzip stream is corrupt/);
  const badHeader = Buffer.from(built.bytes);
  badHeader[3] = 0xff; // reserved flag bits
  await refused(t, await fileOf(t, badHeader, 'y.tar.gz'), 'corrupt');
});

test('a corrupt tar header in a plain archive', async (t) => {
  const built = await buildDockerSave([{ layers: [base] }]);
  const corrupt = Buffer.from(built.bytes);
  // The second entry's header: after the first entry (a directory, one header block).
  corrupt.writeUInt8(corrupt.readUInt8(512 + 10) ^ 0xff, 512 + 10);
  await refused(t, await fileOf(t, corrupt), 'corrupt', /corrupt tar header at byte 512/);
});

test('manifest.json that does not parse, or is not a list of images', async (t) => {
  const replaceManifest = (data: string) => (entries: SaveEntry[]) => entries.map((e) => (e.name === 'manifest.json' ? { ...e, data: Buffer.from(data) } : e));
  for (const compression of ['none', 'gzip'] as const) {
    const notJson = await buildDockerSave([{ layers: [base] }], { compression, tamper: replaceManifest('[{"Config": "x.json",') });
    await refused(t, await fileOf(t, notJson.bytes), 'invalid', /manifest\.json is not valid JSON/);
    const wrong = await buildDockerSave([{ layers: [base] }], { compression, tamper: replaceManifest('{"Config": 1}') });
    await refused(t, await fileOf(t, wrong.bytes), 'invalid', /manifest\.json is invalid/);
    const empty = await buildDockerSave([{ layers: [base] }], { compression, tamper: replaceManifest('[]') });
    await refused(t, await fileOf(t, empty.bytes), 'invalid', /lists no image/);
  }
});

test('a manifest.json over the cap is refused before it is read', async (t) => {
  const huge = JSON.stringify([{ Config: 'x.json', RepoTags: Array.from({ length: 60_000 }, (_, i) => `example/image:tag-${i}`), Layers: [] }]);
  t.true(huge.length > 1024 * 1024);
  for (const compression of ['none', 'gzip'] as const) {
    const built = await buildDockerSave([{ layers: [base] }], { compression, tamper: (entries) => entries.map((e) => (e.name === 'manifest.json' ? { ...e, data: Buffer.from(huge) } : e)) });
    await refused(t, await fileOf(t, built.bytes), 'too_large', /manifest\.json of \d+ bytes is over the limit of 1048576/);
  }
  const small = await buildDockerSave([{ layers: [base] }]);
  await refused(t, await fileOf(t, small.bytes), 'too_large', /over the limit of 16/, { manifestBytes: 16 });
});

test('a config over the cap, too many entries, too many bytes of entries', async (t) => {
  const built = await buildDockerSave([{ layers: [base] }], { compression: 'gzip' });
  const file = await fileOf(t, built.bytes);
  await refused(t, file, 'too_large', /config .* over the limit of 10/, { configBytes: 10 });
  await refused(t, file, 'too_large', /more than 3 entries/, { entries: 3 });
  await refused(t, file, 'too_large', /holds more than 1000 bytes of entries/, { decompressedBytes: 1000 });
  await refused(t, await fileOf(t, (await buildDockerSave([{ layers: [base] }])).bytes), 'too_large', /more than 3 entries/, { entries: 3 });
});

test('no manifest.json; an OCI layout tar is told apart', async (t) => {
  const noManifest = await buildDockerSave([{ layers: [base] }], { tamper: (entries) => entries.filter((e) => e.name !== 'manifest.json') });
  await refused(t, await fileOf(t, noManifest.bytes), 'not_an_image', /no manifest\.json/);
  const ociTar = await packEntries([
    { name: 'oci-layout', data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
    { name: 'index.json', data: Buffer.from('{"schemaVersion":2,"manifests":[]}') },
  ]);
  await refused(t, await fileOf(t, ociTar), 'unsupported', /use oci:DIR/);
});

test('a layer or config named in manifest.json but missing, a link loop, a link to a directory', async (t) => {
  const missingLayer = await buildDockerSave([{ layers: [base] }], { tamper: (entries) => entries.filter((e) => !e.name.endsWith('/layer.tar')) });
  await refused(t, await fileOf(t, missingLayer.bytes), 'invalid', /names ".*\/layer\.tar", which is not in the archive/);
  const missingConfig = await buildDockerSave([{ layers: [base] }], { form: 'oci', compression: 'gzip', tamper: (entries) => entries.filter((e) => e.data === undefined || !e.data.includes('"rootfs"')) });
  await refused(t, await fileOf(t, missingConfig.bytes), 'invalid', /which is not in the archive/);
  const loop = await buildDockerSave([{ layers: [base] }], {
    tamper: (entries) => entries.map((e) => (e.name.endsWith('/layer.tar') ? { name: e.name, type: 'symlink' as const, linkname: 'layer.tar' } : e)),
  });
  await refused(t, await fileOf(t, loop.bytes), 'invalid', /chain of more than 8 links/);
  const toDir = await buildDockerSave([{ layers: [base] }], {
    tamper: (entries) => entries.map((e) => (e.name.endsWith('/layer.tar') ? { name: e.name, type: 'symlink' as const, linkname: '.' } : e)),
  });
  await refused(t, await fileOf(t, toDir.bytes), 'invalid', /is not a file in the archive/);
});

test('diff_ids that do not match the layer count', async (t) => {
  const built = await buildDockerSave([{ layers: [base] }], {
    form: 'oci',
    tamper: (entries) => entries.map((e) => (e.name === 'manifest.json' ? { ...e, data: Buffer.from(e.data!.toString().replace(/"Layers":\["([^"]+)"\]/, '"Layers":["$1","$1"]')) } : e)),
  });
  await refused(t, await fileOf(t, built.bytes), 'invalid', /lists 1 diff_ids for 2 layers/);
});

test('a compressed archive changed after it was opened: the layer read fails with a LayerFormatError, not a crash', async (t) => {
  const built = await buildDockerSave([{ layers: [base, big] }], { compression: 'gzip' });
  const dir = await tempDir(t);
  const file = path.join(dir, 'image.tar.gz');
  await writeFile(file, built.bytes);
  const archive = await openDockerArchive(file);
  t.teardown(() => archive.close());
  await writeFile(file, built.bytes.subarray(0, Math.floor(built.bytes.length * 0.6)));
  const read = async () => {
    for await (const _ of await archive.images[0]!.openLayer(1)) {
      /* read through */
    }
  };
  await t.throwsAsync(read(), { instanceOf: LayerFormatError });
});

const ROOT_USER = process.getuid?.() === 0;
(ROOT_USER ? test.skip : test)(`a file in a directory that cannot be entered${ROOT_USER ? ' (skipped: running as root, permissions do not apply)' : ''}`, async (t) => {
  const dir = await tempDir(t);
  await mkdir(path.join(dir, 'locked'), { mode: 0o000 });
  await refused(t, path.join(dir, 'locked', 'image.tar'), 'unreadable');
});
