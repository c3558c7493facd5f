import type { VersionScheme } from '../version-scheme.ts';
import type { FindingState, VulnerabilityRecord } from '../vulnerability-record.ts';

/**
 * What makes two records the same row of the vulnerabilities table: advisory, package and scope
 * (the store's record key). Fixed version and state are content, not identity.
 */
export function recordIdentity(r: VulnerabilityRecord): string {
  return [r.name, r.ecosystem, r.distribution ?? '', r.repository ?? '', r.module ?? '', r.packageName, r.packageKind, r.arch ?? ''].join('\u0000');
}

/** States from "most exposed" to "least": when one feed entry says two things about one key, the first wins. */
const PRECEDENCE: readonly FindingState[] = ['not_fixed', 'fix_deferred', 'under_investigation', 'will_not_fix', 'end_of_life', 'fixed', 'not_affected'];

function newer(scheme: VersionScheme, a: string, b: string): boolean {
  try {
    return scheme.compare(a, b) > 0;
  } catch {
    return a > b;
  }
}

/**
 * Folds records that share an identity ({@link recordIdentity}) into one, as the store keeps one
 * row per identity. Feeds do say several things about one package in one scope: Oracle ORs two
 * fixed versions, Red Hat fixes a package at different versions in the streams of one CPE (9.2 EUS
 * and 9.3). The survivor is the most exposed state (not fixed before deferred, … before fixed,
 * before not affected) and, between fixes, the highest fixed version (`scheme` order; a known
 * version over an unknown one): a package
 * below it is vulnerable under at least one of the entries, which is what the feed says. Links
 * of the folded records are kept. Order of first appearance is preserved.
 */
export function mergeSameKey(records: readonly VulnerabilityRecord[], scheme: VersionScheme): VulnerabilityRecord[] {
  const byKey = new Map<string, VulnerabilityRecord>();
  for (const r of records) {
    const key = recordIdentity(r);
    const kept = byKey.get(key);
    if (kept === undefined) {
      byKey.set(key, r);
      continue;
    }
    const rank = PRECEDENCE.indexOf(r.state) - PRECEDENCE.indexOf(kept.state);
    const wins =
      rank < 0 || (rank === 0 && r.fixedVersion !== null && (kept.fixedVersion === null || newer(scheme, r.fixedVersion, kept.fixedVersion)));
    const winner = wins ? r : kept;
    const loser = wins ? kept : r;
    const links = [...winner.links];
    for (const l of loser.links) if (!links.includes(l)) links.push(l);
    byKey.set(key, { ...winner, links });
  }
  return [...byKey.values()];
}
