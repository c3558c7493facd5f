import test from 'ava';
import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { alpineDistribution, createAlpineUpdater, listLinks } from '../../../src/ecosystems/alpine/alpine-updater.ts';
import { parseSecdb, secfixIds, type SecdbOptions } from '../../../src/ecosystems/alpine/parse-secdb.ts';
import { FeedParseError } from '../../../src/feeds/feed-parse-error.ts';
import { UNCHANGED } from '../../../src/ecosystems/updater.ts';
import type { VulnerabilityRecord } from '../../../src/ecosystems/vulnerability-record.ts';
import { createChainguardUpdater, createWolfiUpdater, WOLFI_SECDB_URL } from '../../../src/ecosystems/wolfi/wolfi-updater.ts';
import { FeedFetchError } from '../../../src/feeds/undici-feed-http.ts';
import { startFeedServer } from '../../helpers/feed-server.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { collect, fetched, runFetch, vulnerabilities } from './harness.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;
const secdb = (name: string): string => fixture('feeds', 'alpine-secdb', name);
const wolfi = (name: string): string => fixture('feeds', 'wolfi-chainguard', name);
const ALPINE: Omit<SecdbOptions, 'distribution' | 'repository'> = { updater: 'alpine', what: 'test secdb' };

function find(records: VulnerabilityRecord[], pkg: string, vuln: string, fixedVersion?: string | null): VulnerabilityRecord {
  const r = records.find((x) => x.packageName === pkg && x.name === vuln && (fixedVersion === undefined || x.fixedVersion === fixedVersion));
  if (!r) throw new Error(`no record ${pkg} ${vuln} ${fixedVersion}`);
  return r;
}

maybe(`Alpine secdb samples: fixed versions per origin package, multi-id entries, empty packages${suffix}`, async (t) => {
  const community = await collect(parseSecdb(createReadStream(secdb('claircore-v3.10-community.json')), { ...ALPINE, distribution: 'alpine:3.10', repository: 'community' }));
  t.is(community.length, 9);
  t.like(find(community, 'botan', 'CVE-2018-20187'), {
    updater: 'alpine',
    ecosystem: 'apk',
    packageKind: 'source',
    distribution: 'alpine:3.10',
    repository: 'community',
    fixedVersion: '2.9.0-r0',
    state: 'fixed',
    normalizedSeverity: 'Unknown',
    vendorSeverity: null,
  });
  t.like(find(community, 'chicken', 'CVE-2016-6831'), { fixedVersion: '4.11.1-r0' });
  t.like(find(community, 'cfengine', 'CVE-2019-9929'), { fixedVersion: '3.12.2-r0' });

  const main = await collect(parseSecdb(createReadStream(secdb('vulnerablecode-v3.11-main.json')), { ...ALPINE, distribution: 'alpine:3.11', repository: 'main' }));
  t.like(find(main, 'xen', 'XSA-248'), { fixedVersion: '4.10.0-r1', aliases: [] });
  t.like(find(main, 'xen', 'CVE-2018-7540'), { fixedVersion: '4.10.0-r2', aliases: ['XSA-252'] });
  t.like(find(main, 'xen', 'XSA-252'), { fixedVersion: '4.10-1-r1' });
  t.like(find(main, 'apk-tools', 'CVE-2017-9671'), { fixedVersion: '2.7.2-r0', repository: 'main' });
  t.is(main.length, 5);

  // "2.8.0-r0": {} is an empty entry, not an error
  const ansible = await collect(parseSecdb(createReadStream(secdb('vuln-list-update-312-main.json')), { ...ALPINE, distribution: 'alpine:3.12', repository: 'main' }));
  t.deepEqual(ansible.map((r) => `${r.packageName} ${r.name} ${r.fixedVersion}`), ['ansible CVE-2018-16876 2.7.9-r0']);
  // "packages": {} — nothing, no error
  t.deepEqual(await collect(parseSecdb(createReadStream(secdb('vuln-list-update-edge-community.json')), { ...ALPINE, distribution: 'alpine:edge', repository: 'community' })), []);
});

