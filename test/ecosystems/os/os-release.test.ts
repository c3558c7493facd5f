import { readdirSync, readFileSync } from 'node:fs';
import test from 'ava';
import { distributionKey } from '../../../src/ecosystems/distribution-key.ts';
import {
  distributionScanner,
  parseOsReleaseLinkNote,
} from '../../../src/ecosystems/os-release/distribution-scanner.ts';
import { parseOsRelease } from '../../../src/ecosystems/os-release/parse-os-release.ts';
import { parseRedhatRelease } from '../../../src/ecosystems/os-release/parse-redhat-release.ts';
import { resolveLinkTarget } from '../../../src/ecosystems/os-release/resolve-link-target.ts';
import type { FoundDistribution, ScanResult } from '../../../src/ecosystems/scanner.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { entriesFromDir, layerFiles } from '../../helpers/layer-files.ts';
import type { LayerEntry } from '../../helpers/layer-files.ts';

const withFixtures = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;
const osr = (...p: string[]) => fixture('pkgdb', 'os-release', ...p);

async function scan(entries: Record<string, LayerEntry>): Promise<ScanResult> {
  return distributionScanner.scan(await layerFiles(entries, distributionScanner.files));
}

async function only(entries: Record<string, LayerEntry>): Promise<FoundDistribution> {
  const result = await scan(entries);
  if (result.distributions?.length !== 1) throw new Error(`expected one distribution, got ${JSON.stringify(result)}`);
  return result.distributions[0] as FoundDistribution;
}

/** Splits a txtar archive into its named members. */
function txtar(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let name: string | null = null;
  let body: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^-- (.+) --$/.exec(line);
    if (m) {
      if (name !== null) out[name] = body.join('\n');
      name = m[1] as string;
      body = [];
    } else if (name !== null) {
      body.push(line);
    }
  }
  if (name !== null) out[name] = body.join('\n');
  return out;
}

test('parseOsRelease: quotes, escapes, comments, CRLF and bad lines', (t) => {
  const { fields, problems } = parseOsRelease(
    '# comment\r\nNAME="Foo \\"Bar\\" \\\\ \\$x"\r\n\r\nID=foo\r\nVERSION_ID=\'1.0 "x"\'\r\n  PRETTY_NAME="indented"  \r\nnot an assignment\r\n1BAD=x\r\nCPE_NAME="unterminated\r\nEMPTY=\r\n',
  );
  t.deepEqual({ ...fields }, {
    NAME: 'Foo "Bar" \\ $x',
    ID: 'foo',
    VERSION_ID: '1.0 "x"',
    PRETTY_NAME: 'indented',
    CPE_NAME: 'unterminated',
    EMPTY: '',
  });
  t.deepEqual(problems, [
    'line 7 is not a KEY=value assignment',
    'line 8 is not a KEY=value assignment',
    'line 9 (CPE_NAME): unterminated double quote',
  ]);
});

withFixtures(`claircore os-release samples parse to exactly the recorded key/value maps${suffix}`, (t) => {
  const dir = osr('claircore-osrelease-txtar');
  const names = readdirSync(dir).filter((n) => n.endsWith('.txtar'));
  t.is(names.length, 11);
  for (const name of names) {
    const parts = txtar(readFileSync(`${dir}/${name}`, 'utf8'));
    const parsed = parseOsRelease(parts['os-release'] ?? '');
    t.deepEqual({ ...parsed.fields }, JSON.parse(parts.Parsed ?? '{}'), name);
    t.deepEqual(parsed.problems, [], name);
  }
});

