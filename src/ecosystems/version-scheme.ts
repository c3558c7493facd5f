/** The version schemes Lookout compares (the `ECOSYSTEM` argument of `lookout vercmp`). */
export const VERSION_SCHEMES = ['dpkg', 'rpm', 'apk', 'pypi', 'npm', 'go', 'maven', 'gem'] as const;
export type VersionSchemeName = (typeof VERSION_SCHEMES)[number];

/** Thrown by a comparator for a string that is not a version in its scheme. */
export class InvalidVersionError extends Error {
  constructor(scheme: string, version: string, reason?: string) {
    super(`invalid ${scheme} version ${JSON.stringify(version)}${reason ? `: ${reason}` : ''}`);
    this.name = 'InvalidVersionError';
  }
}

/**
 * One ecosystem's version ordering, exactly as its native tool orders versions (dpkg
 * --compare-versions, rpmvercmp, apk-tools, packaging, node-semver, Go's x/mod/semver, Maven's
 * ComparableVersion, Gem::Version). Comparison must be fast: `lookout vercmp --batch` runs upstream
 * test suites of 100,000 pairs through it.
 */
export interface VersionScheme {
  readonly name: VersionSchemeName;
  /** -1, 0 or 1. Throws {@link InvalidVersionError} when either side is not valid in this scheme. */
  compare(a: string, b: string): -1 | 0 | 1;
  isValid(version: string): boolean;
  /**
   * Whether `version` satisfies a range written the way this ecosystem's advisories write it
   * (npm/node-semver ranges, PEP 440 specifiers, Maven `[1.0,2.0)`, RubyGems `~> 1.2, >= 1.2.3`,
   * `< 1.2.3` forms for the distro schemes). Throws on an invalid range.
   */
  satisfies(version: string, range: string): boolean;
}
