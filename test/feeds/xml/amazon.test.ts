import test from 'ava';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { amazonReleaseOfAdvisory } from '../../../src/ecosystems/amazon/amazon-update-records.ts';
import { AMAZON_LINUX_URL, createAmazonUpdater, firstMirror } from '../../../src/ecosystems/amazon/amazon-updater.ts';
import { readRepomdUpdateinfo } from '../../../src/ecosystems/amazon/repomd-updateinfo.ts';
import { FeedParseError } from '../../../src/feeds/feed-parse-error.ts';
import { UNCHANGED } from '../../../src/ecosystems/updater.ts';
import { startFeedServer } from '../../helpers/feed-server.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { duplicateKeys, fetched, one, parseFiles, runFetch, tempFile } from './xml-harness.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;
const alas = (name: string): string => fixture('feeds', 'amazon-alas', name);

maybe(`ALAS2-2018-942/949: advisory name, CVE aliases, epoch:version-release per package, arches merged${suffix}`, async (t) => {
  const records = await parseFiles(createAmazonUpdater(), [alas('updateinfo_2_items.xml.gz')]);
  t.deepEqual(duplicateKeys(records), {});
  const qemu = one(records, { name: 'ALAS2-2018-942', packageName: 'qemu-kvm' });
  t.like(qemu, {
    updater: 'amazon',
    ecosystem: 'rpm',
    distribution: 'amzn:2',
    fixedVersion: '10:1.5.3-141.amzn2.5.3',
    state: 'fixed',
    arch: null,
    vendorSeverity: 'important',
    normalizedSeverity: 'High',
    publishedAt: '2018-02-07T18:49:00.000Z',
    modifiedAt: '2018-02-08T21:46:00.000Z',
  });
  t.deepEqual(qemu.aliases, ['CVE-2017-5715']);
  t.deepEqual(qemu.links, ['http://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2017-5715']);
  t.regex(qemu.description ?? '', /^Package updates are available for Amazon Linux 2/);
  const java = one(records, { name: 'ALAS2-2018-949', packageName: 'java-1.8.0-openjdk' });
  t.is(java.fixedVersion, '1:1.8.0.161-0.b14.amzn2');
  t.is(java.aliases.length, 15);
  t.true(java.aliases.includes('CVE-2018-2579'));
});

maybe(`Amazon Linux 1, 2, 2022 and 2023 told apart by the advisory id; kernel kept; epoch 0 dropped${suffix}`, async (t) => {
  const records = await parseFiles(createAmazonUpdater(), [alas('updateinfo_1_item.xml.gz'), alas('updateinfo_AL2022.xml.gz'), alas('updateinfo_AL2023.xml.gz')]);
  t.like(one(records, { name: 'ALAS2-2018-939', packageName: 'kernel' }), { distribution: 'amzn:2', fixedVersion: '4.9.76-38.79.amzn2', vendorSeverity: 'critical', normalizedSeverity: 'Critical' });
  t.like(one(records, { name: 'ALAS2022-2021-001', packageName: 'vim-enhanced' }), { distribution: 'amzn:2022', fixedVersion: '2:8.2.3512-1.amzn2022', normalizedSeverity: 'Medium' });
  const rsyslog = one(records, { name: 'ALAS2023-2023-001', packageName: 'rsyslog' });
  t.like(rsyslog, { distribution: 'amzn:2023', fixedVersion: '8.2204.0-3.amzn2023.0.2', arch: null, vendorSeverity: 'Important' });
  t.deepEqual(rsyslog.aliases, ['CVE-2014-3634', 'CVE-2022-24903']);
  t.is(amazonReleaseOfAdvisory('ALAS-2018-1058'), 'amzn:1');
  t.is(amazonReleaseOfAdvisory('ALAS2DOCKER-2023-001'), 'amzn:2');
  t.is(amazonReleaseOfAdvisory('RHSA-2020:1'), null);
});

