import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import test from 'ava';
import { parseContentManifest } from '../../../src/ecosystems/rpm/parse-content-manifest.ts';
import { readBdbHashValues } from '../../../src/ecosystems/rpm/read-bdb-hash.ts';
import { readNdbBlobs } from '../../../src/ecosystems/rpm/read-ndb.ts';
import { readRpmHeader, RpmHeaderError } from '../../../src/ecosystems/rpm/read-rpm-header.ts';
import { readSqliteBlobs } from '../../../src/ecosystems/rpm/read-sqlite-rpmdb.ts';
import { rpmPurl } from '../../../src/ecosystems/rpm/rpm-purl.ts';
import { RPMTAG, rpmEvr, rpmFilePaths, rpmPackageInfo, splitSourceRpm } from '../../../src/ecosystems/rpm/rpm-package-info.ts';
import { rpmScanner } from '../../../src/ecosystems/rpm/rpm-scanner.ts';
import type { FoundPackage, ScanResult } from '../../../src/ecosystems/scanner.ts';
import { fixture, HAVE_FIXTURES, NO_FIXTURES } from '../../helpers/fixtures.ts';
import { layerFiles, readFixtureBytes } from '../../helpers/layer-files.ts';
import type { LayerEntry } from '../../helpers/layer-files.ts';
import { buildBdbHash, buildRpmHeader } from './rpm-fixtures.ts';
import type { HeaderValue } from './rpm-fixtures.ts';

const withFixtures = HAVE_FIXTURES ? test : test.skip;
const suffix = HAVE_FIXTURES ? '' : NO_FIXTURES;
const rpm = (...p: string[]) => fixture('pkgdb', 'rpm', ...p);

type Reader = (db: Uint8Array, problems: string[]) => Iterable<Uint8Array>;

/** The rows of an `*.expected.tsv` (epoch, name, version, release, arch, sourcerpm, size, license, vendor, modularitylabel, summary, sigmd5). */
function expectedRows(file: string): string[][] {
  return readFileSync(file, 'utf8').split('\n').slice(1).filter((l) => l !== '').map((l) => {
    const cells = l.split('\t');
    while (cells.length < 12) cells.push('');
    return cells;
  });
}

/** Every header of a database as an expected-TSV row. */
function decodedRows(db: Uint8Array, reader: Reader): { rows: string[][]; problems: string[] } {
  const problems: string[] = [];
  const rows: string[][] = [];
  for (const blob of reader(db, problems)) {
    const i = rpmPackageInfo(readRpmHeader(blob));
    rows.push([i.epoch === null ? '' : String(i.epoch), i.name, i.version, i.release, i.arch, i.sourceRpm, String(i.size), i.license, i.vendor, i.modularityLabel, i.summary, i.sigmd5]);
  }
  return { rows, problems };
}

/** The FoundPackage fields an expected-TSV row must give. */
function expectedPackage(row: string[], dbPath: string): Partial<FoundPackage> {
  const [epoch, name, version, release, arch, sourceRpm, , , vendor, module] = row as string[];
  const e = epoch === '' ? null : Number(epoch);
  const want: Partial<FoundPackage> = { ecosystem: 'rpm', name, version: rpmEvr(e, version as string, release as string), path: dbPath };
  const source = splitSourceRpm(sourceRpm as string);
  if (source) {
    want.sourceName = source.name;
    want.sourceVersion = rpmEvr(e, source.version, source.release);
  }
  if (arch) want.arch = arch;
  if (vendor) want.vendor = vendor;
  if (module) want.module = module;
  return want;
}

async function scan(entries: Record<string, LayerEntry>): Promise<ScanResult> {
  return rpmScanner.scan(await layerFiles(entries, rpmScanner.files));
}