withFixtures(`claircore os-release samples give the recorded distribution fields${suffix}`, async (t) => {
  const dir = osr('claircore-osrelease-txtar');
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.txtar'))) {
    const parts = txtar(readFileSync(`${dir}/${name}`, 'utf8'));
    const want = JSON.parse(parts.Distribution ?? '{}') as Record<string, string>;
    const parsed = JSON.parse(parts.Parsed ?? '{}') as Record<string, string>;
    const got = await only({ 'etc/os-release': parts['os-release'] ?? '' });
    t.is(got.did as string | undefined, want.did, name);
    t.is(got.name, want.name, name);
    // Values are trimmed ("15.1 " → "15.1"); claircore keeps the space.
    t.is(got.version, want.version?.trim(), name);
    t.is(got.versionId, want.version_id, name);
    // Where os-release has no VERSION_CODENAME, Debian's comes out of VERSION ("… 12 (bookworm)").
    t.is(got.versionCodename, name === 'DistrolessCorrupt.txtar' ? 'bookworm' : want.version_code_name, name);
    t.is(got.cpe, want.cpe, name);
    // PRETTY_NAME as written (claircore replaces it for Fedora and RHEL with a product name).
    t.is(got.prettyName, parsed.PRETTY_NAME, name);
    t.is(got.path, 'etc/os-release');
  }
});

const UBUNTU: Record<string, string> = {
  '10.04': 'lucid', '12.04': 'precise', '12.10': 'quantal', '13.04': 'raring', '13.10': 'saucy', '14.04': 'trusty',
  '14.10': 'utopic', '15.04': 'vivid', '15.10': 'wily', '16.04': 'xenial', '16.10': 'yakkety', '17.04': 'zesty',
  '17.10': 'artful', '18.04': 'bionic', '18.10': 'cosmic', '19.04': 'disco', '19.10': 'eoan', '20.04': 'focal',
  '20.10': 'groovy', '21.04': 'hirsute', '21.10': 'impish', '22.04': 'jammy', '22.10': 'kinetic', '23.04': 'lunar',
  '23.10': 'mantic',
};

withFixtures(`Ubuntu 10.04–23.10: release and codename from os-release and lsb-release${suffix}`, async (t) => {
  for (const [version, codename] of Object.entries(UBUNTU)) {
    const entries = entriesFromDir(osr('ubuntu', version));
    const dist = await only(entries);
    t.is(dist.did, 'ubuntu', version);
    t.is(dist.versionId, version, version);
    t.is(dist.versionCodename, codename, version);
    t.is(distributionKey(dist), `ubuntu:${codename}`, version);
    t.is(dist.path, version === '10.04' ? 'etc/lsb-release' : 'etc/os-release', version);
    // Without lsb-release the codename still comes out of os-release alone (VERSION_CODENAME,
    // UBUNTU_CODENAME, or "12.04.5 LTS, Precise Pangolin").
    if (entries['etc/os-release']) {
      const alone = await only({ 'etc/os-release': entries['etc/os-release'] });
      t.is(distributionKey(alone), `ubuntu:${codename}`, `${version} os-release alone`);
    }
  }
  // The "11" sample directory holds a Debian 11 os-release.
  t.is(distributionKey(await only(entriesFromDir(osr('ubuntu', '11')))), 'debian:bullseye');
});

withFixtures(`Debian 7–12 and distroless Debian: codename even where os-release lacks VERSION_CODENAME${suffix}`, async (t) => {
  const debian: Record<string, string> = { '7': 'wheezy', '8': 'jessie', '9': 'stretch', '10': 'buster', '11': 'bullseye', '12': 'bookworm' };
  for (const [version, codename] of Object.entries(debian)) {
    const dist = await only(entriesFromDir(osr('debian', version)));
    t.is(dist.did, 'debian');
    t.is(dist.versionId, version);
    t.is(dist.versionCodename, codename, version);
    t.is(distributionKey(dist), `debian:${codename}`);
  }
  for (const version of ['9', '10', '11']) {
    const dist = await only(entriesFromDir(osr('debian-distroless', version)));
    t.is(dist.prettyName, 'Distroless');
    t.is(dist.versionCodename, debian[version], version);
    t.is(distributionKey(dist), `debian:${debian[version]}`);
  }
});

