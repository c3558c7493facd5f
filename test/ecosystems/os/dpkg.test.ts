import { readFileSync } from 'node:fs';
import test from 'ava';
import { dpkgPurl } from '../../../src/ecosystems/dpkg/dpkg-purl.ts';
import { dpkgScanner } from '../../../src/ecosystems/dpkg/dpkg-scanner.ts';
import { parseControlStanzas } from '../../../src/ecosystems/dpkg/parse-control-stanzas.ts';
import { readDpkgStatus } from '../../../src/ecosystems/dpkg/read-dpkg-status.ts';
import type { FoundPackage, ScanResult } from '../../../src/ecosystems/scanner.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { entriesFromDir, layerFiles } from '../../helpers/layer-files.ts';
import type { LayerEntry } from '../../helpers/layer-files.ts';

const withFixtures = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;
const dpkg = (...p: string[]) => fixture('pkgdb', 'dpkg', ...p);
const STATUS = 'var/lib/dpkg/status';

async function scan(entries: Record<string, LayerEntry>): Promise<ScanResult> {
  return dpkgScanner.scan(await layerFiles(entries, dpkgScanner.files));
}

function byName(packages: FoundPackage[] | undefined, name: string): FoundPackage {
  const found = packages?.filter((p) => p.name === name) ?? [];
  if (found.length !== 1) throw new Error(`expected one ${name}, got ${found.length}`);
  return found[0] as FoundPackage;
}

test('parseControlStanzas: continuation lines, CRLF, comments, case-insensitive names, bad lines', (t) => {
  const { stanzas, problems } = parseControlStanzas(
    ' orphan continuation\r\nPackage: a\r\nDescription: short\r\n long line\r\n .\r\n# comment\r\nVERSION: 1\r\n\r\n\r\nnot a field\r\nPackage: b\r\n',
  );
  t.is(stanzas.length, 2);
  t.deepEqual([...(stanzas[0]?.fields ?? [])], [['package', 'a'], ['description', 'short\nlong line\n.'], ['version', '1']]);
  t.is(stanzas[1]?.line, 11);
  t.deepEqual(problems, ['line 1 continues no field', 'line 10 is not a "Field: value" line']);
});

withFixtures(`Ubuntu 18.04 status: 90 installed of 91 stanzas, sources, arch, maintainer${suffix}`, async (t) => {
  const result = await scan({ [STATUS]: readFileSync(dpkg('trivy-ubuntu1804-valid.status')) });
  t.deepEqual(result.notes, []);
  t.is(result.packages?.length, 90);
  t.false(result.packages?.some((p) => p.name === 'git'), 'deinstall ok config-files is not installed');
  t.deepEqual(byName(result.packages, 'fdisk'), {
    ecosystem: 'dpkg',
    name: 'fdisk',
    version: '2.31.1-0.4ubuntu3.1',
    sourceName: 'util-linux',
    sourceVersion: '2.31.1-0.4ubuntu3.1',
    arch: 'amd64',
    vendor: 'Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>',
    path: STATUS,
  });
  t.like(byName(result.packages, 'libpam-runtime'), { version: '1.1.8-3.6ubuntu2', sourceName: 'pam', sourceVersion: '1.1.8-3.6ubuntu2', arch: 'all' });
  // Source with its own version (binNMU / differing versions).
  const withSourceVersion = result.packages?.filter((p) => p.sourceName === 'util-linux' && p.sourceVersion === '2.31.1-0.4ubuntu3.1');
  t.true((withSourceVersion?.length ?? 0) >= 2);
  // No Source field: the binary's own name and version.
  const noSource = result.packages?.find((p) => p.name === 'libncurses5');
  t.like(noSource, { sourceName: 'ncurses' });
  t.true(result.packages?.every((p) => p.ecosystem === 'dpkg' && p.path === STATUS && p.purl === undefined));
});

withFixtures(`texlive status: 357 packages, "Source: name (version)" split${suffix}`, async (t) => {
  const result = await scan({ [STATUS]: readFileSync(dpkg('claircore-texlive.status')) });
  t.deepEqual(result.notes, []);
  t.is(result.packages?.length, 357);
  t.like(byName(result.packages, 'cpp'), { version: '4:7.4.0-1ubuntu2.3', sourceName: 'gcc-defaults', sourceVersion: '1.176ubuntu2.3', arch: 'amd64' });
  t.like(byName(result.packages, 'bsdutils'), { version: '1:2.31.1-0.4ubuntu3.6', sourceName: 'util-linux', sourceVersion: '2.31.1-0.4ubuntu3.6' });
  t.like(byName(result.packages, 'libgcc1'), { version: '1:8.4.0-1ubuntu1~18.04', sourceName: 'gcc-8', sourceVersion: '8.4.0-1ubuntu1~18.04' });
  t.like(byName(result.packages, 'libc6'), { version: '2.27-3ubuntu1', sourceName: 'glibc', sourceVersion: '2.27-3ubuntu1' });
  t.like(byName(result.packages, 'texlive-base'), { version: '2017.20180305-1', sourceName: 'texlive-base', sourceVersion: '2017.20180305-1', arch: 'all' });
  t.is(result.packages?.filter((p) => p.name.startsWith('texlive')).length, 11);
});

