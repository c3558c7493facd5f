import test from 'ava';
import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { FeedParseError } from '../../../src/feeds/feed-parse-error.ts';
import { createEpssUpdater, EPSS_URL } from '../../../src/ecosystems/epss/epss-updater.ts';
import { lines, parseEpss } from '../../../src/ecosystems/epss/parse-epss.ts';
import { createKevUpdater, KEV_URL } from '../../../src/ecosystems/kev/kev-updater.ts';
import { parseKev } from '../../../src/ecosystems/kev/parse-kev.ts';
import { UNCHANGED } from '../../../src/ecosystems/updater.ts';
import type { EnrichmentRecord } from '../../../src/ecosystems/vulnerability-record.ts';
import { FeedFetchError } from '../../../src/feeds/undici-feed-http.ts';
import { startFeedServer } from '../../helpers/feed-server.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { collect, enrichments, fetched, runFetch } from './harness.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;
const epss = (name: string): string => fixture('feeds', 'epss', name);
const kev = (name: string): string => fixture('feeds', 'kev', name);
const find = (records: EnrichmentRecord[], name: string): EnrichmentRecord => {
  const r = records.find((x) => x.vulnName === name);
  if (!r) throw new Error(`no record ${name}`);
  return r;
};

maybe(`EPSS samples: score, percentile and the score date of the comment line${suffix}`, async (t) => {
  const clair = await collect(parseEpss(createReadStream(epss('claircore-epss-data.csv'))));
  t.is(clair.length, 29);
  t.deepEqual(find(clair, 'CVE-1999-0005'), { kind: 'epss', vulnName: 'CVE-1999-0005', data: { score: 0.91963, percentile: 0.9903, date: '2024-10-25' } });
  t.deepEqual(find(clair, 'CVE-2024-9987').data, { score: 0.00043, percentile: 0.09778, date: '2024-10-25' });

  const recent = await collect(parseEpss(createReadStream(epss('vulnerablecode-epss_scores-2025.csv'))));
  t.deepEqual(find(recent, 'CVE-2025-9970').data, { score: 0.00007, percentile: 0.00428, date: '2025-12-26' }, 'exponent notation');
  t.is(recent.length, 27);
  const vunnel = await collect(parseEpss(createReadStream(epss('vunnel-epss-example-1.csv'))));
  t.deepEqual(vunnel.map((r) => r.vulnName), ['CVE-1999-0001', 'CVE-1999-0002', 'CVE-1999-0003', 'CVE-1999-0004', 'CVE-1999-0005']);
});

test('malformed EPSS files throw naming the line', async (t) => {
  const run = (text: string) => collect(parseEpss(Readable.from([text])));
  await t.throwsAsync(run('#model_version:v1,score_date:2025-01-01T00:00:00Z\ncve,epss,percentile\nCVE-2024-0001,0.5\n'), { instanceOf: FeedParseError, message: /line 3 is not a cve,epss,percentile row/ });
  await t.throwsAsync(run('#model_version:v1,score_date:2025-01-01T00:00:00Z\ncve,epss,percentile\nCVE-2024-0001,1.5,0.2\n'), { instanceOf: FeedParseError, message: /line 3/ });
  await t.throwsAsync(run('#model_version:v1,score_date:2025-01-01T00:00:00Z\nid,score\n'), { instanceOf: FeedParseError, message: /line 2 is not the cve,epss,percentile header/ });
  await t.throwsAsync(run('cve,epss,percentile\nCVE-2024-0001,0.5,0.5\n'), { instanceOf: FeedParseError, message: /no score_date/ });
  await t.throwsAsync(run(''), { instanceOf: FeedParseError, message: /no cve,epss,percentile header/ });
  await t.throwsAsync(collect(lines(Readable.from(['x'.repeat(5000)]), 'EPSS scores')), { instanceOf: FeedParseError, message: /line 1 is longer than 1024/ });
});

maybe(`KEV samples: dates, ransomware use and names${suffix}`, async (t) => {
  const records = await collect(parseKev(createReadStream(kev('vunnel-kev-catalog.json'))));
  t.deepEqual(records.map((r) => r.vulnName), ['CVE-2025-0108', 'CVE-2024-53704', 'CVE-2024-57727']);
  t.deepEqual(records[0], {
    kind: 'kev',
    vulnName: 'CVE-2025-0108',
    data: { dateAdded: '2025-02-18', dueDate: '2025-03-11', knownRansomware: false, name: 'Palo Alto Networks PAN-OS Authentication Bypass Vulnerability' },
  });
  const clair = await collect(parseKev(createReadStream(kev('claircore-known_exploited_vulnerabilities.json'))));
  t.like(find(clair, 'CVE-2021-44228').data, { dateAdded: '2021-12-10', knownRansomware: true, name: 'Apache Log4j2 Remote Code Execution Vulnerability' });
  t.like(find(clair, 'CVE-2017-3066').data, { knownRansomware: false, dueDate: '2025-03-17' });
});

