import { createReadStream, readFileSync } from 'node:fs';
import { readDpkgStatus } from '../../src/ecosystems/dpkg/read-dpkg-status.ts';
import { parseKev } from '../../src/ecosystems/kev/parse-kev.ts';
import { createUbuntuUpdater } from '../../src/ecosystems/ubuntu/ubuntu-updater.ts';
import type { FoundDistribution } from '../../src/ecosystems/scanner.ts';
import type { VulnerabilityRecord } from '../../src/ecosystems/vulnerability-record.ts';
import { buildImageReport, type ImageReport } from '../../src/matcher/image-report.ts';
import type { MatchPackage } from '../../src/matcher/match-input.ts';
import { matchPackages } from '../../src/matcher/match-packages.ts';
import { matchPlan } from '../../src/matcher/match-plan.ts';
import { fixture } from '../helpers/fixtures.ts';
import { collect, matchPackagesOf, rpmPackagesFromTsv, runLookups, updaterRecords, vexRecords, withIds } from './matcher-helpers.ts';

/** Layer digests of the sample image, base first. */
export const LAYERS = ['sha256:' + '1'.repeat(64), 'sha256:' + '2'.repeat(64), 'sha256:' + '3'.repeat(64)];
export const IMAGE_DIGEST = 'sha256:' + 'd'.repeat(64);

const bionic: FoundDistribution = {
  did: 'ubuntu', name: 'Ubuntu', versionId: '18.04', versionCodename: 'bionic', prettyName: 'Ubuntu 18.04.6 LTS', path: 'etc/os-release',
};

function record(name: string, packageName: string, more: Partial<VulnerabilityRecord>): VulnerabilityRecord {
  return {
    updater: 'ubuntu', name, aliases: [], ecosystem: 'dpkg', distribution: 'ubuntu:bionic', repository: null, module: null, packageName,
    packageKind: 'source', arch: null, affectedRange: null, fixedVersion: null, state: 'fixed', stateReason: null, vendorSeverity: 'Medium',
    normalizedSeverity: 'Medium', severitySource: 'vendor', cvss: [], description: null, links: [], publishedAt: null, modifiedAt: null,
    ...more,
  };
}

/**
 * A report of an Ubuntu 18.04 image built from the real texlive dpkg status (base layer), with a
 * hand-added layer holding a Java application (log4j-core) and a package whose name and version
 * carry markup and terminal escapes. Records: the real Canonical OVAL sample, the real CISA KEV
 * catalog, and hand-written Ubuntu and GHSA-style records for the cases the samples lack.
 */