withFixtures(`Debian from debian_version: fills a distroless os-release, or stands alone${suffix}`, async (t) => {
  const filled = await only(entriesFromDir(osr('syft', 'os', 'debian', 'from-debian_version')));
  t.like(filled, { did: 'debian', versionId: '10', prettyName: 'Distroless', path: 'etc/os-release' });
  t.is(distributionKey(filled), 'debian:buster');

  const point = await only(entriesFromDir(osr('syft', 'os', 'debian', 'with-point-release')));
  t.like(point, { versionId: '13', versionCodename: 'trixie', version: '13 (trixie)' });

  const alone = await only(entriesFromDir(osr('trivy', 'debian', 'testdata', 'debian_9')));
  t.deepEqual(alone, { did: 'debian', name: 'Debian GNU/Linux', version: '9.8', versionId: '9', path: 'etc/debian_version' });
  t.is(distributionKey(alone), 'debian:stretch');

  const sid = await only(entriesFromDir(osr('trivy', 'debian', 'testdata', 'debian_sid')));
  t.like(sid, { did: 'debian', versionCodename: 'buster', version: 'buster/sid' });
  t.is(sid.versionId, undefined);
});

withFixtures(`Alpine 3.3–3.18 and edge${suffix}`, async (t) => {
  const dirs = readdirSync(osr('alpine'));
  t.true(dirs.length >= 17);
  for (const dir of dirs) {
    const dist = await only(entriesFromDir(osr('alpine', dir)));
    t.is(dist.did, 'alpine');
    t.is(distributionKey(dist), dir === 'edge' ? 'alpine:edge' : `alpine:${dir}`, dir);
    t.true(dist.versionId?.startsWith(dir === 'edge' ? '3.19_alpha' : `${dir}.`), dir);
  }
  const fromReleaseFile = await only({ 'etc/alpine-release': '3.19.1\n' });
  t.deepEqual(fromReleaseFile, { did: 'alpine', name: 'Alpine Linux', versionId: '3.19.1', path: 'etc/alpine-release' });
  t.is(distributionKey(fromReleaseFile), 'alpine:3.19');
});

withFixtures(`RHEL 3–9, Atomic Host and Oracle Linux 6–9 from os-release or release files${suffix}`, async (t) => {
  for (const major of ['3', '4', '5', '6', '7', '8', '9']) {
    const dist = await only(entriesFromDir(osr('rhel-family', major)));
    t.is(dist.did, 'rhel');
    t.is(distributionKey(dist), `rhel:${major}`, major);
    t.is(dist.path, Number(major) >= 7 ? 'etc/os-release' : 'etc/redhat-release', major);
  }
  const rhel6 = await only(entriesFromDir(osr('rhel-family', '6')));
  t.deepEqual(rhel6, {
    did: 'rhel',
    name: 'Red Hat Enterprise Linux Server',
    version: '6.10 (Santiago)',
    versionId: '6.10',
    prettyName: 'Red Hat Enterprise Linux Server release 6.10 (Santiago)',
    path: 'etc/redhat-release',
  });
  const rhel9 = await only(entriesFromDir(osr('rhel-family', '9')));
  t.is(rhel9.cpe, 'cpe:/o:redhat:enterprise_linux:9::baseos');
  t.is(distributionKey(await only(entriesFromDir(osr('rhel-family', 'atomichost-7')))), 'rhel:7');
  for (const major of ['6', '7', '8', '9']) {
    // Oracle Linux ships a redhat-release that says "Red Hat Enterprise Linux": oracle-release wins.
    const dist = await only(entriesFromDir(osr('rhel-family', `oracle-${major}`)));
    t.like(dist, { did: 'ol', name: 'Oracle Linux Server', path: 'etc/oracle-release' });
    t.is(distributionKey(dist), `ol:${major}`);
  }
  const hummingbird = await only(entriesFromDir(osr('rhel-family', 'hummingbird')));
  t.like(hummingbird, { did: 'hummingbird', versionId: '20251124', cpe: 'cpe:/a:redhat:hummingbird:1' });
});

