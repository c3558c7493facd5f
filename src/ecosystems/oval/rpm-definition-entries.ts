import { criteriaBranches } from './criteria-branches.ts';
import type { OvalDefinition } from './oval-definition.ts';
import { evrRelease, normalizeEvr } from './rpm-evr.ts';
import { rpmBranch, type RpmFactOptions, type RpmPlatformFact } from './rpm-criterion-facts.ts';

/** One package an rpm OVAL definition names, with what its branch of the criteria requires. */
export interface RpmEntry {
  packageName: string;
  /** The bound from the state (`[epoch:]version-release`, a zero epoch dropped), or null for "installed". */
  evr: string | null;
  /** The bound's OVAL operation (`less than`, …), null without a bound. */
  operation: string | null;
  /** The arch the branch checks ("… arch is aarch64"), else the state's arch when it is a plain name, else null. */
  arch: string | null;
  /** The state's arch pattern when it is one (`(aarch64|x86_64)`), for callers that care. */
  archPattern: string | null;
  /** Release checks of the branch (release package and version, or the criterion comment). */
  platforms: RpmPlatformFact[];
  /** RPM module streams the branch requires (`nodejs:18`). */
  module: string | null;
  /** The branch requires a ksplice release, or the bound's release says ksplice (Oracle userspace ksplice). */
  ksplice: boolean;
}

/**
 * The package entries of an rpm OVAL definition: the criteria expanded into branches (see
 * `criteriaBranches`), each non-negated package constraint of a branch becoming one entry carrying
 * that branch's release, arch and module checks. Entries are in document order, duplicates kept
 * (callers key them by what they store).
 */
export function rpmDefinitionEntries(definition: OvalDefinition, options: RpmFactOptions = {}): RpmEntry[] {
  if (definition.criteria === null) return [];
  const out: RpmEntry[] = [];
  for (const branch of criteriaBranches(definition.criteria)) {
    const facts = rpmBranch(branch, options);
    if (facts.packages.length === 0) continue;
    const branchArch = facts.arches.length === 1 ? facts.arches[0]! : null;
    const kspliceBranch = facts.releasePatterns.some((p) => /ksplice/i.test(p));
    for (const p of facts.packages) {
      if (p.negate) continue;
      const evr = p.evr === null || p.evr === '' ? null : normalizeEvr(p.evr);
      const plainArch = p.arch !== null && /^[A-Za-z0-9_]+$/.test(p.arch) ? p.arch : null;
      out.push({
        packageName: p.name,
        evr,
        operation: evr === null ? null : (p.operation ?? 'equals'),
        arch: branchArch ?? plainArch,
        archPattern: p.arch !== null && plainArch === null ? p.arch : null,
        platforms: facts.platforms,
        module: facts.modules[0] ?? null,
        ksplice: kspliceBranch || (evr !== null && /ksplice/i.test(evrRelease(evr))),
      });
    }
  }
  return out;
}

/** Whether an OVAL `evr` operation bounds the fixed version (`less than`), case-insensitively. */
export function isLessThan(operation: string | null): boolean {
  return (operation ?? '').trim().toLowerCase() === 'less than';
}
