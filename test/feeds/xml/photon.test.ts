import test from 'ava';
import { readFile } from 'node:fs/promises';
import { createPhotonUpdater, PHOTON_OVAL_URL } from '../../../src/ecosystems/photon/photon-updater.ts';
import { UNCHANGED } from '../../../src/ecosystems/updater.ts';
import { startFeedServer } from '../../helpers/feed-server.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { duplicateKeys, fetched, one, parseFiles, runFetch } from './xml-harness.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;
const PHOTON3 = (): string => fixture('feeds', 'photon', 'claircore-com.vmware.phsa-photon3.xml.gz');

maybe(`the complete Photon 3 feed: 222 advisories, 497 CVEs, 778 package fixes in photon:3.0${suffix}`, async (t) => {
  const records = await parseFiles(createPhotonUpdater(), [PHOTON3()]);
  t.is(new Set(records.map((r) => r.name)).size, 222);
  t.is(new Set(records.flatMap((r) => r.aliases)).size, 497);
  t.is(records.length, 778);
  t.deepEqual(duplicateKeys(records), {}, 'one record per stored row');
  t.true(records.every((r) => r.updater === 'photon' && r.ecosystem === 'rpm' && r.distribution === 'photon:3.0' && r.state === 'fixed' && r.packageKind === 'binary'));

  const sqlite = one(records, { name: 'PHSA-2020:00001', packageName: 'sqlite-libs' });
  t.like(sqlite, { fixedVersion: '3.27.2-5.ph3', vendorSeverity: 'Important', normalizedSeverity: 'High', publishedAt: '2019-10-23T00:00:00.000Z' });
  t.deepEqual(sqlite.aliases, ['CVE-2019-16168']);
  t.deepEqual(sqlite.links, ['https://github.com/vmware/photon/wiki/Security-Updates-3.0-0036', 'https://nvd.nist.gov/vuln/detail?vulnId=CVE-2019-16168']);
  t.deepEqual(records.filter((r) => r.name === 'PHSA-2020:00001').map((r) => r.packageName), ['sqlite', 'sqlite-devel', 'sqlite-libs']);
});

maybe(`fetch per release file, second run UNCHANGED after one request per URL${suffix}`, async (t) => {
  const server = await startFeedServer(t);
  server.set('/photon_oval_definitions/com.vmware.phsa-photon3.xml.gz', { body: await readFile(PHOTON3()) });
  const updater = createPhotonUpdater({ releases: ['3'] });
  t.is(updater.defaultUrl, PHOTON_OVAL_URL);
  const first = fetched(await runFetch(t, updater, server.url('/photon_oval_definitions/')));
  t.is((await parseFiles(updater, first.files)).length, 778);
  server.clearRequests();
  t.is(await runFetch(t, updater, server.url('/photon_oval_definitions/'), first), UNCHANGED);
  t.is(server.count(), 1);
});

test('release numbers are validated', (t) => {
  t.throws(() => createPhotonUpdater({ releases: ['3.0/../x'] }), { message: /not a major release/ });
});