maybe(`repomd.xml: the updateinfo location and its sha256${suffix}`, async (t) => {
  const info = await readRepomdUpdateinfo(createReadStream(alas('claircore-test_repomd.xml')), 'repomd.xml');
  t.deepEqual(info, { location: 'repodata/updateinfo.xml.gz', sha256: '9dd3ce045294b530720d13829817254e3cd67ec1ac36f66069238d9d111d3cc0', size: 610596 });
  t.is((await readRepomdUpdateinfo(createReadStream(alas('repomd_valid.xml')), 'repomd.xml')).sha256, 'e6f569f8ed2246a6b06c0fef7cfd71560df02781327e31c38396ed358d591d48');
  const outside = await tempFile(t, 'repomd.xml', '<repomd><data type="updateinfo"><location href="../../x.xml.gz"/></data></repomd>');
  await t.throwsAsync(readRepomdUpdateinfo(createReadStream(outside), 'repomd.xml'), { instanceOf: FeedParseError, message: /not inside the repository/ });
  t.is(firstMirror(await readFile(alas('claircore-mirrors_linux1.txt'), 'utf8'), 'mirror.list'), 'http://packages.us-west-2.amazonaws.com/2018.03/updates/c539f2128d87/x86_64');
  t.throws(() => firstMirror('file:///etc/passwd\n', 'mirror.list'), { instanceOf: FeedParseError });
});

maybe(`fetch: mirror.list → repomd.xml → updateinfo, sha256 checked; UNCHANGED after one request per URL${suffix}`, async (t) => {
  const server = await startFeedServer(t);
  const al2 = await readFile(alas('updateinfo_2_items.xml.gz'));
  const al2023 = await readFile(alas('updateinfo_AL2023.xml.gz'));
  const repomd = (body: Buffer, name: string) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>1</revision><data type="updateinfo"><checksum type="sha256">${createHash('sha256').update(body).digest('hex')}</checksum><location href="repodata/${name}"/><size>${body.length}</size></data></repomd>\n`;
  server.set('/2/core/latest/x86_64/mirror.list', { body: `${server.url('/2/core/2.0/x86_64/abc123')}\n` });
  server.set('/2/core/2.0/x86_64/abc123/repodata/repomd.xml', { body: repomd(al2, 'u2-updateinfo.xml.gz') });
  server.set('/2/core/2.0/x86_64/abc123/repodata/u2-updateinfo.xml.gz', { body: al2 });
  server.set('/al2023/core/mirrors/latest/x86_64/mirror.list', { body: `${server.url('/al2023/core/guids/46ff/x86_64/')}\n` });
  server.set('/al2023/core/guids/46ff/x86_64/repodata/repomd.xml', { body: repomd(al2023, 'u2023-updateinfo.xml.gz') });
  server.set('/al2023/core/guids/46ff/x86_64/repodata/u2023-updateinfo.xml.gz', { body: al2023 });

  const updater = createAmazonUpdater();
  t.is(updater.defaultUrl, AMAZON_LINUX_URL);
  const first = fetched(await runFetch(t, updater, server.url('/')));
  t.is(server.count(), 6);
  const records = await parseFiles(updater, first.files);
  t.deepEqual([...new Set(records.map((r) => r.distribution))].sort(), ['amzn:2', 'amzn:2023']);

  server.clearRequests();
  t.is(await runFetch(t, updater, server.url('/'), first), UNCHANGED);
  t.deepEqual(server.requests.map((r) => r.status), [304, 304, 304, 304]);

  // A new AL2 repository snapshot: the mirror moves; both updateinfo files are in the new spool.
  server.set('/2/core/latest/x86_64/mirror.list', { body: `${server.url('/2/core/2.0/x86_64/def456')}\n` });
  server.set('/2/core/2.0/x86_64/def456/repodata/repomd.xml', { body: repomd(al2, 'u2-updateinfo.xml.gz') });
  server.set('/2/core/2.0/x86_64/def456/repodata/u2-updateinfo.xml.gz', { body: al2 });
  const third = fetched(await runFetch(t, updater, server.url('/'), first));
  t.is(third.files.length, 2);
  t.not(third.fingerprint, first.fingerprint);

  // A repository whose updateinfo does not match repomd.xml's checksum fails the run.
  server.set('/2/core/2.0/x86_64/def456/repodata/repomd.xml', { body: repomd(al2023, 'u2-updateinfo.xml.gz') });
  await t.throwsAsync(runFetch(t, updater, server.url('/'), third), { instanceOf: FeedParseError, message: /repomd\.xml says/ });
});

test('an updateinfo file that is not one is refused', async (t) => {
  const file = await tempFile(t, 'amzn-2-updateinfo.xml', '<repomd><data/></repomd>');
  await t.throwsAsync(parseFiles(createAmazonUpdater(), [file]), { instanceOf: FeedParseError, message: /not an updateinfo document/ });
});
