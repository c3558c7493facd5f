import test from 'ava';
import { createReadStream, readdirSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import type { Scanner } from '../../src/ecosystems/scanner.ts';
import { LayerDigestError } from '../../src/indexer/layer-errors.ts';
import { readLayer, type LayerReadResult } from '../../src/indexer/layer-reader.ts';
import { parseDigest, type Digest } from '../../src/oci/digest.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../helpers/fixtures.ts';

const APK: Scanner = { name: 'apk', version: '1', kind: 'package', files: { paths: ['lib/apk/db/installed'] }, scan: () => ({}) };
const OS: Scanner = { name: 'os', version: '1', kind: 'distribution', files: { paths: ['etc/os-release', 'usr/lib/os-release', 'etc/alpine-release'] }, scan: () => ({}) };

/** The `docker save` archives among the shared fixtures. */
function images(): string[] {
  return HAVE_FIXTURES ? readdirSync(fixture('pkgdb', 'images')).filter((name) => name.endsWith('.docker-save.tar.gz')) : [];
}

/**
 * Walks a gzip'd `docker save` archive (an outer tar holding manifest.json, the image config and
 * one tar per layer), calling `onEntry` with each entry's name and body, which it must consume.
 */
async function walkArchive(path: string, onEntry: (name: string, body: AsyncIterable<Buffer>) => Promise<void>): Promise<void> {
  const outer = extract();
  const reading = (async () => {
    for await (const entry of outer) await onEntry(entry.header.name, entry as AsyncIterable<Buffer>);
  })();
  createReadStream(path).pipe(createGunzip()).pipe(outer as unknown as NodeJS.WritableStream);
  await reading;
}

async function text(body: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

/** The archive's layer paths with their diff_ids, from manifest.json and the image config. */
async function layersOf(path: string): Promise<{ layer: string; diffId: Digest }[]> {
  const texts = new Map<string, string>();
  await walkArchive(path, async (name, body) => {
    if (name.endsWith('.json')) texts.set(name, await text(body));
    else for await (const _ of body) { /* not needed on this pass */ }
  });
  const [manifest] = JSON.parse(texts.get('manifest.json') ?? '[]') as { Config: string; Layers: string[] }[];
  if (manifest === undefined) throw new Error(`${path} has no manifest.json`);
  const config = JSON.parse(texts.get(manifest.Config) ?? '{}') as { rootfs?: { diff_ids?: string[] } };
  const diffIds = config.rootfs?.diff_ids ?? [];
  return manifest.Layers.map((layer, i) => ({ layer, diffId: parseDigest(diffIds[i], 'diff_id') }));
}

for (const image of HAVE_FIXTURES ? images() : ['alpine docker-save archives']) {
  const title = `the real image ${image}: its layer is read with its diff_id verified and lib/apk/db/installed is found`;
  if (!HAVE_FIXTURES) {
    test.skip(title + NO_FIXTURES, () => {});
    continue;
  }
  test(title, async (t) => {
    const path = fixture('pkgdb', 'images', image);
    const layers = await layersOf(path);
    t.true(layers.length >= 1);
    const results = new Map<string, LayerReadResult>();
    await walkArchive(path, async (name, body) => {
      const layer = layers.find((candidate) => candidate.layer === name);
      if (layer === undefined) {
        for await (const _ of body) { /* not a layer */ }
        return;
      }
      // docker save stores layers uncompressed, so the blob digest is the diff_id too.
      results.set(name, await readLayer(body, { scanners: [APK, OS], digest: layer.diffId, diffId: layer.diffId, mediaType: 'application/vnd.docker.image.rootfs.diff.tar' }));
    });
    t.is(results.size, layers.length);
    const withApk = [...results.values()].filter((result) => result.scanners.get('apk')!.files.has('lib/apk/db/installed'));
    t.is(withApk.length, 1);
    const read = withApk[0]!;
    const installed = read.scanners.get('apk')!.files.get('lib/apk/db/installed')!;
    const content = installed.data.toString('utf8');
    t.regex(content, /^C:Q1[A-Za-z0-9+/=]+\nP:\S+\n/);
    t.true(content.includes('\nP:musl\n'));
    t.true(content.includes('\nP:alpine-baselayout\n'));
    t.is(installed.size, installed.data.length);
    t.is(installed.mode & 0o170000, 0o100000);
    t.is(read.stats.format, 'tar');
    t.is(read.stats.digest, read.stats.diffId);
    t.true(read.stats.entries > 400);
    t.deepEqual(read.notes, []);
    const os = read.scanners.get('os')!;
    t.regex(os.files.get('etc/alpine-release')?.data.toString() ?? '', /^3\.1\d\.\d+\n$/);
    // Alpine ships etc/os-release as a regular file; whichever form, the path is kept.
    t.true(os.files.has('etc/os-release') || os.symlinks.has('etc/os-release'));
  });
}

(HAVE_FIXTURES ? test : test.skip)(`a real layer with the wrong diff_id fails with LayerDigestError${HAVE_FIXTURES ? '' : NO_FIXTURES}`, async (t) => {
  const [image] = images();
  if (image === undefined) return t.fail('no docker-save archives among the fixtures');
  const path = fixture('pkgdb', 'images', image);
  const layers = await layersOf(path);
  const wrong = 'sha256:0000000000000000000000000000000000000000000000000000000000000000';
  let failure: unknown = null;
  await walkArchive(path, async (name, body) => {
    if (layers.some((layer) => layer.layer === name)) {
      failure = await readLayer(body, { scanners: [APK], diffId: wrong }).then(() => null, (error: unknown) => error);
    } else {
      for await (const _ of body) { /* not a layer */ }
    }
  });
  t.true(failure instanceof LayerDigestError);
  t.is((failure as LayerDigestError).which, 'diffId');
  t.is((failure as LayerDigestError).expected, wrong);
});
