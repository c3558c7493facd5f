import { readFileSync } from 'node:fs';
import test from 'ava';
import { readDpkgStatus } from '../../src/ecosystems/dpkg/read-dpkg-status.ts';
import { distributionScanner } from '../../src/ecosystems/os-release/distribution-scanner.ts';
import type { FoundDistribution } from '../../src/ecosystems/scanner.ts';
import { createUbuntuUpdater } from '../../src/ecosystems/ubuntu/ubuntu-updater.ts';
import type { VulnerabilityRecord } from '../../src/ecosystems/vulnerability-record.ts';
import type { MatchPackage } from '../../src/matcher/match-input.ts';
import { matchPackages } from '../../src/matcher/match-packages.ts';
import { matchPlan } from '../../src/matcher/match-plan.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../helpers/fixtures.ts';
import { entriesFromDir, layerFiles } from '../helpers/layer-files.ts';
import {
  checksOf,
  debianTrackerRecords,
  debianTrackerText,
  explanationOf,
  finding,
  findingsOf,
  matchPackagesOf,
  pkg,
  runLookups,
  updaterRecords,
  withIds,
} from './matcher-helpers.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;

async function ubuntuBionic(): Promise<FoundDistribution> {
  const layer = await layerFiles(entriesFromDir(fixture('pkgdb', 'os-release', 'ubuntu', '18.04')), distributionScanner.files);
  return (await distributionScanner.scan(layer)).distributions![0]!;
}

function dpkgPackages(file: string, prefix: string): MatchPackage[] {
  const { packages } = readDpkgStatus(readFileSync(fixture('pkgdb', 'dpkg', file)), 'var/lib/dpkg/status');
  return matchPackagesOf(packages, prefix, 'sha256:' + 'b'.repeat(64));
}

function dpkgText(text: string, prefix: string): MatchPackage[] {
  const { packages, notes } = readDpkgStatus(Buffer.from(text), 'var/lib/dpkg/status');
  if (notes.length > 0) throw new Error(notes.join('; '));
  return matchPackagesOf(packages, prefix);
}

/** A record as an Ubuntu (Canonical OVAL) feed writes one: keyed by source package in `ubuntu:bionic`. */
function ubuntuRecord(name: string, packageName: string, more: Partial<VulnerabilityRecord>): VulnerabilityRecord {
  return {
    updater: 'ubuntu', name, aliases: [], ecosystem: 'dpkg', distribution: 'ubuntu:bionic', repository: null, module: null, packageName,
    packageKind: 'source', arch: null, affectedRange: null, fixedVersion: null, state: 'fixed', stateReason: null, vendorSeverity: 'Medium',
    normalizedSeverity: 'Medium', severitySource: 'vendor', cvss: [], description: null, links: [`https://ubuntu.com/security/${name}`], publishedAt: null, modifiedAt: null,
    ...more,
  };
}

const debian = (codename: string, versionId: string): FoundDistribution => ({ did: 'debian', versionId, versionCodename: codename, path: 'etc/os-release' });

maybe(`ubuntu 18.04 texlive image: real Canonical OVAL record, binary matched by source, version equal to the fix → checked, no finding${suffix}`, async (t) => {
  const dist = await ubuntuBionic();
  const packages = dpkgPackages('claircore-texlive.status', 'tex-');
  const plan = matchPlan(dist, null, packages);
  t.deepEqual(plan.lookups.map((l) => [l.ecosystem, l.distribution]), [['dpkg', 'ubuntu:bionic']]);
  t.true(plan.lookups[0]!.packageNames.includes('potrace'), 'source names are looked up');
  t.true(plan.lookups[0]!.packageNames.includes('libpotrace0'), 'binary names are looked up');

  const table = await updaterRecords(createUbuntuUpdater(), [fixture('feeds', 'ubuntu', 'vulnerablecode-ubuntu-oval-sample.xml')]);
  const records = runLookups(plan.lookups, table);
  t.deepEqual(records.map((r) => r.packageName), ['potrace'], 'tor is not installed, so not fetched');
  const result = matchPackages({ distribution: dist, packages, records });
  const potrace = pkg(packages, 'libpotrace0');
  t.deepEqual(findingsOf(result, potrace), []);
  const [check] = checksOf(result, potrace, 'CVE-2016-8703');
  t.like(check, { verdict: 'not-in-range', matchedBy: 'source', installedVersion: '1.14-2', fixedVersion: '1.14-2', comparison: 0, updater: 'ubuntu' });
  t.is(check!.detail, 'source version 1.14-2 = fixed version 1.14-2: not affected');
  t.is(result.findings.length, 0);
});

