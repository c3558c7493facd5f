import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Bench, BenchContext } from './figure.ts';
import type { LayerFile, LayerFiles } from '../src/ecosystems/scanner.ts';
import { readRpmHeader } from '../src/ecosystems/rpm/read-rpm-header.ts';
import { readSqliteBlobs } from '../src/ecosystems/rpm/read-sqlite-rpmdb.ts';
import { rpmFilePaths, rpmPackageInfo } from '../src/ecosystems/rpm/rpm-package-info.ts';
import { scanRpm } from '../src/ecosystems/rpm/rpm-scanner.ts';
import { FIXTURES } from '../test/helpers/fixtures.ts';
import { buildBdbHash } from '../test/ecosystems/os/rpm-fixtures.ts';

/** Median wall time in milliseconds of `runs` calls of `fn` (after one warm-up call). */
function medianMs(runs: number, fn: () => void): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

function layer(file: string, data: Buffer): LayerFiles {
  const entry: LayerFile = { path: file, size: data.length, mode: 0o100644, data };
  return { files: new Map([[file, entry]]), symlinks: new Map() };
}

/**
 * Time to read an rpm database of each format through the rpm scanner (database pages, header
 * decoding, file-list filtering), in microseconds per package, against decoding the same headers
 * from memory. SQLite: the CBL-Mariner 2.0 database (129 packages); NDB: the SLE 15 BCI database
 * (35); Berkeley DB: the same 129 Mariner headers written as a hash database (the real BDB samples
 * hold one package each), and 5,160 of them to show how it scales.
 */
const rpmdbBench: Bench = async (ctx: BenchContext) => {
  const sqlitePath = path.join(FIXTURES, 'pkgdb', 'rpm', 'sqlite', 'cbl-mariner-2.0.rpmdb.sqlite.gz');
  const ndbPath = path.join(FIXTURES, 'pkgdb', 'rpm', 'ndb', 'sle15-bci.Packages.db');
  if (!existsSync(sqlitePath) || !existsSync(ndbPath)) {
    ctx.log('rpmdb bench skipped: the shared fixtures folder is absent');
    return;
  }
  const sqlite = gunzipSync(readFileSync(sqlitePath));
  const ndb = readFileSync(ndbPath);
  const blobs = [...readSqliteBlobs(sqlite, [])].map((b) => Buffer.from(b));
  const bdb = buildBdbHash(blobs);
  const bdbLarge = buildBdbHash(Array.from({ length: 40 }, () => blobs).flat());

  const decode = medianMs(20, () => {
    for (const blob of blobs) {
      const header = readRpmHeader(blob);
      rpmPackageInfo(header);
      for (const _ of rpmFilePaths(header)) { /* walk the file list as the scanner does */ }
    }
  });
  const perPackage = (ms: number, packages: number) => Math.round((ms * 1000) / packages * 10) / 10;
  const reference = { name: 'rpmdb.header_decode', value: perPackage(decode, blobs.length), unit: 'µs/package' };
  ctx.emit({ ...reference, reference: null, note: `decoding ${blobs.length} header blobs already in memory (baseline)` });

  const cases: Array<[string, string, Buffer, number]> = [
    ['rpmdb.sqlite_scan', 'var/lib/rpm/rpmdb.sqlite', sqlite, 129],
    ['rpmdb.ndb_scan', 'usr/lib/sysimage/rpm/Packages.db', ndb, 35],
    ['rpmdb.bdb_scan', 'var/lib/rpm/Packages', bdb, 129],
    ['rpmdb.bdb_scan_5k', 'var/lib/rpm/Packages', bdbLarge, blobs.length * 40],
  ];
  for (const [name, file, data, packages] of cases) {
    const input = layer(file, data);
    const found = scanRpm(input).packages?.length ?? 0;
    if (found !== packages) throw new Error(`${name}: expected ${packages} packages, scanned ${found}`);
    const ms = medianMs(packages > 1000 ? 5 : 20, () => scanRpm(input));
    ctx.emit({
      name,
      value: perPackage(ms, packages),
      unit: 'µs/package',
      reference,
      note: `${packages} packages, ${(data.length / 1024 / 1024).toFixed(1)} MiB database, ${ms.toFixed(1)} ms per scan (median)`,
    });
  }
};

export default rpmdbBench;
