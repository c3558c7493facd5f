import test from 'ava';
import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { FeedParseError } from '../../../src/feeds/feed-parse-error.ts';
import { nvdCveToEnrichment } from '../../../src/ecosystems/nvd/nvd-cve-to-enrichment.ts';
import { createNvdUpdater, NVD_CVE_API_URL } from '../../../src/ecosystems/nvd/nvd-updater.ts';
import { parseNvdPage } from '../../../src/ecosystems/nvd/parse-nvd-pages.ts';
import { UNCHANGED, type FeedHttp, type FeedRequest, type Fetched } from '../../../src/ecosystems/updater.ts';
import type { EnrichmentRecord } from '../../../src/ecosystems/vulnerability-record.ts';
import { UndiciFeedHttp } from '../../../src/feeds/undici-feed-http.ts';
import { startFeedServer, type FeedServer } from '../../helpers/feed-server.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { collect, enrichments, fetched, spoolDir } from './harness.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;
const nvd = (name: string): string => fixture('feeds', 'nvd', name);
type Nvd = Extract<EnrichmentRecord, { kind: 'nvd' }>;
const byName = (records: EnrichmentRecord[], name: string): Nvd => {
  const r = records.find((x) => x.vulnName === name);
  if (!r || r.kind !== 'nvd') throw new Error(`no nvd record ${name}`);
  return r;
};

