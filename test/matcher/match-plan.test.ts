import test from 'ava';
import { distributionScanner } from '../../src/ecosystems/os-release/distribution-scanner.ts';
import type { FoundDistribution } from '../../src/ecosystems/scanner.ts';
import type { VulnerabilityRecord } from '../../src/ecosystems/vulnerability-record.ts';
import { distroProfile, type PackageFormat } from '../../src/matcher/distro-profile.ts';
import { isKernelHeaderPackage } from '../../src/matcher/kernel-header-package.ts';
import type { CandidateRecord, MatchPackage } from '../../src/matcher/match-input.ts';
import { matchPackages } from '../../src/matcher/match-packages.ts';
import { MAX_NAMES_PER_LOOKUP, matchPlan } from '../../src/matcher/match-plan.ts';
import { moduleStream } from '../../src/matcher/module-stream.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../helpers/fixtures.ts';
import { entriesFromDir, layerFiles } from '../helpers/layer-files.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;

async function osRelease(dir: string): Promise<FoundDistribution | null> {
  const layer = await layerFiles(entriesFromDir(fixture('pkgdb', 'os-release', 'syft', 'os', dir)), distributionScanner.files);
  return (await distributionScanner.scan(layer)).distributions?.[0] ?? null;
}

maybe(`real os-release files: each distribution gets the release key its feed writes, or a note when no feed covers it${suffix}`, async (t) => {
  const cases: Array<[string, string | null, PackageFormat | null]> = [
    ['debian/from-os-release', 'debian:jessie', 'dpkg'],
    ['debian/with-point-release', 'debian:trixie', 'dpkg'],
    ['ubuntu', 'ubuntu:focal', 'dpkg'],
    ['alpine', 'alpine:3.11', 'apk'],
    ['wolfi', 'wolfi:rolling', 'apk'],
    ['redhat/from-os-release', 'rhel:7', 'rpm'],
    ['redhat/from-redhat-release', 'rhel:8', 'rpm'],
    ['centos', 'rhel:8', 'rpm'],
    ['centos5', 'rhel:5', 'rpm'],
    ['rockylinux/from-os-release', 'rhel:8', 'rpm'],
    ['almalinux/from-os-release', 'rhel:8', 'rpm'],
    ['scientific/from-os-release', 'rhel:7', 'rpm'],
    ['oraclelinux', 'ol:8', 'rpm'],
    ['amazon', 'amzn:2', 'rpm'],
    ['sles', 'sles:15.2', 'rpm'],
    ['opensuse-leap', 'opensuse-leap:15.2', 'rpm'],
    ['photon', 'photon:2.0', 'rpm'],
    ['fedora', null, null],
    ['mariner', null, null],
    ['arch', null, null],
  ];
  for (const [dir, key, format] of cases) {
    const { profile, notes } = distroProfile(await osRelease(dir));
    t.is(profile?.keys[0] ?? null, key, dir);
    t.is(profile?.format ?? null, format, dir);
    if (key === null) t.regex(notes[0] ?? '', /^no vulnerability feed covers \w+/, dir);
  }
  t.like(distroProfile(await osRelease('rockylinux/from-os-release')).profile, { family: 'rhel', label: 'rhel:8 (rocky 8.4)' });
});

test('distribution keys for the releases os-release files name', (t) => {
  const key = (did: string, versionId?: string, versionCodename?: string) => distroProfile({ did, versionId, versionCodename, path: 'etc/os-release' }).profile?.keys[0] ?? null;
  t.is(key('amzn', '2018.03'), 'amzn:1');
  t.is(key('amzn', '2023'), 'amzn:2023');
  t.is(key('ol', '9.4'), 'ol:9');
  t.is(key('photon', '5.0'), 'photon:5.0');
  t.is(key('chainguard', '20230214'), 'chainguard:rolling');
  t.is(key('ubuntu', '22.04'), 'ubuntu:jammy');
  t.is(key('debian', '12'), 'debian:bookworm');
  t.is(key('rhel'), null);
  t.deepEqual(distroProfile({ did: 'rhel', path: 'etc/os-release' }).notes, ['the rhel release could not be told; its OS packages are not matched against distribution advisories']);
  t.is(key('alpine', '3.20.0_alpha20240329'), 'alpine:edge');
  // no os-release, but the apk repositories name a branch
  t.deepEqual(distroProfile(null, { did: 'alpine', versionId: '3.19', path: 'etc/apk/repositories' }).profile?.keys, ['alpine:3.19']);
  t.deepEqual(distroProfile(null, null), { profile: null, notes: [] });
});

