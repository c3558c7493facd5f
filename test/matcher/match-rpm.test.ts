import test from 'ava';
import { createRhelOvalUpdater } from '../../src/ecosystems/rhel/rhel-oval-updater.ts';
import type { FoundDistribution } from '../../src/ecosystems/scanner.ts';
import type { VulnerabilityRecord } from '../../src/ecosystems/vulnerability-record.ts';
import type { MatchPackage } from '../../src/matcher/match-input.ts';
import { matchPackages } from '../../src/matcher/match-packages.ts';
import { matchPlan } from '../../src/matcher/match-plan.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../helpers/fixtures.ts';
import { checksOf, explanationOf, finding, findingsOf, pkg, rpmPackagesFromTsv, runLookups, updaterRecords, vexRecords, withIds } from './matcher-helpers.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;

const rocky9: FoundDistribution = { did: 'rocky', versionId: '9.3', prettyName: 'Rocky Linux 9.3 (Blue Onyx)', path: 'etc/os-release' };
const ubi8: FoundDistribution = { did: 'rhel', versionId: '8.5', cpe: 'cpe:/o:redhat:enterprise_linux:8::baseos', path: 'etc/os-release' };
const centos8: FoundDistribution = { did: 'centos', versionId: '8', path: 'etc/os-release' };
const centos7: FoundDistribution = { did: 'centos', versionId: '7', path: 'etc/os-release' };

/** A record as the Red Hat updaters write one, for the cases the samples lack. */
function redHatRecord(name: string, packageName: string, more: Partial<VulnerabilityRecord>): VulnerabilityRecord {
  return {
    updater: 'rhel-vex', name, aliases: [], ecosystem: 'rpm', distribution: 'rhel:8', repository: 'cpe:/a:redhat:enterprise_linux:8::appstream', module: null,
    packageName, packageKind: 'binary', arch: null, affectedRange: null, fixedVersion: null, state: 'fixed', stateReason: null, vendorSeverity: 'Moderate',
    normalizedSeverity: 'Medium', severitySource: 'vendor', cvss: [], description: null, links: [], publishedAt: null, modifiedAt: null,
    ...more,
  };
}

maybe(`rocky 9 (real rpm list) against Red Hat's CSAF VEX for CVE-2023-38545: rebuilds use rhel:9, the rebuild is past the fix, EUS and layered products do not apply${suffix}`, async (t) => {
  const packages = rpmPackagesFromTsv('expected-rpm-qa/Rockylinux9WithSQLite3.expected.tsv', 'rk-');
  const plan = matchPlan(rocky9, null, packages);
  t.is(plan.distribution?.label, 'rhel:9 (rocky 9.3)');
  t.deepEqual(plan.lookups.map((l) => [l.ecosystem, l.distribution]), [['rpm', 'rhel:9']]);
  t.true(['curl-minimal', 'libcurl-minimal', 'curl'].every((n) => plan.lookups[0]!.packageNames.includes(n)));

  const table = vexRecords('cve-2023-38545.json.gz');
  const records = runLookups(plan.lookups, table);
  const result = matchPackages({ distribution: rocky9, packages, records });
  const curl = pkg(packages, 'curl-minimal');
  t.is(curl.version, '7.76.1-26.el9_3.2.0.1');
  t.deepEqual(findingsOf(result, curl), []);
  const checks = checksOf(result, curl, 'CVE-2023-38545');
  // the binary records of the curl package, fetched by the source name, are for another package
  t.deepEqual(checks.filter((c) => c.verdict === 'other-package').map((c) => c.detail), Array(4).fill('keyed by package curl, not curl-minimal'));
  // binary record curl-minimal and source record curl, each under baseos and appstream (mainline) and EUS 9.0
  t.deepEqual(checks.filter((c) => c.verdict !== 'other-package').map((c) => [c.verdict, c.matchedBy, c.fixedVersion]).sort(), [
    ['not-in-range', 'binary', '7.76.1-26.el9_3.2'],
    ['not-in-range', 'binary', '7.76.1-26.el9_3.2'],
    ['not-in-range', 'source', '7.76.1-26.el9_3.2'],
    ['not-in-range', 'source', '7.76.1-26.el9_3.2'],
    ['other-repository', 'binary', null],
    ['other-repository', 'binary', null],
    ['other-repository', 'source', null],
    ['other-repository', 'source', null],
  ]);
  t.is(checks.find((c) => c.verdict === 'other-repository')!.detail.replace(/cpe:[^,]+/, 'CPE'), 'scoped to CPE, a product or support stream not known to be in the image');
  t.deepEqual(result.explanations.filter((e) => e.status !== 'matched'), [], 'Rocky-built packages are the distribution\'s');

  // The same image one curl build earlier (hand-edited version): one finding from four records.
  const older = packages.map((p): MatchPackage => (p.sourceName === 'curl' ? { ...p, version: '7.76.1-26.el9_3.1', sourceVersion: '7.76.1-26.el9_3.1' } : p));
  const again = matchPackages({ distribution: rocky9, packages: older, records });
  const f = finding(again, pkg(older, 'curl-minimal'), 'CVE-2023-38545');
  t.like(f, { state: 'fixed', fixedVersion: '7.76.1-26.el9_3.2', vendorSeverity: 'Important', severity: 'High', severitySource: 'vendor', source: { updater: 'rhel-vex', distribution: 'rhel:9' } });
  t.is(f!.explain.length, 4);
  t.is(f!.explain[0]!.matchedBy, 'binary');
  t.like(f!.cvss.v3, { version: '3.1', source: 'redhat' });
  t.deepEqual(again.findings.map((x) => x.package.name).sort(), ['curl-minimal', 'libcurl-minimal']);

  // Told the image's repositories are the 9.0 EUS ones, the EUS records apply instead.
  const eus = matchPackages({ distribution: rocky9, packages: older, records, options: { repositoryCpes: ['cpe:/o:redhat:rhel_eus:9.0::baseos', 'cpe:/a:redhat:rhel_eus:9.0::appstream'] } });
  t.deepEqual(findingsOf(eus, pkg(older, 'curl-minimal')), [], '7.76.1-26.el9_3.1 is past the EUS fix 7.76.1-14.el9_0.9');
  t.is(checksOf(eus, pkg(older, 'curl-minimal'), 'CVE-2023-38545').filter((c) => c.verdict === 'not-in-range' && c.fixedVersion === '7.76.1-14.el9_0.9').length, 4);
});

