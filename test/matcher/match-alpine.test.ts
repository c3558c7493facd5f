import { readFileSync } from 'node:fs';
import test from 'ava';
import { apkRepositoryScanner } from '../../src/ecosystems/apk/apk-repository-scanner.ts';
import { apkScanner } from '../../src/ecosystems/apk/apk-scanner.ts';
import { distributionScanner } from '../../src/ecosystems/os-release/distribution-scanner.ts';
import type { FoundDistribution } from '../../src/ecosystems/scanner.ts';
import type { MatchPackage } from '../../src/matcher/match-input.ts';
import { matchPackages } from '../../src/matcher/match-packages.ts';
import { matchPlan } from '../../src/matcher/match-plan.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../helpers/fixtures.ts';
import { dockerSaveLayers, layerFilesFromTar } from '../helpers/layer-files.ts';
import { checksOf, explanationOf, finding, findingsOf, matchPackagesOf, pkg, runLookups, secdbRecords } from './matcher-helpers.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;
const LAYER = 'sha256:' + 'a'.repeat(64);

interface AlpineImage {
  distribution: FoundDistribution;
  hint: FoundDistribution;
  packages: MatchPackage[];
}

/** The real alpine:3.11.5 image (one layer) through the real scanners. */
async function alpine311(): Promise<AlpineImage> {
  const [layer] = await dockerSaveLayers(readFileSync(fixture('pkgdb', 'images', 'trivy-alpine-3.11.5.docker-save.tar.gz')));
  const files = async (s: { files: Parameters<typeof layerFilesFromTar>[1] }) => layerFilesFromTar(layer!, s.files);
  const dist = await distributionScanner.scan(await files(distributionScanner));
  const repos = await apkRepositoryScanner.scan(await files(apkRepositoryScanner));
  const apk = await apkScanner.scan(await files(apkScanner));
  return { distribution: dist.distributions![0]!, hint: repos.distributions![0]!, packages: matchPackagesOf(apk.packages!, 'apk-', LAYER) };
}

/**
 * A hand-written secdb entry for Alpine 3.11 main (the sample files have no openssl or busybox
 * entries): openssl's 1.1.1g-r0 fix of CVE-2020-1967, as Alpine's secdb lists it.
 */
const OPENSSL_311 = JSON.stringify({
  distroversion: 'v3.11',
  reponame: 'main',
  packages: [{ pkg: { name: 'openssl', secfixes: { '1.1.1g-r0': ['CVE-2020-1967'], '1.1.1d-r2': ['CVE-2019-1551'] } } }],
});

maybe(`alpine 3.11 image: plan by the repositories branch, origin-keyed secdb records match subpackages by origin and source version${suffix}`, async (t) => {
  const image = await alpine311();
  t.like(image.hint, { did: 'alpine', versionId: '3.11', path: 'etc/apk/repositories' });
  const plan = matchPlan(image.distribution, image.hint, image.packages);
  t.is(plan.distribution?.keys[0], 'alpine:3.11');
  t.is(plan.lookups.length, 1);
  const [lookup] = plan.lookups;
  t.is(lookup!.ecosystem, 'apk');
  t.is(lookup!.distribution, 'alpine:3.11');
  // binary names and origins: libssl1.1 (origin openssl), scanelf (origin pax-utils)
  for (const name of ['libssl1.1', 'openssl', 'scanelf', 'pax-utils', 'apk-tools', 'busybox', 'libc-dev']) t.true(lookup!.packageNames.includes(name), name);

  const table = [
    ...(await secdbRecords(fixture('feeds', 'alpine-secdb', 'vulnerablecode-v3.11-main.json'), 'alpine:3.11', 'main')),
    ...(await secdbRecords({ text: OPENSSL_311 }, 'alpine:3.11', 'main')),
    ...(await secdbRecords(fixture('feeds', 'alpine-secdb', 'vuln-list-update-edge-main.json'), 'alpine:edge', 'main')),
  ];
  const records = runLookups(plan.lookups, table);
  t.true(records.every((r) => r.distribution === 'alpine:3.11'), 'edge records are not fetched for a 3.11 image');
  const result = matchPackages({ distribution: image.distribution, releaseHint: image.hint, packages: image.packages, records });

  for (const name of ['libssl1.1', 'libcrypto1.1']) {
    const p = pkg(image.packages, name);
    t.is(p.sourceName, 'openssl');
    const f = finding(result, p, 'CVE-2020-1967');
    t.truthy(f, `${name} is affected through its origin openssl`);
    t.like(f, { state: 'fixed', fixedVersion: '1.1.1g-r0', severity: 'Unknown', source: { updater: 'alpine', distribution: 'alpine:3.11' } });
    t.like(f!.explain[0], { verdict: 'affected', matchedBy: 'source', installedVersion: '1.1.1d-r3', fixedVersion: '1.1.1g-r0', comparison: -1 });
    t.is(f!.explain[0]!.detail, 'source version 1.1.1d-r3 < fixed version 1.1.1g-r0: affected, fixed');
    // 1.1.1d-r3 already has the 1.1.1d-r2 fix
    const [older] = checksOf(result, p, 'CVE-2019-1551');
    t.like(older, { verdict: 'not-in-range', comparison: 1, detail: 'source version 1.1.1d-r3 > fixed version 1.1.1d-r2: not affected' });
  }
  // apk-tools 2.10.4-r3 is newer than the 2.7.2-r0 fix of both CVEs: checked, no finding.
  const apkTools = pkg(image.packages, 'apk-tools');
  t.deepEqual(findingsOf(result, apkTools), []);
  t.deepEqual(explanationOf(result, apkTools).checks.map((c) => [c.vulnerability, c.verdict]), [['CVE-2017-9669', 'not-in-range'], ['CVE-2017-9671', 'not-in-range']]);
  t.is(result.findings.length, 2);
  t.deepEqual(result.notes, []);
});

maybe(`alpine 3.11 image whose repositories follow edge: edge advisories apply, and the note says so${suffix}`, async (t) => {
  const image = await alpine311();
  // The same image after `sed -i s/v3.11/edge/ etc/apk/repositories`: the apk repository scanner reports edge.
  const hint: FoundDistribution = { did: 'alpine', name: 'Alpine Linux', version: 'edge', versionId: 'edge', path: 'etc/apk/repositories' };
  const plan = matchPlan(image.distribution, hint, image.packages);
  t.deepEqual(plan.distribution?.keys, ['alpine:edge']);
  t.deepEqual(plan.notes, ['etc/apk/repositories follows alpine:edge while os-release says alpine:3.11: alpine:edge advisories are used']);
  const table = [
    ...(await secdbRecords(fixture('feeds', 'alpine-secdb', 'vulnerablecode-v3.11-main.json'), 'alpine:3.11', 'main')),
    ...(await secdbRecords(fixture('feeds', 'alpine-secdb', 'vuln-list-update-edge-main.json'), 'alpine:edge', 'main')),
  ];
  const records = runLookups(plan.lookups, table);
  // Even handed every record, the matcher keeps to the image's release.
  const result = matchPackages({ distribution: image.distribution, releaseHint: hint, packages: image.packages, records: table });
  t.is(records.length, 2);
  const apkTools = pkg(image.packages, 'apk-tools');
  t.deepEqual(findingsOf(result, apkTools).map((f) => [f.vulnerability, f.fixedVersion]), [
    ['CVE-2021-30139', '2.12.5-r0'],
    ['CVE-2021-36159', '2.12.6-r0'],
  ]);
  t.deepEqual(checksOf(result, apkTools, 'CVE-2017-9669').map((c) => c.verdict), ['other-release']);
});