maybe(`Wolfi and Chainguard secdb samples: version 0 is not affected, rolling distributions${suffix}`, async (t) => {
  const w = await collect(parseSecdb(createReadStream(wolfi('wolfi-security.json')), { updater: 'wolfi', distribution: 'wolfi:rolling', repository: null, what: 'wolfi' }));
  t.is(w.length, 59);
  t.like(find(w, 'coreutils', 'CVE-2016-2781'), { state: 'not_affected', fixedVersion: null, distribution: 'wolfi:rolling', repository: null });
  t.like(find(w, 'apko', 'GHSA-jq35-85cj-fj4p'), { state: 'not_affected' });
  t.like(find(w, 'apko', 'CVE-2023-39325'), { state: 'fixed', fixedVersion: '0.10.0-r6' });
  t.like(find(w, 'openssl', 'CVE-2022-3602'), { state: 'fixed', fixedVersion: '3.0.7-r0' });

  const c = await collect(parseSecdb(createReadStream(wolfi('chainguard-security.json')), { updater: 'chainguard', distribution: 'chainguard:rolling', repository: null, what: 'cg' }));
  t.is(c.length, 197);
  t.like(find(c, 'grafana', 'CVE-2022-31130'), { fixedVersion: '7.5.19-r0', distribution: 'chainguard:rolling', updater: 'chainguard' });
  t.like(find(c, 'bind', 'CVE-2022-3924'), { fixedVersion: '9.18.11-r0' });
});

test('secfix entries: first CVE names the record, other ids are aliases, comments dropped', (t) => {
  t.deepEqual(secfixIds('CVE-2018-7540 XSA-252'), { name: 'CVE-2018-7540', aliases: ['XSA-252'] });
  t.deepEqual(secfixIds('XSA-252 CVE-2018-7540'), { name: 'CVE-2018-7540', aliases: ['XSA-252'] });
  t.deepEqual(secfixIds('GHSA-jq35-85cj-fj4p'), { name: 'GHSA-jq35-85cj-fj4p', aliases: [] });
  t.deepEqual(secfixIds('CVE-2020-1 (upstream says not affected)'), { name: 'CVE-2020-1', aliases: [] });
  t.is(secfixIds('see the mailing list'), null);
  t.is(alpineDistribution('v3.19'), 'alpine:3.19');
  t.is(alpineDistribution('edge'), 'alpine:edge');
});

test('malformed secdb documents throw clear errors', async (t) => {
  const run = (text: string) => collect(parseSecdb(Readable.from([text]), { ...ALPINE, distribution: 'alpine:3.19', repository: 'main', what: 'Alpine secdb v3.19/main.json' }));
  await t.throwsAsync(run('{"packages": [{"pkg": '), { instanceOf: FeedParseError, message: /Alpine secdb v3\.19\/main\.json: truncated document/ });
  await t.throwsAsync(run('{"distroversion": "v3.19"}'), { instanceOf: FeedParseError, message: /no packages list/ });
  await t.throwsAsync(run('{"packages": [{"pkg": {"name": "a b"}}]}'), { instanceOf: FeedParseError, message: /valid name/ });
  await t.throwsAsync(run('{"packages": [{"pkg": {"name": "curl", "secfixes": {"1.0-r0": "CVE-1"}}}]}'), { instanceOf: FeedParseError, message: /not a list of ids/ });
});

test('index links: release directories under the page only', (t) => {
  const html = '<a href="../">../</a><a href="v3.19/">v3.19/</a><a href="edge/">edge/</a><a href="http://elsewhere.test/v3.1/">x</a><a href="/other/v3.2/">y</a><a href="last-update">z</a>';
  t.deepEqual(listLinks(html, 'http://127.0.0.1:1/secdb/').sort(), ['edge/', 'last-update', 'v3.19/']);
});

