import { normalizePypiName } from '../ecosystems/pypi/pep503-name.ts';
import { VERSION_SCHEMES } from '../ecosystems/version-scheme.ts';
import type { DistroProfile } from './distro-profile.ts';
import type { MatchOptions, MatchPackage, PackageId } from './match-input.ts';
import { thirdPartyReason } from './third-party-package.ts';

/** Package formats whose advisories come from distribution feeds. */
export const OS_PACKAGE_FORMATS: ReadonlySet<string> = new Set(['dpkg', 'apk', 'rpm']);

/** Ecosystems matched against language advisories (distribution null): those with a version scheme that are not OS formats. */
export const LANGUAGE_ECOSYSTEMS: ReadonlySet<string> = new Set(VERSION_SCHEMES.filter((s) => !OS_PACKAGE_FORMATS.has(s)));

/** How a package is matched, decided before any record is read. */
export type PackageScope =
  /** An OS package of the image's distribution: matched against that release's advisories. */
  | { kind: 'distro' }
  /** A language package: matched against language advisories. */
  | { kind: 'language' }
  /** A language package whose files an OS package installed: matched through that OS package only. */
  | { kind: 'owned'; reason: string }
  /** An OS package from a third-party repository: the distribution's advisories do not speak of it. */
  | { kind: 'third-party'; reason: string }
  /** Not matched at all: no feed covers it (unknown release, foreign format, unknown ecosystem). */
  | { kind: 'unmatched'; reason: string };

/**
 * Decides how `pkg` is matched in an image of `profile` (see {@link PackageScope}); `byId` (the
 * image's packages) names the owner of an owned package in the reason.
 */
export function packageScope(pkg: MatchPackage, profile: DistroProfile | null, options: MatchOptions = {}, byId?: ReadonlyMap<PackageId, MatchPackage>): PackageScope {
  if (OS_PACKAGE_FORMATS.has(pkg.ecosystem)) {
    if (profile === null) return { kind: 'unmatched', reason: 'no distribution feed covers this image' };
    if (profile.format !== pkg.ecosystem) return { kind: 'unmatched', reason: `${article(pkg.ecosystem)} ${pkg.ecosystem} package in ${article(profile.format)} ${profile.format} distribution (${profile.label}): no feed speaks of it` };
    if (options.includeThirdParty !== true) {
      const reason = thirdPartyReason(pkg, profile, options.thirdPartyMaintainers);
      if (reason !== null) return { kind: 'third-party', reason };
    }
    return { kind: 'distro' };
  }
  if (LANGUAGE_ECOSYSTEMS.has(pkg.ecosystem)) {
    if (pkg.ownerPackageId !== undefined && pkg.ownerPackageId !== null) {
      const owner = byId?.get(pkg.ownerPackageId);
      const named = owner ? `${owner.name} ${owner.version}` : String(pkg.ownerPackageId);
      return { kind: 'owned', reason: `installed by OS package ${named}, whose distribution advisories cover it` };
    }
    return { kind: 'language' };
  }
  return { kind: 'unmatched', reason: `no version scheme for ecosystem ${pkg.ecosystem}` };
}

/** A package name as records of `ecosystem` key it (PEP 503 for PyPI; others as written). */
export function lookupName(ecosystem: string, name: string): string {
  return ecosystem === 'pypi' ? normalizePypiName(name.trim()) : name;
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}
