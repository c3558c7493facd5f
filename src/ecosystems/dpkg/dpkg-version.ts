import { satisfiesComparators } from '../affected-range.ts';
import { InvalidVersionError, type VersionScheme } from '../version-scheme.ts';
import { memoizeParse } from '../memoize-parse.ts';

/** The longest version string accepted (dpkg itself has no limit; real versions are far shorter). */
export const MAX_DPKG_VERSION_LENGTH = 1024;

/** A Debian version split as dpkg's `parseversion` splits it. */
export interface DpkgVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

const EPOCH_MAX = 2147483647;

/**
 * Parses `[epoch:]upstream[-revision]` as dpkg does (lib/dpkg/parsehelp.c), rejecting what dpkg
 * rejects or warns about: empty parts, a non-numeric or too big epoch, an upstream version not
 * starting with a digit, characters outside `[A-Za-z0-9.+~-:]` (upstream) or `[A-Za-z0-9.+~]`
 * (revision), and embedded spaces. Leading and trailing spaces are ignored, as dpkg ignores them.
 * Returns a reason string instead of a version when the string is invalid.
 */
export const parseDpkgVersion: (input: string) => DpkgVersion | string = memoizeParse(parseUncached);

function parseUncached(input: string): DpkgVersion | string {
  if (input.length > MAX_DPKG_VERSION_LENGTH) return 'version string too long';
  const s = input.trim();
  if (s === '') return 'version string is empty';
  let epoch = 0;
  let rest = s;
  const colon = s.indexOf(':');
  if (colon !== -1) {
    const digits = s.slice(0, colon);
    if (digits === '') return 'epoch in version is empty';
    if (!/^[0-9]+$/.test(digits)) return 'epoch in version is not number';
    epoch = Number(digits);
    if (epoch > EPOCH_MAX) return 'epoch in version is too big';
    rest = s.slice(colon + 1);
    if (rest === '') return 'nothing after colon in version number';
  }
  let upstream = rest;
  let revision = '';
  const hyphen = rest.lastIndexOf('-');
  if (hyphen !== -1) {
    upstream = rest.slice(0, hyphen);
    revision = rest.slice(hyphen + 1);
    if (revision === '') return 'revision number is empty';
  }
  if (upstream === '') return 'version number is empty';
  if (!isDigit(upstream.charCodeAt(0))) return 'version number does not start with digit';
  for (let i = 0; i < upstream.length; i++) {
    const c = upstream.charCodeAt(i);
    if (!isAlnum(c) && c !== 0x2e /* . */ && c !== 0x2d /* - */ && c !== 0x2b /* + */ && c !== 0x7e /* ~ */ && c !== 0x3a /* : */) {
      return 'invalid character in version number';
    }
  }
  for (let i = 0; i < revision.length; i++) {
    const c = revision.charCodeAt(i);
    if (!isAlnum(c) && c !== 0x2e && c !== 0x2b && c !== 0x7e) return 'invalid character in revision number';
  }
  return { epoch, upstream, revision };
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isAlnum(c: number): boolean {
  return isDigit(c) || isAlpha(c);
}

/** dpkg's `order()`: `~` below the end of the string, letters below other symbols, digits 0. */
function order(c: number): number {
  if (Number.isNaN(c)) return 0; // end of string
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 0x7e) return -1;
  return c + 256;
}

/** dpkg's `verrevcmp` on one upstream version or revision: alternate non-digit and digit runs. */
export function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  const al = a.length;
  const bl = b.length;
  while (i < al || j < bl) {
    let firstDiff = 0;
    while ((i < al && !isDigit(a.charCodeAt(i))) || (j < bl && !isDigit(b.charCodeAt(j)))) {
      const ac = order(a.charCodeAt(i));
      const bc = order(b.charCodeAt(j));
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a.charCodeAt(i) === 0x30) i++;
    while (b.charCodeAt(j) === 0x30) j++;
    while (isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(j))) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a.charCodeAt(i))) return 1;
    if (isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

function parseOrThrow(version: string): DpkgVersion {
  const parsed = parseDpkgVersion(version);
  if (typeof parsed === 'string') throw new InvalidVersionError('dpkg', version, parsed);
  return parsed;
}

/** Compares two parsed Debian versions: epoch, then upstream, then revision (a missing revision is `0`). */
export function compareDpkgVersions(a: DpkgVersion, b: DpkgVersion): -1 | 0 | 1 {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  const r = verrevcmp(a.upstream, b.upstream) || verrevcmp(a.revision, b.revision);
  return r < 0 ? -1 : r > 0 ? 1 : 0;
}

/**
 * Debian package versions, ordered exactly as `dpkg --compare-versions` orders them: epoch, then
 * upstream version and revision with `~` before everything (even the end), letters before other
 * symbols, digit runs compared as numbers. Versions dpkg warns about are invalid here.
 * Ranges: comparators (`>= 1.0-1, << 2.0`, see `satisfiesComparators`).
 */
export const dpkgVersion: VersionScheme = {
  name: 'dpkg',
  compare(a, b) {
    return compareDpkgVersions(parseOrThrow(a), parseOrThrow(b));
  },
  isValid(version) {
    return typeof parseDpkgVersion(version) !== 'string';
  },
  satisfies(version, range) {
    return satisfiesComparators(dpkgVersion, version, range);
  },
};