maybe(`alpine fetch: discovery from the index, one request per URL when nothing changed, new releases picked up${suffix}`, async (t) => {
  const server = await startFeedServer(t);
  const dir = (files: string[]): string => `<html><body><pre>${files.map((f) => `<a href="${f}">${f}</a>`).join('\n')}</pre></body></html>`;
  server.set('/', { body: readFileSync(secdb('vuln-list-update-index.html')), etag: null, contentType: 'text/html' });
  server.set('/v3.11/', { body: readFileSync(secdb('vuln-list-update-311.html')), etag: null, contentType: 'text/html' });
  server.set('/v3.12/', { body: dir(['../', 'main.json', 'main.yaml']), etag: null });
  server.set('/edge/', { body: dir(['../', 'community.json', 'main.json']), etag: null });
  server.set('/v3.11/main.json', { body: readFileSync(secdb('vuln-list-update-311-main.json')) });
  server.set('/v3.11/community.json', { body: readFileSync(secdb('vuln-list-update-311-community.json')) });
  server.set('/v3.12/main.json', { body: readFileSync(secdb('vuln-list-update-312-main.json')) });
  server.set('/edge/main.json', { body: readFileSync(secdb('vuln-list-update-edge-main.json')) });
  server.set('/edge/community.json', { body: readFileSync(secdb('vuln-list-update-edge-community.json')) });
  const updater = createAlpineUpdater();
  const base = server.url('/');

  const first = fetched(await runFetch(t, updater, base));
  t.is(first.files.length, 5);
  const records = vulnerabilities(await collect(updater.parse(first)));
  t.deepEqual(records.map((r) => `${r.distribution} ${r.repository} ${r.packageName} ${r.name} ${r.fixedVersion}`).sort(), [
    'alpine:3.11 main apache2 CVE-2018-1333 2.4.34-r0',
    'alpine:3.11 main apache2 CVE-2018-8011 2.4.34-r0',
    'alpine:3.12 main ansible CVE-2018-16876 2.7.9-r0',
    'alpine:edge main apk-tools CVE-2021-30139 2.12.5-r0',
    'alpine:edge main apk-tools CVE-2021-36159 2.12.6-r0',
  ]);
  t.deepEqual(records[0]?.links, [`https://security.alpinelinux.org/vuln/${records[0]?.name}`]);

  server.clearRequests();
  t.is(await runFetch(t, updater, base, first), UNCHANGED);
  const files = server.requests.filter((r) => r.path.endsWith('.json'));
  t.is(files.length, 5);
  t.true(files.every((r) => r.status === 304));
  t.is(server.count(), 1 + 3 + 5);

  server.set('/', { body: '<a href="v3.11/">v3.11/</a><a href="v3.12/">v3.12/</a><a href="v3.13/">v3.13/</a><a href="edge/">edge/</a>', etag: null });
  server.set('/v3.13/', { body: dir(['main.json']), etag: null });
  server.set('/v3.13/main.json', { body: '{"distroversion": "v3.13", "reponame": "main", "packages": [{"pkg": {"name": "musl", "secfixes": {"1.2.2-r0": ["CVE-2020-28928"]}}}]}' });
  const second = fetched(await runFetch(t, updater, base, first));
  t.is(second.files.length, 6);
  t.not(second.fingerprint, first.fingerprint);
  t.true(vulnerabilities(await collect(updater.parse(second))).some((r) => r.distribution === 'alpine:3.13' && r.packageName === 'musl'));
});

test('alpine fetch with configured releases skips discovery; malformed files fail the parse; outside URLs are refused', async (t) => {
  const server = await startFeedServer(t);
  server.set('/secdb/v3.19/main.json', { body: '{"packages": [{"pkg": {"name": "openssl", "secfixes": {"3.1.4-r1": ["CVE-2023-5678"]}}}]}' });
  server.set('/secdb/v3.19/community.json', { body: '{"packages": [{"pkg": ' });
  const updater = createAlpineUpdater({ releases: ['3.19'] });
  const got = fetched(await runFetch(t, updater, server.url('/secdb/')));
  t.is(server.count(), 2);
  await t.throwsAsync(collect(updater.parse(got)), { instanceOf: FeedParseError, message: /Alpine secdb v3\.19\/community\.json/ });
  t.throws(() => createAlpineUpdater({ releases: ['3.19/../x'] }), { message: /not an Alpine release/ });
  await t.throwsAsync(runFetch(t, updater, server.url('/other/'), null, [server.url('/secdb/')]), { instanceOf: FeedFetchError, message: /not under a configured feed URL/ });
});

maybe(`wolfi and chainguard fetch: Fetched, then UNCHANGED with one conditional request${suffix}`, async (t) => {
  const server = await startFeedServer(t);
  server.set('/os/security.json', { body: readFileSync(wolfi('wolfi-security.json')), etag: null, lastModified: 'Sat, 21 Nov 2026 08:00:00 GMT' });
  server.set('/chainguard/security.json', { body: readFileSync(wolfi('chainguard-security.json')) });
  t.is(createWolfiUpdater().defaultUrl, WOLFI_SECDB_URL);
  for (const [updater, path, count] of [
    [createWolfiUpdater(), '/os/security.json', 59],
    [createChainguardUpdater(), '/chainguard/security.json', 197],
  ] as const) {
    const url = server.url(path);
    const first = fetched(await runFetch(t, updater, url));
    const records = vulnerabilities(await collect(updater.parse(first)));
    t.is(records.length, count);
    t.true(records.every((r) => r.updater === updater.name && r.distribution === `${updater.name}:rolling`));
    server.clearRequests();
    t.is(await runFetch(t, updater, url, first), UNCHANGED);
    t.is(server.count(), 1);
    t.is(server.requests[0]?.status, 304);
    // the Wolfi resource has no ETag: Last-Modified alone drives the conditional request
    if (updater.name === 'wolfi') t.is(server.requests[0]?.headers['if-modified-since'], 'Sat, 21 Nov 2026 08:00:00 GMT');
  }
  server.set('/os/security.json', { body: '{"packages": [{"pkg": {"name": "x", "secfixes": {"1-r0": [' });
  const bad = fetched(await runFetch(t, createWolfiUpdater(), server.url('/os/security.json')));
  await t.throwsAsync(collect(createWolfiUpdater().parse(bad)), { instanceOf: FeedParseError, message: /Wolfi security database/ });
});
