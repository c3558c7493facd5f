import { advisoryFields } from '../oval/oval-advisory.ts';
import type { OvalDefinition } from '../oval/oval-definition.ts';
import { makeRecord } from '../oval/make-record.ts';
import { isLessThan, rpmDefinitionEntries, type RpmEntry } from '../oval/rpm-definition-entries.ts';
import type { VulnerabilityRecord } from '../vulnerability-record.ts';
import { mergeSameKey } from '../oval/merge-same-key.ts';
import { rpmVersion } from '../rpm/rpm-version.ts';

/** The Oracle Linux major release a package entry applies to, from its branch's release check or the metadata. */
export function oracleRelease(entry: RpmEntry, definition: OvalDefinition): string | null {
  for (const p of entry.platforms) {
    const fromComment = /Oracle Linux (\d+)/.exec(p.comment ?? '')?.[1];
    if (fromComment) return fromComment;
    if (p.name === 'oraclelinux-release' || p.name === 'enterprise-release' || p.name === 'redhat-release') {
      const m = /^\^?(\d+)/.exec(p.version ?? '');
      if (m) return m[1]!;
    }
  }
  const platforms = definition.platforms.map((p) => /^Oracle Linux (\d+)$/.exec(p)?.[1]).filter((p): p is string => p !== undefined);
  return platforms.length === 1 ? platforms[0]! : null;
}

export interface OracleRecordOptions {
  /** Keep only these major releases (`8`, `9`); all when absent. */
  releases?: ReadonlySet<string>;
  updater?: string;
}

/**
 * The records of one ELSA definition: named by the advisory (`ELSA-2021-9151`) with its CVEs as
 * aliases, one per release (`ol:N`), package and fixed version (`evr less than`, epoch kept when
 * not 0). Oracle writes per-arch branches ("Oracle Linux arch is aarch64"): when every arch of a
 * package has the same fixed version one record with `arch: null` is made, otherwise one per arch.
 *
 * Userspace ksplice entries (a branch requiring a `ksplice` release, or a fixed version whose
 * release says `ksplice`) are left out, as vunnel does and for Clair's reason: they only match
 * packages built for ksplice, which do not run in containers, and compared with a regular build
 * (`15.el8_3` < `15.ksplice1.el8_3`) they would flag every regular package as vulnerable.
 */
export function oracleOvalRecords(definition: OvalDefinition, options: OracleRecordOptions = {}): VulnerabilityRecord[] {
  const name =
    definition.references.find((r) => r.source?.toLowerCase() === 'elsa' && r.refId)?.refId ?? /\bELSA-\d{4}-\d+\b/.exec(definition.title)?.[0] ?? null;
  if (name === null) return [];
  const base = { ...advisoryFields(definition, options.updater ?? 'oracle', name), ecosystem: 'rpm' };

  // release → package → fixed version → arches (null = any)
  const grouped = new Map<string, Map<string, Map<string, Set<string | null>>>>();
  for (const entry of rpmDefinitionEntries(definition, { commentFallback: true })) {
    if (entry.ksplice || entry.evr === null || !isLessThan(entry.operation)) continue;
    const release = oracleRelease(entry, definition);
    if (release === null || (options.releases && !options.releases.has(release))) continue;
    const packages = grouped.get(release) ?? new Map<string, Map<string, Set<string | null>>>();
    grouped.set(release, packages);
    const versions = packages.get(entry.packageName) ?? new Map<string, Set<string | null>>();
    packages.set(entry.packageName, versions);
    const arches = versions.get(entry.evr) ?? new Set<string | null>();
    versions.set(entry.evr, arches);
    arches.add(entry.arch);
  }

  const out: VulnerabilityRecord[] = [];
  for (const [release, packages] of grouped) {
    for (const [packageName, versions] of packages) {
      // Arches matter only when they disagree: the same arches for every fixed version → arch null.
      const archSets = [...versions.values()].map((a) => [...a].sort().join('|'));
      const disagree = archSets.some((a) => a !== archSets[0]);
      for (const [fixedVersion, arches] of versions) {
        const perArch = disagree && !arches.has(null) ? [...arches] : [null];
        for (const arch of perArch) {
          out.push(makeRecord({ ...base, distribution: `ol:${release}`, packageName, arch, fixedVersion, state: 'fixed' }));
        }
      }
    }
  }
  return mergeSameKey(out, rpmVersion);
}
