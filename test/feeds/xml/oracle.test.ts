import test from 'ava';
import { readFile } from 'node:fs/promises';
import { createOracleUpdater, ORACLE_OVAL_URL } from '../../../src/ecosystems/oracle/oracle-updater.ts';
import { UNCHANGED } from '../../../src/ecosystems/updater.ts';
import { startFeedServer } from '../../helpers/feed-server.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { duplicateKeys, fetched, one, parseFiles, runFetch } from './xml-harness.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;
const oracle = (name: string): string => fixture('feeds', 'oracle-oval', name);

maybe(`ELSA-2007-0057: advisory name, CVE aliases, epoch kept, severity MODERATE → Medium, ol:5${suffix}`, async (t) => {
  const records = await parseFiles(createOracleUpdater(), [oracle('vuln-list-update-ELSA-2007-0057.xml')]);
  t.deepEqual(records.map((r) => r.packageName).sort(), ['bind', 'bind-chroot', 'bind-devel', 'bind-libbind-devel', 'bind-libs', 'bind-sdb', 'bind-utils', 'caching-nameserver']);
  const bind = one(records, { packageName: 'bind' });
  t.like(bind, {
    updater: 'oracle',
    name: 'ELSA-2007-0057',
    ecosystem: 'rpm',
    distribution: 'ol:5',
    fixedVersion: '30:9.3.3-8.el5',
    state: 'fixed',
    arch: null,
    vendorSeverity: 'MODERATE',
    normalizedSeverity: 'Medium',
    publishedAt: '2007-06-26T00:00:00.000Z',
  });
  t.deepEqual(bind.aliases, ['CVE-2007-0493', 'CVE-2007-0494']);
  t.true(bind.links.includes('http://linux.oracle.com/errata/ELSA-2007-0057.html'));
});

maybe(`the vunnel sample: tests it lacks are read from the criterion comments; kernel-uek kept${suffix}`, async (t) => {
  const records = await parseFiles(createOracleUpdater(), [oracle('vunnel-oracle-oval-sample.xml')]);
  t.is(records.filter((r) => r.name === 'ELSA-2007-0057').length, 8);
  const uek = one(records, { name: 'ELSA-2018-4250', packageName: 'kernel-uek' });
  t.like(uek, { distribution: 'ol:6', fixedVersion: '2.6.39-400.302.2.el6uek', vendorSeverity: 'IMPORTANT', normalizedSeverity: 'High' });
  t.deepEqual(uek.aliases, ['CVE-2018-7566', 'CVE-2017-13695', 'CVE-2018-16658', 'CVE-2018-7492']);
  t.is(records.length, 14);
  t.deepEqual(duplicateKeys(records), {}, 'one record per stored row');
});

maybe(`per-arch criteria: one record per arch when the fixes differ, arch null when they agree${suffix}`, async (t) => {
  const records = await parseFiles(createOracleUpdater(), [oracle('vunnel-oracle-oval-per-arch-sample.xml')]);
  t.like(one(records, { name: 'ELSA-2022-4803', packageName: 'rsyslog', arch: 'aarch64' }), { distribution: 'ol:7', fixedVersion: '8.24.0-57.0.4.el7_9.3' });
  t.like(one(records, { name: 'ELSA-2022-4803', packageName: 'rsyslog', arch: 'x86_64' }), { fixedVersion: '8.24.0-57.0.1.el7_9.3' });
  const firefox = one(records, { name: 'ELSA-2025-10073', packageName: 'firefox' });
  t.like(firefox, { distribution: 'ol:10', arch: null, fixedVersion: '128.12.0-1.0.1.el10_0' });
  t.deepEqual(
    firefox.cvss.find((c) => c.source === 'CVE-2025-6424'),
    { version: '3.1', vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:H', score: 7.5, source: 'CVE-2025-6424' },
  );
  // The feed ORs two bounds for osbuild on both arches: one row per package, the higher bound
  // (below it the package is vulnerable under one of them), arches agreeing.
  t.deepEqual(
    records.filter((r) => r.name === 'ELSA-2024-2961' && r.packageName === 'osbuild').map((r) => `${r.arch} ${r.fixedVersion}`).sort(),
    ['null 110-1.0.1.el8'],
  );
});

maybe(`userspace ksplice errata are left out (they only match ksplice builds, which do not run in containers)${suffix}`, async (t) => {
  const records = await parseFiles(createOracleUpdater(), [oracle('vunnel-oracle-oval-ksplice-sample.xml')]);
  t.deepEqual(records, []);
});

maybe(`the bzip2 sample of 14 errata across Oracle Linux 5, 6 and 7; a release filter${suffix}`, async (t) => {
  const file = oracle('vuln-list-update-all-positive-data.xml.bz2');
  const records = await parseFiles(createOracleUpdater(), [file]);
  t.is(new Set(records.map((r) => r.name)).size, 14);
  t.deepEqual([...new Set(records.map((r) => r.distribution))].sort(), ['ol:5', 'ol:6', 'ol:7']);
  t.like(one(records, { name: 'ELSA-2012-1261', packageName: 'dbus' }), { distribution: 'ol:6', fixedVersion: '1:1.2.24-7.0.1.el6_3' });
  const seven = await parseFiles(createOracleUpdater({ releases: ['7'] }), [file]);
  t.true(seven.length > 0 && seven.every((r) => r.distribution === 'ol:7'));
});

maybe(`fetch: one conditional GET of the ELSA file, then UNCHANGED${suffix}`, async (t) => {
  const server = await startFeedServer(t);
  server.set('/security/oval/com.oracle.elsa-all.xml.bz2', { body: await readFile(oracle('vuln-list-update-all-positive-data.xml.bz2')) });
  const updater = createOracleUpdater();
  t.is(updater.defaultUrl, ORACLE_OVAL_URL);
  const first = fetched(await runFetch(t, updater, server.url('/security/oval/')));
  // bzip2 is decompressed once in the spool (the reader passes over the XML twice).
  t.regex(first.files[0]!, /com\.oracle\.elsa-all\.xml$/);
  t.is((await parseFiles(updater, first.files)).length, 109);
  server.clearRequests();
  t.is(await runFetch(t, updater, server.url('/security/oval/'), first), UNCHANGED);
  t.is(server.count(), 1);
});
