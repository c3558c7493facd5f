import type { FoundDistribution } from '../ecosystems/scanner.ts';
import { distroProfile, type DistroProfile } from './distro-profile.ts';
import type { MatchOptions, MatchPackage, PackageId } from './match-input.ts';
import { lookupName, packageScope } from './package-scope.ts';
import { compareText } from './compare-text.ts';

/**
 * One query against the vulnerability table: the rows with this `ecosystem`, this `distribution`
 * (`null` means `distribution is null`, the language feeds) and a `package_name` in `packageNames`.
 */
export interface Lookup {
  ecosystem: string;
  distribution: string | null;
  /** Sorted, without duplicates, at most {@link MAX_NAMES_PER_LOOKUP}. */
  packageNames: string[];
}

/** What to fetch for one image, and what will not be matched. */
export interface MatchPlan {
  /** The image's distribution profile (feed keys, package format, vendors), null when no feed covers it. */
  distribution: DistroProfile | null;
  lookups: Lookup[];
  /** Plain words on what cannot be matched and why (shown in the report). */
  notes: string[];
}

/** The most names one lookup carries (a larger set is split), keeping each query's parameter list bounded. */
export const MAX_NAMES_PER_LOOKUP = 1000;

/**
 * The lookups that fetch every record that may apply to an image's packages:
 * - OS packages of the image's distribution (see {@link distroProfile}; `releaseHint` is the apk
 *   repository scanner's distribution, path `etc/apk/repositories`): one lookup per release key
 *   with the binary names AND the source names (Debian, Ubuntu and Alpine feeds key by source or
 *   origin package; Red Hat's by binary and sometimes source RPM). Packages from third-party
 *   repositories are left out unless `options.includeThirdParty`; kernel header packages are
 *   kept (their findings are counted as suppressed);
 * - language packages: one lookup per ecosystem with `distribution: null`, names as the feeds
 *   key them (PEP 503 for PyPI), leaving out packages an OS package owns.
 * Lookups come in a stable order (distribution ones first, then by ecosystem and name).
 */
export function matchPlan(
  distribution: FoundDistribution | null,
  releaseHint: FoundDistribution | null,
  packages: readonly MatchPackage[],
  options: MatchOptions = {},
): MatchPlan {
  const { profile, notes } = distroProfile(distribution, releaseHint);
  const byId = new Map<PackageId, MatchPackage>(packages.map((p) => [p.id, p]));
  const names = new Map<string, Set<string>>(); // `${ecosystem}\0${distribution}` → names
  const add = (ecosystem: string, dist: string | null, name: string | null | undefined): void => {
    if (name === null || name === undefined || name.trim() === '') return;
    const key = `${ecosystem}\u0000${dist ?? ''}`;
    let set = names.get(key);
    if (!set) names.set(key, (set = new Set()));
    set.add(lookupName(ecosystem, name));
  };
  let osUnmatched = 0;
  let firstUnmatchedReason = '';
  for (const pkg of packages) {
    const scope = packageScope(pkg, profile, options, byId);
    if (scope.kind === 'distro' && profile !== null) {
      for (const key of profile.keys) {
        add(pkg.ecosystem, key, pkg.name);
        add(pkg.ecosystem, key, pkg.sourceName);
      }
    } else if (scope.kind === 'language') {
      add(pkg.ecosystem, null, pkg.name);
    } else if (scope.kind === 'unmatched') {
      if (osUnmatched++ === 0) firstUnmatchedReason = scope.reason;
    }
  }
  if (osUnmatched > 0) notes.push(`${osUnmatched} package${osUnmatched === 1 ? ' is' : 's are'} not matched (${firstUnmatchedReason}${osUnmatched > 1 ? ', …' : ''})`);

  const lookups: Lookup[] = [];
  const keys = [...names.keys()].sort((a, b) => {
    const [ea, da] = a.split('\u0000') as [string, string];
    const [eb, db] = b.split('\u0000') as [string, string];
    return Number(da === '') - Number(db === '') || compareText(ea, eb) || compareText(da, db);
  });
  for (const key of keys) {
    const [ecosystem, dist] = key.split('\u0000') as [string, string];
    const sorted = [...names.get(key)!].sort();
    for (let i = 0; i < sorted.length; i += MAX_NAMES_PER_LOOKUP) {
      lookups.push({ ecosystem, distribution: dist === '' ? null : dist, packageNames: sorted.slice(i, i + MAX_NAMES_PER_LOOKUP) });
    }
  }
  return { distribution: profile, lookups, notes };
}
