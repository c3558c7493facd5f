import { headerBinary, headerInts, headerString, headerStrings } from './read-rpm-header.ts';
import type { RpmHeader } from './read-rpm-header.ts';

/** rpm tag numbers used here (rpmtag.h). */
export const RPMTAG = {
  SIGMD5: 261,
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  SUMMARY: 1004,
  SIZE: 1009,
  VENDOR: 1011,
  LICENSE: 1014,
  ARCH: 1022,
  OLDFILENAMES: 1027,
  SOURCERPM: 1044,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  LONGSIZE: 5009,
  MODULARITYLABEL: 5096,
} as const;

/** What `rpm -q --queryformat` would say of one installed package. */
export interface RpmPackageInfo {
  name: string;
  /** Null when the package has no epoch (rpm prints `(none)`). */
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  /** `glibc-2.34-2.cm2.src.rpm`; empty when absent or `(none)`. */
  sourceRpm: string;
  /** Installed size in bytes (SIZE, or LONGSIZE when SIZE is absent). */
  size: number;
  license: string;
  vendor: string;
  modularityLabel: string;
  summary: string;
  /** Lower-case hex of the header+payload MD5, empty when absent. */
  sigmd5: string;
}

/** `(none)` is how rpm writes an absent string; treat both the same. */
function text(header: RpmHeader, tag: number): string {
  const value = headerString(header, tag) ?? '';
  return value === '(none)' ? '' : value;
}

/** The package fields of a decoded header; missing tags give empty strings, a null epoch and size 0. */
export function rpmPackageInfo(header: RpmHeader): RpmPackageInfo {
  const epoch = headerInts(header, RPMTAG.EPOCH)[0];
  const size = headerInts(header, RPMTAG.SIZE)[0] ?? headerInts(header, RPMTAG.LONGSIZE)[0] ?? 0;
  const md5 = headerBinary(header, RPMTAG.SIGMD5);
  return {
    name: text(header, RPMTAG.NAME),
    epoch: epoch ?? null,
    version: text(header, RPMTAG.VERSION),
    release: text(header, RPMTAG.RELEASE),
    arch: text(header, RPMTAG.ARCH),
    sourceRpm: text(header, RPMTAG.SOURCERPM),
    size,
    license: text(header, RPMTAG.LICENSE),
    vendor: text(header, RPMTAG.VENDOR),
    modularityLabel: text(header, RPMTAG.MODULARITYLABEL),
    summary: text(header, RPMTAG.SUMMARY),
    sigmd5: md5 ? Buffer.from(md5.buffer, md5.byteOffset, md5.byteLength).toString('hex') : '',
  };
}

/**
 * The installed file paths of a header, absolute as rpm writes them: `DIRNAMES[DIRINDEXES[i]] +
 * BASENAMES[i]`, or `OLDFILENAMES` for headers older than rpm 4. Lazily generated so a package
 * with 100,000 files is never held as one array; an index that points outside DIRNAMES is
 * skipped (and counted in `bad`).
 */
export function* rpmFilePaths(header: RpmHeader, bad: { count: number } = { count: 0 }): Generator<string> {
  const basenames = headerStrings(header, RPMTAG.BASENAMES);
  if (basenames.length === 0) {
    yield* headerStrings(header, RPMTAG.OLDFILENAMES);
    return;
  }
  const dirnames = headerStrings(header, RPMTAG.DIRNAMES);
  const indexes = headerInts(header, RPMTAG.DIRINDEXES);
  for (let i = 0; i < basenames.length; i++) {
    const dir = dirnames[indexes[i] ?? -1];
    if (dir === undefined) {
      bad.count++;
      continue;
    }
    yield dir + (basenames[i] as string);
  }
}

/**
 * A source RPM file name split into name, version and release:
 * `util-linux-2.32.1-42.el8_8.src.rpm` → `util-linux`, `2.32.1`, `42.el8_8`. Null when the name
 * does not have that shape.
 */
export function splitSourceRpm(sourceRpm: string): { name: string; version: string; release: string } | null {
  const base = sourceRpm.replace(/\.(?:no)?src\.rpm$/, '');
  if (base === sourceRpm) return null;
  const r = base.lastIndexOf('-');
  const v = r > 0 ? base.lastIndexOf('-', r - 1) : -1;
  if (v <= 0) return null;
  return { name: base.slice(0, v), version: base.slice(v + 1, r), release: base.slice(r + 1) };
}

/**
 * The version string Lookout matches rpm packages with: `[epoch:]version-release`, the epoch
 * written only when it is non-zero (rpm compares an absent epoch as 0).
 */
export function rpmEvr(epoch: number | null, version: string, release: string): string {
  const vr = release === '' ? version : `${version}-${release}`;
  return epoch !== null && epoch !== 0 ? `${epoch}:${vr}` : vr;
}