withFixtures(`Red Hat family release files of CentOS, Rocky, Alma, Fedora, Oracle, Scientific${suffix}`, async (t) => {
  const cases: Array<[string, string, Partial<FoundDistribution>, string | null]> = [
    [osr('trivy', 'redhatbase', 'testdata', 'centos', 'centos-release'), 'etc/centos-release', { did: 'centos', versionId: '7.6.1810', version: '7.6.1810 (Core)' }, 'centos:7'],
    [osr('trivy', 'redhatbase', 'testdata', 'rocky', 'rocky-release'), 'etc/rocky-release', { did: 'rocky', versionId: '8.4', name: 'Rocky Linux' }, 'rocky:8'],
    [osr('trivy', 'redhatbase', 'testdata', 'alma', 'almalinux-release'), 'etc/almalinux-release', { did: 'almalinux', versionId: '8.4' }, 'almalinux:8'],
    [osr('trivy', 'redhatbase', 'testdata', 'fedora_29', 'fedora-release'), 'etc/fedora-release', { did: 'fedora', versionId: '29' }, 'fedora:29'],
    [osr('trivy', 'redhatbase', 'testdata', 'oracle_7', 'oracle-release'), 'etc/oracle-release', { did: 'ol', versionId: '7.6' }, 'ol:7'],
    [osr('syft', 'os', 'centos5', 'etc', 'redhat-release'), 'etc/redhat-release', { did: 'centos', versionId: '5.7', version: '5.7 (Final)' }, 'centos:5'],
    [osr('syft', 'bad-redhat-release'), 'etc/redhat-release', { did: 'centos', versionId: '5' }, 'centos:5'],
    [osr('syft', 'os', 'scientific', 'from-redhat-release', 'etc', 'redhat-release'), 'etc/redhat-release', { did: 'scientific', versionId: '7.9' }, 'scientific:7.9'],
    [osr('syft', 'os', 'redhat', 'from-redhat-release', 'etc', 'redhat-release'), 'etc/redhat-release', { did: 'rhel', versionId: '8.10' }, 'rhel:8'],
  ];
  for (const [file, path, want, key] of cases) {
    const dist = await only({ [path]: readFileSync(file) });
    t.like(dist, { ...want, path }, file);
    t.is(distributionKey(dist), key, file);
  }
  // The pre-RHEL product is not a distribution the feeds know: a note, no distribution.
  const old = await scan({ 'etc/redhat-release': readFileSync(osr('trivy', 'redhatbase', 'testdata', 'redhat_6', 'redhat-release')) });
  t.deepEqual(old.distributions, []);
  t.deepEqual(old.notes, ['etc/redhat-release names an unknown distribution: Red Hat Linux']);
  t.is(parseRedhatRelease('Amazon Linux release 2 (Karoo)')?.did, 'amzn');
  t.is(parseRedhatRelease('nonsense'), null);
  // system-release-cpe fills the CPE.
  const centos6 = await only({
    'etc/centos-release': 'CentOS release 6.10 (Final)\n',
    'etc/system-release-cpe': readFileSync(osr('syft', 'os', 'centos6', 'etc', 'system-release-cpe')),
  });
  t.is(centos6.cpe, 'cpe:/o:centos:linux:6:GA');
});

