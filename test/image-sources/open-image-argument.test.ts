import test, { type ExecutionContext } from 'ava';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ImageSourceError, type ImageSourceErrorKind } from '../../src/indexer/image-source-error.ts';
import { openImageArgument, parseImageArgument } from '../../src/indexer/open-image-argument.ts';
import { OciLayoutBuilder } from '../helpers/oci-image-builder.ts';
import { buildDockerSave } from './docker-save-builder.ts';

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-image-arg-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A directory with a docker save archive `app.tar` (tagged example/app:1.0) and an OCI layout `layout/` (tagged v1 and registry.example/app:2). */
async function sources(t: ExecutionContext) {
  const dir = await tempDir(t);
  const save = await buildDockerSave([{ layers: [[{ path: 'etc/os-release', content: 'ID=test\n' }]], repoTags: ['example/app:1.0'] }], { compression: 'gzip' });
  const archive = path.join(dir, 'app.tar');
  await writeFile(archive, save.bytes);
  const layoutDir = path.join(dir, 'layout');
  const layout = await OciLayoutBuilder.create(layoutDir);
  const layer = await layout.addLayer([{ path: 'etc/os-release', content: 'ID=test\n' }]);
  const image = await layout.addImage({ layers: [layer], platform: { os: 'linux', architecture: 'amd64' } });
  await layout.tag('v1', image);
  await layout.tag('registry.example/app:2', image);
  return { dir, archive, layoutDir, save, image };
}

async function refused(t: ExecutionContext, argument: string, kind: ImageSourceErrorKind, message?: RegExp): Promise<void> {
  const error = await t.throwsAsync(parseImageArgument(argument), { instanceOf: ImageSourceError });
  t.is(error.kind, kind, error.message);
  t.notRegex(error.message, /\n/);
  if (message) t.regex(error.message, message);
}

test('docker archives: docker-archive:PATH, with a repo tag or @index, and a bare file path', async (t) => {
  const { archive } = await sources(t);
  t.deepEqual(await parseImageArgument(`docker-archive:${archive}`), { kind: 'docker-archive', path: archive, reference: null });
  t.deepEqual(await parseImageArgument(`docker-archive:${archive}:example/app:1.0`), { kind: 'docker-archive', path: archive, reference: 'example/app:1.0' });
  t.deepEqual(await parseImageArgument(`docker-archive:${archive}:@0`), { kind: 'docker-archive', path: archive, reference: '@0' });
  t.deepEqual(await parseImageArgument(archive), { kind: 'docker-archive', path: archive, reference: null });
});

test('OCI layouts: oci:DIR, oci:DIR:NAME (a name may hold colons and slashes), a bare layout directory', async (t) => {
  const { layoutDir } = await sources(t);
  t.deepEqual(await parseImageArgument(`oci:${layoutDir}`), { kind: 'oci-layout', dir: layoutDir, tag: null });
  t.deepEqual(await parseImageArgument(`oci:${layoutDir}:v1`), { kind: 'oci-layout', dir: layoutDir, tag: 'v1' });
  t.deepEqual(await parseImageArgument(`oci:${layoutDir}:registry.example/app:2`), { kind: 'oci-layout', dir: layoutDir, tag: 'registry.example/app:2' });
  t.deepEqual(await parseImageArgument(layoutDir), { kind: 'oci-layout', dir: layoutDir, tag: null });
  t.deepEqual(await parseImageArgument(`${layoutDir}/`), { kind: 'oci-layout', dir: `${layoutDir}/`, tag: null });
});

test('a path holding a colon is found whole before it is split', async (t) => {
  const dir = await tempDir(t);
  const odd = path.join(dir, 'a:b.tar');
  await writeFile(odd, 'x');
  t.deepEqual(await parseImageArgument(`docker-archive:${odd}`), { kind: 'docker-archive', path: odd, reference: null });
  t.deepEqual(await parseImageArgument(`docker-archive:${odd}:tag`), { kind: 'docker-archive', path: odd, reference: 'tag' });
});

test('registry references: anything not on disk that could be one, and docker://', async (t) => {
  for (const reference of ['alpine', 'alpine:3.19', 'library/alpine@sha256:' + 'a'.repeat(64), 'localhost:5000/team/app:1', 'registry.example/app']) {
    t.deepEqual(await parseImageArgument(reference), { kind: 'registry', reference });
  }
  t.deepEqual(await parseImageArgument('docker://alpine:3.19'), { kind: 'registry', reference: 'alpine:3.19' });
  t.deepEqual(await openImageArgument('alpine:3.19'), { kind: 'registry', reference: 'alpine:3.19' });
});

test('bad arguments: empty, control characters, other transports, paths that do not exist, a plain directory', async (t) => {
  const dir = await tempDir(t);
  await refused(t, '', 'invalid', /empty/);
  await refused(t, 'x'.repeat(5000), 'invalid', /over 4096 characters/);
  await refused(t, 'alpine\n:latest', 'invalid', /control character/);
  await refused(t, 'docker://', 'invalid');
  await refused(t, 'oci-archive:image.tar', 'unsupported', /extract the archive and use oci:DIR/);
  await refused(t, 'docker-daemon:alpine:latest', 'unsupported', /docker save/);
  await refused(t, `docker-archive:${dir}/missing.tar`, 'not_found', /docker archive ".*missing\.tar" does not exist/);
  await refused(t, `docker-archive:`, 'not_found');
  await refused(t, `oci:${dir}/missing:v1`, 'not_found', /OCI layout directory/);
  await refused(t, `${dir}/missing.tar`, 'not_found', /does not exist/);
  await refused(t, './image.tar.gz', 'not_found');
  await refused(t, '../somewhere', 'not_found');
  await mkdir(path.join(dir, 'plain'));
  await refused(t, path.join(dir, 'plain'), 'not_an_image', /not an OCI image layout/);
});

test('openImageArgument opens local sources and passes platforms and limits on', async (t) => {
  const { archive, layoutDir, save, image } = await sources(t);
  const fromArchive = await openImageArgument(`docker-archive:${archive}:example/app:1.0`);
  t.is(fromArchive.kind, 'local');
  if (fromArchive.kind !== 'local') return;
  t.is(fromArchive.source.images[0]!.digest, save.images[0]!.configDigest);
  t.regex(fromArchive.source.description, /^docker archive ".*app\.tar"$/);
  await fromArchive.source.close();

  const fromLayout = await openImageArgument(`oci:${layoutDir}:v1`);
  t.is(fromLayout.kind === 'local' ? fromLayout.source.images[0]!.digest : null, image.digest);
  t.is(fromLayout.kind === 'local' ? fromLayout.source.description : null, `OCI layout ${JSON.stringify(layoutDir)} tag "v1"`);

  const wrongPlatform = await t.throwsAsync(openImageArgument(archive, { platforms: [{ os: 'linux', architecture: 'arm64' }] }), { instanceOf: ImageSourceError });
  t.is(wrongPlatform.kind, 'no_match');
  const overLimit = await t.throwsAsync(openImageArgument(`oci:${layoutDir}:v1`, { ociLayoutLimits: { configBytes: 5 } }), { instanceOf: ImageSourceError });
  t.is(overLimit.kind, 'too_large');
  const archiveLimit = await t.throwsAsync(openImageArgument(archive, { dockerArchiveLimits: { manifestBytes: 5 } }), { instanceOf: ImageSourceError });
  t.is(archiveLimit.kind, 'too_large');
});
