import { readFileSync } from 'node:fs';
import test from 'ava';
import { distributionKey } from '../../../src/ecosystems/distribution-key.ts';
import { apkPurl } from '../../../src/ecosystems/apk/apk-purl.ts';
import { apkRepositoryScanner } from '../../../src/ecosystems/apk/apk-repository-scanner.ts';
import { apkScanner } from '../../../src/ecosystems/apk/apk-scanner.ts';
import { parseApkRepositories } from '../../../src/ecosystems/apk/parse-apk-repositories.ts';
import { readApkInstalled } from '../../../src/ecosystems/apk/read-apk-installed.ts';
import type { FoundPackage, ScanResult } from '../../../src/ecosystems/scanner.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { layerFiles } from '../../helpers/layer-files.ts';

const withFixtures = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;
const DB = 'lib/apk/db/installed';

async function scan(name: string): Promise<ScanResult> {
  return apkScanner.scan(await layerFiles({ [DB]: readFileSync(fixture('pkgdb', 'apk', name)) }, apkScanner.files));
}

const row = (p: FoundPackage) => `${p.name} ${p.version} ${p.arch} ${p.sourceName}`;

withFixtures(`Alpine 3.21 database: 39 packages with origin, arch, maintainer and binaries${suffix}`, async (t) => {
  const result = await scan('apk-tools-alpine3.21-installed');
  t.deepEqual(result.notes, []);
  t.is(result.packages?.length, 39);
  t.deepEqual(result.packages?.slice(0, 3).map(row), [
    'alpine-base 3.21.3-r0 x86_64 alpine-base',
    'alpine-baselayout 3.6.8-r1 x86_64 alpine-baselayout',
    'alpine-baselayout-data 3.6.8-r1 x86_64 alpine-baselayout',
  ]);
  const busybox = result.packages?.find((p) => p.name === 'busybox');
  t.like(busybox, { ecosystem: 'apk', sourceVersion: busybox?.version, vendor: 'Sören Tempel <soeren+alpine@soeren-tempel.net>', path: DB });
  t.true(busybox?.files?.includes('bin/busybox'));
  const apkTools = result.packages?.find((p) => p.name === 'apk-tools');
  t.true(apkTools?.files?.includes('sbin/apk'));
  // Only binaries and language-package metadata are kept, never the full list.
  t.false(result.packages?.some((p) => p.files?.some((f) => f.startsWith('etc/'))));
  t.true(result.packages?.every((p) => p.purl === undefined && p.sourceVersion === p.version));
});

withFixtures(`real databases of other sizes give their exact package lists${suffix}`, async (t) => {
  const osv = await scan('osv-scalibr-installed');
  t.is(osv.packages?.length, 15);
  t.true(osv.packages?.map(row).includes('musl 1.2.4-r0 x86_64 musl'));
  t.true(osv.packages?.map(row).includes('alpine-baselayout 3.4.3-r1 x86_64 alpine-baselayout'));
  const trivy = await scan('trivy-apk-installed');
  t.is(trivy.packages?.length, 15);
  t.true(trivy.packages?.map((p) => `${p.name}=${p.version}`).includes('test=2.9.11_pre20061021-r2'));
  t.deepEqual(trivy.notes, [`${DB}: 1 record without a name or version skipped: invalidPackageWithoutAVersion (no V)`]);
  const multiple = await scan('syft-multiple-2-installed');
  t.is(multiple.packages?.length, 14);
  const single = await scan('syft-single');
  t.deepEqual(single.packages?.map(row), ['musl-utils 1.1.24-r2 x86_64 musl']);
  t.deepEqual(single.packages?.[0]?.files, ['sbin/ldconfig', 'usr/bin/iconv', 'usr/bin/ldd', 'usr/bin/getconf', 'usr/bin/getent']);
  t.is(single.packages?.[0]?.vendor, 'Timo Teräs <timo.teras@iki.fi>');
  const arch = await scan('osv-scalibr-different-arch');
  t.deepEqual(arch.packages?.map(row), ['alpine-baselayout-data 3.4.3-r1 noarch alpine-baselayout']);
  for (const name of ['syft-base', 'syft-empty-deps-and-provides', 'syft-extra-file-attributes', 'grype-alpine-match-coverage-installed']) {
    const result = await scan(name);
    t.true((result.packages?.length ?? 0) > 0, name);
    t.deepEqual(result.notes, [], name);
  }
});