withFixtures(`os-release of SUSE, Photon, Amazon, Wolfi, Mariner, Arch and trivy's samples${suffix}`, async (t) => {
  const cases: Array<[string[], Partial<FoundDistribution>, string | null]> = [
    [['syft', 'os', 'sles'], { did: 'sles', versionId: '15.2', cpe: 'cpe:/o:suse:sles:15:sp2' }, 'sles:15.2'],
    [['syft', 'os', 'opensuse-leap'], { did: 'opensuse-leap', versionId: '15.2' }, 'opensuse-leap:15.2'],
    [['syft', 'os', 'photon'], { did: 'photon', versionId: '2.0' }, 'photon:2.0'],
    [['syft', 'os', 'amazon'], { did: 'amzn', versionId: '2' }, 'amzn:2'],
    [['syft', 'os', 'wolfi'], { did: 'wolfi', versionId: '20220914' }, 'wolfi:rolling'],
    [['syft', 'os', 'mariner'], { did: 'mariner', versionId: '1.0' }, 'mariner:1.0'],
    [['syft', 'os', 'arch'], { did: 'arch', prettyName: 'Arch Linux' }, null],
    [['syft', 'os', 'oraclelinux'], { did: 'ol', versionId: '8.3' }, 'ol:8'],
    [['syft', 'os', 'centos'], { did: 'centos', versionId: '8', path: 'usr/lib/os-release' }, 'centos:8'],
    [['syft', 'os', 'fedora'], { did: 'fedora', versionId: '36', path: 'usr/lib/os-release' }, 'fedora:36'],
    [['syft', 'os', 'almalinux', 'from-os-release'], { did: 'almalinux', versionId: '8.4' }, 'almalinux:8'],
    [['syft', 'os', 'rockylinux', 'from-os-release'], { did: 'rocky', versionId: '8.4' }, 'rocky:8'],
  ];
  for (const [dir, want, key] of cases) {
    const dist = await only(entriesFromDir(osr(...dir)));
    t.like(dist, want, dir.join('/'));
    t.is(distributionKey(dist), key, dir.join('/'));
  }
  const trivy: Record<string, [string, string | undefined]> = {
    alma: ['almalinux', '9.4'], rocky: ['rocky', '9.3'], centos: ['centos', '7'], oracle: ['ol', '8.10'],
    photon: ['photon', '4.0'], sles: ['sles', '15.3'], 'opensuseleap-42.3': ['opensuse', '42.3'],
    'opensuseleap-15.2.1': ['opensuse-leap', '15.2.1'], 'mariner-2.0': ['mariner', '2.0'], 'azurelinux-3.0': ['azurelinux', '3.0'],
  };
  for (const [name, [did, versionId]] of Object.entries(trivy)) {
    const dist = await only({ 'usr/lib/os-release': readFileSync(osr('trivy', 'os-release', name)) });
    t.is(dist.did, did, name);
    t.is(dist.versionId, versionId, name);
  }
});

withFixtures(`symbolic link etc/os-release → ../usr/lib/os-release${suffix}`, async (t) => {
  const target = readFileSync(osr('syft', 'os', 'centos', 'usr', 'lib', 'os-release'));
  // Link and target in the same layer: the target is read, the link recorded.
  const same = await scan({ 'etc/os-release': { link: '../usr/lib/os-release' }, 'usr/lib/os-release': target });
  t.like(same.distributions?.[0], { did: 'centos', path: 'usr/lib/os-release' });
  t.deepEqual(same.notes, ['etc/os-release is a symbolic link to ../usr/lib/os-release (usr/lib/os-release)']);
  t.is(parseOsReleaseLinkNote(same.notes?.[0] ?? ''), 'usr/lib/os-release');
  // Only the link in this layer (the file lives in a lower layer): no distribution, the link is noted.
  const linkOnly = await scan({ 'etc/os-release': { link: '/usr/lib/os-release' } });
  t.deepEqual(linkOnly.distributions, []);
  t.is(parseOsReleaseLinkNote(linkOnly.notes?.[0] ?? ''), 'usr/lib/os-release');
  // A regular etc/os-release wins over usr/lib/os-release.
  const both = await only({ 'etc/os-release': 'ID=debian\nVERSION_ID="12"\n', 'usr/lib/os-release': target });
  t.like(both, { did: 'debian', path: 'etc/os-release' });
  t.is(resolveLinkTarget('etc/os-release', '../../../../usr/lib/os-release'), 'usr/lib/os-release');
  t.is(resolveLinkTarget('etc/os-release', ''), null);
});

