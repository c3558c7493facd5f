import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FeedParseError } from '../../../src/feeds/feed-parse-error.ts';
import { findOsvEcosystem, pep503 } from '../../../src/ecosystems/osv/osv-ecosystems.ts';
import { osvToRecords } from '../../../src/ecosystems/osv/osv-to-records.ts';
import { createOsvUpdater, createOsvUpdaters } from '../../../src/ecosystems/osv/osv-updater.ts';
import { parseOsvZip } from '../../../src/ecosystems/osv/parse-osv-zip.ts';
import { UNCHANGED } from '../../../src/ecosystems/updater.ts';
import type { VulnerabilityRecord } from '../../../src/ecosystems/vulnerability-record.ts';
import { FeedFetchError } from '../../../src/feeds/undici-feed-http.ts';
import { startFeedServer } from '../../helpers/feed-server.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { collect, fetched, runFetch, spoolDir, vulnerabilities } from './harness.ts';
import { buildZip } from './zip-writer.ts';

const maybe = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;
const NOW = new Date('2026-11-22T00:00:00Z');
const sample = (eco: string, file: string): unknown => JSON.parse(readFileSync(fixture('feeds', 'osv', eco, file), 'utf8'));
const map = (eco: string, file: string, key = eco): VulnerabilityRecord[] => osvToRecords(sample(eco, file), { ecosystem: findOsvEcosystem(key)!, now: NOW });