maybe(`ubuntu 18.04 texlive image, hand-written bionic records: epoch, "~" versions, a binary versioned apart from its source, kernel headers suppressed${suffix}`, async (t) => {
  const dist = await ubuntuBionic();
  const packages = dpkgPackages('claircore-texlive.status', 'tex-');
  const records = withIds([
    // zlib1g 1:1.2.11.dfsg-0ubuntu2: the epoch decides
    ubuntuRecord('CVE-2018-25032', 'zlib', { fixedVersion: '1:1.2.11.dfsg-0ubuntu2.1', vendorSeverity: 'Medium' }),
    // libssl1.1 / openssl 1.1.1-1ubuntu2.1~18.04.5: "~" sorts before the end of the string
    ubuntuRecord('CVE-2020-1971', 'openssl', { fixedVersion: '1.1.1-1ubuntu2.1~18.04.7', vendorSeverity: 'High', normalizedSeverity: 'High' }),
    ubuntuRecord('CVE-2019-1547', 'openssl', { fixedVersion: '1.1.1-1ubuntu2.1~18.04.4', vendorSeverity: 'Low', normalizedSeverity: 'Low' }),
    ubuntuRecord('CVE-2099-0001', 'openssl', { fixedVersion: '1.1.1-1ubuntu2.1', vendorSeverity: 'Low', normalizedSeverity: 'Low' }),
    // cpp 4:7.4.0-1ubuntu2.3 is built from gcc-defaults 1.176ubuntu2.3
    ubuntuRecord('CVE-2099-0002', 'gcc-defaults', { fixedVersion: '1.176ubuntu2.4' }),
    // linux-libc-dev 4.15.0-101.102 comes from the kernel source
    ubuntuRecord('CVE-2020-12888', 'linux', { fixedVersion: '4.15.0-112.113', vendorSeverity: 'Medium' }),
    ubuntuRecord('CVE-2018-20482', 'tar', { state: 'will_not_fix', stateReason: 'ignored', vendorSeverity: 'Low', normalizedSeverity: 'Low' }),
  ]);
  const plan = matchPlan(dist, null, packages);
  const fetched = runLookups(plan.lookups, records);
  t.is(fetched.length, records.length);
  const result = matchPackages({ distribution: dist, packages, records: fetched });

  const zlib = finding(result, pkg(packages, 'zlib1g'), 'CVE-2018-25032');
  t.like(zlib?.explain[0], { installedVersion: '1:1.2.11.dfsg-0ubuntu2', fixedVersion: '1:1.2.11.dfsg-0ubuntu2.1', comparison: -1 });

  for (const name of ['libssl1.1', 'openssl']) {
    const p = pkg(packages, name);
    t.deepEqual(findingsOf(result, p).map((f) => [f.vulnerability, f.severity, f.fixedVersion]), [
      ['CVE-2020-1971', 'High', '1.1.1-1ubuntu2.1~18.04.7'],
      ['CVE-2099-0001', 'Low', '1.1.1-1ubuntu2.1'],
    ]);
    t.like(checksOf(result, p, 'CVE-2019-1547')[0], { verdict: 'not-in-range', comparison: 1 });
  }

  const cpp = pkg(packages, 'cpp');
  t.is(cpp.version, '4:7.4.0-1ubuntu2.3');
  t.like(finding(result, cpp, 'CVE-2099-0002')?.explain[0], { matchedBy: 'source', installedVersion: '1.176ubuntu2.3', comparison: -1 });

  const headers = pkg(packages, 'linux-libc-dev');
  t.deepEqual(findingsOf(result, headers), []);
  t.like(explanationOf(result, headers), { status: 'kernel-headers', findings: 0 });
  t.like(checksOf(result, headers, 'CVE-2020-12888')[0], { verdict: 'suppressed', installedVersion: '4.15.0-101.102' });
  t.deepEqual(result.suppressed['kernel-headers'], { packages: 1, findings: 1 });
  t.true(result.notes.some((n) => n.startsWith('1 finding in 1 kernel header package suppressed')));
  const all = matchPackages({ distribution: dist, packages, records: fetched, options: { includeKernelHeaders: true } });
  t.like(finding(all, headers, 'CVE-2020-12888'), { state: 'fixed', fixedVersion: '4.15.0-112.113' });
  t.deepEqual(all.suppressed['kernel-headers'], { packages: 0, findings: 0 });

  const tar = finding(result, pkg(packages, 'tar'), 'CVE-2018-20482');
  t.like(tar, { state: 'will_not_fix', stateReason: 'ignored', fixedVersion: null, vendorSeverity: 'Low', severity: 'Low', severitySource: 'vendor' });
  t.is(tar!.explain[0]!.detail, 'no fixed version: affected, will not fix (ignored)');
});

