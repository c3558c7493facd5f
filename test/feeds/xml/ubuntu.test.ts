import test from 'ava';
import { readFile } from 'node:fs/promises';
import { FeedParseError } from '../../../src/feeds/feed-parse-error.ts';
import { createUbuntuUpdater, UBUNTU_OVAL_URL, ubuntuOvalFileName } from '../../../src/ecosystems/ubuntu/ubuntu-updater.ts';
import { ubuntuCriterionState } from '../../../src/ecosystems/ubuntu/ubuntu-oval-records.ts';
import { UNCHANGED } from '../../../src/ecosystems/updater.ts';
import { startFeedServer } from '../../helpers/feed-server.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { UBUNTU_MODERN_SAMPLE } from './ubuntu-modern-sample.ts';
import { duplicateKeys, fetched, one, parseFiles, runFetch, tempFile } from './xml-harness.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;
const SAMPLE = (): string => fixture('feeds', 'ubuntu', 'vulnerablecode-ubuntu-oval-sample.xml');

maybe(`Canonical OVAL sample (bionic): one source-package record per CVE, fixed version from the state${suffix}`, async (t) => {
  const records = await parseFiles(createUbuntuUpdater(), [SAMPLE()]);
  t.is(records.length, 2);
  t.true(records.every((r) => r.updater === 'ubuntu' && r.ecosystem === 'dpkg' && r.distribution === 'ubuntu:bionic' && r.packageKind === 'source'));
  const potrace = one(records, { name: 'CVE-2016-8703' });
  t.like(potrace, {
    packageName: 'potrace',
    state: 'fixed',
    fixedVersion: '1.14-2',
    stateReason: null,
    vendorSeverity: 'Medium',
    normalizedSeverity: 'Medium',
    severitySource: 'vendor',
    publishedAt: '2017-01-31T22:59:00.000Z',
    arch: null,
    repository: null,
  });
  t.regex(potrace.description ?? '', /bm_readbody_bmp function in bitmap_io\.c in potrace before 1\.13/);
  t.deepEqual(potrace.links, [
    'https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2016-8703',
    'http://people.canonical.com/~ubuntu-security/cve/2016/CVE-2016-8703.html',
    'https://blogs.gentoo.org/ago/2016/08/08/potrace-multiplesix-heap-based-buffer-overflow-in-bm_readbody_bmp-bitmap_io-c/',
  ]);
  t.like(one(records, { name: 'CVE-2016-8860' }), { packageName: 'tor', fixedVersion: '0.2.8.9-1ubuntu1', state: 'fixed', publishedAt: '2017-01-04T20:59:00.000Z' });
});

