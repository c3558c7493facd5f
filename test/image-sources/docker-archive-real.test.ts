import test from 'ava';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { apkScanner, scanApk } from '../../src/ecosystems/apk/apk-scanner.ts';
import { openDockerArchive, type DockerArchive } from '../../src/indexer/docker-archive-source.ts';
import { readLayer } from '../../src/indexer/layer-reader.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../helpers/fixtures.ts';

/** The `docker save` archives among the shared fixtures, with their expected package lists. */
function images(): { archive: string; expected: string }[] {
  if (!HAVE_FIXTURES) return [];
  return readdirSync(fixture('pkgdb', 'images'))
    .filter((name) => name.endsWith('.docker-save.tar.gz'))
    .map((archive) => {
      // trivy-alpine-3.11.5.docker-save.tar.gz → alpine-311.expected-packages.tsv
      const [, major, minor] = /alpine-(\d+)\.(\d+)\./.exec(archive) ?? [];
      return { archive, expected: `alpine-${major}${minor}.expected-packages.tsv` };
    });
}

/** name, version, arch, origin of each row of an expected-packages TSV, sorted. */
function expectedPackages(file: string): string[] {
  const [, ...rows] = readFileSync(fixture('pkgdb', 'images', file), 'utf8').trim().split('\n');
  return rows.map((row) => row.split('\t').slice(0, 4).join(' ')).sort();
}

async function sha256Of(stream: AsyncIterable<Buffer>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}

/** The apk packages of the archive's image, read from its layers through readLayer and the apk scanner. */
async function apkPackages(archive: DockerArchive, t: { is: (a: unknown, b: unknown) => void }): Promise<string[]> {
  const [image] = archive.images;
  const config = await image!.config();
  const found: string[] = [];
  for (const [i, layer] of image!.layers.entries()) {
    const read = await readLayer(await image!.openLayer(i), { scanners: [apkScanner], digest: layer.digest, diffId: config.diffIds[i]!, mediaType: layer.mediaType });
    t.is(read.stats.diffId, config.diffIds[i]);
    const files = read.scanners.get('apk')!;
    const result = scanApk(files);
    for (const p of result.packages ?? []) found.push(`${p.name} ${p.version} ${p.arch} ${p.sourceName}`);
  }
  return found.sort();
}

for (const { archive, expected } of HAVE_FIXTURES ? images() : [{ archive: 'alpine docker-save archives', expected: '' }]) {
  const title = `${archive} (gzip): one image, diff_ids match the layer streams, the apk scanner finds exactly the expected packages`;
  if (!HAVE_FIXTURES) {
    test.skip(title + NO_FIXTURES, () => {});
    continue;
  }
  test(title, async (t) => {
    const opened = await openDockerArchive(fixture('pkgdb', 'images', archive));
    t.teardown(() => opened.close());
    t.is(opened.compression, 'gzip');
    t.is(opened.images.length, 1);
    const image = opened.images[0]!;
    const config = await image.config();
    t.is(image.digest, config.digest, 'a docker save has no manifest: the config digest is the identity');
    t.is(image.layers.length, 1);
    t.is(config.diffIds.length, image.layers.length);
    t.deepEqual(image.platform, { os: 'linux', architecture: 'amd64' });
    for (const [i, layer] of image.layers.entries()) {
      t.is(layer.digest, config.diffIds[i]!, 'an uncompressed layer.tar is stored as its diff_id');
      t.is(layer.mediaType, 'application/vnd.docker.image.rootfs.diff.tar');
      t.is(await sha256Of(await image.openLayer(i)), config.diffIds[i]!);
    }
    let yielded = 0;
    for await (const { index, stream } of image.openLayers()) {
      t.is(await sha256Of(stream), config.diffIds[index]!);
      yielded++;
    }
    t.is(yielded, image.layers.length);
    t.deepEqual(await apkPackages(opened, t), expectedPackages(expected));
  });

  test(`${archive} decompressed to a plain tar: layers read as byte ranges give the same digests and packages`, async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-docker-save-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const plain = path.join(dir, 'image.tar');
    await writeFile(plain, gunzipSync(readFileSync(fixture('pkgdb', 'images', archive))));
    const opened = await openDockerArchive(plain);
    t.is(opened.compression, 'none');
    const gz = await openDockerArchive(fixture('pkgdb', 'images', archive));
    t.teardown(() => gz.close());
    t.is(opened.images[0]!.digest, gz.images[0]!.digest);
    t.deepEqual(opened.images[0]!.layers, gz.images[0]!.layers);
    t.is(await sha256Of(await opened.images[0]!.openLayer(0)), opened.images[0]!.layers[0]!.digest);
    t.deepEqual(await apkPackages(opened, t), expectedPackages(expected));
  });
}
