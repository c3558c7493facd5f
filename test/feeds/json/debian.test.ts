import test from 'ava';
import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createDebianUpdater, DEBIAN_TRACKER_URL } from '../../../src/ecosystems/debian/debian-updater.ts';
import { FeedParseError } from '../../../src/feeds/feed-parse-error.ts';
import { debianUrgencySeverity, parseDebianTracker } from '../../../src/ecosystems/debian/parse-debian-tracker.ts';
import { supportedDebianReleases } from '../../../src/ecosystems/debian/supported-debian-releases.ts';
import { UNCHANGED } from '../../../src/ecosystems/updater.ts';
import type { VulnerabilityRecord } from '../../../src/ecosystems/vulnerability-record.ts';
import { FeedFetchError } from '../../../src/feeds/undici-feed-http.ts';
import { startFeedServer } from '../../helpers/feed-server.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { collect, fetched, runFetch, vulnerabilities } from './harness.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;
const ALL = new Set(['jessie', 'stretch', 'buster', 'bullseye', 'bookworm', 'trixie', 'sid']);
const VUNNEL = (): string => fixture('feeds', 'debian', 'vunnel-security-tracker-sample.json');
const VULNERABLECODE = (): string => fixture('feeds', 'debian', 'vulnerablecode-security-tracker-sample.json');

function find(records: VulnerabilityRecord[], pkg: string, vuln: string, codename: string): VulnerabilityRecord {
  const r = records.find((x) => x.packageName === pkg && x.name === vuln && x.distribution === `debian:${codename}`);
  if (!r) throw new Error(`no record ${pkg} ${vuln} ${codename}`);
  return r;
}

maybe(`the vunnel tracker sample: fixed, not affected (0), end-of-life and urgencies as given${suffix}`, async (t) => {
  const records = await collect(parseDebianTracker(createReadStream(VUNNEL()), { releases: ALL }));
  // 2 prototypejs CVEs × 4 releases, txt2man 4, backupninja 4, chromium 5, sope 4, chromium-browser none
  t.is(records.length, 25);
  t.true(records.every((r) => r.updater === 'debian' && r.ecosystem === 'dpkg' && r.packageKind === 'source'));

  const proto = find(records, 'prototypejs', 'CVE-2008-7220', 'stretch');
  t.like(proto, { state: 'fixed', fixedVersion: '1.6.0.2-1', vendorSeverity: 'high**', normalizedSeverity: 'High', severitySource: 'vendor', stateReason: null });
  t.regex(proto.description ?? '', /Prototype JavaScript framework/);
  t.deepEqual(proto.links, ['https://security-tracker.debian.org/tracker/CVE-2008-7220']);

  t.like(find(records, 'prototypejs', 'CVE-2007-2383', 'sid'), { state: 'not_affected', fixedVersion: null, vendorSeverity: 'unimportant', normalizedSeverity: 'Negligible' });
  t.like(find(records, 'txt2man', 'CVE-2013-1444', 'jessie'), { state: 'fixed', fixedVersion: '1.5.5-4.1', normalizedSeverity: 'Low' });
  t.like(find(records, 'backupninja', 'CVE-2005-3111', 'buster'), { state: 'fixed', fixedVersion: '0.8-2', vendorSeverity: 'medium', normalizedSeverity: 'Medium' });

  t.like(find(records, 'chromium', 'CVE-2022-0456', 'buster'), { state: 'end_of_life', stateReason: 'end-of-life', fixedVersion: null, normalizedSeverity: 'Unknown' });
  t.like(find(records, 'chromium', 'CVE-2022-0456', 'stretch'), { state: 'end_of_life' });
  t.like(find(records, 'chromium', 'CVE-2022-0456', 'bullseye'), { state: 'fixed', fixedVersion: '98.0.4758.80-1~deb11u1', vendorSeverity: 'not yet assigned', normalizedSeverity: 'Unknown' });
  t.like(find(records, 'sope', 'CVE-2025-53603', 'trixie'), { state: 'fixed', fixedVersion: '5.12.1-2' });
  t.like(find(records, 'sope', 'CVE-2025-53603', 'bookworm'), { fixedVersion: '5.8.0-1+deb12u1', distribution: 'debian:bookworm' });
  t.false(records.some((r) => r.packageName === 'chromium-browser'));
});