const REAL: Array<[string, string, Reader, string]> = [
  ['sqlite/cbl-mariner-2.0.rpmdb.sqlite.gz', 'sqlite/cbl-mariner-2.0.rpmdb.expected.tsv', (db, p) => readSqliteBlobs(db, p), 'var/lib/rpm/rpmdb.sqlite'],
  ['ndb/sle15-bci.Packages.db', 'ndb/sle15-bci.Packages.expected.tsv', readNdbBlobs, 'usr/lib/sysimage/rpm/Packages.db'],
  ['bdb/libuuid.Packages', 'bdb/libuuid.expected.tsv', readBdbHashValues, 'var/lib/rpm/Packages'],
  ['bdb/osv-scalibr-Packages_epoch', 'bdb/osv-scalibr-Packages_epoch.expected.tsv', readBdbHashValues, 'var/lib/rpm/Packages'],
  ['bdb/syft-redhat.Packages', 'bdb/syft-redhat.expected.tsv', readBdbHashValues, 'var/lib/rpm/Packages'],
  ['bdb/grype-centos-match-coverage.Packages', 'bdb/grype-centos-match-coverage.expected.tsv', readBdbHashValues, 'var/lib/rpm/Packages'],
  ['bdb/grype-sles-match-coverage.Packages', 'bdb/grype-sles-match-coverage.expected.tsv', readBdbHashValues, 'var/lib/rpm/Packages'],
];

for (const [db, expected, reader, layerPath] of REAL) {
  withFixtures(`${db}: decodes to exactly the rows of its expected list${suffix}`, (t) => {
    const { rows, problems } = decodedRows(readFixtureBytes(rpm(db)), reader);
    t.deepEqual(problems, []);
    t.deepEqual(rows, expectedRows(rpm(expected)));
  });

  withFixtures(`${db}: the scanner reports every package with its matching fields${suffix}`, async (t) => {
    const result = await scan({ [layerPath]: readFixtureBytes(rpm(db)) });
    t.deepEqual(result.notes, []);
    const want = expectedRows(rpm(expected)).map((row) => expectedPackage(row, layerPath));
    t.is(result.packages?.length, want.length);
    result.packages?.forEach((pkg, i) => {
      const { files, ...rest } = pkg;
      t.deepEqual(rest, want[i] as FoundPackage);
      t.true(files === undefined || files.every((f) => !f.startsWith('/')));
    });
  });
}

withFixtures(`concrete packages: glibc on Mariner, libuuid on RHEL 8, epoch 1, SLE 15 pcre${suffix}`, async (t) => {
  const mariner = await scan({ 'var/lib/rpm/rpmdb.sqlite': readFixtureBytes(rpm('sqlite', 'cbl-mariner-2.0.rpmdb.sqlite.gz')) });
  const glibc = mariner.packages?.find((p) => p.name === 'glibc');
  t.like(glibc, { version: '2.34-2.cm2', sourceName: 'glibc', sourceVersion: '2.34-2.cm2', arch: 'x86_64', vendor: 'Microsoft Corporation' });
  t.true(glibc?.files?.includes('usr/bin/ldd'));
  t.true(glibc?.files?.includes('sbin/ldconfig'));
  t.false(glibc?.files?.some((f) => f.startsWith('usr/share/')));
  const curl = mariner.packages?.find((p) => p.name === 'curl');
  t.true(curl?.files?.includes('usr/bin/curl'));

  const uuid = await scan({ 'var/lib/rpm/Packages': readFileSync(rpm('bdb', 'libuuid.Packages')) });
  t.deepEqual(uuid.packages, [{
    ecosystem: 'rpm', name: 'libuuid', version: '2.32.1-42.el8_8', sourceName: 'util-linux', sourceVersion: '2.32.1-42.el8_8',
    arch: 'x86_64', vendor: 'Red Hat, Inc.', path: 'var/lib/rpm/Packages',
  }]);

  const epoch = await scan({ 'var/lib/rpm/Packages': readFileSync(rpm('bdb', 'osv-scalibr-Packages_epoch')) });
  t.like(epoch.packages?.[0], { name: 'hello', version: '1:0.0.1-rls', sourceName: 'hello', sourceVersion: '1:0.0.1-rls' });

  const sle = await scan({ 'usr/lib/sysimage/rpm/Packages.db': readFileSync(rpm('ndb', 'sle15-bci.Packages.db')) });
  t.like(sle.packages?.find((p) => p.name === 'libpcre1'), { version: '8.45-20.10.1', sourceName: 'pcre', sourceVersion: '8.45-20.10.1', vendor: 'SUSE LLC <https://www.suse.com/>' });
  t.true(sle.packages?.find((p) => p.name === 'bash')?.files?.includes('usr/bin/bash'));
});

