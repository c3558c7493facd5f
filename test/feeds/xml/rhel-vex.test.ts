import test from 'ava';
import { readFile } from 'node:fs/promises';
import zlib from 'node:zlib';
import { pack } from 'tar-stream';
import { FeedParseError } from '../../../src/feeds/feed-parse-error.ts';
import { csafVexRecords, knownAffectedState, moduleFromRpmmod } from '../../../src/ecosystems/rhel/csaf-vex-records.ts';
import { parsePackageUrl } from '../../../src/ecosystems/rhel/package-url.ts';
import { rhelDistributionFromCpe } from '../../../src/ecosystems/rhel/rhel-cpe.ts';
import { createRhelVexUpdater, RHEL_VEX_URL } from '../../../src/ecosystems/rhel/rhel-vex-updater.ts';
import { UNCHANGED } from '../../../src/ecosystems/updater.ts';
import { startFeedServer } from '../../helpers/feed-server.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { duplicateKeys, fetched, one, parseFiles, runFetch, tempFile } from './xml-harness.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;
const vex = (name: string): string => fixture('feeds', 'redhat-csaf-vex', name);
const parse = (name: string) => parseFiles(createRhelVexUpdater(), [vex(name)]);

maybe(`curl CVE-2023-38545: fixed per stream CPE, binary and source, RHSA link; product-level not-affected kept${suffix}`, async (t) => {
  const records = await parse('cve-2023-38545.json.gz');
  t.true(records.every((r) => r.updater === 'rhel-vex' && r.name === 'CVE-2023-38545' && r.ecosystem === 'rpm'));
  // Two streams of one CPE (9.2 EUS and 9.3) fix curl at different versions: one row, the higher
  // fix, both errata linked.
  const appstream = one(records, { packageName: 'curl', repository: 'cpe:/a:redhat:enterprise_linux:9::appstream', packageKind: 'binary' });
  t.is(appstream.fixedVersion, '7.76.1-26.el9_3.2');
  t.true(appstream.links.includes('https://access.redhat.com/errata/RHSA-2023:5763') && appstream.links.includes('https://access.redhat.com/errata/RHSA-2023:6745'));
  const fixed = one(records, { packageName: 'libcurl', repository: 'cpe:/o:redhat:enterprise_linux:9::baseos', fixedVersion: '7.76.1-26.el9_3.2' });
  t.like(fixed, { distribution: 'rhel:9', state: 'fixed', arch: null, module: null, vendorSeverity: 'Important', normalizedSeverity: 'High', publishedAt: '2023-10-11T00:00:00.000Z' });
  t.true(fixed.links.includes('https://access.redhat.com/errata/RHSA-2023:6745'));
  t.deepEqual(fixed.cvss, [{ version: '3.1', vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', score: 8.1, source: 'redhat' }]);
  t.like(one(records, { packageName: 'curl', packageKind: 'source', repository: 'cpe:/a:redhat:rhel_eus:9.0::appstream' }), { fixedVersion: '7.76.1-14.el9_0.9', distribution: 'rhel:9' });
  t.like(one(records, { packageName: 'puppet-agent', packageKind: 'source', repository: 'cpe:/a:redhat:satellite_capsule:6.14::el8' }), { fixedVersion: '7.27.0-1.el8sat', distribution: 'rhel:8' });
  t.like(one(records, { packageName: 'curl', packageKind: 'binary', repository: 'cpe:/o:redhat:enterprise_linux:8' }), { state: 'not_affected', stateReason: 'vulnerable_code_not_present', distribution: 'rhel:8', fixedVersion: null });
  // Build-specific "not affected" entries (thousands in middleware documents) are not kept.
  t.false(records.some((r) => r.state === 'not_affected' && r.packageName === 'rubygem-foreman_scap_client'));
  t.is(records.length, 80); // one row per CPE, package and kind
  t.deepEqual(duplicateKeys(records), {}, 'one record per stored row');
});

maybe(`snakeyaml CVE-2022-38752: remediations give not fixed / will not fix / out of support scope${suffix}`, async (t) => {
  const records = await parse('cve-2022-38752.json.gz');
  t.like(one(records, { packageName: 'snakeyaml', repository: 'cpe:/o:redhat:enterprise_linux:7' }), { state: 'end_of_life', stateReason: 'Out of support scope', distribution: 'rhel:7', fixedVersion: null });
  t.like(one(records, { packageName: 'rh-maven36-byte-buddy' }), { state: 'will_not_fix', stateReason: 'Will not fix', repository: 'cpe:/a:redhat:rhel_software_collections:3', distribution: null, packageKind: 'source' });
  t.like(one(records, { packageName: 'jenkins-2-plugins' }), { state: 'not_fixed', stateReason: 'Affected', distribution: null });
  t.like(one(records, { packageName: 'rh-sso7-keycloak', packageKind: 'binary', repository: 'cpe:/a:redhat:red_hat_single_sign_on:7.6::el8' }), { state: 'fixed', fixedVersion: '18.0.7-1.redhat_00001.1.el8sso', vendorSeverity: 'Moderate', normalizedSeverity: 'Medium' });
  t.false(records.some((r) => r.packageName.includes('sso76-openshift')), 'container images (pkg:oci) are not rpm content');
  t.is(records.length, 22);
  t.deepEqual(duplicateKeys(records), {}, 'one record per stored row');
});

maybe(`modules, bad rpmmod qualifiers, documents without purls, deleted documents${suffix}`, async (t) => {
  t.deepEqual(
    (await parse('cve-2024-24786-simple.json')).map((r) => [r.packageName, r.state, r.fixedVersion, r.repository, r.distribution]),
    [['cri-tools', 'fixed', '1.29.0-3.1.el9', 'cpe:/a:redhat:openshift:4.16::el9', 'rhel:9']],
  );
  // `rpmmod=rhel10` has no stream: that entry is skipped, the others stay.
  t.deepEqual((await parse('cve-2024-24786-bad-rpmmod.json')).map((r) => `${r.packageName} ${r.state}`), ['cri-tools fixed', 'good-pkg not_fixed']);
  t.like(one(await parse('cve-2024-24786-illegal-module.json'), { packageName: 'go-toolset' }), { module: 'go-toolset:rhel8', packageKind: 'source', state: 'not_fixed', distribution: 'rhel:8' });
  // NEVRA product ids stand in for purls in older documents.
  const telnet = await parse('claircore-toolkit-rhsa-2022-0011.json');
  t.like(one(telnet, { packageName: 'telnet', packageKind: 'binary', repository: 'cpe:/o:redhat:rhel_e4s:7.6::server' }), { fixedVersion: '1:0.17-65.el7_6', distribution: 'rhel:7' });
  // Kernel data is kept (the matcher decides what a container can run).
  const kernel = await parse('claircore-toolkit-cve-2021-0084.json');
  t.like(one(kernel, { packageName: 'kernel', distribution: 'rhel:9' }), { state: 'not_affected' });
  t.deepEqual(await parse('delete_CVE-2023-0030.json'), []);
  t.deepEqual(await parse('claircore-toolkit-cve-1999-0001-deleted.json'), []);
  // A bare component under a product that names no RHEL release cannot be told to be an rpm.
  t.deepEqual(await parse('claircore-toolkit-cve-2024-22047.json'), []);
});

test('helpers: purls, modules, CPE releases, remediation words', (t) => {
  t.like(parsePackageUrl('pkg:rpm/redhat/foreman-installer@3.7.0.7-1.el8sat?arch=src&epoch=1'), { type: 'rpm', namespace: 'redhat', name: 'foreman-installer', version: '3.7.0.7-1.el8sat', qualifiers: { arch: 'src', epoch: '1' } });
  t.is(parsePackageUrl('not a purl'), null);
  t.is(moduleFromRpmmod('nodejs:18:8090020230810123456:a75119d5'), 'nodejs:18');
  t.is(moduleFromRpmmod('rhel10'), null);
  t.is(rhelDistributionFromCpe('cpe:/a:redhat:rhel_eus:9.2::appstream'), 'rhel:9');
  t.is(rhelDistributionFromCpe('cpe:/a:redhat:openshift:4.16::el9'), 'rhel:9');
  t.is(rhelDistributionFromCpe('cpe:/a:redhat:rhel_software_collections:3'), null);
  t.is(knownAffectedState('none_available', 'Affected'), 'not_fixed');
  t.is(knownAffectedState('none_available', 'Fix deferred'), 'fix_deferred');
  t.is(knownAffectedState('no_fix_planned', 'Will not fix'), 'will_not_fix');
  t.is(knownAffectedState('no_fix_planned', 'Out of support scope'), 'end_of_life');
  t.throws(() => csafVexRecords({ nope: true }, 'x.json'), { instanceOf: FeedParseError });
  // The epoch qualifier of a purl goes in front of the fixed version.
  const doc = {
    document: { tracking: { id: 'CVE-2099-0001', status: 'final' } },
    product_tree: {
      branches: [
        { category: 'product_name', name: 'RHEL 8 AppStream', product: { product_id: 'AS8', product_identification_helper: { cpe: 'cpe:/a:redhat:enterprise_linux:8::appstream' } } },
        { category: 'product_version', name: 'nodejs-1:18.19.0-1.module+el8.9.0.x86_64', product: { product_id: 'P1', product_identification_helper: { purl: 'pkg:rpm/redhat/nodejs@18.19.0-1.module%2Bel8.9.0?arch=x86_64&epoch=1&rpmmod=nodejs:18:8090020231215164623:a75119d5' } } },
      ],
      relationships: [{ category: 'default_component_of', full_product_name: { name: 'x', product_id: 'AS8:P1' }, product_reference: 'P1', relates_to_product_reference: 'AS8' }],
    },
    vulnerabilities: [{ cve: 'CVE-2099-0001', product_status: { fixed: ['AS8:P1'] }, threats: [{ category: 'impact', details: 'Low', product_ids: ['AS8:P1'] }] }],
  };
  t.like(csafVexRecords(doc, 'inline.json')[0], { packageName: 'nodejs', module: 'nodejs:18', fixedVersion: '1:18.19.0-1.module+el8.9.0', distribution: 'rhel:8', vendorSeverity: 'Low', normalizedSeverity: 'Low' });
});

test('a VEX document that is not JSON fails the parse with its name', async (t) => {
  const file = await tempFile(t, 'cve-2024-0001.json', '{"document": {');
  await t.throwsAsync(parseFiles(createRhelVexUpdater(), [file]), { instanceOf: FeedParseError, message: /cve-2024-0001\.json: not JSON/ });
});

async function tarZst(entries: Record<string, Buffer>): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    p.on('data', (c: unknown) => chunks.push(c as Buffer));
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const [name, body] of Object.entries(entries)) p.entry({ name }, body);
  p.finalize();
  await done;
  return zlib.zstdCompressSync(Buffer.concat(chunks));
}

maybe(`fetch: archive + documents changed after it, deletions honoured; parse reads the archive streaming; then UNCHANGED${suffix}`, async (t) => {
  const server = await startFeedServer(t);
  const curl = zlib.gunzipSync(await readFile(vex('cve-2023-38545.json.gz')));
  const archive = await tarZst({
    '2023/cve-2023-38545.json': curl,
    '2023/cve-2023-4154.json': await readFile(vex('cve-2023-4154.json')),
    '2024/cve-2024-24786.json': await readFile(vex('cve-2024-24786-simple.json')),
    '2021/cve-2021-0084.json': await readFile(vex('claircore-toolkit-cve-2021-0084.json')),
  });
  server.set('/vex/archive_latest.txt', { body: 'csaf_vex_2024-01-01.tar.zst' });
  server.set('/vex/csaf_vex_2024-01-01.tar.zst', { body: archive, lastModified: 'Mon, 01 Jan 2024 06:00:00 GMT' });
  server.set('/vex/changes.csv', {
    body: [
      '"2024/cve-2024-24786.json","2024-02-01T00:00:00+00:00"',
      '"2023/cve-2023-4154.json","2023-12-01T00:00:00+00:00"',
      '"2021/cve-2021-0084.json","2024-03-01T00:00:00+00:00"',
    ].join('\n'),
  });
  server.set('/vex/deletions.csv', { body: '"2021/cve-2021-0084.json","2024-03-05T00:00:00+00:00"\n' });
  // The changed copy of cve-2024-24786 is the one with a second product.
  server.set('/vex/2024/cve-2024-24786.json', { body: await readFile(vex('cve-2024-24786-bad-rpmmod.json')) });

  const updater = createRhelVexUpdater();
  t.is(updater.defaultUrl, RHEL_VEX_URL);
  const first = fetched(await runFetch(t, updater, server.url('/vex/')));
  t.deepEqual(server.requests.map((r) => r.path), ['/vex/archive_latest.txt', '/vex/changes.csv', '/vex/deletions.csv', '/vex/csaf_vex_2024-01-01.tar.zst', '/vex/2024/cve-2024-24786.json']);
  const records = await parseFiles(updater, first.files);
  const byName = (name: string) => records.filter((r) => r.name === name).length;
  t.is(byName('CVE-2023-38545'), 80);
  t.is(byName('CVE-2023-4154'), 165);
  t.is(byName('CVE-2021-0084'), 0, 'deleted after the archive was made');
  t.deepEqual(records.filter((r) => r.name === 'CVE-2024-24786').map((r) => `${r.packageName} ${r.repository}`), [
    'cri-tools cpe:/a:redhat:enterprise_linux:10::appstream',
    'good-pkg cpe:/a:redhat:enterprise_linux:10::appstream',
  ]);

  server.clearRequests();
  t.is(await runFetch(t, updater, server.url('/vex/'), first), UNCHANGED);
  t.deepEqual(server.requests.map((r) => `${r.path} ${r.status}`), ['/vex/archive_latest.txt 304', '/vex/changes.csv 304', '/vex/deletions.csv 304']);

  // A corrupt archive fails the parse with a clear error.
  const broken = await tempFile(t, 'csaf_vex_2024-01-02.tar.zst', archive.subarray(0, archive.length / 2));
  await t.throwsAsync(parseFiles(updater, [broken]), { instanceOf: FeedParseError, message: /csaf_vex_2024-01-02\.tar\.zst/ });
});

test('fetch refuses an archive_latest.txt that does not name a .tar.zst file', async (t) => {
  const server = await startFeedServer(t);
  server.set('/vex/archive_latest.txt', { body: '../../etc/passwd' });
  server.set('/vex/changes.csv', { body: '' });
  server.set('/vex/deletions.csv', { body: '' });
  await t.throwsAsync(runFetch(t, createRhelVexUpdater(), server.url('/vex/')), { instanceOf: FeedParseError, message: /not a \.tar\.zst file/ });
});
