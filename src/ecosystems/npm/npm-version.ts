import { Range, SemVer, type RangeOptions } from 'semver';
import { memoizeParse } from '../memoize-parse.ts';
import { InvalidRangeError, MAX_RANGE_LENGTH } from '../affected-range.ts';
import { InvalidVersionError, type VersionScheme } from '../version-scheme.ts';

/**
 * Parses an npm version with node-semver: strictly first, then loosely (`=1.2.3`, `1.2.3beta`,
 * `01.2.3`), as npm reads versions in package.json files. Null when neither accepts it
 * (node-semver also refuses strings over 256 characters).
 */
export function parseNpmVersion(version: string, options: { loose?: boolean } = {}): SemVer | null {
  return options.loose ? parseLoose(version) : parseStrictThenLoose(version);
}

const parseLoose = memoizeParse((version: string): SemVer | null => {
  try {
    return new SemVer(version, { loose: true });
  } catch {
    return null;
  }
});

const parseStrictThenLoose = memoizeParse((version: string): SemVer | null => {
  try {
    return new SemVer(version);
  } catch {
    return parseLoose(version);
  }
});

function parseOrThrow(version: string): SemVer {
  const parsed = parseNpmVersion(version);
  if (parsed === null) throw new InvalidVersionError('npm', version, 'not a semver version');
  return parsed;
}

/** The options `npmVersion.satisfies` uses: pre-releases are inside ranges (`<1.1.0` covers `1.1.0-rc.1`). */
export const NPM_ADVISORY_RANGE_OPTIONS: RangeOptions = Object.freeze({ includePrerelease: true });

/**
 * node-semver's `satisfies(version, range, options)`, except that an invalid version or range
 * throws (`InvalidVersionError`, `InvalidRangeError`) instead of answering false. Ranges are read
 * as `options` say (never loosely unless `options.loose`: loose range parsing silently drops
 * comparators it cannot read); GitHub's comma form (`>= 4.0.0, < 4.17.21`) is read as the
 * space-joined node-semver range it means.
 */
export function npmSatisfies(version: string, range: string, options: RangeOptions = NPM_ADVISORY_RANGE_OPTIONS): boolean {
  if (range.length > MAX_RANGE_LENGTH) throw new InvalidRangeError('npm', range.slice(0, 64), 'range too long');
  const v = parseNpmVersion(version, { loose: options.loose === true });
  if (v === null) throw new InvalidVersionError('npm', version, 'not a semver version');
  let parsed: Range;
  try {
    parsed = new Range(range.replaceAll(',', ' '), options);
  } catch (err) {
    throw new InvalidRangeError('npm', range, err instanceof Error ? err.message : undefined);
  }
  return parsed.test(v);
}

/**
 * npm package versions: node-semver's ordering (SemVer 2.0: build metadata ignored, pre-releases
 * before their release, numeric identifiers below alphanumeric ones), reading versions strictly
 * and then loosely. Ranges: node-semver ranges (`^1.2.3`, `>=1.0.0 <1.4.2 || 2.x`) with
 * pre-releases included (see {@link NPM_ADVISORY_RANGE_OPTIONS}).
 */
export const npmVersion: VersionScheme = {
  name: 'npm',
  compare(a, b) {
    return parseOrThrow(a).compare(parseOrThrow(b));
  },
  isValid(version) {
    return parseNpmVersion(version) !== null;
  },
  satisfies(version, range) {
    return npmSatisfies(version, range);
  },
};
