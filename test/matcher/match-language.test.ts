import { createReadStream, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import test from 'ava';
import { parseEpss } from '../../src/ecosystems/epss/parse-epss.ts';
import { goBinaryScanner } from '../../src/ecosystems/go/go-binary-scanner.ts';
import { parseKev } from '../../src/ecosystems/kev/parse-kev.ts';
import { parseNvdPage } from '../../src/ecosystems/nvd/parse-nvd-pages.ts';
import type { FoundDistribution, LayerFiles } from '../../src/ecosystems/scanner.ts';
import type { EnrichmentRecord, VulnerabilityRecord } from '../../src/ecosystems/vulnerability-record.ts';
import type { MatchPackage } from '../../src/matcher/match-input.ts';
import { checkPackages, finishMatch, matchPackages } from '../../src/matcher/match-packages.ts';
import { matchPlan } from '../../src/matcher/match-plan.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../helpers/fixtures.ts';
import { checksOf, collect, explanationOf, finding, findingsOf, matchPackagesOf, osvRecords, pkg, runLookups, vexRecords, withIds } from './matcher-helpers.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;

async function* chunks(data: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += 64 * 1024) yield data.subarray(i, i + 64 * 1024);
}

/** The Go scanner's packages for a real binary of the fixtures, installed at `path`. */
async function goPackages(file: string, path: string): Promise<MatchPackage[]> {
  const data = gunzipSync(readFileSync(fixture('pkgdb', 'go-binaries', file)));
  const info = await goBinaryScanner.files.extract!(path, chunks(data));
  const layer: LayerFiles = { files: new Map(info ? [[path, { path, size: data.length, mode: 0o100755, data: info }]] : []), symlinks: new Map() };
  return matchPackagesOf((await goBinaryScanner.scan(layer)).packages ?? [], `${path}#`);
}

/** A language record as an OSV updater writes one, for the cases the samples lack. */
function osvLike(name: string, ecosystem: string, packageName: string, more: Partial<VulnerabilityRecord>): VulnerabilityRecord {
  return {
    updater: `osv-${ecosystem}`, name, aliases: [], ecosystem, distribution: null, repository: null, module: null, packageName, packageKind: 'binary',
    arch: null, affectedRange: null, fixedVersion: null, state: 'not_fixed', stateReason: null, vendorSeverity: null, normalizedSeverity: 'Unknown',
    severitySource: null, cvss: [], description: null, links: [], publishedAt: null, modifiedAt: null,
    ...more,
  };
}

const debian12: FoundDistribution = { did: 'debian', versionId: '12', versionCodename: 'bookworm', path: 'etc/os-release' };

maybe(`go binaries (real ELF build info) against real Go OSV records: stdlib inside each of two ranges, CVE ↔ GHSA ↔ GO ids merged into one finding${suffix}`, async (t) => {
  const packages = [...(await goPackages('trivy-test.elf.gz', 'usr/local/bin/old')), ...(await goPackages('trivy-main-version-via-ldflags.elf.gz', 'usr/local/bin/new'))];
  const stdlib = packages.filter((p) => p.name === 'stdlib');
  t.deepEqual(stdlib.map((p) => p.version), ['v1.15.2', 'v1.22.1']);
  const plan = matchPlan(null, null, packages);
  t.deepEqual(plan.lookups.map((l) => [l.ecosystem, l.distribution, l.packageNames.includes('stdlib')]), [['go', null, true]]);
  const table = [...osvRecords('Go', 'GO-2024-2687.json'), ...osvRecords('Go', 'GHSA-4v7x-pqxf-cx7m.json'), ...osvRecords('Go', 'GO-2025-3487.json')];
  const result = matchPackages({ distribution: null, packages, records: runLookups(plan.lookups, table) });
  const [oldStd, newStd] = stdlib as [MatchPackage, MatchPackage];
  const a = finding(result, oldStd, 'CVE-2023-45288');
  const b = finding(result, newStd, 'CVE-2023-45288');
  t.like(a, { fixedVersion: '1.21.9', state: 'fixed', aliases: ['GHSA-4v7x-pqxf-cx7m', 'GO-2024-2687'] });
  t.like(b, { fixedVersion: '1.22.2' });
  t.is(a!.explain[0]!.affectedVersions, '< 1.21.9 || >= 1.22.0-0, < 1.22.2');
  t.is(b!.explain[0]!.detail, 'version v1.22.1 < fixed version 1.22.2: affected, fixed');
  t.is(result.findings.length, 2);
  // golang.org/x/xerrors has no advisory; nothing fetched, nothing checked
  t.deepEqual(explanationOf(result, pkg(packages.slice(0, 5), 'golang.org/x/xerrors')).checks, []);
});