test('malformed KEV catalogs throw clear errors', async (t) => {
  const run = (text: string) => collect(parseKev(Readable.from([text])));
  await t.throwsAsync(run('{"title": "CISA Catalog", "count": 0}'), { instanceOf: FeedParseError, message: /CISA KEV catalog: no vulnerabilities list/ });
  await t.throwsAsync(run('{"vulnerabilities": [{"cveID": "CVE-2021-44228", "dateAdded": "2021-12-10"}, {"cveID": '), { instanceOf: FeedParseError, message: /CISA KEV catalog: truncated/ });
  await t.throwsAsync(run('{"vulnerabilities": [{"cveID": "log4shell", "dateAdded": "2021-12-10"}]}'), { instanceOf: FeedParseError, message: /entry 0 has no valid cveID/ });
  await t.throwsAsync(run('{"vulnerabilities": [{"cveID": "CVE-2021-44228", "dateAdded": "yesterday"}]}'), { instanceOf: FeedParseError, message: /no valid dateAdded/ });
});

maybe(`epss fetch: the gzip file, then UNCHANGED with one request; plain CSV works too; corrupt gzip fails the parse${suffix}`, async (t) => {
  const server = await startFeedServer(t);
  const csv = readFileSync(epss('claircore-epss-data.csv'));
  server.set('/epss_scores-current.csv.gz', { body: gzipSync(csv), lastModified: 'Sun, 22 Nov 2026 00:00:00 GMT', etag: null });
  server.set('/plain.csv', { body: csv });
  server.set('/broken.csv.gz', { body: gzipSync(csv).subarray(0, 200) });
  const updater = createEpssUpdater();
  t.is(updater.defaultUrl, EPSS_URL);
  const url = server.url('/epss_scores-current.csv.gz');
  const first = fetched(await runFetch(t, updater, url));
  const records = enrichments(await collect(updater.parse(first)));
  t.is(records.length, 29);
  t.deepEqual(find(records, 'CVE-2022-34668').data, { score: 0.00311, percentile: 0.70519, date: '2024-10-25' });
  server.clearRequests();
  t.is(await runFetch(t, updater, url, first), UNCHANGED);
  t.is(server.count(), 1);
  t.is(server.requests[0]?.headers['if-modified-since'], 'Sun, 22 Nov 2026 00:00:00 GMT');

  const plain = fetched(await runFetch(t, updater, server.url('/plain.csv')));
  t.is((await collect(updater.parse(plain))).length, 29);
  const broken = fetched(await runFetch(t, updater, server.url('/broken.csv.gz')));
  await t.throwsAsync(collect(updater.parse(broken)), { instanceOf: FeedParseError, message: /EPSS scores/ });
  await t.throwsAsync(runFetch(t, updater, server.url('/x/epss.csv.gz'), null, [server.url('/epss/')]), { instanceOf: FeedFetchError, message: /not under a configured feed URL/ });
});

maybe(`kev fetch: Fetched, then UNCHANGED with one request; a malformed catalog fails the parse${suffix}`, async (t) => {
  const server = await startFeedServer(t);
  server.set('/feeds/known_exploited_vulnerabilities.json', { body: readFileSync(kev('vunnel-kev-catalog.json')) });
  const updater = createKevUpdater();
  t.is(updater.defaultUrl, KEV_URL);
  const url = server.url('/feeds/known_exploited_vulnerabilities.json');
  const first = fetched(await runFetch(t, updater, url));
  t.is(enrichments(await collect(updater.parse(first))).length, 3);
  server.clearRequests();
  t.is(await runFetch(t, updater, url, first), UNCHANGED);
  t.is(server.count(), 1);
  server.set('/feeds/known_exploited_vulnerabilities.json', { body: '<!doctype html><title>Maintenance</title>' });
  const bad = fetched(await runFetch(t, updater, url, first));
  await t.throwsAsync(collect(updater.parse(bad)), { instanceOf: FeedParseError, message: /CISA KEV catalog/ });
  await t.throwsAsync(runFetch(t, updater, server.url('/other/kev.json'), null, [url]), { instanceOf: FeedFetchError });
});
