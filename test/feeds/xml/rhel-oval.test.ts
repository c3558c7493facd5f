import test from 'ava';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { FeedParseError } from '../../../src/feeds/feed-parse-error.ts';
import { redHatResolutionState } from '../../../src/ecosystems/rhel/rhel-oval-records.ts';
import { createRhelOvalUpdater, parsePulpManifest, RHEL_OVAL_URL } from '../../../src/ecosystems/rhel/rhel-oval-updater.ts';
import { UNCHANGED } from '../../../src/ecosystems/updater.ts';
import { startFeedServer } from '../../helpers/feed-server.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { duplicateKeys, fetched, one, parseFiles, runFetch } from './xml-harness.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;
const FILES = ['RHEL6/rhel-6-extras-including-unpatched.oval.xml.bz2', 'RHEL7/dotnet-3.1-including-unpatched.oval.xml.bz2', 'RHEL8/ansible-2-including-unpatched.oval.xml.bz2'];
const oval = (p: string): string => fixture('feeds', 'redhat-oval-v2', ...p.split('/'));

maybe(`RHEL 8 Ansible: RHSA patch definitions per affected CPE, unpatched CVEs not fixed${suffix}`, async (t) => {
  const records = await parseFiles(createRhelOvalUpdater(), [oval(FILES[2]!)]);
  t.true(records.every((r) => r.updater === 'rhel-oval' && r.ecosystem === 'rpm' && r.distribution === 'rhel:8'));
  const rhsa = one(records, { name: 'RHSA-2019:3927', packageName: 'ansible', repository: 'cpe:/a:redhat:ansible_engine:2.9::el8' });
  t.like(rhsa, { state: 'fixed', fixedVersion: '2.9.1-1.el8', vendorSeverity: 'Moderate', normalizedSeverity: 'Medium', publishedAt: '2019-11-20T00:00:00.000Z', module: null });
  t.deepEqual(rhsa.aliases, ['CVE-2019-14864']);
  t.deepEqual(rhsa.cvss, [{ version: '3.0', vector: 'CVSS:3.0/AV:N/AC:L/PR:L/UI:R/S:U/C:H/I:N/A:N', score: 5.7, source: 'CVE-2019-14864' }]);
  t.like(one(records, { name: 'RHSA-2019:3927', packageName: 'ansible-test', repository: 'cpe:/a:redhat:ansible_engine:2.9' }), { fixedVersion: '2.9.1-1.el8' });
  t.deepEqual(one(records, { name: 'RHSA-2020:0215', packageName: 'ansible', repository: 'cpe:/a:redhat:ansible_engine:2.9' }).aliases, ['CVE-2019-14904', 'CVE-2019-14905']);

  const unpatched = one(records, { name: 'CVE-2020-1738', packageName: 'ansible' });
  t.like(unpatched, { state: 'not_fixed', fixedVersion: null, repository: null, vendorSeverity: 'Low', normalizedSeverity: 'Low' });
  t.is(records.length, 14);
  t.deepEqual(duplicateKeys(records), {}, 'one record per stored row');
});

maybe(`RHEL 7 .NET and RHEL 6 extras: epochs, Critical, RHBA advisories, release from the criteria${suffix}`, async (t) => {
  const dotnet = await parseFiles(createRhelOvalUpdater(), [oval(FILES[1]!)]);
  t.like(one(dotnet, { name: 'RHSA-2020:0134', packageName: 'rh-dotnet31-dotnet', repository: 'cpe:/a:redhat:rhel_dotnet:3.1::el7' }), {
    distribution: 'rhel:7',
    fixedVersion: '3.1.101-4.el7',
    vendorSeverity: 'Critical',
    normalizedSeverity: 'Critical',
  });
  const extras = await parseFiles(createRhelOvalUpdater(), [oval(FILES[0]!)]);
  t.like(one(extras, { name: 'RHBA-2014:1396', packageName: 'redhat-upgrade-tool' }), { distribution: 'rhel:6', fixedVersion: '1:0.7.32-1.el6', repository: 'cpe:/a:redhat:rhel_extras_other:6' });
  t.like(one(extras, { name: 'CVE-2014-3209', packageName: 'ldns' }), { state: 'not_fixed', distribution: 'rhel:6' });
});