withFixtures(`osv-scalibr edge cases: Status field semantics, missing names and versions, blank lines${suffix}`, (t) => {
  const read = (name: string) => readDpkgStatus(readFileSync(dpkg('osv-scalibr-edgecases', name)), STATUS);
  // The third Status word decides; the want flag does not (deinstall ok installed: files still on disk).
  const status = read('statusfield');
  t.deepEqual(status.packages.map((p) => [p.name, p.extra?.status]), [
    ['wantinstall_installed', undefined],
    ['wantdeinstall_installed', 'deinstall reinstreq installed'],
    ['wantinstall_unpacked', 'install ok unpacked'],
    ['wantpurge_installed', 'purge ok installed'],
    ['wantnostatus', undefined],
  ]);
  t.deepEqual(status.notes, []);

  t.deepEqual(read('valid').packages.map((p) => `${p.name}=${p.version}`).slice(0, 3), ['accountsservice=22.08.8-6', 'acl=2.3.1-3', 'adduser=3.131']);
  t.deepEqual(read('single').packages.map((p) => `${p.name}=${p.version}`), ['acl=2.3.1-3']);
  t.deepEqual(read('trailingnewlines').packages.map((p) => p.name), ['acl']);
  t.deepEqual(read('empty'), { packages: [], notes: [] });

  const noPackage = read('nopackage');
  t.deepEqual(noPackage.packages.map((p) => p.name), ['foo', 'bar']);
  t.deepEqual(noPackage.notes, [`${STATUS}: 1 stanza without a Package field skipped`]);
  const noVersion = read('noversion');
  t.deepEqual(noVersion.packages.map((p) => p.name), ['foo', 'bar']);
  t.deepEqual(noVersion.notes, [`${STATUS}: 1 package without a Version skipped: acl`]);
  const invalid = read('invalid');
  t.deepEqual(invalid.packages, []);
  t.deepEqual(invalid.notes, [`${STATUS}: line 1 is not a "Field: value" line`, `${STATUS}: line 3 is not a "Field: value" line`]);

  t.like(read('transitional').packages[0], { name: 'iceweasel', version: '78.13.0esr-1~deb10u1', sourceName: 'firefox-esr', sourceVersion: '78.13.0esr-1~deb10u1' });
  t.like(read('transitional_dummy').packages[0], { name: 'git-core', version: '1:2.14.2-1', sourceName: 'git', sourceVersion: '1:2.14.2-1' });
  t.like(read('transitional_empty').packages[0], { name: 'runit-systemd', sourceName: 'runit' });
});

withFixtures(`corrupted status file gives what can be read, with notes${suffix}`, async (t) => {
  const result = await scan({ [STATUS]: readFileSync(dpkg('trivy-corrupted.status')) });
  t.deepEqual(result.packages?.map((p) => `${p.name}=${p.version}`), [
    'libpam-runtime=1.1.8-3.1ubuntu3',
    'libpam-modules-bin=1.1.8-3.1ubuntu3',
    'makedev=2.3.1-93ubuntu1',
    'libgcc1=1:5.1.1-12ubuntu1',
  ]);
  t.like(byName(result.packages, 'libgcc1'), { sourceName: 'gcc-5', sourceVersion: '5.1.1-12ubuntu1' });
  t.deepEqual(result.notes, [
    `${STATUS}: 1 package without a Version skipped: brokenPackageWithNoVersionThatShouldGetThrownOut`,
    `${STATUS}: 1 package with an invalid version skipped: invalidpkg 1:5.#`,
  ]);
});