maybe(`ubuntu 18.04: a Debian binNMU binary (+b3) is compared by its source version, so an "ubuntu0.1" fix between the two still counts (hand-written record)${suffix}`, async (t) => {
  const dist = await ubuntuBionic();
  const packages = dpkgPackages('trivy-ubuntu1804-valid.status', 'u-');
  const lzma = pkg(packages, 'liblzma5');
  t.deepEqual([lzma.version, lzma.sourceName, lzma.sourceVersion], ['5.1.1alpha+20120614-2+b3', 'xz-utils', '5.1.1alpha+20120614-2']);
  const records = withIds([ubuntuRecord('CVE-2022-1271', 'xz-utils', { fixedVersion: '5.1.1alpha+20120614-2ubuntu0.1' })]);
  const result = matchPackages({ distribution: dist, packages, records });
  const f = finding(result, lzma, 'CVE-2022-1271');
  t.truthy(f, 'the binary version 5.1.1alpha+20120614-2+b3 sorts after the fix; the source version does not');
  t.like(f!.explain[0], { matchedBy: 'source', installedVersion: '5.1.1alpha+20120614-2', comparison: -1 });
});

maybe(`debian: real tracker records — a binary whose source is vulnerable, "~" backports, end of life, no-dsa, not affected (status files hand-written)${suffix}`, async (t) => {
  const table = [
    ...(await debianTrackerRecords('vunnel-security-tracker-sample.json', ['buster', 'bullseye', 'bookworm'])),
    ...(await debianTrackerRecords('vulnerablecode-security-tracker-sample.json', ['buster', 'bullseye', 'bookworm'])),
  ];

  // bookworm: libsope1 from sope 5.8.0-1 (vulnerable) and, in a second image, 5.8.0-1+deb12u1 (the fix)
  const bookworm = debian('bookworm', '12');
  const vulnerable = dpkgText('Package: libsope1\nStatus: install ok installed\nMaintainer: Debian GNUstep maintainers <pkg-gnustep-maintainers@lists.alioth.debian.org>\nArchitecture: amd64\nSource: sope\nVersion: 5.8.0-1\n', 'bw-');
  const plan = matchPlan(bookworm, null, vulnerable);
  t.deepEqual(plan.lookups, [{ ecosystem: 'dpkg', distribution: 'debian:bookworm', packageNames: ['libsope1', 'sope'] }]);
  let result = matchPackages({ distribution: bookworm, packages: vulnerable, records: runLookups(plan.lookups, table) });
  t.like(result.findings[0], {
    vulnerability: 'CVE-2025-53603',
    package: { name: 'libsope1', version: '5.8.0-1', sourceName: 'sope' },
    state: 'fixed',
    fixedVersion: '5.8.0-1+deb12u1',
    vendorSeverity: 'not yet assigned',
    severity: 'Unknown',
    links: ['https://security-tracker.debian.org/tracker/CVE-2025-53603'],
  });
  const patched = dpkgText('Package: libsope1\nStatus: install ok installed\nSource: sope\nVersion: 5.8.0-1+deb12u1\n', 'bw2-');
  result = matchPackages({ distribution: bookworm, packages: patched, records: table });
  t.deepEqual(result.findings, []);
  t.like(checksOf(result, patched[0]!, 'CVE-2025-53603').find((c) => c.verdict !== 'other-release'), { verdict: 'not-in-range', comparison: 0 });

  // bullseye: chromium 90.0.4430.212-1 < 98.0.4758.80-1~deb11u1; the bullseye-security backport 98.0.4758.102-1~deb11u1 is past it
  const bullseye = debian('bullseye', '11');
  const chromium = dpkgText(
    'Package: chromium\nStatus: install ok installed\nVersion: 90.0.4430.212-1\n\nPackage: chromium-common\nStatus: install ok installed\nSource: chromium\nVersion: 98.0.4758.102-1~deb11u1\n',
    'bu-',
  );
  result = matchPackages({ distribution: bullseye, packages: chromium, records: table });
  t.like(finding(result, chromium[0]!, 'CVE-2022-0456'), { fixedVersion: '98.0.4758.80-1~deb11u1', state: 'fixed' });
  t.deepEqual(findingsOf(result, chromium[1]!), []);
  t.like(checksOf(result, chromium[1]!, 'CVE-2022-0456').find((c) => c.verdict !== 'other-release'), { verdict: 'not-in-range', installedVersion: '98.0.4758.102-1~deb11u1', comparison: 1 });

  // buster: chromium is end of life; librsync has a no-dsa note; prototypejs CVE-2007-2383 is not affected (fixed version 0)
  const buster = debian('buster', '10');
  const old = dpkgText(
    'Package: chromium\nStatus: install ok installed\nVersion: 89.0.4389.114-1~deb10u1\n\n' +
      'Package: librsync2\nStatus: install ok installed\nSource: librsync\nVersion: 0.9.7-10\n\n' +
      'Package: libjs-prototype\nStatus: install ok installed\nSource: prototypejs\nVersion: 1.7.1-3\n',
    'bs-',
  );
  result = matchPackages({ distribution: buster, packages: old, records: table });
  t.like(finding(result, old[0]!, 'CVE-2022-0456'), { state: 'end_of_life', stateReason: 'end-of-life', fixedVersion: null, vendorSeverity: 'end-of-life' });
  t.like(finding(result, old[1]!, 'CVE-2014-8242'), { state: 'not_fixed', stateReason: 'no-dsa: Minor issue, too instrusive to backport', vendorSeverity: 'low', severity: 'Low' });
  t.deepEqual(findingsOf(result, old[2]!).map((f) => f.vulnerability), []);
  t.like(checksOf(result, old[2]!, 'CVE-2007-2383').find((c) => c.verdict !== 'other-release'), { verdict: 'not-affected', detail: 'the vendor says prototypejs is not affected' });
  t.like(checksOf(result, old[2]!, 'CVE-2008-7220').find((c) => c.verdict !== 'other-release'), { verdict: 'not-in-range', fixedVersion: '1.6.0.2-1', comparison: 1 });
  // the bookworm record of sope never applies to a buster image
  t.deepEqual(explanationOf(result, old[0]!).checks.filter((c) => c.verdict !== 'other-release').map((c) => c.vulnerability), []);
});