test('lookups: one per release and ecosystem, sorted unique names, PEP 503 names, split beyond the size limit', (t) => {
  const dist: FoundDistribution = { did: 'debian', versionId: '12', path: 'etc/os-release' };
  const many: MatchPackage[] = Array.from({ length: MAX_NAMES_PER_LOOKUP + 10 }, (_, i) => ({ id: i, ecosystem: 'npm', name: `pkg-${String(i).padStart(5, '0')}`, version: '1.0.0', path: 'node_modules' }));
  const packages: MatchPackage[] = [
    { id: 'a', ecosystem: 'dpkg', name: 'libssl3', version: '3.0.11-1~deb12u2', sourceName: 'openssl', sourceVersion: '3.0.11-1~deb12u2', path: 'var/lib/dpkg/status' },
    { id: 'b', ecosystem: 'dpkg', name: 'openssl', version: '3.0.11-1~deb12u2', sourceName: 'openssl', path: 'var/lib/dpkg/status' },
    { id: 'c', ecosystem: 'pypi', name: 'Django_REST.framework', version: '3.14.0', path: 'site-packages' },
    { id: 'd', ecosystem: 'apk', name: 'musl', version: '1.2.4-r2', path: 'lib/apk/db/installed' },
    { id: 'e', ecosystem: 'nuget', name: 'Newtonsoft.Json', version: '13.0.1', path: 'app' },
    ...many,
  ];
  const plan = matchPlan(dist, null, packages);
  t.deepEqual(plan.lookups.map((l) => [l.ecosystem, l.distribution, l.packageNames.length]), [
    ['dpkg', 'debian:bookworm', 2],
    ['npm', null, MAX_NAMES_PER_LOOKUP],
    ['npm', null, 10],
    ['pypi', null, 1],
  ]);
  t.deepEqual(plan.lookups[0]!.packageNames, ['libssl3', 'openssl']);
  t.deepEqual(plan.lookups[3]!.packageNames, ['django-rest-framework']);
  t.deepEqual(plan.notes, ['2 packages are not matched (an apk package in a dpkg distribution (debian:bookworm): no feed speaks of it, …)']);
});

test('kernel header packages and module streams', (t) => {
  for (const name of ['linux-libc-dev', 'linux-headers-6.1.0-18-amd64', 'linux-headers-amd64', 'linux-aws-headers-5.15.0-1019', 'linux-hwe-5.15-headers-5.15.0-60', 'linux-kbuild-6.1', 'linux-source-6.1']) {
    t.true(isKernelHeaderPackage('dpkg', name), name);
  }
  for (const name of ['kernel-headers', 'kernel-devel', 'kernel-rt-devel', 'kernel-uek-devel', 'kernel-devel-matched']) t.true(isKernelHeaderPackage('rpm', name), name);
  for (const [eco, name] of [['dpkg', 'linux-image-6.1.0-18-amd64'], ['dpkg', 'linux-tools-common'], ['rpm', 'kernel'], ['rpm', 'kernel-core'], ['rpm', 'kernel-tools'], ['pypi', 'linux-headers']]) {
    t.false(isKernelHeaderPackage(eco!, name!), `${eco} ${name}`);
  }
  t.is(moduleStream('nodejs:18:8090020230810123456:a75119d5'), 'nodejs:18');
  t.is(moduleStream('perl:5.32'), 'perl:5.32');
  t.is(moduleStream(''), null);
  t.is(moduleStream('broken'), null);
  t.is(moduleStream(null), null);
});