withFixtures(`header blobs decode on their own: names, file lists${suffix}`, (t) => {
  const claircore = readRpmHeader(readFileSync(rpm('header-blobs', 'claircore-package.header')));
  t.deepEqual(claircore.problems, []);
  t.deepEqual(rpmPackageInfo(claircore), {
    name: 'crypto-policies', epoch: null, version: '20210213', release: '1.git5c710c0.fc34', arch: 'noarch',
    sourceRpm: 'crypto-policies-20210213-1.git5c710c0.fc34.src.rpm', size: 85288, license: 'LGPLv2+', vendor: 'Fedora Project',
    modularityLabel: '', summary: 'System-wide crypto policies', sigmd5: '8669fbb8e99ab7d5d26ac2cd4fc6c4b5',
  });
  const files = [...rpmFilePaths(claircore)];
  t.is(files.length, 152);
  t.deepEqual(files.slice(0, 3), ['/etc/crypto-policies', '/etc/crypto-policies/back-ends', '/etc/crypto-policies/back-ends/bind.config']);

  const gorpmdb = readRpmHeader(readFileSync(rpm('header-blobs', 'go-rpmdb-blob.bin')));
  t.like(rpmPackageInfo(gorpmdb), { name: 'publicsuffix-list-dafsa', version: '20210518', release: '2.fc35', sourceRpm: 'publicsuffix-list-20210518-2.fc35.src.rpm' });
  t.deepEqual([...rpmFilePaths(gorpmdb)], ['/usr/share/licenses/publicsuffix-list-dafsa', '/usr/share/licenses/publicsuffix-list-dafsa/COPYING', '/usr/share/publicsuffix']);
});

withFixtures(`many headers in Berkeley DB files of both byte orders, page sizes, inline and overflow items${suffix}`, (t) => {
  const problems: string[] = [];
  const blobs = [...readSqliteBlobs(readFixtureBytes(rpm('sqlite', 'cbl-mariner-2.0.rpmdb.sqlite.gz')), problems)].map((b) => Buffer.from(b));
  const want = expectedRows(rpm('sqlite', 'cbl-mariner-2.0.rpmdb.expected.tsv'));
  for (const options of [{ pageSize: 4096 }, { pageSize: 512, bigEndian: true }, { pageSize: 16384, inlineMax: 8000 }, { pageSize: 65536, bigEndian: true, inlineMax: 4000 }]) {
    const db = buildBdbHash(blobs, options);
    const { rows, problems: bdbProblems } = decodedRows(db, readBdbHashValues);
    t.deepEqual(bdbProblems, [], JSON.stringify(options));
    t.deepEqual(rows, want, JSON.stringify(options));
  }
});

