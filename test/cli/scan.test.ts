import test from 'ava';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSecdb } from '../../src/ecosystems/alpine/parse-secdb.ts';
import { PgVulnerabilityStore } from '../../src/store/vulnerability-store.ts';
import { runCli } from '../helpers/cli.ts';
import { useDatabase } from '../helpers/database.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../helpers/fixtures.ts';

const IMAGE = 'pkgdb/images/trivy-alpine-3.11.5.docker-save.tar.gz';
const SECDB = fileURLToPath(new URL('../fixtures/secdb/v3.11-main-openssl.json', import.meta.url));
const maybe = HAVE_FIXTURES ? test : test.skip;
const note = HAVE_FIXTURES ? '' : NO_FIXTURES;

/** A database with Alpine 3.11 openssl and musl advisories loaded through the real secdb parser. */
const database = useDatabase(test, 'scan_cli', async (db) => {
  const store = new PgVulnerabilityStore(db.knex);
  const run = await store.startRun('alpine');
  await store.applyRun(run, 'alpine', parseSecdb(createReadStream(SECDB), { updater: 'alpine', distribution: 'alpine:3.11', repository: 'main', what: 'test secdb' }));
  await store.finishRun(run, { state: 'changed', fingerprint: 'test' });
});

const env = (url: string) => ({ DATABASE_URL: url, LOOKOUT_LOG__LEVEL: 'error' });

maybe(`scan --packages lists exactly the packages of a docker save archive${note}`, async (t) => {
  const db = await database();
  const result = await runCli(['scan', fixture(IMAGE), '--packages', '--format', 'json'], env(db.url));
  t.is(result.status, 0, result.stderr);
  const [image] = JSON.parse(result.stdout) as { packages: { name: string; version: string; sourceName: string | null }[] }[];
  const expected = readFileSync(fixture('pkgdb/images/alpine-311.expected-packages.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  t.deepEqual(
    image!.packages.map((p) => `${p.name} ${p.version} ${p.sourceName}`).sort(),
    expected.map(([name, version, , origin]) => `${name} ${version} ${origin}`).sort(),
  );
});

maybe(`scan finds the origin package's advisories, writes every format, and --fail-on exits 1${note}`, async (t) => {
  const db = await database();
  const table = await runCli(['scan', fixture(IMAGE)], env(db.url));
  t.is(table.status, 0, table.stderr);
  t.regex(table.stdout, /OS\s+Alpine Linux v3\.11 \(alpine:3\.11\)/);
  for (const id of ['CVE-2020-1967', 'CVE-2020-1971', 'CVE-2020-28928']) t.true(table.stdout.includes(id), id);
  t.false(table.stdout.includes('CVE-2019-1547'), 'fixed in 1.1.1d-r1, before the installed 1.1.1d-r3');

  const json = JSON.parse((await runCli(['scan', fixture(IMAGE), '--format', 'json'], env(db.url))).stdout) as { findings: { package: { name: string }; vulnerability: string; fixedVersion: string }[] };
  const openssl = json.findings.filter((f) => f.vulnerability === 'CVE-2020-1967').map((f) => `${f.package.name} → ${f.fixedVersion}`).sort();
  t.deepEqual(openssl, ['libcrypto1.1 → 1.1.1g-r0', 'libssl1.1 → 1.1.1g-r0'], 'libssl1.1 and libcrypto1.1 through their origin openssl');

  const sarif = JSON.parse((await runCli(['scan', fixture(IMAGE), '--format', 'sarif'], env(db.url))).stdout) as { version: string };
  t.is(sarif.version, '2.1.0');
  const cdx = JSON.parse((await runCli(['scan', fixture(IMAGE), '--format', 'cyclonedx'], env(db.url))).stdout) as { bomFormat: string };
  t.is(cdx.bomFormat, 'CycloneDX');

  const failing = await runCli(['scan', fixture(IMAGE), '--fail-on', 'unknown'], env(db.url));
  t.is(failing.status, 1);
  t.regex(failing.stderr, /finding\(s\) at or above Unknown/);
  const onlyCritical = await runCli(['scan', fixture(IMAGE), '--severity', 'Critical', '--fail-on', 'critical'], env(db.url));
  t.is(onlyCritical.status, 0, 'no critical finding: Alpine secdb rates none');
});

maybe(`a second scan of the same archive reads no layer again${note}`, async (t) => {
  const db = await database();
  await runCli(['scan', fixture(IMAGE), '--packages'], env(db.url));
  const before = await db.knex('layer_scans').max('scanned_at as at').first();
  const again = await runCli(['scan', fixture(IMAGE), '--packages'], env(db.url));
  t.is(again.status, 0);
  const after = await db.knex('layer_scans').max('scanned_at as at').first();
  t.deepEqual(after, before);
});

test('bad input: one clear line and exit 2', async (t) => {
  const db = await database();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-scan-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'not-an-image.tar'), 'hello');
  await writeFile(path.join(dir, 'broken.tar.gz'), Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3]));
  for (const [arg, pattern] of [
    [path.join(dir, 'not-an-image.tar'), /is not a tar archive/],
    [path.join(dir, 'broken.tar.gz'), /gzip|truncated|corrupt/],
    [path.join(dir, 'missing.tar'), /does not exist/],
  ] as const) {
    const result = await runCli(['scan', arg], env(db.url));
    t.is(result.status, 2, arg);
    t.regex(result.stderr, /^lookout: cannot scan .+\n$/);
    t.regex(result.stderr, pattern);
  }
  const format = await runCli(['scan', path.join(dir, 'missing.tar'), '--format', 'pdf'], env(db.url));
  t.is(format.status, 2);
  t.regex(format.stderr, /unknown format pdf/);
});

maybe(`explain shows the versions compared for a finding and why other records did not apply${note}`, async (t) => {
  const db = await database();
  const result = await runCli(['explain', fixture(IMAGE), 'libssl1.1'], env(db.url));
  t.is(result.status, 0, result.stderr);
  t.regex(result.stdout, /^apk libssl1\.1 1\.1\.1d-r3 \(source openssl 1\.1\.1d-r3\) in sha256:/m);
  t.regex(result.stdout, /FINDING CVE-2020-1967 .* fixed in 1\.1\.1g-r0 \[alpine\]/);
  t.regex(result.stdout, /CVE-2020-1967 from alpine: affected \(1\.1\.1d-r3 < 1\.1\.1g-r0\)/);
  t.regex(result.stdout, /no finding: CVE-2019-1547 from alpine: not-in-range \(1\.1\.1d-r3 > 1\.1\.1d-r1\)/);
  const missing = await runCli(['explain', fixture(IMAGE), 'no-such-package'], env(db.url));
  t.is(missing.status, 2);
});