maybe(`pypi: a real OSV record with last_affected ranges — inside, between the ranges, after (package versions hand-written)${suffix}`, async (t) => {
  const table = osvRecords('PyPI', 'PYSEC-2023-120.json');
  const packages: MatchPackage[] = ['3.8.4', '3.8.5', '4.0.1'].map((version, i) => ({
    id: `py${i}`, ecosystem: 'pypi', name: 'aiohttp', version, path: `usr/lib/python3/dist-packages/aiohttp-${version}.dist-info/METADATA`,
  }));
  const result = matchPackages({ distribution: null, packages, records: table });
  t.deepEqual(result.findings.map((f) => [f.package.version, f.vulnerability, f.fixedVersion]), [
    ['3.8.4', 'CVE-2023-37276', null],
    ['4.0.1', 'CVE-2023-37276', null],
  ]);
  t.like(finding(result, packages[0]!, 'CVE-2023-37276'), { aliases: ['GHSA-45c4-8wx5-qw6w', 'PYSEC-2023-120'], state: 'not_fixed' });
  t.is(finding(result, packages[0]!, 'CVE-2023-37276')!.explain[0]!.detail, 'version 3.8.4 is in <= 3.8.4 || >= 4.0.1, <= 4.0.1: affected, not fixed');
  t.like(checksOf(result, packages[1]!, 'PYSEC-2023-120')[0], { verdict: 'not-in-range', detail: 'version 3.8.5 is outside <= 3.8.4 || >= 4.0.1, <= 4.0.1: not affected' });
});

maybe(`pypi: records naming no CVE merge through their aliases (real PYSEC record, hand-written GHSA record)${suffix}`, async (t) => {
  const table = [
    ...osvRecords('PyPI', 'PYSEC-2018-27.json'),
    ...withIds([osvLike('GHSA-wgmx-52ph-qqcw', 'pypi', 'qutebrowser', { aliases: ['PYSEC-2018-27'], affectedRange: { events: [{ introduced: '0' }, { fixed: '1.4.1' }] }, state: 'fixed', fixedVersion: '1.4.1', normalizedSeverity: 'High', vendorSeverity: 'HIGH', severitySource: 'vendor' })]),
  ];
  const packages: MatchPackage[] = [{ id: 'q', ecosystem: 'pypi', name: 'qutebrowser', version: '1.4.0', path: 'usr/lib/python3/site-packages/qutebrowser-1.4.0.dist-info/METADATA' }];
  const result = matchPackages({ distribution: null, packages, records: table });
  t.is(result.findings.length, 1);
  const f = result.findings[0]!;
  t.deepEqual([f.vulnerability, f.aliases], ['PYSEC-2018-27', ['GHSA-wgmx-52ph-qqcw']]);
  t.like(f, { fixedVersion: '1.4.1', severity: 'High', vendorSeverity: 'HIGH' });
  t.is(f.explain.length, 2);
});

maybe(`an OS-owned Python package is matched through its OS package only, never twice (hand-written packages, real OSV record)${suffix}`, async (t) => {
  const owner: MatchPackage = { id: 10, ecosystem: 'dpkg', name: 'python3-aiohttp', version: '3.8.4-1', sourceName: 'python-aiohttp', sourceVersion: '3.8.4-1', vendor: 'Debian Python Team <team+python@tracker.debian.org>', path: 'var/lib/dpkg/status' };
  const owned: MatchPackage = { id: 11, ecosystem: 'pypi', name: 'aiohttp', version: '3.8.4', path: 'usr/lib/python3/dist-packages/aiohttp-3.8.4.dist-info/METADATA', ownerPackageId: 10 };
  const pip: MatchPackage = { id: 12, ecosystem: 'pypi', name: 'aiohttp', version: '3.8.4', path: 'opt/venv/lib/python3.11/site-packages/aiohttp-3.8.4.dist-info/METADATA' };
  const packages = [owner, owned, pip];
  const plan = matchPlan(debian12, null, packages);
  t.deepEqual(plan.lookups, [
    { ecosystem: 'dpkg', distribution: 'debian:bookworm', packageNames: ['python-aiohttp', 'python3-aiohttp'] },
    { ecosystem: 'pypi', distribution: null, packageNames: ['aiohttp'] },
  ]);
  const table = [
    ...osvRecords('PyPI', 'PYSEC-2023-120.json'),
    ...withIds([{ ...osvLike('CVE-2023-37276', 'dpkg', 'python-aiohttp', { fixedVersion: '3.8.4-1+deb12u1', state: 'fixed' }), updater: 'debian', distribution: 'debian:bookworm', packageKind: 'source' as const }]),
  ];
  const result = matchPackages({ distribution: debian12, packages, records: table });
  t.deepEqual(result.findings.map((f) => [f.packageId, f.vulnerability, f.source.updater]), [
    [12, 'CVE-2023-37276', 'osv-pypi'],
    [10, 'CVE-2023-37276', 'debian'],
  ]);
  t.like(explanationOf(result, owned), { status: 'owned-by-os-package', reason: 'installed by OS package python3-aiohttp 3.8.4-1, whose distribution advisories cover it', findings: 0 });
  t.deepEqual(result.suppressed['owned-by-os-package'], { packages: 1, findings: null });
  t.true(result.notes.includes('1 language package was installed by OS packages and is matched through it only'));
});