maybe(`an API page: CVSS per source with NVD's scores, English description, UTC publication, CWEs${suffix}`, async (t) => {
  const records = await collect(parseNvdPage(createReadStream(nvd('vunnel-nvd-api2-full-page.json'))));
  t.is(records.length, 38);
  const r = byName(records, 'CVE-2023-27314');
  t.deepEqual(r.data.cvss, [
    { version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', score: 7.5, source: 'nvd@nist.gov' },
    { version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', score: 7.5, source: 'security-alert@netapp.com' },
  ]);
  t.deepEqual(r.data.cwes, ['CWE-400']);
  t.is(r.data.published, '2023-10-12T19:15:11.747Z');
  t.regex(r.data.description ?? '', /^ONTAP 9 versions prior to 9\.8P19/);
  t.deepEqual(byName(records, 'CVE-2023-43250').data.cvss, [], 'awaiting analysis: no metrics yet');
});

maybe(`primary (NVD) metrics first, newest CVSS version first; rejected CVEs dropped${suffix}`, async (t) => {
  const single = nvdCveToEnrichment(JSON.parse(readFileSync(nvd('vuln-list-nvd-CVE-2024-5732.json'), 'utf8')));
  t.deepEqual(
    single?.data.cvss.map((c) => `${c.version} ${c.score} ${c.source}`),
    ['4.0 6.9 nvd@nist.gov', '3.1 9.8 nvd@nist.gov', '3.1 7.3 cna@vuldb.com', '2.0 7.5 cna@vuldb.com'],
  );
  t.deepEqual(single?.data.cwes, ['CWE-287']);

  const records = await collect(parseNvdPage(createReadStream(nvd('claircore-cvss-enricher-feed.json'))));
  t.deepEqual(records.map((r) => r.vulnName), ['CVE-2016-2781', 'CVE-2016-3674'], 'CVE-2016-3197 is rejected');
  t.deepEqual(
    byName(records, 'CVE-2016-2781').data.cvss.map((c) => `${c.version} ${c.score} ${c.vector}`),
    ['3.0 6.5 CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:C/C:N/I:H/A:N', '2.0 2.1 AV:L/AC:L/Au:N/C:N/I:P/A:N', '3.1 4.6 CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N'],
  );
  t.deepEqual(byName(records, 'CVE-2016-2781').data.cwes, ['CWE-20']);
  const legacy = await collect(parseNvdPage(createReadStream(nvd('vulnerablecode-nvd_test.json'))));
  t.like(byName(legacy, 'CVE-2005-4900').data, { cwes: ['CWE-326'] });
  t.is(byName(legacy, 'CVE-2003-0001').data.cvss[0]?.version, '2.0');
});

test('a CVSS metric without a base score is scored from its vector; one that does not parse is dropped', (t) => {
  const r = nvdCveToEnrichment({
    id: 'CVE-2099-0001',
    published: '2099-01-01T00:00:00.000+01:00',
    metrics: {
      cvssMetricV31: [{ source: 'x', type: 'Primary', cvssData: { version: '3.1', vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' } }],
      cvssMetricV2: [{ source: 'y', type: 'Secondary', cvssData: { version: '2.0', vectorString: 'garbage' } }],
    },
  });
  t.deepEqual(r?.data.cvss, [{ version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', score: 9.8, source: 'x' }]);
  t.is(r?.data.published, '2099-01-01T00:00:00.000+01:00');
  t.is(nvdCveToEnrichment({ id: 'not-a-cve' }), null);
});

test('malformed API responses throw clear errors', async (t) => {
  await t.throwsAsync(collect(parseNvdPage(Readable.from(['{"totalResults": 1, "vulnerabilities": [{"cve": ']))), {
    instanceOf: FeedParseError,
    message: /NVD CVE API response: truncated document/,
  });
  await t.throwsAsync(collect(parseNvdPage(Readable.from(['{"message": "Invalid apiKey"}']))), { instanceOf: FeedParseError, message: /no vulnerabilities list/ });
});

/** Serves the 38 CVEs of the full-page sample as an NVD API, paged by startIndex/resultsPerPage; lastMod windows get `changed`. */
function serveNvd(server: FeedServer, changed: () => unknown[]): void {
  const all = (JSON.parse(readFileSync(nvd('vunnel-nvd-api2-full-page.json'), 'utf8')) as { vulnerabilities: unknown[] }).vulnerabilities;
  server.set('/rest/json/cves/2.0', ({ url }) => {
    const start = Number(url.searchParams.get('startIndex') ?? 0);
    const per = Number(url.searchParams.get('resultsPerPage') ?? 2000);
    const list = url.searchParams.has('lastModStartDate') ? changed() : all;
    const page = list.slice(start, start + per);
    const body = { resultsPerPage: page.length, startIndex: start, totalResults: list.length, format: 'NVD_CVE', version: '2.0', vulnerabilities: page };
    return { body: JSON.stringify(body), etag: null, contentType: 'application/json' };
  });
}

/** A FeedHttp that records what the updater asked for, then does the real request. */
function recording(inner: FeedHttp, seen: Array<FeedRequest & { headers?: Record<string, string> }>): FeedHttp {
  return { get: (req, signal) => (seen.push(req), inner.get(req, signal)) };
}

async function nvdFetch(t: Parameters<typeof spoolDir>[0], updater: ReturnType<typeof createNvdUpdater>, url: string, previous: Fetched | null, seen: FeedRequest[] = []) {
  const http = new UndiciFeedHttp({ allowedBases: [url], maxBytes: 16 * 1024 * 1024 });
  try {
    return await updater.fetch({
      url,
      http: recording(http, seen),
      spoolDir: await spoolDir(t),
      previousFingerprint: previous?.fingerprint ?? null,
      validators: previous?.validators ?? {},
    });
  } finally {
    await http.close();
  }
}

maybe(`nvd fetch: pages, then an incremental window; no changes is UNCHANGED in one request${suffix}`, async (t) => {
  const server = await startFeedServer(t);
  let changed: unknown[] = [];
  serveNvd(server, () => changed);
  const url = server.url('/rest/json/cves/2.0');
  let clock = new Date('2026-11-20T00:00:00.000Z');
  const seen: Array<FeedRequest & { headers?: Record<string, string> }> = [];
  const updater = createNvdUpdater({ resultsPerPage: 15, pageDelayMs: 0, apiKey: 'secret-key', now: () => clock });
  t.is(createNvdUpdater().defaultUrl, NVD_CVE_API_URL);

  const first = fetched(await nvdFetch(t, updater, url, null, seen));
  t.is(first.files.length, 3);
  t.deepEqual(server.requests.map((r) => r.url.searchParams.get('startIndex')), ['0', '15', '30']);
  t.false(server.requests.some((r) => r.url.searchParams.has('lastModStartDate')), 'the first run is a full download');
  t.deepEqual(first.validators, { [url]: { etag: null, lastModified: '2026-11-20T00:00:00.000Z' } });
  t.true(seen.every((r) => r.headers?.apiKey === 'secret-key'), 'the API key is asked for as the apiKey header');
  t.false(seen.some((r) => r.url.includes('secret-key')), 'the key never goes into a URL');
  const records = enrichments(await collect(updater.parse(first)));
  t.is(records.length, 38);
  t.true(records.every((r) => r.kind === 'nvd'));

  server.clearRequests();
  clock = new Date('2026-11-21T00:00:00.000Z');
  t.is(await nvdFetch(t, updater, url, first), UNCHANGED);
  t.is(server.count(), 1);
  t.is(server.requests[0]?.url.searchParams.get('lastModStartDate'), '2026-11-20T00:00:00.000Z');
  t.is(server.requests[0]?.url.searchParams.get('lastModEndDate'), '2026-11-21T00:00:00.000Z');

  const full = JSON.parse(readFileSync(nvd('vunnel-nvd-api2-full-page.json'), 'utf8')) as { vulnerabilities: unknown[] };
  changed = full.vulnerabilities.slice(0, 1);
  const delta = fetched(await nvdFetch(t, updater, url, first));
  t.deepEqual(enrichments(await collect(updater.parse(delta))).map((r) => r.vulnName), ['CVE-2023-27314']);
  t.is(delta.validators[url]?.lastModified, '2026-11-21T00:00:00.000Z');

  server.clearRequests();
  clock = new Date('2027-06-01T00:00:00.000Z');
  const stale = fetched(await nvdFetch(t, updater, url, first));
  t.false(server.requests.some((r) => r.url.searchParams.has('lastModStartDate')), 'a window over 120 days falls back to a full download');
  t.is(stale.files.length, 3);
});

test('nvd fetch: a transient 503 is retried; a body that is not an API response fails; outside URLs are refused', async (t) => {
  const server = await startFeedServer(t);
  let calls = 0;
  const page = JSON.stringify({ resultsPerPage: 0, startIndex: 0, totalResults: 0, format: 'NVD_CVE', version: '2.0', vulnerabilities: [] });
  server.set('/api', () => (++calls === 1 ? { body: 'busy', status: 503 } : { body: page }));
  const updater = createNvdUpdater({ pageDelayMs: 0, retryDelayMs: 10 });
  const got = fetched(await nvdFetch(t, updater, server.url('/api'), null));
  t.is(server.count('/api'), 2);
  t.deepEqual(await collect(updater.parse(got)), []);

  server.set('/html', { body: '<html>Service unavailable</html>' });
  await t.throwsAsync(nvdFetch(t, updater, server.url('/html'), null), { instanceOf: FeedParseError, message: /NVD CVE API response/ });

  server.set('/cut', { body: '{"resultsPerPage": 1, "startIndex": 0, "totalResults": 1, "vulnerabilities": [{"cve": {"id": "CVE-2024-0001", ' });
  const cut = fetched(await nvdFetch(t, updater, server.url('/cut'), null));
  await t.throwsAsync(collect(updater.parse(cut)), { instanceOf: FeedParseError, message: /truncated document/ });

  const http = new UndiciFeedHttp({ allowedBases: [server.url('/nvd/api')], maxBytes: 1024 });
  t.teardown(() => http.close());
  server.clearRequests();
  await t.throwsAsync(
    updater.fetch({ url: server.url('/other/api'), http, spoolDir: await spoolDir(t), previousFingerprint: null, validators: {} }),
    { message: /not under a configured feed URL/ },
  );
  t.is(server.count(), 0);
});