test('SUSE and Photon legacy release files (hand-written samples)', async (t) => {
  const sles = await only({ 'etc/SuSE-release': 'SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 4\n' });
  t.deepEqual(sles, { did: 'sles', name: 'SUSE Linux Enterprise Server', versionId: '11.4', prettyName: 'SUSE Linux Enterprise Server 11', path: 'etc/SuSE-release' });
  t.is(distributionKey(sles), 'sles:11.4');
  const sp0 = await only({ 'etc/SuSE-release': 'SUSE Linux Enterprise Server 12 (x86_64)\nVERSION = 12\nPATCHLEVEL = 0\n' });
  t.is(sp0.versionId, '12');
  const opensuse = await only({ 'etc/SuSE-release': 'openSUSE 13.2 (x86_64)\nVERSION = 13.2\nCODENAME = Harlequin\n' });
  t.like(opensuse, { did: 'opensuse', versionId: '13.2', versionCodename: 'harlequin' });
  const photon = await only({ 'etc/photon-release': 'VMware Photon OS 3.0\nPHOTON_BUILD_NUMBER=a0f216d\n' });
  t.like(photon, { did: 'photon', versionId: '3.0', path: 'etc/photon-release' });
  t.is(distributionKey(photon), 'photon:3.0');
});

withFixtures(`bad input: empty, unknown, missing ID, CRLF, invalid UTF-8, garbage${suffix}`, async (t) => {
  const empty = await scan(entriesFromDir(osr('syft', 'os', 'empty')));
  t.deepEqual(empty, { distributions: [], notes: ['etc/os-release has no assignments'] });

  const missingId = await scan(entriesFromDir(osr('syft', 'partial-fields', 'missing-id')));
  t.like(missingId.distributions?.[0], { did: 'linux', versionId: '8', name: 'Debian GNU/Linux' });
  t.deepEqual(missingId.notes, ['usr/lib/os-release has no ID; the specification\'s default "linux" is used']);

  const unknown = await only(entriesFromDir(osr('syft', 'partial-fields', 'unknown-id')));
  t.is(unknown.did, 'my-awesome-distro');
  t.is(distributionKey(unknown), 'my-awesome-distro:8');

  const crlf = await only({ 'etc/os-release': readFileSync(osr('syft', 'unprintable')) });
  t.like(crlf, { did: 'debian', versionId: '8', versionCodename: 'jessie', name: 'Debian GNU/Linux' });

  const bytes = Buffer.concat([Buffer.from('ID=debian\nNAME="Deb'), Buffer.from([0xff, 0xfe]), Buffer.from('ian"\nVERSION_ID=12\n')]);
  const lossy = await scan({ 'etc/os-release': bytes });
  t.like(lossy.distributions?.[0], { did: 'debian', versionId: '12', name: 'Deb\uFFFD\uFFFDian' });
  t.deepEqual(lossy.notes, ['etc/os-release is not valid UTF-8; invalid bytes were replaced']);

  const garbage = await scan({ 'etc/os-release': readFileSync(osr('trivy', 'ubuntu', 'testdata', 'invalid')) });
  t.deepEqual(garbage.distributions, []);
  t.deepEqual(garbage.notes, ['etc/os-release: line 1 is not a KEY=value assignment', 'etc/os-release has no assignments']);

  t.deepEqual(await scan({}), { distributions: [], notes: [] });
  // A file bigger than the scanner's limit is never handed over.
  const huge = await layerFiles({ 'etc/os-release': Buffer.alloc(1024 * 1024, 0x41) }, distributionScanner.files);
  t.is(huge.files.size, 0);
});

withFixtures(`lsb-release alone and as the codename source${suffix}`, async (t) => {
  const dist = await only({ 'etc/lsb-release': readFileSync(osr('trivy', 'ubuntu', 'testdata', 'lsb-release')) });
  t.deepEqual(dist, { did: 'ubuntu', name: 'Ubuntu', versionId: '18.04', versionCodename: 'bionic', prettyName: 'Ubuntu 18.04.2 LTS', path: 'etc/lsb-release' });
});