maybe(`the vulnerablecode tracker sample: no-dsa stays not fixed with Debian's words; TEMP ids kept${suffix}`, async (t) => {
  const records = await collect(parseDebianTracker(createReadStream(VULNERABLECODE()), { releases: ALL }));
  t.like(find(records, 'librsync', 'CVE-2014-8242', 'buster'), {
    state: 'not_fixed',
    fixedVersion: null,
    stateReason: 'no-dsa: Minor issue, too instrusive to backport',
    vendorSeverity: 'low',
    normalizedSeverity: 'Low',
  });
  t.like(find(records, 'atomicparsley', 'CVE-2021-37231', 'bullseye'), { state: 'not_fixed', stateReason: 'no-dsa: Minor issue', normalizedSeverity: 'Unknown' });
  t.like(find(records, 'atomicparsley', 'CVE-2021-37232', 'bookworm'), { state: 'fixed', fixedVersion: '20210715.151551.e7ad03a-1' });
  t.like(find(records, 'mimetex', 'TEMP-0000000-A2EB44', 'buster'), { state: 'fixed', fixedVersion: '1.4.5' });
  t.like(find(records, 'mimetex', 'CVE-2009-1382', 'stretch'), { state: 'fixed', fixedVersion: '1.50-1.1', vendorSeverity: 'medium' });
  t.is(records.length, 2 + 5 + 5 + 2 + 2 + 2);
});

maybe(`only the releases asked for (by default those Debian supports that day) are kept${suffix}`, async (t) => {
  const records = await collect(parseDebianTracker(createReadStream(VUNNEL()), { releases: new Set(['bookworm', 'trixie']) }));
  t.deepEqual(records.map((r) => `${r.packageName} ${r.distribution}`).sort(), ['chromium debian:bookworm', 'sope debian:bookworm', 'sope debian:trixie']);
  t.deepEqual(supportedDebianReleases(new Date('2026-11-22T00:00:00Z')), ['bookworm', 'trixie']);
  t.deepEqual(supportedDebianReleases(new Date('2024-03-01T00:00:00Z')), ['buster', 'bullseye', 'bookworm', 'trixie']);
  t.deepEqual(supportedDebianReleases(new Date('2026-08-31T12:00:00Z')), ['bullseye', 'bookworm', 'trixie']);
});

test('ignored, postponed and undetermined entries keep their state and the vendor words', async (t) => {
  const doc = {
    openssl: {
      'CVE-2099-0001': {
        description: 'made up',
        releases: {
          bookworm: { status: 'open', urgency: 'low', nodsa: 'Minor issue', nodsa_reason: 'ignored', repositories: { bookworm: '3.0.11-1' } },
          trixie: { status: 'open', urgency: 'medium', nodsa: 'Can be fixed in a point release', nodsa_reason: 'postponed' },
          forky: { status: 'undetermined', urgency: 'unimportant' },
          sid: { status: 'open', urgency: 'high' },
        },
      },
    },
  };
  const records = await collect(parseDebianTracker(Readable.from([JSON.stringify(doc)]), { releases: new Set([...ALL, 'forky']) }));
  t.like(find(records, 'openssl', 'CVE-2099-0001', 'bookworm'), { state: 'will_not_fix', stateReason: 'ignored: Minor issue', normalizedSeverity: 'Low' });
  t.like(find(records, 'openssl', 'CVE-2099-0001', 'trixie'), { state: 'fix_deferred', stateReason: 'postponed: Can be fixed in a point release' });
  t.like(find(records, 'openssl', 'CVE-2099-0001', 'forky'), { state: 'under_investigation', stateReason: 'undetermined', normalizedSeverity: 'Negligible' });
  t.like(find(records, 'openssl', 'CVE-2099-0001', 'sid'), { state: 'not_fixed', stateReason: null, normalizedSeverity: 'High' });
  t.is(debianUrgencySeverity('medium*'), 'Medium');
  t.is(debianUrgencySeverity(null), 'Unknown');
});