/** Synthetic headers for the rows of an `rpm -qa` list whose database is not in the fixtures. */
function headersFor(rows: string[][]): Buffer[] {
  return rows.map(([epoch, name, version, release, arch, sourceRpm, size, license, vendor, module, summary, md5]) => {
    const tags: Record<number, HeaderValue> = {
      [RPMTAG.NAME]: { type: 'string', value: name as string },
      [RPMTAG.VERSION]: { type: 'string', value: version as string },
      [RPMTAG.RELEASE]: { type: 'string', value: release as string },
      [RPMTAG.SUMMARY]: { type: 'i18n', value: summary as string },
      [RPMTAG.SIZE]: { type: 'int32', value: [Number(size)] },
      [RPMTAG.LICENSE]: { type: 'string', value: license as string },
      [RPMTAG.DIRNAMES]: { type: 'strings', value: ['/usr/bin/', `/usr/lib/python3.6/site-packages/${name}-${version}.dist-info/`] },
      [RPMTAG.BASENAMES]: { type: 'strings', value: [name as string, 'METADATA', 'RECORD'] },
      [RPMTAG.DIRINDEXES]: { type: 'int32', value: [0, 1, 1] },
    };
    if (epoch) tags[RPMTAG.EPOCH] = { type: 'int32', value: [Number(epoch)] };
    if (arch) tags[RPMTAG.ARCH] = { type: 'string', value: arch };
    if (sourceRpm) tags[RPMTAG.SOURCERPM] = { type: 'string', value: sourceRpm };
    if (vendor) tags[RPMTAG.VENDOR] = { type: 'string', value: vendor };
    if (module) tags[RPMTAG.MODULARITYLABEL] = { type: 'string', value: module };
    if (md5) tags[RPMTAG.SIGMD5] = { type: 'bin', value: Buffer.from(md5, 'hex') };
    return buildRpmHeader(tags);
  });
}

withFixtures(`rpm -qa lists of CentOS 5–8, Fedora, Rocky, UBI 8: modularity labels, epochs, gpg-pubkey skipped${suffix}`, async (t) => {
  const lists = readdirSync(rpm('expected-rpm-qa')).filter((n) => n.endsWith('.tsv'));
  t.is(lists.length, 15);
  for (const list of lists) {
    const rows = expectedRows(rpm('expected-rpm-qa', list));
    const db = buildBdbHash(headersFor(rows));
    t.deepEqual(decodedRows(db, readBdbHashValues).rows, rows, list);
    const result = await scan({ 'var/lib/rpm/Packages': db });
    t.deepEqual(result.notes, [], list);
    const packages = rows.filter((r) => r[1] !== 'gpg-pubkey');
    t.is(result.packages?.length, packages.length, list);
    result.packages?.forEach((pkg, i) => {
      const row = packages[i] as string[];
      t.like(pkg, expectedPackage(row, 'var/lib/rpm/Packages'), `${list} ${row[1]}`);
      t.deepEqual(pkg.files, [`usr/bin/${row[1]}`, `usr/lib/python3.6/site-packages/${row[1]}-${row[3 - 1]}.dist-info/METADATA`]);
    });
  }
  const centos8 = await scan({ 'var/lib/rpm/Packages': buildBdbHash(headersFor(expectedRows(rpm('expected-rpm-qa', 'CentOS8Modularitylabel.expected.tsv')))) });
  t.like(centos8.packages?.find((p) => p.name === 'toolbox'), {
    version: '0.0.7-1.module_el8.2.0+305+5e198a41',
    module: 'container-tools:rhel8:8020020200507003530:0d58ad57',
    vendor: 'CentOS',
  });
  const httpd = await scan({ 'var/lib/rpm/Packages': buildBdbHash(headersFor(expectedRows(rpm('expected-rpm-qa', 'CentOS7Httpd24.expected.tsv')))) });
  t.like(httpd.packages?.find((p) => p.name === 'bind-license'), { version: '32:9.9.4-73.el7_6', sourceName: 'bind', sourceVersion: '32:9.9.4-73.el7_6' });
});

