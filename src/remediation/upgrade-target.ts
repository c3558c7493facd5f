import { VERSION_SCHEME_BY_NAME } from '../ecosystems/version-schemes.ts';
import type { VersionScheme } from '../ecosystems/version-scheme.ts';

/** The version to upgrade a package to so that every given fix is in, and the fixes compared. */
export interface UpgradeTarget {
  /**
   * The highest of `fixedVersions` in the ecosystem's version scheme (each fix is the smallest
   * version fixing one finding, so the highest is the smallest fixing them all); null when the
   * ecosystem has no version scheme or a version is not valid in it and they differ.
   */
  version: string | null;
  /** The distinct fixed versions, lowest first when they could be compared. */
  fixedVersions: string[];
}

/**
 * The smallest version of a package that holds every one of `fixedVersions`, compared with the
 * version scheme of `ecosystem` (dpkg, rpm, apk, pypi, npm, go, maven, gem). Never throws: versions
 * a scheme cannot read give `version: null` unless all fixes are the same string.
 */
export function upgradeTarget(ecosystem: string, fixedVersions: readonly string[]): UpgradeTarget {
  const distinct = [...new Set(fixedVersions.map((v) => v.trim()).filter((v) => v !== ''))];
  if (distinct.length === 0) return { version: null, fixedVersions: [] };
  if (distinct.length === 1) return { version: distinct[0]!, fixedVersions: distinct };
  const scheme: VersionScheme | undefined = Object.hasOwn(VERSION_SCHEME_BY_NAME, ecosystem) ? VERSION_SCHEME_BY_NAME[ecosystem as keyof typeof VERSION_SCHEME_BY_NAME] : undefined;
  if (scheme === undefined || !distinct.every((v) => scheme.isValid(v))) return { version: null, fixedVersions: distinct.sort() };
  const sorted = [...distinct].sort((a, b) => scheme.compare(a, b));
  return { version: sorted[sorted.length - 1]!, fixedVersions: sorted };
}