withFixtures(`other real status files: third-party vendors, epochs, empty Package${suffix}`, async (t) => {
  const third = await scan({ [STATUS]: readFileSync(dpkg('trivy-third-party.status')) });
  t.like(byName(third.packages, 'docker-ce'), { version: '5:20.10.7~3-0~debian-buster', vendor: 'Docker <support@docker.com>', sourceName: 'docker-ce' });
  const syft = await scan({ [STATUS]: readFileSync(dpkg('syft-image-dpkg.status')) });
  t.deepEqual(syft.packages?.map((p) => `${p.name}=${p.version}`), ['libpam-runtime=1.1.8-3.6']);
  t.deepEqual(syft.notes, [`${STATUS}: 1 stanza without a Package field skipped`]);
  for (const [name, count] of [['claircore-vcpkg.status', 15], ['claircore-postgresql.status', 3], ['claircore-debian-only.status', 1]] as const) {
    const result = await scan({ [STATUS]: readFileSync(dpkg(name)) });
    t.is(result.packages?.length, count, name);
    t.deepEqual(result.notes, [], name);
  }
});

withFixtures(`distroless status.d: one file per package, md5sums are file lists not packages${suffix}`, async (t) => {
  const image = await scan(entriesFromDir(fixture('pkgdb', 'dpkg-distroless', 'syft-image-distroless-deb')));
  t.deepEqual(image.packages, [{
    ecosystem: 'dpkg',
    name: 'libsqlite3-0',
    version: '3.34.1-3',
    sourceName: 'sqlite3',
    sourceVersion: '3.34.1-3',
    arch: 'arm64',
    vendor: 'Laszlo Boszormenyi (GCS) <gcs@debian.org>',
    path: 'var/lib/dpkg/status.d/libsqlite3-0',
  }]);
  t.deepEqual(image.notes, []);

  const dir = 'var/lib/dpkg/status.d';
  const syft = await scan(entriesFromDir(fixture('pkgdb', 'dpkg-distroless', 'syft-status.d'), `${dir}/`));
  const names = syft.packages?.map((p) => `${p.path.slice(dir.length + 1)}:${p.name}`);
  t.deepEqual(names, [
    'coreutils-relationships:coreutils',
    'coreutils-relationships:libacl1',
    'coreutils-relationships:libc6',
    'coreutils-relationships:libgcc-s1',
    'coreutils-relationships:gcc-12-base',
    'coreutils-relationships:libattr1',
    'coreutils-relationships:libgmp10',
    'coreutils-relationships:libselinux1',
    'coreutils-relationships:libpcre2-8-0',
    'deinstall:linux-image-6.14.0-1012-aws',
    'doc-examples:mutt',
    'doc-examples:made-up-package-1',
    'doc-examples:made-up-package-2',
    'doc-examples:made-up-package-3',
    'doc-examples:made-up-package-4',
    'installed-size-4KB:apt',
    'libpam-runtime:libpam-runtime',
    'multiple:tzdata',
    'multiple:util-linux',
    'single:apt',
  ]);
  t.like(syft.packages?.find((p) => p.name === 'made-up-package-1'), { version: '1.0.0', sourceName: 'glibc', sourceVersion: '1.0.0' });
  t.like(syft.packages?.find((p) => p.name === 'tzdata'), { version: '2020a-0+deb10u1', sourceName: 'tzdata-dev' });
  t.deepEqual(syft.notes, [
    `${dir}/corrupt: line 5 is not a "Field: value" line`,
    `${dir}/corrupt: line 6 continues no field`,
    `${dir}/corrupt: 1 stanza without a Package field skipped`,
    `${dir}/doc-examples: 11 packages without a Version skipped: made-up-package-5, foo, bar, kernel-headers-2.2.10, hurd-dev, …`,
    `${dir}/empty: 1 stanza without a Package field skipped`,
    `${dir}/libpam-runtime: 5 packages without a Version skipped: debconf1, debconf2, debconf-2.0, cdebconf, libpam-modules`,
    `${dir}/multiple: 1 stanza without a Package field skipped`,
    `${dir}/multiple: 1 package without a Version skipped: no-version`,
  ]);

  const osv = await scan(entriesFromDir(fixture('pkgdb', 'dpkg-distroless', 'osv-scalibr-status.d'), `${dir}/`));
  t.deepEqual(osv.packages?.map((p) => `${p.name}=${p.version}`), ['foo=1.2.3']);
  // foo.md5sums lists foo's files; none of them is a language package or binary.
  t.is(osv.packages?.[0]?.files, undefined);
});