withFixtures(`no origin: the package is its own source${suffix}`, async (t) => {
  const result = await scan('osv-scalibr-no-origin');
  t.deepEqual(result.packages, [{ ecosystem: 'apk', name: 'pkgname', version: '1.2.3', sourceName: 'pkgname', sourceVersion: '1.2.3', arch: 'x86_64', path: DB }]);
});

withFixtures(`corrupt database: the readable record survives, the rest is noted${suffix}`, async (t) => {
  const result = await scan('syft-corrupt-installed');
  t.deepEqual(result.packages?.map(row), ['alpine-baselayout-data 3.2.0-r22 x86_64 alpine-baselayout']);
  t.deepEqual(result.notes, [`${DB}: 1 line not of the form "X:value" skipped (first: line 1)`]);
});

test('records without name or version, CRLF, invalid UTF-8, empty input', (t) => {
  const text = 'P:a\r\nV:1.0-r0\r\n\r\nP:b\nA:x86_64\n\nV:2.0-r0\n\nP:c\nV:3.0-r1\nm:J\xfcrgen\n';
  const result = readApkInstalled(Buffer.from(text, 'latin1'), DB, { remaining: 10 });
  t.deepEqual(result.packages.map((p) => `${p.name}=${p.version}`), ['a=1.0-r0', 'c=3.0-r1']);
  t.is(result.packages[1]?.vendor, 'J\uFFFDrgen');
  t.deepEqual(result.notes, [
    `${DB} is not valid UTF-8; invalid bytes were replaced`,
    `${DB}: 2 records without a name or version skipped: b (no V), line 7 (no P)`,
  ]);
  t.deepEqual(readApkInstalled(Buffer.alloc(0), DB, { remaining: 10 }), { packages: [], notes: [] });
});

test('file lists stay within the per-database budget', (t) => {
  const lines = ['P:many', 'V:1-r0', 'F:usr/bin'];
  for (let i = 0; i < 50; i++) lines.push(`R:tool${i}`);
  const result = readApkInstalled(Buffer.from(lines.join('\n')), DB, { remaining: 20 });
  t.is(result.packages[0]?.files?.length, 20);
  t.deepEqual(result.notes, [`${DB}: file lists of 1 package were cut at the limit of kept files`]);
});

test('etc/apk/repositories gives the branch the matcher should use', async (t) => {
  const scanRepos = async (text: string) => apkRepositoryScanner.scan(await layerFiles({ 'etc/apk/repositories': text }, apkRepositoryScanner.files));
  const stable = await scanRepos('https://mirror.example/alpine/v3.19/main\nhttps://mirror.example/alpine/v3.19/community\n# comment\n@testing https://mirror.example/alpine/edge/testing\n');
  t.deepEqual(stable, { distributions: [{ did: 'alpine', name: 'Alpine Linux', version: 'v3.19', versionId: '3.19', path: 'etc/apk/repositories' }], notes: [] });
  t.is(distributionKey(stable.distributions?.[0] as { did: string }), 'alpine:3.19');
  const edge = await scanRepos('http://mirror.example/alpine/edge/main\r\nhttp://mirror.example/alpine/edge/community\r\n');
  t.is(distributionKey(edge.distributions?.[0] as { did: string }), 'alpine:edge');
  const mixed = await scanRepos('https://x/alpine/v3.18/main\nhttps://x/alpine/v3.19/main\n');
  t.deepEqual(mixed, { distributions: [], notes: ['etc/apk/repositories mixes Alpine branches: 3.18, 3.19'] });
  t.deepEqual(await scanRepos('https://rolling.example/os\n'), { distributions: [], notes: [] });
  t.deepEqual(await scanRepos('/local/repo\n\n'), { distributions: [], notes: [] });
  t.deepEqual(parseApkRepositories('@edge https://x/alpine/edge/main\n'), [{ url: 'https://x/alpine/edge/main', tag: 'edge', branch: 'edge', component: 'main' }]);
});

test('apkPurl builds a purl once the distribution is known', (t) => {
  t.is(apkPurl({ name: 'musl', version: '1.2.4-r0', arch: 'x86_64' }, { did: 'alpine', versionId: '3.18.4' }), 'pkg:apk/alpine/musl@1.2.4-r0?arch=x86_64&distro=alpine-3.18.4');
});