maybe(`ubi 8 (real rpm list): Red Hat's "not affected" statement for curl is a check with its reason, not a finding${suffix}`, async (t) => {
  const packages = rpmPackagesFromTsv('expected-rpm-qa/UBI8s390x.expected.tsv', 'ubi-');
  const result = matchPackages({ distribution: ubi8, packages, records: vexRecords('cve-2023-38545.json.gz') });
  t.deepEqual(result.findings, []);
  for (const name of ['curl', 'libcurl']) {
    const checks = checksOf(result, pkg(packages, name), 'CVE-2023-38545').filter((c) => c.verdict === 'not-affected');
    t.true(checks.length >= 1, name);
    t.is(checks[0]!.detail, `the vendor says ${checks[0]!.matchedBy === 'source' ? 'curl' : name} is not affected (vulnerable_code_not_present)`);
  }
});

maybe(`rhel 8 with a layered product: real OVAL records of Ansible Engine apply only when the image's repositories say so; an RHSA counts once per CVE${suffix}`, async (t) => {
  const table = await updaterRecords(createRhelOvalUpdater(), [fixture('feeds', 'redhat-oval-v2', 'RHEL8', 'ansible-2-including-unpatched.oval.xml.bz2')]);
  // hand-written package: ansible 2.9.0 as Red Hat built it
  const packages: MatchPackage[] = [{ id: 'a1', ecosystem: 'rpm', name: 'ansible', version: '2.9.0-1.el8ae', sourceName: 'ansible', sourceVersion: '2.9.0-1.el8ae', arch: 'noarch', vendor: 'Red Hat, Inc.', path: 'var/lib/rpm/rpmdb.sqlite' }];
  const plain = matchPackages({ distribution: ubi8, packages, records: table });
  t.deepEqual(plain.findings.map((f) => [f.vulnerability, f.state]), [
    ['CVE-2020-10744', 'not_fixed'],
    ['CVE-2020-1734', 'not_fixed'],
    ['CVE-2020-1738', 'not_fixed'],
  ]);
  t.true(explanationOf(plain, packages[0]!).checks.every((c) => c.verdict === 'other-repository' && c.vulnerability.startsWith('RHSA-')));

  const withAnsible = matchPackages({ distribution: ubi8, packages, records: table, options: { repositoryCpes: ['cpe:/a:redhat:ansible_engine:2.9::el8'] } });
  const byId = Object.fromEntries(withAnsible.findings.map((f) => [f.vulnerability, f]));
  t.deepEqual(Object.keys(byId).sort(), ['CVE-2019-14864', 'CVE-2019-14904', 'CVE-2019-14905', 'CVE-2020-10744', 'CVE-2020-1734', 'CVE-2020-1738']);
  t.like(byId['CVE-2019-14904'], { aliases: ['RHSA-2020:0215'], state: 'fixed', fixedVersion: '2.9.4-1.el8ae' });
  t.like(byId['CVE-2019-14905'], { aliases: ['RHSA-2020:0215'], fixedVersion: '2.9.4-1.el8ae' });
  // RHSA-2019:3927 is filed under two CPEs of the product; both speak of the one finding
  t.is(byId['CVE-2019-14864']!.explain.length, 2);
  t.true(byId['CVE-2019-14864']!.links.length > 0);
});