withFixtures(`corrupt Berkeley DB: what can be read, and notes${suffix}`, async (t) => {
  const blobs = [...readSqliteBlobs(readFixtureBytes(rpm('sqlite', 'cbl-mariner-2.0.rpmdb.sqlite.gz')), [])].slice(0, 6).map((b) => Buffer.from(b));
  const good = buildBdbHash(blobs, { pageSize: 1024 });
  const names = (db: Buffer) => decodedRows(db, readBdbHashValues).rows.map((r) => r[1]);
  const all = names(good);
  t.is(all.length, 6);

  // An overflow page that points back to itself: that chain is dropped, the others are read.
  const looped = Buffer.from(good);
  const firstOverflow = 2 * 1024;
  looped.writeUInt32LE(2, firstOverflow + 16);
  const loopProblems: string[] = [];
  const loopRows = [...readBdbHashValues(looped, loopProblems)];
  t.is(loopRows.length, 5);
  t.deepEqual(loopProblems, ['overflow chain at page 2: loops back to page 2']);

  // The file cut short: the metadata's last page is believed only as far as the file goes.
  const cut = good.subarray(0, good.length - 3 * 1024);
  const cutProblems: string[] = [];
  const cutRows = [...readBdbHashValues(cut, cutProblems)];
  t.is(cutRows.length, 5);
  t.regex(cutProblems[0] ?? '', /says its last page is \d+ but the file holds \d+ pages; reading those/);
  t.regex(cutProblems[1] ?? '', /^overflow chain at page \d+: (leaves the file|claims)/);

  // Encrypted, bad page size, not BDB at all: nothing, one problem each.
  const encrypted = Buffer.from(good);
  encrypted[24] = 1;
  t.deepEqual(collect(encrypted, readBdbHashValues), { count: 0, problems: ['Berkeley DB database is encrypted'] });
  const badSize = Buffer.from(good);
  badSize.writeUInt32LE(1000, 20);
  t.deepEqual(collect(badSize, readBdbHashValues), { count: 0, problems: ['Berkeley DB page size 1000 is not a power of two between 512 and 65536'] });
  t.deepEqual(collect(Buffer.alloc(4096), readBdbHashValues), { count: 0, problems: ['not a Berkeley DB hash database'] });

  // A hash page claiming more entries than fit, and an item offset outside its page.
  const liar = Buffer.from(good);
  liar.writeUInt16LE(60000, 1024 + 20);
  t.deepEqual(collect(liar, readBdbHashValues), { count: 0, problems: ['hash page 1 claims 60000 entries, more than fit'] });

  // Two items pointing at the same chain: followed once.
  const twice = buildBdbHash(blobs.slice(0, 2), { pageSize: 1024 });
  const page = 1024;
  // Slots: 0/1 rpm's key-0 record, 2/3 the first value, 4/5 the second.
  const firstData = twice.readUInt16LE(page + 26 + 3 * 2);
  const secondData = twice.readUInt16LE(page + 26 + 5 * 2);
  twice.writeUInt32LE(twice.readUInt32LE(page + firstData + 4), page + secondData + 4);
  const twiceResult = collect(twice, readBdbHashValues);
  t.is(twiceResult.count, 1);
  const shared = twice.readUInt32LE(page + firstData + 4);
  t.deepEqual(twiceResult.problems, [`overflow chain at page ${shared}: page ${shared} was already read for another item`]);

  // Through the scanner, a corrupt database still gives its readable packages, with notes.
  const result = await scan({ 'var/lib/rpm/Packages': looped });
  t.is(result.packages?.length, 5);
  t.deepEqual(result.notes, ['var/lib/rpm/Packages: overflow chain at page 2: loops back to page 2']);
});

function collect(db: Uint8Array, reader: Reader): { count: number; problems: string[] } {
  const problems: string[] = [];
  let count = 0;
  for (const _ of reader(db, problems)) count++;
  return { count, problems };
}

