import { satisfiesComparators } from '../affected-range.ts';
import { InvalidVersionError, type VersionScheme } from '../version-scheme.ts';
import { memoizeParse } from '../memoize-parse.ts';

/** The longest EVR string accepted (rpm has no limit; real ones are far shorter). */
export const MAX_RPM_VERSION_LENGTH = 1024;

/** An `[epoch:]version[-release]` string split as rpm's `parseEVR` splits it. */
export interface RpmEvr {
  /** Digits, or null when absent (`(none)` or no `N:` prefix); compared as `0`. */
  epoch: string | null;
  version: string;
  /** Null when the string has no `-`: then the release is not compared (rpm's `rpmverCmp`). */
  release: string | null;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/**
 * Splits an EVR as rpm does: leading digits followed by `:` are the epoch (`(none):` as `rpm -q`
 * prints a missing one, and an empty epoch, mean none), the text after the last `-` is the
 * release. Rejects empty strings, an empty version, whitespace and control characters. Returns a
 * reason string when invalid.
 */
export const parseRpmEvr: (input: string) => RpmEvr | string = memoizeParse(parseUncached);

function parseUncached(input: string): RpmEvr | string {
  if (input.length > MAX_RPM_VERSION_LENGTH) return 'version string too long';
  if (input === '') return 'version string is empty';
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || (c >= 0x80 && /\s/.test(input[i]!))) return 'whitespace or control character in version';
  }
  let epoch: string | null = null;
  let rest = input;
  if (rest.startsWith('(none):')) {
    rest = rest.slice('(none):'.length);
  } else {
    let i = 0;
    while (i < rest.length && isDigit(rest.charCodeAt(i))) i++;
    if (rest.charCodeAt(i) === 0x3a /* : */) {
      epoch = i === 0 ? null : rest.slice(0, i);
      rest = rest.slice(i + 1);
    }
  }
  const hyphen = rest.lastIndexOf('-');
  const version = hyphen === -1 ? rest : rest.slice(0, hyphen);
  const release = hyphen === -1 ? null : rest.slice(hyphen + 1);
  if (version === '') return 'version part is empty';
  return { epoch, version, release };
}

/**
 * rpm's `rpmvercmp` (rpmio/rpmvercmp.c), segment by segment: separators are skipped, `~` sorts
 * before everything (even the end), `^` sorts after the end but before anything else, numeric
 * segments beat alphabetic ones and compare as numbers, alphabetic segments compare as bytes.
 */
export function rpmvercmp(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  const al = a.length;
  const bl = b.length;
  let i = 0;
  let j = 0;
  while (i < al || j < bl) {
    while (i < al && isSeparator(a.charCodeAt(i))) i++;
    while (j < bl && isSeparator(b.charCodeAt(j))) j++;
    const ac = i < al ? a.charCodeAt(i) : 0;
    const bc = j < bl ? b.charCodeAt(j) : 0;
    if (ac === 0x7e || bc === 0x7e) {
      if (ac !== 0x7e) return 1;
      if (bc !== 0x7e) return -1;
      i++;
      j++;
      continue;
    }
    if (ac === 0x5e || bc === 0x5e) {
      if (ac === 0) return -1;
      if (bc === 0) return 1;
      if (ac !== 0x5e) return 1;
      if (bc !== 0x5e) return -1;
      i++;
      j++;
      continue;
    }
    if (ac === 0 || bc === 0) break;
    const isNum = isDigit(ac);
    let ie = i;
    let je = j;
    if (isNum) {
      while (ie < al && isDigit(a.charCodeAt(ie))) ie++;
      while (je < bl && isDigit(b.charCodeAt(je))) je++;
    } else {
      while (ie < al && isAlpha(a.charCodeAt(ie))) ie++;
      while (je < bl && isAlpha(b.charCodeAt(je))) je++;
    }
    if (je === j) return isNum ? 1 : -1;
    let sa = i;
    let sb = j;
    if (isNum) {
      while (sa < ie && a.charCodeAt(sa) === 0x30) sa++;
      while (sb < je && b.charCodeAt(sb) === 0x30) sb++;
      const la = ie - sa;
      const lb = je - sb;
      if (la !== lb) return la > lb ? 1 : -1;
    }
    const segA = a.slice(sa, ie);
    const segB = b.slice(sb, je);
    if (segA !== segB) return segA < segB ? -1 : 1;
    i = ie;
    j = je;
  }
  if (i >= al && j >= bl) return 0;
  return i >= al ? -1 : 1;
}

function isSeparator(c: number): boolean {
  return !isDigit(c) && !isAlpha(c) && c !== 0x7e && c !== 0x5e;
}

/** Compares two EVRs as rpm's `rpmverCmp`: epoch (missing = 0), version, then release when both have one. */
export function compareRpmEvr(a: RpmEvr, b: RpmEvr): -1 | 0 | 1 {
  const e = rpmvercmp(a.epoch ?? '0', b.epoch ?? '0');
  if (e !== 0) return e;
  const v = rpmvercmp(a.version, b.version);
  if (v !== 0 || a.release === null || b.release === null) return v;
  return rpmvercmp(a.release, b.release);
}

function parseOrThrow(version: string): RpmEvr {
  const parsed = parseRpmEvr(version);
  if (typeof parsed === 'string') throw new InvalidVersionError('rpm', version, parsed);
  return parsed;
}

/**
 * RPM `[epoch:]version[-release]` strings, ordered as rpm orders them (`rpmverCmp` over
 * `rpmvercmp`, rpm 4.16+): a missing or `(none)` epoch is 0, and when either side has no release
 * only epoch and version are compared (so `1.0` = `1.0-3.el9`, as in rpm dependency matching).
 * Ranges: comparators (`>= 1:2.3-1, < 1:2.4`, see `satisfiesComparators`).
 */
export const rpmVersion: VersionScheme = {
  name: 'rpm',
  compare(a, b) {
    return compareRpmEvr(parseOrThrow(a), parseOrThrow(b));
  },
  isValid(version) {
    return typeof parseRpmEvr(version) !== 'string';
  },
  satisfies(version, range) {
    return satisfiesComparators(rpmVersion, version, range);
  },
};
