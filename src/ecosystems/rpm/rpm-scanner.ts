import type { FoundPackage, LayerFiles, Scanner, ScanResult } from '../scanner.ts';
import { MAX_FILES_PER_DATABASE, selectPackageFiles } from '../os-release/keep-package-file.ts';
import { isBdbHash, readBdbHashValues } from './read-bdb-hash.ts';
import { isNdb, readNdbBlobs } from './read-ndb.ts';
import { readRpmHeader } from './read-rpm-header.ts';
import { isSqlite, readSqliteBlobs } from './read-sqlite-rpmdb.ts';
import { rpmEvr, rpmFilePaths, rpmPackageInfo, splitSourceRpm } from './rpm-package-info.ts';

/** Where rpm keeps its database: the classic place and the one of rpm ≥ 4.16 on Fedora/openSUSE. */
export const RPMDB_DIRS = ['var/lib/rpm', 'usr/lib/sysimage/rpm'] as const;
/** Database file names, in the order rpm ≥ 4.16 prefers them when several are present. */
export const RPMDB_FILES = ['rpmdb.sqlite', 'Packages.db', 'Packages'] as const;
/** The largest rpm database read (a big RHEL 7 image's Berkeley DB is around 100 MB). */
export const MAX_RPMDB_BYTES = 256 * 1024 * 1024;

type Format = 'sqlite' | 'ndb' | 'bdb';

/**
 * rpm packages of one layer, from whichever rpm database it carries — SQLite `rpmdb.sqlite`, NDB
 * `Packages.db` or Berkeley DB `Packages`, under `var/lib/rpm/` or `usr/lib/sysimage/rpm/` — all read
 * natively. The format is told by the file's content, not its name. When one directory holds
 * several databases (a conversion left the old one behind), the one rpm would use (sqlite, then
 * ndb, then bdb) is read and the others are noted.
 *
 * Each header becomes an `rpm` package: `version` is `[epoch:]version-release` (see `rpmEvr`);
 * `sourceName`/`sourceVersion` come from SOURCERPM (`util-linux-2.32.1-42.el8_8.src.rpm` →
 * `util-linux`, `2.32.1-42.el8_8`, with the binary's epoch, as the source RPM file name carries none);
 * `arch`, `vendor` (VENDOR), `module` (MODULARITYLABEL), and `files` filtered like every OS
 * package's (see `keepPackageFile`). `gpg-pubkey` entries (imported keys, not packages) are
 * skipped. A header that cannot be decoded, or that lacks a name or version, is skipped and
 * counted in a note; a corrupt database gives the packages that could be read and a note.
 */
export function scanRpm(layer: LayerFiles): ScanResult {
  const packages: FoundPackage[] = [];
  const notes: string[] = [];
  const budget = { remaining: MAX_FILES_PER_DATABASE };
  for (const dir of RPMDB_DIRS) {
    const present = RPMDB_FILES.map((name) => `${dir}/${name}`).filter((p) => layer.files.has(p));
    const databases: Array<{ path: string; format: Format }> = [];
    for (const file of present) {
      const data = layer.files.get(file)?.data as Buffer;
      const format: Format | null = isSqlite(data) ? 'sqlite' : isNdb(data) ? 'ndb' : isBdbHash(data) ? 'bdb' : null;
      if (format === null) notes.push(`${file} is not an rpm database in a known format`);
      else databases.push({ path: file, format });
    }
    const rank: Record<Format, number> = { sqlite: 0, ndb: 1, bdb: 2 };
    databases.sort((a, b) => rank[a.format] - rank[b.format]);
    const chosen = databases[0];
    if (!chosen) continue;
    for (const other of databases.slice(1)) notes.push(`${other.path} ignored: ${chosen.path} is the database rpm uses`);
    const read = readDatabase(layer, chosen.path, chosen.format, budget);
    packages.push(...read.packages);
    notes.push(...read.notes);
  }
  return { packages, notes };
}

function readDatabase(layer: LayerFiles, file: string, format: Format, budget: { remaining: number }): ScanResult & { packages: FoundPackage[]; notes: string[] } {
  const data = (layer.files.get(file) as { data: Buffer }).data;
  const problems: string[] = [];
  const notes: string[] = [];
  let blobs: Iterable<Uint8Array>;
  if (format === 'sqlite') blobs = readSqliteBlobs(data, problems, layer.files.get(`${file}-wal`)?.data);
  else if (format === 'ndb') blobs = readNdbBlobs(data, problems);
  else blobs = readBdbHashValues(data, problems);

  const packages: FoundPackage[] = [];
  let unreadable = 0;
  let firstError = '';
  let incomplete = 0;
  let truncated = 0;
  let badIndexes = 0;
  for (const blob of blobs) {
    let header;
    let info;
    try {
      header = readRpmHeader(blob);
      info = rpmPackageInfo(header);
    } catch (error) {
      // RpmHeaderError for impossible sizes; anything else would be a decoding bug, never a crash.
      if (unreadable++ === 0) firstError = (error as Error).message;
      continue;
    }
    if (info.name === 'gpg-pubkey') continue;
    if (info.name === '' || info.version === '') {
      incomplete++;
      continue;
    }
    const pkg: FoundPackage = { ecosystem: 'rpm', name: info.name, version: rpmEvr(info.epoch, info.version, info.release), path: file };
    const source = splitSourceRpm(info.sourceRpm);
    if (source) {
      pkg.sourceName = source.name;
      pkg.sourceVersion = rpmEvr(info.epoch, source.version, source.release);
    }
    if (info.arch) pkg.arch = info.arch;
    if (info.modularityLabel) pkg.module = info.modularityLabel;
    if (info.vendor) pkg.vendor = info.vendor;
    const bad = { count: 0 };
    const selected = selectPackageFiles(rpmFilePaths(header, bad), budget);
    if (selected.files.length > 0) pkg.files = selected.files;
    if (selected.truncated) truncated++;
    if (bad.count > 0 || header.problems.length > 0) badIndexes++;
    packages.push(pkg);
  }
  for (const problem of problems) notes.push(`${file}: ${problem}`);
  if (unreadable > 0) notes.push(`${file}: ${unreadable} package header${unreadable === 1 ? '' : 's'} could not be decoded (${firstError})`);
  if (incomplete > 0) notes.push(`${file}: ${incomplete} package header${incomplete === 1 ? '' : 's'} without a name or version skipped`);
  if (badIndexes > 0) notes.push(`${file}: ${badIndexes} package header${badIndexes === 1 ? ' has' : 's have'} malformed entries that were skipped`);
  if (truncated > 0) notes.push(`${file}: file lists of ${truncated} package${truncated === 1 ? '' : 's'} were cut at the limit of kept files`);
  return { packages, notes };
}

/** The rpm scanner (RHEL and rebuilds, Fedora, Amazon Linux, Oracle Linux, SUSE, CBL-Mariner, Photon). */
export const rpmScanner: Scanner = {
  name: 'rpm',
  version: '1',
  kind: 'package',
  files: {
    paths: RPMDB_DIRS.flatMap((dir) => [...RPMDB_FILES.map((f) => `${dir}/${f}`), `${dir}/rpmdb.sqlite-wal`]),
    maxBytes: MAX_RPMDB_BYTES,
  },
  scan: scanRpm,
};