export async function ubuntuSampleReport(): Promise<ImageReport> {
  const { packages: found } = readDpkgStatus(readFileSync(fixture('pkgdb', 'dpkg', 'claircore-texlive.status')), 'var/lib/dpkg/status');
  const packages: MatchPackage[] = [
    ...matchPackagesOf(found, 'd', LAYERS[0]!),
    { id: 'j1', ecosystem: 'maven', name: 'org.apache.logging.log4j:log4j-core', version: '2.14.1', path: 'app/lib/log4j-core-2.14.1.jar', introducedIn: LAYERS[2]!, purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1' },
    { id: 'x1', ecosystem: 'npm', name: 'evil<script>alert(1)</script>\u001b[31m', version: '1.0.0', path: 'app/node_modules/evil/package.json', introducedIn: LAYERS[2]! },
  ];
  const records = [
    ...(await updaterRecords(createUbuntuUpdater(), [fixture('feeds', 'ubuntu', 'vulnerablecode-ubuntu-oval-sample.xml')])),
    ...withIds([
      record('CVE-2020-1971', 'openssl', { fixedVersion: '1.1.1-1ubuntu2.1~18.04.7', vendorSeverity: 'High', normalizedSeverity: 'High', description: 'EDIPARTYNAME NULL pointer de-reference. A second sentence.', links: ['https://ubuntu.com/security/CVE-2020-1971'], publishedAt: '2020-12-08T16:15:00.000Z' }),
      record('CVE-2018-25032', 'zlib', { fixedVersion: '1:1.2.11.dfsg-0ubuntu2.1' }),
      record('CVE-2018-20482', 'tar', { state: 'will_not_fix', stateReason: 'ignored', vendorSeverity: 'Low', normalizedSeverity: 'Low' }),
      record('CVE-2019-9923', 'tar', { state: 'not_fixed', stateReason: 'needed', vendorSeverity: 'Negligible', normalizedSeverity: 'Negligible' }),
      record('CVE-2020-12888', 'linux', { fixedVersion: '4.15.0-112.113' }),
      {
        ...record('GHSA-jfh8-c2jp-5v3q', 'org.apache.logging.log4j:log4j-core', {
          updater: 'osv-maven', ecosystem: 'maven', distribution: null, packageKind: 'binary', aliases: ['CVE-2021-44228'], fixedVersion: '2.15.0',
          affectedRange: { events: [{ introduced: '2.0-beta9' }, { fixed: '2.15.0' }] }, vendorSeverity: 'CRITICAL', normalizedSeverity: 'Critical',
          cvss: [{ version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', score: 10 }],
          links: ['javascript:alert(1)', 'https://github.com/advisories/GHSA-jfh8-c2jp-5v3q'],
          description: 'Apache Log4j2 JNDI features <b>do not</b> protect against attacker controlled LDAP.',
        }),
      },
      {
        ...record('GHSA-0000-0000-0001', 'evil<script>alert(1)</script>\u001b[31m', {
          updater: 'osv-npm', ecosystem: 'npm', distribution: null, packageKind: 'binary', state: 'not_fixed', stateReason: '"><img src=x onerror=alert(2)>', affectedRange: { events: [{ introduced: '0' }] },
          vendorSeverity: null, normalizedSeverity: 'Unknown', severitySource: null, description: '<script>alert("x")</script> & "quotes"',
        }),
      },
    ]),
  ];
  const plan = matchPlan(bionic, null, packages);
  const kev = await collect(parseKev(createReadStream(fixture('feeds', 'kev', 'claircore-known_exploited_vulnerabilities.json'))));
  const match = matchPackages({ distribution: bionic, packages, records: runLookups(plan.lookups, records), enrichments: kev });
  return buildImageReport({
    image: { digest: IMAGE_DIGEST, mediaType: 'application/vnd.oci.image.manifest.v1+json', reference: 'registry.test/team/app:1.0', platform: { os: 'linux', architecture: 'amd64' }, layers: LAYERS },
    distribution: bionic,
    packages,
    match,
    generation: 42,
    generatedAt: '2025-06-01T12:00:00Z',
    notes: plan.notes,
    explain: true,
  });
}

/** A report of the real UBI 8 package list against Red Hat's real VEX for CVE-2023-38545 (no findings, not-affected statements). */
export function ubiSampleReport(platform: { os: string; architecture: string; variant?: string } = { os: 'linux', architecture: 's390x' }): ImageReport {
  const ubi8: FoundDistribution = { did: 'rhel', name: 'Red Hat Enterprise Linux', versionId: '8.5', path: 'etc/os-release' };
  const packages = rpmPackagesFromTsv('expected-rpm-qa/UBI8s390x.expected.tsv', `ubi-${platform.architecture}-`);
  const match = matchPackages({ distribution: ubi8, packages, records: vexRecords('cve-2023-38545.json.gz') });
  return buildImageReport({
    image: { digest: 'sha256:' + 'e'.repeat(64), mediaType: 'application/vnd.oci.image.manifest.v1+json', platform },
    distribution: ubi8,
    packages,
    match,
    generation: 42,
    generatedAt: '2025-06-01T12:00:00Z',
    explain: true,
  });
}