test('bad input never throws: unreadable versions, unknown ecosystems and schemes, huge ids become checks and notes', (t) => {
  const dist: FoundDistribution = { did: 'debian', versionId: '12', path: 'etc/os-release' };
  const record = (over: Partial<VulnerabilityRecord> & { id: number }): CandidateRecord => ({
    updater: 'debian', name: 'CVE-2024-0001', aliases: [], ecosystem: 'dpkg', distribution: 'debian:bookworm', repository: null, module: null, packageName: 'zlib',
    packageKind: 'source', arch: null, affectedRange: null, fixedVersion: '1:1.2.13.dfsg-2', state: 'fixed', stateReason: null, vendorSeverity: null,
    normalizedSeverity: 'Unknown', severitySource: null, cvss: [], description: null, links: [], publishedAt: null, modifiedAt: null, ...over,
  });
  const packages: MatchPackage[] = [
    { id: 1, ecosystem: 'dpkg', name: 'zlib1g', version: 'not a version!', sourceName: 'zlib', sourceVersion: 'junk version', path: 'var/lib/dpkg/status' },
    { id: 2, ecosystem: 'cargo', name: 'serde', version: '1.0.0', path: 'Cargo.lock' },
  ];
  const records = [
    record({ id: 1 }),
    record({ id: 2, name: 'CVE-2024-0002', fixedVersion: 'also junk!' }),
    record({ id: 3, name: 'CVE-2024-0003', affectedRange: { events: [{ introduced: '0' }, { fixed: '???' }] } }),
    { ...record({ id: 4, ecosystem: 'cargo', distribution: null, packageName: 'serde', packageKind: 'binary' }), aliases: Array.from({ length: 500 }, (_, i) => `X-${i}`) },
  ];
  const result = matchPackages({ distribution: dist, packages, records });
  t.deepEqual(result.findings, []);
  t.deepEqual(result.explanations[0]!.checks.map((c) => c.verdict), ['invalid-version', 'invalid-version', 'invalid-version']);
  t.regex(result.explanations[0]!.checks[0]!.detail, /^versions not comparable: invalid dpkg version "junk version"/);
  t.like(result.explanations[1], { status: 'not-matched', reason: 'no version scheme for ecosystem cargo' });
  t.true(result.notes.some((n) => n.startsWith('3 records could not be compared with the installed version (zlib1g: versions not comparable')));
  t.true(result.notes.some((n) => n.startsWith('1 package is not matched (no version scheme for ecosystem cargo): serde')));
});

test('explanations keep at most maxChecksPerPackage checks and count the rest', (t) => {
  const dist: FoundDistribution = { did: 'alpine', versionId: '3.19.1', path: 'etc/os-release' };
  const records: CandidateRecord[] = Array.from({ length: 30 }, (_, i) => ({
    id: i, updater: 'alpine', name: `CVE-2020-${1000 + i}`, aliases: [], ecosystem: 'apk', distribution: 'alpine:3.19', repository: 'main', module: null,
    packageName: 'busybox', packageKind: 'source', arch: null, affectedRange: null, fixedVersion: '1.0-r0', state: 'fixed', stateReason: null,
    vendorSeverity: null, normalizedSeverity: 'Unknown', severitySource: null, cvss: [], description: null, links: [], publishedAt: null, modifiedAt: null,
  }));
  const packages: MatchPackage[] = [{ id: 'b', ecosystem: 'apk', name: 'busybox', version: '1.36.1-r15', sourceName: 'busybox', sourceVersion: '1.36.1-r15', path: 'lib/apk/db/installed' }];
  const result = matchPackages({ distribution: dist, packages, records, options: { maxChecksPerPackage: 10 } });
  t.is(result.explanations[0]!.checks.length, 10);
  t.is(result.explanations[0]!.checksOmitted, 20);
  // None listed (a report that is not an explanation): every check counted, the findings the same.
  const counted = matchPackages({ distribution: dist, packages: [...packages, { ...packages[0]!, id: 'c', ecosystem: 'cargo', name: 'serde' }], records, options: { maxChecksPerPackage: 0 } });
  t.like(counted.explanations[0], { status: 'matched', checks: [], checksOmitted: 30 });
  t.like(counted.explanations[1], { status: 'not-matched', checks: [], checksOmitted: 0 });
  t.deepEqual(counted.findings, result.findings);
});