withFixtures(`corrupt NDB: bad slots and blobs are skipped, the rest read${suffix}`, (t) => {
  const good = readFileSync(rpm('ndb', 'sle15-bci.Packages.db'));
  t.is(collect(good, readNdbBlobs).count, 35);

  const badSlot = Buffer.from(good);
  badSlot.writeUInt32LE(0xdeadbeef, 32 + 16 * 3);
  t.deepEqual(collect(badSlot, readNdbBlobs), { count: 34, problems: ['NDB slot 5 has a bad magic'] });

  // A blob whose length runs past its blocks.
  const slot = 32 + 16 * 0;
  const blobAt = good.readUInt32LE(slot + 8) * 16;
  const pkgIndex = good.readUInt32LE(slot + 4);
  const long = Buffer.from(good);
  long.writeUInt32LE(0x7fffffff, blobAt + 12);
  t.deepEqual(collect(long, readNdbBlobs), { count: 34, problems: [`NDB blob of package ${pkgIndex} is longer than its blocks`] });

  const offFile = Buffer.from(good);
  offFile.writeUInt32LE(0x0fffffff, slot + 8);
  t.deepEqual(collect(offFile, readNdbBlobs), { count: 34, problems: [`NDB slot 2 (package ${pkgIndex}) points outside the file`] });

  const cut = good.subarray(0, 4096 + 100);
  const cutResult = collect(cut, readNdbBlobs);
  t.is(cutResult.count, 0);
  t.true(cutResult.problems.length > 0);
  t.deepEqual(collect(Buffer.alloc(64), readNdbBlobs), { count: 0, problems: ['not an NDB package database'] });
  const manyPages = Buffer.from(good);
  manyPages.writeUInt32LE(1 << 30, 12);
  t.is(collect(manyPages, readNdbBlobs).problems[0], `NDB claims ${1 << 30} slot pages but the file holds ${Math.floor(good.length / 4096)}; reading those`);
});

withFixtures(`SQLite: no Packages table, garbage after the magic, and a WAL that must be replayed${suffix}`, async (t) => {
  t.deepEqual(collect(readFileSync(rpm('sqlite', 'claircore-no_packages.sqlite')), (db, p) => readSqliteBlobs(db, p)), {
    count: 0,
    problems: ['SQLite rpm database has no Packages table'],
  });
  const garbage = Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(4096, 0x5a)]);
  const garbageResult = collect(garbage, (db, p) => readSqliteBlobs(db, p));
  t.is(garbageResult.count, 0);
  t.regex(garbageResult.problems[0] ?? '', /^SQLite rpm database could not be read: /);

  // A database whose packages are still only in its write-ahead log.
  const blobs = [...readSqliteBlobs(readFixtureBytes(rpm('sqlite', 'cbl-mariner-2.0.rpmdb.sqlite.gz')), [])].slice(0, 3);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lookout-wal-test-'));
  try {
    const file = path.join(dir, 'rpmdb.sqlite');
    const writer = new DatabaseSync(file);
    writer.exec('PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;');
    writer.exec("CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)");
    const insert = writer.prepare('INSERT INTO Packages (blob) VALUES (?)');
    for (const blob of blobs) insert.run(blob);
    const main = readFileSync(file);
    const wal = readFileSync(`${file}-wal`);
    writer.close();
    t.true(wal.length > 0);
    const mainOnly = await scan({ 'var/lib/rpm/rpmdb.sqlite': main });
    t.deepEqual(mainOnly.packages, []);
    t.deepEqual(mainOnly.notes, ['var/lib/rpm/rpmdb.sqlite: SQLite rpm database has no Packages table']);
    const withWal = await scan({ 'var/lib/rpm/rpmdb.sqlite': main, 'var/lib/rpm/rpmdb.sqlite-wal': wal });
    t.deepEqual(withWal.packages?.map((p) => p.name), ['mariner-release', 'filesystem', 'glibc']);
    t.deepEqual(withWal.notes, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The temporary copies are gone.
  t.false(readdirSync(os.tmpdir()).some((n) => n.startsWith('lookout-rpmdb-')));
});

