import test from 'ava';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { startFeedServer } from '../helpers/feed-server.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../helpers/fixtures.ts';

const SAMPLE = 'feeds/debian/vunnel-security-tracker-sample.json';
const maybe = HAVE_FIXTURES ? test : test.skip;

/** Environment for `lookout feeds …` on a test database, with the Debian feed served locally and every other feed off. */
function env(databaseUrl: string, trackerUrl: string): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: databaseUrl,
    LOOKOUT_LOG__LEVEL: 'error',
    LOOKOUT_FEEDS: JSON.stringify({ debian: { url: trackerUrl, options: { releases: ['bookworm', 'bullseye', 'trixie'] } } }),
  };
}

maybe(`feeds update runs a feed with a progress line, unchanged costs one request, status shows it, a broken feed keeps the data${HAVE_FIXTURES ? '' : NO_FIXTURES}`, async (t) => {
  const db = await createTestDatabase('feeds_cli');
  t.teardown(() => db.drop());
  const server = await startFeedServer(t);
  const body = readFileSync(fixture(SAMPLE));
  server.set('/tracker/data/json', { body });
  const vars = env(db.url, server.url('/tracker/data/json'));

  const first = await runCli(['feeds', 'update', '--only', 'debian'], vars);
  t.is(first.status, 0, first.stderr);
  t.regex(first.stdout, /^debian: changed in [\d.]+ s \(\d+ records: \+\d+ -0 ~0, 0 enrichments\)\n$/);
  const stored = Number((await db.knex('vulnerabilities').where({ updater: 'debian' }).count('* as n').first())?.n);
  t.true(stored > 0);
  const chromium = await db.knex('vulnerabilities').where({ updater: 'debian', package_name: 'chromium' }).first();
  t.is(chromium.ecosystem, 'dpkg');
  t.is(chromium.package_kind, 'source');

  const before = server.requests.length;
  const second = await runCli(['feeds', 'update', '--only', 'debian'], vars);
  t.regex(second.stdout, /^debian: unchanged/);
  t.is(server.requests.length - before, 1, 'one conditional request');

  server.set('/tracker/data/json', { body: '{"backupninja": {"CVE-2026-0001": {"releases": ', etag: '"broken"' });
  const broken = await runCli(['feeds', 'update', '--only', 'debian'], vars);
  t.is(broken.status, 1);
  t.regex(broken.stdout, /^debian: FAILED after [\d.]+ s: /);
  t.is(Number((await db.knex('vulnerabilities').where({ updater: 'debian' }).count('* as n').first())?.n), stored, 'the previous data is kept');

  const status = await runCli(['feeds', 'status'], vars);
  t.is(status.status, 0, status.stderr);
  const line = status.stdout.split('\n').find((l) => l.startsWith('debian '));
  t.regex(line ?? '', /^debian\s+on\s+failed\s+\S+Z.* error: /);
  t.regex(status.stdout, /^alpine\s+on\s+-\s+never$/m);

  const unknown = await runCli(['feeds', 'update', '--only', 'nope'], vars);
  t.is(unknown.status, 2, 'an unknown feed is bad usage');
  t.regex(unknown.stderr, /unknown feed nope/);
});

maybe(`feeds export and import move the data to another database; importing twice changes nothing${HAVE_FIXTURES ? '' : NO_FIXTURES}`, async (t) => {
  const source = await createTestDatabase('feeds_export');
  const target = await createTestDatabase('feeds_import');
  t.teardown(() => Promise.all([source.drop(), target.drop()]).then(() => undefined));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-bundle-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const server = await startFeedServer(t);
  server.set('/tracker/data/json', { body: readFileSync(fixture(SAMPLE)) });
  t.is((await runCli(['feeds', 'update', '--only', 'debian'], env(source.url, server.url('/tracker/data/json')))).status, 0);

  const bundle = path.join(dir, 'feeds.jsonl.gz');
  const exported = await runCli(['feeds', 'export', bundle], { DATABASE_URL: source.url, LOOKOUT_LOG__LEVEL: 'error' });
  t.is(exported.status, 0, exported.stderr);
  t.regex(exported.stdout, /^exported \d+ records from 1 feeds \(debian\)/);

  const imported = await runCli(['feeds', 'import', bundle], { DATABASE_URL: target.url, LOOKOUT_LOG__LEVEL: 'error' });
  t.is(imported.status, 0, imported.stderr);
  t.regex(imported.stdout, /^debian: imported \(\d+ records\)$/m);
  const columns = ['name', 'package_name', 'distribution', 'fixed_version', 'state', 'state_reason', 'vendor_severity', 'normalized_severity'];
  const rows = async (db: typeof source) => db.knex('vulnerabilities').where({ updater: 'debian' }).orderBy('vkey').select('vkey', ...columns);
  t.deepEqual(await rows(target), await rows(source));

  const again = await runCli(['feeds', 'import', bundle], { DATABASE_URL: target.url, LOOKOUT_LOG__LEVEL: 'error' });
  t.regex(again.stdout, /^debian: unchanged/m);

  const junk = path.join(dir, 'junk.gz');
  await writeFile(junk, 'not gzip at all');
  const bad = await runCli(['feeds', 'import', junk], { DATABASE_URL: target.url, LOOKOUT_LOG__LEVEL: 'error' });
  t.is(bad.status, 2);
  t.regex(bad.stderr, /^lookout: cannot import .*junk\.gz: /);
});
