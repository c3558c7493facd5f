import { readFileSync } from 'node:fs';
import test from 'ava';
import { distributionKey } from '../../../src/ecosystems/distribution-key.ts';
import { apkRepositoryScanner } from '../../../src/ecosystems/apk/apk-repository-scanner.ts';
import { apkScanner } from '../../../src/ecosystems/apk/apk-scanner.ts';
import { dpkgScanner } from '../../../src/ecosystems/dpkg/dpkg-scanner.ts';
import { distributionScanner } from '../../../src/ecosystems/os-release/distribution-scanner.ts';
import { rpmScanner } from '../../../src/ecosystems/rpm/rpm-scanner.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { dockerSaveLayers, layerFilesFromTar } from '../../helpers/layer-files.ts';

const withFixtures = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;

for (const [image, expected, release] of [
  ['trivy-alpine-3.10.4.docker-save.tar.gz', 'alpine-310.expected-packages.tsv', '3.10'],
  ['trivy-alpine-3.11.5.docker-save.tar.gz', 'alpine-311.expected-packages.tsv', '3.11'],
] as const) {
  withFixtures(`real image ${image}: one layer, its release and exactly its packages${suffix}`, async (t) => {
    const layers = await dockerSaveLayers(readFileSync(fixture('pkgdb', 'images', image)));
    t.is(layers.length, 1);
    const layer = layers[0] as Buffer;

    const dist = distributionScanner.scan(await layerFilesFromTar(layer, distributionScanner.files));
    t.is(dist instanceof Promise, false);
    const found = 'distributions' in dist ? dist.distributions : [];
    t.is(found?.length, 1);
    t.is(distributionKey(found?.[0] as { did: string }), `alpine:${release}`);

    const repos = await apkRepositoryScanner.scan(await layerFilesFromTar(layer, apkRepositoryScanner.files));
    t.is(distributionKey(repos.distributions?.[0] as { did: string }), `alpine:${release}`);

    const apk = await apkScanner.scan(await layerFilesFromTar(layer, apkScanner.files));
    t.deepEqual(apk.notes, []);
    const rows = readFileSync(fixture('pkgdb', 'images', expected), 'utf8').trim().split('\n').slice(1)
      .map((line) => line.split('\t').slice(0, 4).join(' '));
    t.deepEqual(apk.packages?.map((p) => `${p.name} ${p.version} ${p.arch} ${p.sourceName}`), rows);
    t.true(apk.packages?.find((p) => p.name === 'busybox')?.files?.includes('bin/busybox'));

    // The other OS scanners find nothing in an Alpine layer and say nothing about it.
    t.deepEqual(await dpkgScanner.scan(await layerFilesFromTar(layer, dpkgScanner.files)), { packages: [], notes: [] });
    t.deepEqual(await rpmScanner.scan(await layerFilesFromTar(layer, rpmScanner.files)), { packages: [], notes: [] });
  });
}