test('current CVE OVAL wording: every tracker status, binaries when no source is named, kernel criteria skipped', async (t) => {
  const file = await tempFile(t, ubuntuOvalFileName('jammy').replace('.bz2', ''), UBUNTU_MODERN_SAMPLE);
  const records = await parseFiles(createUbuntuUpdater(), [file]);
  t.true(records.every((r) => r.distribution === 'ubuntu:jammy' && r.ecosystem === 'dpkg'));

  const curl = one(records, { name: 'CVE-2023-38545', packageName: 'curl' });
  t.like(curl, { packageKind: 'source', state: 'fixed', fixedVersion: '7.81.0-1ubuntu1.14', vendorSeverity: 'High', normalizedSeverity: 'High', publishedAt: '2023-10-18T04:15:00.000Z' });
  t.deepEqual(curl.cvss, [{ version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', score: 9.8 }]);
  t.deepEqual(curl.links, ['https://ubuntu.com/security/CVE-2023-38545', 'https://curl.se/docs/CVE-2023-38545.html']);
  t.like(one(records, { name: 'CVE-2023-38545', packageName: 'libcurl3-nss' }), { state: 'not_fixed', stateReason: 'pending', fixedVersion: '7.81.0-1ubuntu1.15' });

  const cve = (pkg: string) => one(records, { name: 'CVE-2024-0001', packageName: pkg });
  t.like(cve('libxml2'), { packageKind: 'source', state: 'not_fixed', stateReason: 'needed', fixedVersion: null, vendorSeverity: 'Untriaged', normalizedSeverity: 'Unknown' });
  t.like(cve('openssl'), { state: 'fix_deferred', stateReason: 'deferred', fixedVersion: null });
  t.like(cve('gcc-snapshot'), { state: 'will_not_fix', stateReason: 'ignored' });
  t.like(cve('zlib'), { state: 'under_investigation', stateReason: 'needs-triage' });
  t.like(cve('firefox'), { state: 'fixed', stateReason: 'released', fixedVersion: null });
  // No source package named anywhere: one binary record per name of the variable.
  t.like(cve('libfoo1'), { packageKind: 'binary', state: 'not_fixed' });
  t.like(cve('foo-tools'), { packageKind: 'binary', state: 'not_fixed' });
  t.is(records.filter((r) => r.name === 'CVE-2024-0001').length, 7);
  t.false(records.some((r) => /linux|kernel/.test(r.packageName)));
  t.is(records.length, 9);
  t.deepEqual(duplicateKeys(records), {}, 'one record per stored row');
});

test('criterion wording → state', (t) => {
  const cases: Array<[string, boolean, string, string | null]> = [
    ["curl package in jammy was vulnerable but has been fixed (note: '7.81.0-1ubuntu1.14').", true, 'fixed', null],
    ["potrace package in bionic, is related to the CVE in some way and has been fixed (note: '1.14-2').", true, 'fixed', null],
    ['firefox package in jammy was vulnerable and has been fixed, but no release version available for it.', false, 'fixed', 'released'],
    ["grub2-unsigned package in xenial is affected. An update containing the fix has been completed and is pending publication (note: '2.04-1ubuntu42').", true, 'not_fixed', 'pending'],
    ['gcc-arm-none-eabi package in jammy is affected and needs fixing.', false, 'not_fixed', 'needed'],
    ['gcc-arm-none-eabi package in jammy is affected and may need fixing.', false, 'under_investigation', 'needs-triage'],
    ['gcc-snapshot package in jammy is affected, but a decision has been made to defer addressing it.', false, 'fix_deferred', 'deferred'],
    ['gcc-snapshot: while related to the CVE in some way, a decision has been made to ignore this issue.', false, 'will_not_fix', 'ignored'],
    ['something new', true, 'fixed', null],
    ['something new', false, 'not_fixed', null],
  ];
  for (const [comment, bound, state, reason] of cases) t.like(ubuntuCriterionState(comment, bound), { state, reason }, comment);
  t.is(ubuntuCriterionState("x package in jammy is affected, but a decision has been made to defer addressing it (note: '2024-02-01').", false).note, '2024-02-01');
});

maybe(`fetch over HTTP: first run downloads each release, the second is UNCHANGED after one request per URL${suffix}`, async (t) => {
  const server = await startFeedServer(t);
  // The parser tells compression by magic bytes, so plain XML served under the .bz2 name parses.
  server.set('/oval/com.ubuntu.bionic.cve.oval.xml.bz2', { body: await readFile(SAMPLE()), lastModified: 'Mon, 11 May 2020 04:53:34 GMT' });
  server.set('/oval/com.ubuntu.jammy.cve.oval.xml.bz2', { body: UBUNTU_MODERN_SAMPLE });
  const updater = createUbuntuUpdater({ releases: ['bionic', 'jammy'] });
  t.is(updater.name, 'ubuntu');
  t.is(updater.defaultUrl, UBUNTU_OVAL_URL);
  const base = server.url('/oval/');

  const first = fetched(await runFetch(t, updater, base));
  t.is(server.count(), 2);
  t.regex(first.fingerprint, /^sha256:[0-9a-f]{64}$/);
  t.is(first.files.length, 2);
  t.like(first.validators[server.url('/oval/com.ubuntu.bionic.cve.oval.xml.bz2')], { lastModified: 'Mon, 11 May 2020 04:53:34 GMT' });
  const records = await parseFiles(updater, first.files);
  t.deepEqual([...new Set(records.map((r) => r.distribution))].sort(), ['ubuntu:bionic', 'ubuntu:jammy']);
  t.is(records.length, 11);

  server.clearRequests();
  t.is(await runFetch(t, updater, base, first), UNCHANGED);
  t.is(server.count(), 2);
  t.true(server.requests.every((r) => r.status === 304 && typeof r.headers['if-none-match'] === 'string'));

  // One release changes: both files are in the new spool (the unchanged one fetched again).
  server.set('/oval/com.ubuntu.jammy.cve.oval.xml.bz2', { body: UBUNTU_MODERN_SAMPLE.replaceAll('7.81.0-1ubuntu1.14', '7.81.0-1ubuntu1.16') });
  server.clearRequests();
  const third = fetched(await runFetch(t, updater, base, first));
  t.not(third.fingerprint, first.fingerprint);
  t.is(third.files.length, 2);
  t.is(server.count(), 3);
  const changed = await parseFiles(updater, third.files);
  t.is(one(changed, { name: 'CVE-2023-38545', packageName: 'curl' }).fixedVersion, '7.81.0-1ubuntu1.16');
});

test('malformed XML from upstream: parse throws a clear error, nothing is yielded silently', async (t) => {
  const server = await startFeedServer(t);
  server.set('/oval/com.ubuntu.jammy.cve.oval.xml.bz2', { body: UBUNTU_MODERN_SAMPLE.replace('</definitions>', '</definition>') });
  const updater = createUbuntuUpdater({ releases: ['jammy'] });
  const result = fetched(await runFetch(t, updater, server.url('/oval/')));
  await t.throwsAsync(parseFiles(updater, result.files), { instanceOf: FeedParseError, message: /com\.ubuntu\.jammy\.cve\.oval\.xml\.bz2: malformed XML/ });
});

test('release codenames are validated', (t) => {
  t.throws(() => createUbuntuUpdater({ releases: ['../etc'] }), { message: /not a release codename/ });
});