maybe(`enrichment: NVD severity when the advisory has none, CVSS by version, EPSS and KEV by CVE (real enrichment files, hand-written records)${suffix}`, async (t) => {
  const enrichments: EnrichmentRecord[] = [
    ...(await collect(parseNvdPage(createReadStream(fixture('feeds', 'nvd', 'vunnel-nvd-api2-full-page.json'))))),
    ...(await collect(parseEpss(createReadStream(fixture('feeds', 'epss', 'claircore-epss-data.csv'))))),
    ...(await collect(parseKev(createReadStream(fixture('feeds', 'kev', 'claircore-known_exploited_vulnerabilities.json'))))),
  ];
  const records = withIds([
    osvLike('GHSA-jfh8-c2jp-5v3q', 'maven', 'org.apache.logging.log4j:log4j-core', {
      aliases: ['CVE-2021-44228'], affectedRange: { events: [{ introduced: '2.0-beta9' }, { fixed: '2.15.0' }] }, state: 'fixed', fixedVersion: '2.15.0',
      vendorSeverity: 'CRITICAL', normalizedSeverity: 'Critical', severitySource: 'vendor',
      cvss: [{ version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', score: 10 }],
    }),
    osvLike('CVE-2023-45109', 'npm', 'example-widget', { affectedRange: { events: [{ introduced: '0' }] } }),
    osvLike('CVE-2024-9972', 'npm', 'example-widget', { affectedRange: { events: [{ introduced: '0' }, { fixed: '2.0.0' }] }, state: 'fixed', fixedVersion: '2.0.0' }),
  ]);
  const packages: MatchPackage[] = [
    { id: 'j', ecosystem: 'maven', name: 'org.apache.logging.log4j:log4j-core', version: '2.14.1', path: 'app/lib/log4j-core-2.14.1.jar' },
    { id: 'w', ecosystem: 'npm', name: 'example-widget', version: '1.2.3', path: 'app/node_modules/example-widget/package.json' },
  ];
  const result = matchPackages({ distribution: null, packages, records, enrichments });
  // The findings' CVE ids (the GHSA advisory's by its alias) are all the enrichment data they need.
  const checked = checkPackages({ distribution: null, packages, records });
  t.deepEqual(checked.enrichmentIds, ['CVE-2021-44228', 'CVE-2023-45109', 'CVE-2024-9972']);
  t.true(enrichments.length > checked.enrichmentIds.length * 3);
  t.deepEqual(finishMatch(checked, enrichments.filter((e) => checked.enrichmentIds.includes(e.vulnName))).findings, result.findings);
  const log4j = finding(result, packages[0]!, 'CVE-2021-44228')!;
  t.like(log4j, { severity: 'Critical', severitySource: 'vendor', kev: { dateAdded: '2021-12-10', knownRansomware: true }, epss: null, aliases: ['GHSA-jfh8-c2jp-5v3q'] });
  t.like(log4j.cvss.v3, { score: 10, source: 'osv-maven' });
  const nvd = finding(result, packages[1]!, 'CVE-2023-45109')!;
  t.like(nvd, { severity: 'High', severitySource: 'nvd', vendorSeverity: null, kev: null });
  t.deepEqual(nvd.cvss.v3, { version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H', score: 8.8, source: 'nvd' });
  t.deepEqual(finding(result, packages[1]!, 'CVE-2024-9972')!.epss, { score: 0.00091, percentile: 0.39923, date: '2024-10-25' });
  t.deepEqual(result.findings.map((f) => f.vulnerability), ['CVE-2021-44228', 'CVE-2023-45109', 'CVE-2024-9972'], 'most severe first');
});

maybe(`a vendor's not-affected statement (real VEX) supersedes an "affected" record of the same CVE from another feed (hand-written advisory)${suffix}`, async (t) => {
  const ubi8: FoundDistribution = { did: 'rhel', versionId: '8.5', path: 'etc/os-release' };
  const curl: MatchPackage = { id: 'c', ecosystem: 'rpm', name: 'curl', version: '7.61.1-22.el8', sourceName: 'curl', sourceVersion: '7.61.1-22.el8', vendor: 'Red Hat, Inc.', path: 'var/lib/rpm/rpmdb.sqlite' };
  const advisory = withIds([{ ...osvLike('RHSA-2099:0001', 'rpm', 'curl', { aliases: ['CVE-2023-38545'], state: 'fixed', fixedVersion: '7.61.1-99.el8' }), updater: 'rhel-oval', distribution: 'rhel:8', repository: 'cpe:/o:redhat:enterprise_linux:8' }]);
  const result = matchPackages({ distribution: ubi8, packages: [curl], records: [...vexRecords('cve-2023-38545.json.gz'), ...advisory] });
  t.deepEqual(result.findings, []);
  const superseded = checksOf(result, curl, 'RHSA-2099:0001')[0]!;
  t.is(superseded.verdict, 'superseded');
  t.regex(superseded.detail, /^version 7\.61\.1-22\.el8 < fixed version 7\.61\.1-99\.el8: affected, fixed; superseded: rhel-vex CVE-2023-38545 says not affected \(vulnerable_code_not_present\)$/);
  t.deepEqual(findingsOf(matchPackages({ distribution: ubi8, packages: [curl], records: advisory }), curl).map((f) => f.vulnerability), ['CVE-2023-38545']);
});
