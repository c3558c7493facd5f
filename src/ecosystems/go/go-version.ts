import { satisfiesComparators } from '../affected-range.ts';
import { InvalidVersionError, type VersionScheme } from '../version-scheme.ts';
import { memoizeParse } from '../memoize-parse.ts';

/** The longest version string accepted (module versions are short; pseudo-versions ~40 characters). */
export const MAX_GO_VERSION_LENGTH = 256;

/** A Go module version parsed as golang.org/x/mod/semver parses it. */
export interface GoVersion {
  major: string;
  minor: string;
  patch: string;
  /** Dot-separated identifiers after `-`, empty when none. */
  prerelease: string[];
  /** After `+` (`incompatible`, build metadata): kept, never compared. */
  build: string;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isIdentChar(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d;
}

/** x/mod/semver's number: `0` or digits without a leading zero. */
function isNumber(s: string): boolean {
  if (s === '') return false;
  for (let i = 0; i < s.length; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return s === '0' || s.charCodeAt(0) !== 0x30;
}

function isIdentifier(s: string): boolean {
  if (s === '') return false;
  for (let i = 0; i < s.length; i++) if (!isIdentChar(s.charCodeAt(i))) return false;
  return true;
}

function isAllDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/**
 * Parses `vMAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]` with x/mod/semver's rules: no leading
 * zeros, `v1` = `v1.0.0` and `v1.2` = `v1.2.0` (shorthands take no pre-release or build),
 * numeric pre-release identifiers without leading zeros. The `v` may be left out, as OSV's Go
 * ecosystem writes versions (`1.2.3`). Null when invalid.
 */
export const parseGoVersion: (input: string) => GoVersion | null = memoizeParse(parseUncached);

function parseUncached(input: string): GoVersion | null {
  if (input.length === 0 || input.length > MAX_GO_VERSION_LENGTH) return null;
  let s = input.charCodeAt(0) === 0x76 /* v */ ? input.slice(1) : input;
  let build = '';
  const plus = s.indexOf('+');
  if (plus !== -1) {
    build = s.slice(plus + 1);
    s = s.slice(0, plus);
    if (!build.split('.').every(isIdentifier)) return null;
  }
  let prerelease: string[] = [];
  const dash = s.indexOf('-');
  if (dash !== -1) {
    prerelease = s.slice(dash + 1).split('.');
    s = s.slice(0, dash);
    for (const id of prerelease) {
      if (!isIdentifier(id)) return null;
      if (isAllDigits(id) && !isNumber(id)) return null;
    }
  }
  const parts = s.split('.');
  if (parts.length > 3 || !parts.every(isNumber)) return null;
  // Shorthands (v1, v1.2) take neither a pre-release nor build metadata.
  if (parts.length < 3 && (dash !== -1 || plus !== -1)) return null;
  return { major: parts[0]!, minor: parts[1] ?? '0', patch: parts[2] ?? '0', prerelease, build };
}

function compareInt(a: string, b: string): -1 | 0 | 1 {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparePrerelease(a: readonly string[], b: readonly string[]): -1 | 0 | 1 {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? 1 : -1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    const xn = isAllDigits(x);
    const yn = isAllDigits(y);
    if (xn !== yn) return xn ? -1 : 1;
    if (xn) return compareInt(x, y);
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** x/mod/semver's `Compare` on two parsed versions (build metadata, hence `+incompatible`, ignored). */
export function compareGoVersions(a: GoVersion, b: GoVersion): -1 | 0 | 1 {
  return compareInt(a.major, b.major) || compareInt(a.minor, b.minor) || compareInt(a.patch, b.patch) || comparePrerelease(a.prerelease, b.prerelease);
}

// x/mod/module's pseudoVersionRE.
const PSEUDO_VERSION = /^v[0-9]+\.(?:0\.0-|\d+\.\d+-(?:[^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/**
 * Whether a version is a Go pseudo-version (`v0.0.0-20191109021931-daa7c04131f5`,
 * `v1.2.4-0.20191109021931-daa7c04131f5`, `v1.2.3-pre.0.20191109021931-daa7c04131f5`), as
 * x/mod/module's `IsPseudoVersion` decides. Pseudo-versions order like any other pre-release.
 */
export function isGoPseudoVersion(version: string): boolean {
  const v = version.startsWith('v') ? version : `v${version}`;
  return v.split('-').length >= 3 && parseGoVersion(v) !== null && PSEUDO_VERSION.test(v);
}

function parseOrThrow(version: string): GoVersion {
  const parsed = parseGoVersion(version);
  if (parsed === null) throw new InvalidVersionError('go', version, 'not a Go module version (semver)');
  return parsed;
}

/**
 * Go module versions, ordered as golang.org/x/mod/semver orders them: semver with a `v` prefix
 * (optional here), `v1` = `v1.0.0`, pre-releases (pseudo-versions included) before their
 * release, build metadata such as `+incompatible` ignored. Ranges: comparators
 * (`>= v1.2.0, < v1.4.1`, see `satisfiesComparators`).
 */
export const goVersion: VersionScheme = {
  name: 'go',
  compare(a, b) {
    return compareGoVersions(parseOrThrow(a), parseOrThrow(b));
  },
  isValid(version) {
    return parseGoVersion(version) !== null;
  },
  satisfies(version, range) {
    return satisfiesComparators(goVersion, version, range);
  },
};