maybe(`PyPI: PEP 503 names, last_affected ranges, GIT ranges ignored, withdrawals honoured${suffix}`, (t) => {
  const [aiohttp, ...more] = map('PyPI', 'PYSEC-2023-120.json');
  t.is(more.length, 0);
  t.like(aiohttp, {
    updater: 'osv-pypi',
    name: 'PYSEC-2023-120',
    ecosystem: 'pypi',
    packageName: 'aiohttp',
    packageKind: 'binary',
    distribution: null,
    state: 'not_fixed',
    fixedVersion: null,
    normalizedSeverity: 'Unknown',
    publishedAt: '2023-07-20T14:52:00Z',
    modifiedAt: '2023-07-24T14:58:05.562874Z',
  });
  t.deepEqual(aiohttp?.aliases, ['GHSA-45c4-8wx5-qw6w', 'CVE-2023-37276']);
  t.deepEqual(aiohttp?.affectedRange?.events, [{ introduced: '0' }, { last_affected: '3.8.4' }, { introduced: '4.0.1' }, { last_affected: '4.0.1' }]);
  t.true(aiohttp?.links.includes('https://hackerone.com/reports/2001873'));
  t.regex(aiohttp?.description ?? '', /request smuggling/);

  const [werkzeug] = map('PyPI', 'PYSEC-2026-1.json');
  t.like(werkzeug, { packageName: 'werkzeug', fixedVersion: '3.1.5', state: 'fixed', normalizedSeverity: 'Medium', severitySource: 'cvss', vendorSeverity: null });
  t.deepEqual(werkzeug?.affectedRange?.events, [{ introduced: '0' }, { fixed: '3.1.5' }]);
  t.deepEqual(
    werkzeug?.cvss.map((c) => [c.version, c.vector]),
    [
      ['3.1', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L'],
      ['4.0', 'CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:N/VI:N/VA:L/SC:N/SI:N/SA:N'],
    ],
  );
  t.is(werkzeug?.cvss[0]?.score, 5.3);

  t.deepEqual(map('PyPI', 'PYSEC-2023-73.json'), [], 'withdrawn in 2023');
  const [scipy] = map('PyPI', 'withdrawn_after_now.json');
  t.like(scipy, { packageName: 'scipy', fixedVersion: '0.12.1' }, 'a withdrawal dated in the future is not in effect');
  t.deepEqual(scipy?.affectedRange?.events, [{ introduced: '0' }, { fixed: '0.12.1' }]);
  t.deepEqual(map('PyPI', 'PYSEC-2018-27.json').map((r) => `${r.packageName} ${r.fixedVersion}`), ['qutebrowser 1.4.1']);
  t.is(pep503('Foo.Bar__baz-Qux'), 'foo-bar-baz-qux');
});

maybe(`Go: SEMVER ranges with several branches, zero dates dropped, GitHub severity kept${suffix}`, (t) => {
  const records = map('Go', 'GO-2024-2687.json');
  t.deepEqual(records.map((r) => `${r.packageName} ${r.fixedVersion}`), ['stdlib 1.21.9, 1.22.2', 'golang.org/x/net 0.23.0']);
  t.deepEqual(records[0]?.affectedRange?.events, [{ introduced: '0' }, { fixed: '1.21.9' }, { introduced: '1.22.0-0' }, { fixed: '1.22.2' }]);
  t.like(records[0], { ecosystem: 'go', updater: 'osv-go', publishedAt: null, modifiedAt: null, normalizedSeverity: 'Unknown' });
  t.deepEqual(records[0]?.aliases, ['CVE-2023-45288', 'GHSA-4v7x-pqxf-cx7m']);

  const ghsa = map('Go', 'GHSA-4v7x-pqxf-cx7m.json');
  t.is(ghsa.length, 2, 'one record per affected entry');
  t.like(ghsa[1], { packageName: 'net/http', fixedVersion: '1.22.2', vendorSeverity: 'MODERATE', normalizedSeverity: 'Medium', severitySource: 'vendor' });

  // a vector with temporal metrics and a trailing slash still scores (base 9.8); the GitHub rating wins
  const [aws] = map('Go', 'GHSA-f5pg-7wfw-84q9.json');
  t.like(aws, { packageName: 'github.com/aws/aws-sdk-go', normalizedSeverity: 'Medium', vendorSeverity: 'MODERATE' });
  t.deepEqual(aws?.cvss, [{ version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C', score: 9.8 }]);
  t.deepEqual(map('Go', 'GO-2024-2683.json')[0]?.fixedVersion, '1.11.9, 1.12.5, 1.13.2');
});

maybe(`Maven, npm, RubyGems and crates.io records${suffix}`, (t) => {
  const maven = map('Maven', 'GHSA-32qq-m9fh-f74w.json');
  t.deepEqual(maven.map((r) => `${r.packageName} ${r.state} ${r.fixedVersion}`), ['com.baomidou:mybatis-plus not_fixed null', 'com.baomidou:mybatis-plus-copy fixed 3.5.0']);
  t.like(maven[0], { ecosystem: 'maven', vendorSeverity: 'CRITICAL', normalizedSeverity: 'Critical' });
  t.like(map('Maven', 'GHSA-xx65-cc7g-9pfp.json')[0], { packageName: 'org.springframework.boot:spring-boot', fixedVersion: '1.5.10', normalizedSeverity: 'Medium' });

  const npm = map('npm', 'GHSA-75v8-2h7p-7m2m.json');
  t.is(npm.length, 2);
  t.deepEqual(npm[0]?.affectedRange?.events, [{ introduced: '3.1.1-canary.20211030' }, { fixed: '3.5.3' }]);
  t.like(npm[1], { packageName: 'formidable', state: 'not_fixed', fixedVersion: null, normalizedSeverity: 'Low', ecosystem: 'npm' });
  t.is(npm[0]?.cvss[0]?.score, 3.1);

  const gems = map('RubyGems', 'GHSA-579w-22j4-4749.json');
  t.deepEqual(gems.map((r) => `${r.ecosystem} ${r.packageName} ${r.fixedVersion}`), ['gem activerecord 6.1.7.1', 'gem activerecord 7.0.4.1']);

  const [rust] = map('crates.io', 'RUSTSEC-2016-0001.json');
  t.like(rust, { ecosystem: 'cargo', updater: 'osv-cargo', packageName: 'openssl', fixedVersion: '0.9.0', normalizedSeverity: 'High', severitySource: 'cvss' });
  t.deepEqual(rust?.cvss, [{ version: '3.0', vector: 'CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', score: 8.1 }]);
  t.like(map('crates.io', 'GHSA-mp6f-p9gp-vpj9.json')[0], { packageName: 'sized-chunks', normalizedSeverity: 'High' });
});

maybe(`affected entries of other ecosystems are skipped${suffix}`, (t) => {
  t.deepEqual(map('AlmaLinux', 'ALSA-2024-2433.json', 'PyPI'), []);
  t.deepEqual(map('npm', 'GHSA-75v8-2h7p-7m2m.json', 'PyPI'), []);
});

test('a versions list without usable ranges becomes exact-version events; malformed ranges are skipped', (t) => {
  const doc = {
    id: 'PYSEC-2099-1',
    affected: [
      { package: { ecosystem: 'PyPI', name: 'Some_Pkg' }, ranges: [{ type: 'GIT', repo: 'x', events: [{ introduced: '0' }] }], versions: ['1.0', '1.1'] },
      { package: { ecosystem: 'PyPI', name: 'other' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0', fixed: '2' }] }] },
      { package: { ecosystem: 'PyPI:extra', name: 'third' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '1.0' }, { limit: '3.0' }] }] },
    ],
  };
  const records = osvToRecords(doc, { ecosystem: findOsvEcosystem('pypi')!, now: NOW });
  t.deepEqual(records.map((r) => r.packageName), ['some-pkg', 'third']);
  t.deepEqual(records[0]?.affectedRange?.events, [{ introduced: '1.0' }, { last_affected: '1.0' }, { introduced: '1.1' }, { last_affected: '1.1' }]);
  t.deepEqual(records[1]?.affectedRange?.events, [{ introduced: '1.0' }, { limit: '3.0' }]);
  t.deepEqual(osvToRecords({ id: '../../x' }, { ecosystem: findOsvEcosystem('pypi')!, now: NOW }), []);
});

test('updater names, one per ecosystem', (t) => {
  t.deepEqual(createOsvUpdaters().map((u) => u.name), ['osv-npm', 'osv-pypi', 'osv-go', 'osv-maven', 'osv-gem', 'osv-cargo']);
  t.is(createOsvUpdater({ ecosystem: 'crates.io' }).defaultUrl, 'https://osv-vulnerabilities.storage.googleapis.com/crates.io/all.zip');
  t.is(createOsvUpdater({ ecosystem: 'RubyGems' }).defaultUrl, 'https://osv-vulnerabilities.storage.googleapis.com/RubyGems/all.zip');
  t.throws(() => createOsvUpdater({ ecosystem: 'Debian' }), { message: /unsupported ecosystem/ });
});

maybe(`osv fetch: the PyPI archive is fetched, parsed entry by entry, then UNCHANGED with one request${suffix}`, async (t) => {
  const dir = fixture('feeds', 'osv', 'PyPI');
  const entries: Record<string, Buffer> = { 'vulns/': Buffer.alloc(0), 'README.txt': Buffer.from('not an advisory') };
  for (const f of readdirSync(dir)) entries[f] = readFileSync(path.join(dir, f));
  const server = await startFeedServer(t);
  server.set('/PyPI/all.zip', { body: buildZip(entries), contentType: 'application/zip' });
  const updater = createOsvUpdater({ ecosystem: 'PyPI', now: () => NOW });
  const url = server.url('/PyPI/all.zip');

  const first = fetched(await runFetch(t, updater, url));
  const records = vulnerabilities(await collect(updater.parse(first)));
  t.deepEqual(records.map((r) => `${r.name} ${r.packageName}`).sort(), [
    'PYSEC-2005-1 trac',
    'PYSEC-2006-1 cherrypy',
    'PYSEC-2006-2 trac',
    'PYSEC-2018-27 qutebrowser',
    'PYSEC-2019-156 scipy',
    'PYSEC-2023-120 aiohttp',
    'PYSEC-2026-1 werkzeug',
  ]);
  server.clearRequests();
  t.is(await runFetch(t, updater, url, first), UNCHANGED);
  t.is(server.count(), 1);

  server.set('/PyPI/all.zip', { body: 'PK\u0003\u0004 this is not a zip archive' });
  const broken = fetched(await runFetch(t, updater, url, first));
  await t.throwsAsync(collect(updater.parse(broken)), { instanceOf: FeedParseError, message: /OSV PyPI archive: not a readable zip archive/ });
  await t.throwsAsync(runFetch(t, updater, server.url('/npm/all.zip'), null, [url]), { instanceOf: FeedFetchError, message: /not under a configured feed URL/ });
});

test('osv archives: an entry that is not JSON or over the size limit throws naming it', async (t) => {
  const dir = await spoolDir(t);
  const file = path.join(dir, 'a.zip');
  await writeFile(file, buildZip({ 'GHSA-good.json': JSON.stringify({ id: 'GHSA-x', affected: [] }), 'GHSA-bad.json': '{"id": "GHSA-y", ' }));
  const eco = findOsvEcosystem('npm')!;
  await t.throwsAsync(collect(parseOsvZip(file, { ecosystem: eco, now: NOW })), { instanceOf: FeedParseError, message: /entry GHSA-bad\.json is not JSON/ });
  await writeFile(file, buildZip({ 'GHSA-big.json': JSON.stringify({ id: 'GHSA-z', details: 'x'.repeat(5000) }) }));
  await t.throwsAsync(collect(parseOsvZip(file, { ecosystem: eco, now: NOW, maxEntryBytes: 1000 })), { instanceOf: FeedParseError, message: /GHSA-big\.json is \d+ bytes, over the limit of 1000/ });
  await t.throwsAsync(collect(parseOsvZip(file, { ecosystem: eco, now: NOW, maxEntries: 0 })), { instanceOf: FeedParseError, message: /more than 0 entries/ });
});