test('hostile header blobs: impossible sizes throw, bad entries are skipped', (t) => {
  t.throws(() => readRpmHeader(Buffer.alloc(4)), { instanceOf: RpmHeaderError, message: 'header blob of 4 bytes is too short' });
  const huge = Buffer.alloc(8);
  huge.writeUInt32BE(0x7fffffff, 0);
  t.throws(() => readRpmHeader(huge), { instanceOf: RpmHeaderError, message: 'header has an impossible index count 2147483647' });
  const longer = Buffer.alloc(8);
  longer.writeUInt32BE(1, 0);
  longer.writeUInt32BE(100, 4);
  t.throws(() => readRpmHeader(longer), { instanceOf: RpmHeaderError, message: 'header needs 124 bytes but the blob has 8' });

  const blob = buildRpmHeader({
    [RPMTAG.NAME]: { type: 'string', value: 'victim' },
    [RPMTAG.VERSION]: { type: 'string', value: '1.0' },
    [RPMTAG.RELEASE]: { type: 'string', value: '1' },
    [RPMTAG.DIRNAMES]: { type: 'strings', value: ['/usr/bin/'] },
    [RPMTAG.BASENAMES]: { type: 'strings', value: ['a', 'b'] },
    [RPMTAG.DIRINDEXES]: { type: 'int32', value: [0, 7] },
  });
  const ok = readRpmHeader(blob);
  const bad = { count: 0 };
  t.deepEqual([...rpmFilePaths(ok, bad)], ['/usr/bin/a']);
  t.is(bad.count, 1);
  // Point the VERSION entry (index 2: region, NAME, VERSION, …) outside the data store and give BASENAMES a huge count.
  const broken = Buffer.from(blob);
  broken.writeInt32BE(1 << 30, 8 + 2 * 16 + 8);
  const basenamesAt = 8 + 5 * 16;
  t.is(broken.readInt32BE(basenamesAt), RPMTAG.BASENAMES);
  broken.writeUInt32BE(0xffffffff, basenamesAt + 12);
  const header = readRpmHeader(broken);
  t.is(header.problems.length, 2);
  t.like(rpmPackageInfo(header), { name: 'victim', version: '' });
});

test('entries that all point at one long string cost a bounded scan', (t) => {
  const il = 200_000;
  const dl = 1024 * 1024;
  const blob = Buffer.alloc(8 + il * 16 + dl, 0x41);
  blob.writeUInt32BE(il, 0);
  blob.writeUInt32BE(dl, 4);
  for (let i = 0; i < il; i++) {
    blob.writeInt32BE(1000 + i, 8 + i * 16);
    blob.writeUInt32BE(6, 12 + i * 16);
    blob.writeInt32BE(0, 16 + i * 16);
    blob.writeUInt32BE(1, 20 + i * 16);
  }
  blob[blob.length - 1] = 0;
  const start = performance.now();
  const header = readRpmHeader(blob);
  t.true(performance.now() - start < 2000);
  t.true(header.entries.size < 10);
  t.is(header.problems.at(-1), `${il - header.entries.size - 5} more malformed header entries`);
});