test('file lists: info/<pkg>[:arch].list and status.d md5sums give the files worth keeping', async (t) => {
  const status = [
    'Package: python3-requests', 'Status: install ok installed', 'Architecture: all', 'Version: 2.25.1+dfsg-2', '',
    'Package: libc-bin', 'Status: install ok installed', 'Architecture: amd64', 'Version: 2.36-9', '',
    'Package: openjdk-17-jre-headless', 'Status: install ok installed', 'Architecture: amd64', 'Version: 17.0.9+9-1~deb12u1', '',
  ].join('\n');
  const result = await scan({
    [STATUS]: status,
    'var/lib/dpkg/info/python3-requests.list': [
      '/.', '/usr', '/usr/lib/python3/dist-packages/requests', '/usr/lib/python3/dist-packages/requests/__init__.py',
      '/usr/lib/python3/dist-packages/requests-2.25.1.egg-info', '/usr/lib/python3/dist-packages/requests-2.25.1.egg-info/PKG-INFO',
      '/usr/share/doc/python3-requests/copyright',
    ].join('\n'),
    'var/lib/dpkg/info/libc-bin:amd64.list': '/sbin/ldconfig\r\n/usr/bin/getent\n/usr/share/man/man8/ldconfig.8.gz\n',
    'var/lib/dpkg/info/openjdk-17-jre-headless:amd64.list': '/usr/lib/jvm/java-17-openjdk-amd64/lib/jrt-fs.jar\n/usr/lib/jvm/java-17-openjdk-amd64/bin/java',
    'var/lib/dpkg/info/libc-bin:amd64.md5sums': 'ignored',
  });
  t.deepEqual(result.notes, []);
  t.deepEqual(byName(result.packages, 'python3-requests').files, [
    'usr/lib/python3/dist-packages/requests-2.25.1.egg-info',
    'usr/lib/python3/dist-packages/requests-2.25.1.egg-info/PKG-INFO',
  ]);
  t.deepEqual(byName(result.packages, 'libc-bin').files, ['sbin/ldconfig', 'usr/bin/getent']);
  t.deepEqual(byName(result.packages, 'openjdk-17-jre-headless').files, [
    'usr/lib/jvm/java-17-openjdk-amd64/lib/jrt-fs.jar',
    'usr/lib/jvm/java-17-openjdk-amd64/bin/java',
  ]);

  const distroless = await scan({
    'var/lib/dpkg/status.d/base': 'Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n',
    'var/lib/dpkg/status.d/base.md5sums': 'd41d8cd98f00b204e9800998ecf8427e  usr/bin/locale-check\n0123456789abcdef0123456789abcdef  usr/share/doc/x\nnot a line\n',
  });
  t.deepEqual(distroless.packages?.[0]?.files, ['usr/bin/locale-check']);
});

test('a huge file list streams through the filter and keeps a bounded result', async (t) => {
  const lines: string[] = [];
  for (let i = 0; i < 300_000; i++) lines.push(`/usr/share/texmf/doc/file-${i}.tex`);
  lines.push('/usr/bin/tex', 'x'.repeat(100_000), '/usr/bin/latex');
  const layer = await layerFiles({
    [STATUS]: 'Package: texlive\nVersion: 2022.20230122-3\nArchitecture: all\n',
    'var/lib/dpkg/info/texlive.list': lines.join('\n'),
  }, dpkgScanner.files);
  const kept = layer.files.get('var/lib/dpkg/info/texlive.list');
  t.true((kept?.size ?? 0) > 10_000_000);
  t.is(kept?.data.toString(), 'usr/bin/tex\nusr/bin/latex');
  t.deepEqual((await dpkgScanner.scan(layer)).packages?.[0]?.files, ['usr/bin/tex', 'usr/bin/latex']);
});

test('invalid UTF-8 in a status file is decoded leniently and noted', async (t) => {
  const bytes = Buffer.concat([Buffer.from('Package: foo\nMaintainer: J\xfcrgen <j@example.org>\nVersion: 1.0-1\n', 'latin1')]);
  const result = await scan({ [STATUS]: bytes });
  t.like(result.packages?.[0], { name: 'foo', version: '1.0-1', vendor: 'J\uFFFDrgen <j@example.org>' });
  t.deepEqual(result.notes, [`${STATUS} is not valid UTF-8; invalid bytes were replaced`]);
  t.deepEqual(await scan({ [STATUS]: Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 10]) }), {
    packages: [],
    notes: [`${STATUS} is not valid UTF-8; invalid bytes were replaced`, `${STATUS}: line 1 is not a "Field: value" line`],
  });
});

test('dpkgPurl builds a purl once the distribution is known', (t) => {
  t.is(dpkgPurl({ name: 'curl', version: '7.88.1-10+deb12u5', arch: 'amd64' }, { did: 'debian', versionId: '12' }), 'pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12');
  t.is(dpkgPurl({ name: 'libgcc1', version: '1:8.4.0-1ubuntu1~18.04' }, { did: 'ubuntu' }), 'pkg:deb/ubuntu/libgcc1@1%3A8.4.0-1ubuntu1~18.04');
});