maybe(`debian: a "will not fix" (ignored) entry, hand-written in the tracker's format and read by the real parser${suffix}`, async (t) => {
  const records = await debianTrackerText(
    JSON.stringify({
      tiff: { 'CVE-2023-3164': { description: 'heap overflow in tiffcrop', releases: { bookworm: { status: 'open', urgency: 'low', nodsa: 'tiffcrop is not built', nodsa_reason: 'ignored', repositories: { bookworm: '4.5.0-6+deb12u1' } } } } },
    }),
    ['bookworm'],
  );
  const packages = dpkgText('Package: libtiff6\nStatus: install ok installed\nSource: tiff\nVersion: 4.5.0-6+deb12u1\n', 'ti-');
  const result = matchPackages({ distribution: debian('bookworm', '12'), packages, records });
  t.like(result.findings[0], { vulnerability: 'CVE-2023-3164', state: 'will_not_fix', stateReason: 'ignored: tiffcrop is not built', severity: 'Low', fixedVersion: null });
});

maybe(`third-party dpkg packages (real trivy status: docker-ce from Docker's repository) are not looked up nor matched against distribution advisories${suffix}`, async (t) => {
  const dist = await ubuntuBionic();
  const packages = dpkgPackages('trivy-third-party.status', 'tp-');
  const docker = pkg(packages, 'docker-ce');
  t.is(docker.version, '5:20.10.7~3-0~debian-buster');
  const plan = matchPlan(dist, null, packages);
  t.deepEqual(plan.lookups, [{ ecosystem: 'dpkg', distribution: 'ubuntu:bionic', packageNames: ['apt'] }]);
  const records = withIds([ubuntuRecord('CVE-2099-0003', 'docker-ce', { fixedVersion: '5:20.10.8~3-0' }), ubuntuRecord('CVE-2020-27350', 'apt', { fixedVersion: '1.6.12ubuntu0.2' })]);
  const result = matchPackages({ distribution: dist, packages, records });
  t.deepEqual(result.findings.map((f) => [f.package.name, f.vulnerability]), [['apt', 'CVE-2020-27350']]);
  t.like(explanationOf(result, docker), { status: 'third-party', reason: 'maintainer Docker <support@docker.com> belongs to docker.com, a third-party repository' });
  t.like(explanationOf(result, docker).checks[0], { verdict: 'package-not-matched', vulnerability: 'CVE-2099-0003' });
  t.deepEqual(result.suppressed['third-party'], { packages: 1, findings: null });
  t.true(result.notes.includes('1 package from third-party repositories is not matched against ubuntu:bionic advisories: docker-ce 5:20.10.7~3-0~debian-buster'));
  // Switched on, it is matched like any other package (and its epoch-5 version is past the hand-written fix? no: 20.10.7 < 20.10.8)
  const forced = matchPackages({ distribution: dist, packages, records, options: { includeThirdParty: true } });
  t.like(finding(forced, docker, 'CVE-2099-0003')?.explain[0], { installedVersion: '5:20.10.7~3-0~debian-buster', comparison: -1 });
  // A configured maintainer and a version marker of a third-party repository
  const pgdg = dpkgText('Package: postgresql-16\nStatus: install ok installed\nMaintainer: Debian PostgreSQL Maintainers <team+postgresql@tracker.debian.org>\nVersion: 16.1-1.pgdg120+1\n\nPackage: acme-agent\nStatus: install ok installed\nMaintainer: ACME Packaging <pkg@acme.example>\nVersion: 1.0-1\n', 'pg-');
  const checked = matchPackages({ distribution: debian('bookworm', '12'), packages: pgdg, records: [], options: { thirdPartyMaintainers: ['@acme.example'] } });
  t.deepEqual(checked.explanations.map((e) => [e.status, e.reason]), [
    ['third-party', 'version 16.1-1.pgdg120+1 is a build of the PostgreSQL PGDG repository, a third-party repository'],
    ['third-party', 'maintainer ACME Packaging <pkg@acme.example> is configured as third-party (@acme.example)'],
  ]);
});