test('the scanner never throws: unreadable headers, nameless headers, unknown files, several databases', async (t) => {
  const named = (name: string, version = '1.0') => buildRpmHeader({
    [RPMTAG.NAME]: { type: 'string', value: name },
    [RPMTAG.VERSION]: { type: 'string', value: version },
    [RPMTAG.RELEASE]: { type: 'string', value: '1.el9' },
    [RPMTAG.SOURCERPM]: { type: 'string', value: '(none)' },
  });
  const db = buildBdbHash([named('ok'), Buffer.from([0, 0, 0, 9, 0, 0, 0, 0, 1, 2, 3]), named('gpg-pubkey'), named('noversion', ''), named('other')]);
  const result = await scan({ 'var/lib/rpm/Packages': db });
  t.deepEqual(result.packages?.map((p) => `${p.name}=${p.version}`), ['ok=1.0-1.el9', 'other=1.0-1.el9']);
  t.is(result.packages?.[0]?.sourceName, undefined);
  t.deepEqual(result.notes, [
    'var/lib/rpm/Packages: 1 package header could not be decoded (header needs 152 bytes but the blob has 11)',
    'var/lib/rpm/Packages: 1 package header without a name or version skipped',
  ]);

  // An SQLite database made here (serialized from memory) beside the Berkeley DB one.
  const memory = new DatabaseSync(':memory:');
  memory.exec("CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)");
  for (const name of ['from-sqlite-1', 'from-sqlite-2']) memory.prepare('INSERT INTO Packages (blob) VALUES (?)').run(named(name));
  const sqlite = Buffer.from(memory.serialize());
  memory.close();
  const both = await scan({ 'var/lib/rpm/Packages': db, 'var/lib/rpm/rpmdb.sqlite': sqlite, 'var/lib/rpm/Packages.db': Buffer.from('not a database at all') });
  t.deepEqual(both.packages?.map((p) => p.name), ['from-sqlite-1', 'from-sqlite-2']);
  t.deepEqual(both.notes, [
    'var/lib/rpm/Packages.db is not an rpm database in a known format',
    'var/lib/rpm/Packages ignored: var/lib/rpm/rpmdb.sqlite is the database rpm uses',
  ]);
  t.deepEqual(await scan({}), { packages: [], notes: [] });
});

test('source RPM names, EVR strings and purls', (t) => {
  t.deepEqual(splitSourceRpm('util-linux-2.32.1-42.el8_8.src.rpm'), { name: 'util-linux', version: '2.32.1', release: '42.el8_8' });
  t.deepEqual(splitSourceRpm('kernel-5.14.0-362.8.1.el9_3.nosrc.rpm'), { name: 'kernel', version: '5.14.0', release: '362.8.1.el9_3' });
  t.is(splitSourceRpm('(none)'), null);
  t.is(splitSourceRpm('nodash.src.rpm'), null);
  t.is(rpmEvr(null, '1.0', '1'), '1.0-1');
  t.is(rpmEvr(0, '1.0', '1'), '1.0-1');
  t.is(rpmEvr(32, '9.9.4', '73.el7_6'), '32:9.9.4-73.el7_6');
  t.is(rpmPurl({ name: 'bind-license', version: '32:9.9.4-73.el7_6', arch: 'noarch' }, { did: 'centos', versionId: '7' }), 'pkg:rpm/centos/bind-license@9.9.4-73.el7_6?arch=noarch&epoch=32&distro=centos-7');
  t.is(rpmPurl({ name: 'glibc', version: '2.34-2.cm2' }, { did: 'mariner' }), 'pkg:rpm/mariner/glibc@2.34-2.cm2');
});

withFixtures(`Red Hat content manifests give the content sets of the layer's RPMs${suffix}`, (t) => {
  const parsed = parseContentManifest(readFileSync(rpm('redhat-content-manifests', 'ubi8-minimal-container-8.5-218.json')));
  t.deepEqual(parsed, { manifest: { contentSets: ['rhel-8-for-x86_64-baseos-rpms', 'rhel-8-for-x86_64-appstream-rpms'], imageLayerIndex: 1 } });
  t.deepEqual(parseContentManifest(Buffer.from('{"content_sets": ["a", "a", 3, ""], "metadata": null}')), { manifest: { contentSets: ['a'], imageLayerIndex: null } });
  t.deepEqual(parseContentManifest(Buffer.from('[]')), { error: 'content manifest is not a JSON object' });
  t.deepEqual(parseContentManifest(Buffer.from('{}')), { error: 'content manifest has no content_sets array' });
  t.regex((parseContentManifest(Buffer.from('{not json')) as { error: string }).error, /^content manifest is not JSON: /);
});