maybe(`centos 8 modular packages (real rpm list): a module-scoped record applies only to its stream, a non-modular record to none (hand-written records)${suffix}`, async (t) => {
  const packages = rpmPackagesFromTsv('expected-rpm-qa/CentOS8Modularitylabel.expected.tsv', 'c8-');
  const nodejs = pkg(packages, 'nodejs');
  t.is(nodejs.module, 'nodejs:10:8020020200707141642:6a468ee4');
  t.is(nodejs.version, '1:10.21.0-3.module_el8.2.0+391+8da3adc6');
  const records = withIds([
    redHatRecord('CVE-2021-22883', 'nodejs', { module: 'nodejs:10', fixedVersion: '1:10.24.0-1.module+el8.3.0+10166+b07ac28e', vendorSeverity: 'Important', normalizedSeverity: 'High' }),
    redHatRecord('CVE-2021-22883', 'nodejs', { module: 'nodejs:12', fixedVersion: '1:12.21.0-2.module+el8.3.0+10191+34ff8d52' }),
    redHatRecord('CVE-2099-0100', 'nodejs', { fixedVersion: '1:16.0.0-1.el8' }),
    // npm is built from the nodejs source RPM
    redHatRecord('CVE-2021-22884', 'nodejs', { packageKind: 'source', module: 'nodejs:10', fixedVersion: '1:10.24.0-1.module+el8.3.0+10166+b07ac28e' }),
    // a non-modular package (bash) and a module record for its name: does not apply
    redHatRecord('CVE-2099-0101', 'bash', { module: 'bash:5', fixedVersion: '9.9-1.el8' }),
  ]);
  const result = matchPackages({ distribution: centos8, packages, records });
  t.deepEqual(findingsOf(result, nodejs).map((f) => f.vulnerability), ['CVE-2021-22883', 'CVE-2021-22884']);
  t.like(finding(result, nodejs, 'CVE-2021-22883'), { fixedVersion: '1:10.24.0-1.module+el8.3.0+10166+b07ac28e', severity: 'High' });
  const other = checksOf(result, nodejs, 'CVE-2021-22883').map((c) => c.detail);
  t.deepEqual(other, ['a record for module nodejs:12, not nodejs:10']);
  t.deepEqual(checksOf(result, nodejs, 'CVE-2099-0100').map((c) => [c.verdict, c.detail]), [['other-module', 'a record for non-modular builds; the package is from module nodejs:10']]);
  const npm = pkg(packages, 'npm');
  t.like(finding(result, npm, 'CVE-2021-22884')?.explain[0], { matchedBy: 'source', installedVersion: '1:10.21.0-3.module_el8.2.0+391+8da3adc6' });
  t.deepEqual(checksOf(result, pkg(packages, 'bash'), 'CVE-2099-0101').map((c) => c.detail), ['a record for module bash:5; the package is not modular']);
});

maybe(`centos 7 (real rpm list): EPEL packages (vendor Fedora Project) are third-party for the Red Hat feed (hand-written record)${suffix}`, async (t) => {
  const packages = rpmPackagesFromTsv('expected-rpm-qa/CentOS7Httpd24.expected.tsv', 'c7-');
  const wrapper = pkg(packages, 'nss_wrapper');
  t.is(wrapper.vendor, 'Fedora Project');
  const records = withIds([redHatRecord('CVE-2099-0200', 'nss_wrapper', { distribution: 'rhel:7', repository: null, fixedVersion: '1.1.6-1.el7' })]);
  const plan = matchPlan(centos7, null, packages);
  t.false(plan.lookups[0]!.packageNames.includes('nss_wrapper'));
  const result = matchPackages({ distribution: centos7, packages, records });
  t.deepEqual(result.findings, []);
  t.like(explanationOf(result, wrapper), { status: 'third-party', reason: 'vendor Fedora Project is not a rhel vendor' });
  t.is(result.suppressed['third-party'].packages, 2, 'nss_wrapper and epel-release');
});