test('malformed tracker JSON throws a clear error', async (t) => {
  await t.throwsAsync(collect(parseDebianTracker(Readable.from(['{"openssl": {"CVE-2024-1": {"releases": {']), { releases: ALL })), {
    instanceOf: FeedParseError,
    message: /Debian security tracker JSON: truncated document/,
  });
  await t.throwsAsync(collect(parseDebianTracker(Readable.from(['{"openssl": {"CVE-2024-1": ']), { releases: ALL })), { instanceOf: FeedParseError });
  await t.throwsAsync(collect(parseDebianTracker(Readable.from(['<html>oops</html>']), { releases: ALL })), {
    instanceOf: FeedParseError,
    message: /Debian security tracker JSON: .*near byte 0/,
  });
  await t.throwsAsync(collect(parseDebianTracker(Readable.from(['{"openssl": {"CVE-2024-1": 3}}']), { releases: ALL })), {
    instanceOf: FeedParseError,
    message: /openssl CVE-2024-1 is not an object/,
  });
  await t.throwsAsync(
    collect(parseDebianTracker(Readable.from(['{"openssl": {"CVE-2024-1": {"releases": {"sid": {"status": "resolved", "fixed_version": "1 2"}}}}}']), { releases: ALL })),
    { instanceOf: FeedParseError, message: /invalid fixed version/ },
  );
});

maybe(`fetch: first Fetched, then UNCHANGED with one conditional request; new bytes are new data${suffix}`, async (t) => {
  const server = await startFeedServer(t);
  const body = readFileSync(VUNNEL());
  server.set('/tracker/data/json', { body, lastModified: 'Sun, 22 Nov 2026 10:00:00 GMT', contentType: 'application/json' });
  const url = server.url('/tracker/data/json');
  const updater = createDebianUpdater({ releases: [...ALL] });
  t.is(createDebianUpdater().defaultUrl, DEBIAN_TRACKER_URL);

  const first = fetched(await runFetch(t, updater, url));
  t.is(first.files.length, 1);
  t.regex(first.fingerprint, /^sha256:[0-9a-f]{64}$/);
  t.truthy(first.validators[url]?.etag ?? undefined);
  t.is(first.validators[url]?.lastModified, 'Sun, 22 Nov 2026 10:00:00 GMT');
  t.is((await collect(updater.parse(first))).length, 25);

  server.clearRequests();
  t.is(await runFetch(t, updater, url, first), UNCHANGED);
  t.is(server.count(), 1);
  t.is(server.requests[0]?.status, 304);
  t.is(server.requests[0]?.headers['if-none-match'], first.validators[url]?.etag ?? undefined);

  server.set('/tracker/data/json', { body: readFileSync(VULNERABLECODE()) });
  const second = fetched(await runFetch(t, updater, url, first));
  t.not(second.fingerprint, first.fingerprint);
  t.is((await collect(updater.parse(second))).length, 18);
});

test('fetch: a malformed body is fetched but its parse throws; a URL outside the configured base is refused', async (t) => {
  const server = await startFeedServer(t);
  server.set('/tracker/data/json', { body: '{"openssl": {"CVE-2024-1": {"releases": ' });
  const updater = createDebianUpdater({ releases: ['bookworm'] });
  const got = fetched(await runFetch(t, updater, server.url('/tracker/data/json')));
  await t.throwsAsync(collect(updater.parse(got)), { instanceOf: FeedParseError, message: /Debian security tracker JSON/ });

  server.clearRequests();
  await t.throwsAsync(runFetch(t, updater, server.url('/elsewhere/json'), null, [server.url('/tracker/data/json')]), {
    instanceOf: FeedFetchError,
    message: /not under a configured feed URL/,
  });
  t.is(server.count(), 0);
});

test('a release option that is not a codename is refused', (t) => {
  t.throws(() => createDebianUpdater({ releases: ['bookworm', '../etc'] }), { message: /not a release codename/ });
});

test('parse uses the supported releases of the day when none are configured', async (t) => {
  const server = await startFeedServer(t);
  const doc = { curl: { 'CVE-2099-2': { releases: { bullseye: { status: 'open', urgency: 'low' }, bookworm: { status: 'open', urgency: 'low' } } } } };
  server.set('/json', { body: JSON.stringify(doc) });
  const updater = createDebianUpdater({ now: () => new Date('2026-11-22T00:00:00Z') });
  const records = vulnerabilities(await collect(updater.parse(fetched(await runFetch(t, updater, server.url('/json'))))));
  t.deepEqual(records.map((r) => r.distribution), ['debian:bookworm']);
});
