import test from 'ava';
import { readFile } from 'node:fs/promises';
import { createSuseUpdater, SUSE_OVAL_URL, suseOvalFileName } from '../../../src/ecosystems/suse/suse-updater.ts';
import { suseRelease } from '../../../src/ecosystems/suse/suse-oval-records.ts';
import { UNCHANGED } from '../../../src/ecosystems/updater.ts';
import { startFeedServer } from '../../helpers/feed-server.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { duplicateKeys, fetched, one, parseFiles, runFetch } from './xml-harness.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;
const suse = (name: string): string => fixture('feeds', 'suse', name);

maybe(`SLES 15: the service pack comes from the release check (sles-release ==15.1 → sles:15.1)${suffix}`, async (t) => {
  const records = await parseFiles(createSuseUpdater(), [suse('vunnel-suse-oval-truncated.xml')]);
  const ga = one(records, { name: 'CVE-2021-29154', distribution: 'sles:15' });
  t.like(ga, {
    updater: 'suse',
    ecosystem: 'rpm',
    packageName: 'kernel-default',
    fixedVersion: '4.12.14-150.72.1',
    state: 'fixed',
    arch: null,
    vendorSeverity: 'Important',
    normalizedSeverity: 'High',
    publishedAt: '2021-04-30T00:00:00.000Z',
    modifiedAt: '2021-07-14T00:00:00.000Z',
  });
  t.like(one(records, { name: 'CVE-2021-29154', distribution: 'sles:15.1' }), { packageName: 'kernel-default', fixedVersion: '4.12.14-197.89.2' });
  t.deepEqual(ga.cvss, [{ version: '3.1', vector: 'CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H', score: 7, source: 'CVE-2021-29154' }]);
  // "not affected" criteria, the SAP / HPC / Desktop / Workstation products and a state with an
  // operation OVAL does not define (`6`, CVE-2010-1323) give no record.
  t.is(records.length, 2);
  t.deepEqual(duplicateKeys(records), {}, 'one record per stored row');
});

maybe(`openSUSE Leap 15.1: packages and fixed versions per CVE${suffix}`, async (t) => {
  const records = await parseFiles(createSuseUpdater(), [suse('vulnerablecode-suse-oval-sample.xml')]);
  t.deepEqual(
    records.map((r) => `${r.name} ${r.distribution} ${r.packageName} ${r.fixedVersion} ${r.normalizedSeverity}`),
    [
      'CVE-2009-4112 opensuse-leap:15.1 cacti 1.2.11-lp151.3.6 Low',
      'CVE-2009-4112 opensuse-leap:15.1 cacti-spine 1.2.11-lp151.3.6 Low',
      'CVE-2011-2767 opensuse-leap:15.1 apache2-mod_perl 2.0.11-lp151.3.3 Medium',
      'CVE-2011-2767 opensuse-leap:15.1 apache2-mod_perl-devel 2.0.11-lp151.3.3 Medium',
    ],
  );
});

maybe(`older openSUSE files with pattern-matched releases (^11.1$) map to opensuse:<version>${suffix}`, async (t) => {
  const records = await parseFiles(createSuseUpdater(), [suse('vulnerablecode-org.opensuse.CVE-2008-5679.xml')]);
  t.deepEqual(records.map((r) => `${r.distribution} ${r.packageName} ${r.fixedVersion}`), ['opensuse:10.3 opera 9.63-1.1', 'opensuse:11.0 opera 9.63-1.1', 'opensuse:11.1 opera 9.63-1.1']);
});

test('release packages: which products count and how they rank', (t) => {
  const p = (name: string, version: string, operation = 'equals') => ({ kind: 'platform' as const, name, version, operation, comment: null });
  t.deepEqual(suseRelease(p('sles-release', '15.5')), { distribution: 'sles:15.5', rank: 0 });
  t.deepEqual(suseRelease(p('sle-module-basesystem-release', '15.5')), { distribution: 'sles:15.5', rank: 1 });
  t.deepEqual(suseRelease(p('sles-ltss-release', '15.1')), { distribution: 'sles:15.1', rank: 2 });
  t.deepEqual(suseRelease(p('openSUSE-release', '15.6')), { distribution: 'opensuse-leap:15.6', rank: 0 });
  t.is(suseRelease(p('SLES_SAP-release', '15')), null);
  t.is(suseRelease(p('sled-release', '15')), null);
  t.is(suseRelease(p('sles-release', '^15', 'pattern match')), null);
});

maybe(`fetch per product file, second run UNCHANGED${suffix}`, async (t) => {
  const server = await startFeedServer(t);
  t.is(suseOvalFileName('sles:15'), 'suse.linux.enterprise.server.15.xml.gz');
  t.is(suseOvalFileName('opensuse-leap:15.5'), 'opensuse.leap.15.5.xml.gz');
  t.throws(() => suseOvalFileName('sles:../15'));
  server.set('/oval/suse.linux.enterprise.server.15.xml.gz', { body: await readFile(suse('vunnel-suse-oval-truncated.xml')) });
  server.set('/oval/opensuse.leap.15.1.xml.gz', { body: await readFile(suse('vulnerablecode-suse-oval-sample.xml')) });
  const updater = createSuseUpdater({ products: ['sles:15', 'opensuse-leap:15.1'] });
  t.is(updater.defaultUrl, SUSE_OVAL_URL);
  const first = fetched(await runFetch(t, updater, server.url('/oval/')));
  t.is((await parseFiles(updater, first.files)).length, 6);
  server.clearRequests();
  t.is(await runFetch(t, updater, server.url('/oval/'), first), UNCHANGED);
  t.is(server.count(), 2);
});