test('Red Hat resolution words → states', (t) => {
  t.is(redHatResolutionState('Will not fix'), 'will_not_fix');
  t.is(redHatResolutionState('Fix deferred'), 'fix_deferred');
  t.is(redHatResolutionState('Out of support scope'), 'end_of_life');
  t.is(redHatResolutionState('Affected'), 'not_fixed');
  t.is(redHatResolutionState(null), 'not_fixed');
});

test('PULP_MANIFEST lines are checked', (t) => {
  t.deepEqual(parsePulpManifest('RHEL8/a.oval.xml.bz2,' + 'a'.repeat(64) + ',12\n'), [{ path: 'RHEL8/a.oval.xml.bz2', sha256: 'a'.repeat(64), size: 12 }]);
  t.throws(() => parsePulpManifest('../etc/passwd,' + 'a'.repeat(64) + ',1'), { instanceOf: FeedParseError });
  t.throws(() => parsePulpManifest('RHEL8/a.xml,nothex,1'), { instanceOf: FeedParseError });
});

maybe(`fetch: files chosen from PULP_MANIFEST by release, checked by sha256, UNCHANGED on 304${suffix}`, async (t) => {
  const server = await startFeedServer(t);
  const lines: string[] = [];
  for (const f of FILES) {
    const body = await readFile(oval(f));
    server.set(`/oval/v2/${f}`, { body });
    lines.push(`${f},${createHash('sha256').update(body).digest('hex')},${body.length}`);
  }
  server.set('/oval/v2/PULP_MANIFEST', { body: `${lines.join('\n')}\n` });
  const updater = createRhelOvalUpdater({ releases: ['7', '8'] });
  t.is(updater.defaultUrl, RHEL_OVAL_URL);
  const first = fetched(await runFetch(t, updater, server.url('/oval/v2/')));
  t.deepEqual(server.requests.map((r) => r.path).sort(), ['/oval/v2/PULP_MANIFEST', `/oval/v2/${FILES[1]}`, `/oval/v2/${FILES[2]}`]);
  t.true(first.files.every((f) => f.endsWith('.oval.xml')), 'stored decompressed');
  const records = await parseFiles(updater, first.files);
  t.deepEqual([...new Set(records.map((r) => r.distribution))].sort(), ['rhel:7', 'rhel:8']);

  server.clearRequests();
  t.is(await runFetch(t, updater, server.url('/oval/v2/'), first), UNCHANGED);
  t.is(server.count(), 1);

  // The manifest changes only for a file not selected: still UNCHANGED, without downloading.
  server.set('/oval/v2/PULP_MANIFEST', { body: `${lines.join('\n')}\nRHEL6/other.oval.xml.bz2,${'0'.repeat(64)},1\n` });
  server.clearRequests();
  t.is(await runFetch(t, updater, server.url('/oval/v2/'), first), UNCHANGED);
  t.is(server.count(), 1);
});

maybe(`a file whose bytes do not match PULP_MANIFEST fails the run (the shared manifest's sums are for other builds)${suffix}`, async (t) => {
  const server = await startFeedServer(t);
  server.set('/oval/v2/PULP_MANIFEST', { body: await readFile(fixture('feeds', 'redhat-oval-v2', 'PULP_MANIFEST')) });
  for (const f of FILES) server.set(`/oval/v2/${f}`, { body: await readFile(oval(f)) });
  await t.throwsAsync(runFetch(t, createRhelOvalUpdater({ releases: ['8'] }), server.url('/oval/v2/')), { instanceOf: FeedParseError, message: /PULP_MANIFEST says/ });
});
