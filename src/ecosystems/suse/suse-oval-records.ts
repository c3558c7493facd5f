import { advisoryCves, advisoryFields, advisorySeverity } from '../oval/oval-advisory.ts';
import type { OvalDefinition } from '../oval/oval-definition.ts';
import { makeRecord } from '../oval/make-record.ts';
import type { RpmPlatformFact } from '../oval/rpm-criterion-facts.ts';
import { isLessThan, rpmDefinitionEntries } from '../oval/rpm-definition-entries.ts';
import type { VulnerabilityRecord } from '../vulnerability-record.ts';
import { mergeSameKey } from '../oval/merge-same-key.ts';
import { rpmVersion } from '../rpm/rpm-version.ts';

/** A SUSE product release a branch of criteria applies to, with how much its release package counts. */
export interface SuseRelease {
  /** `sles:15.5`, `opensuse-leap:15.5`. */
  distribution: string;
  /** Lower wins when one definition gives different fixes for one release (sles-release first). */
  rank: number;
}

/**
 * The release a SUSE platform check stands for, as `distributionKey` spells it: the release
 * package's version from the state (`sles-release` `equals 15.1` → `sles:15.1`; `openSUSE-release`
 * → `opensuse-leap:…`, or `opensuse:…` for the releases before Leap 15). Only products that ship container images count: SLES itself
 * (`sles-release`, then the `sle-module-*-release` modules, then `sles-ltss-release`, as vunnel
 * prefers) and openSUSE Leap. Desktop, SAP, HPC, Micro and other products give null.
 */
export function suseRelease(platform: RpmPlatformFact): SuseRelease | null {
  const op = (platform.operation ?? 'equals').toLowerCase();
  const raw = platform.version?.trim() ?? '';
  // equals `15.1`, or an anchored pattern of one version (`^11.1$`, older openSUSE files)
  const version = op === 'equals' ? raw : op === 'pattern match' ? (/^\^(\d+(?:\\?\.\d+)?)\$$/.exec(raw)?.[1]?.replace('\\', '') ?? '') : '';
  if (!/^\d+(\.\d+)?$/.test(version)) return null;
  const name = platform.name ?? '';
  if (name === 'sles-release') return { distribution: `sles:${version}`, rank: 0 };
  if (/^sle-module-[a-z0-9-]+-release$/.test(name)) return { distribution: `sles:${version}`, rank: 1 };
  if (name === 'sles-ltss-release') return { distribution: `sles:${version}`, rank: 2 };
  if (name === 'openSUSE-release' || name === 'openSUSE-Leap-release') {
    // Leap 15.x says ID=opensuse-leap; openSUSE 10.x–13.x and Leap 42.x said ID=opensuse
    const major = Number.parseInt(version, 10);
    return { distribution: major >= 15 && major < 42 ? `opensuse-leap:${version}` : `opensuse:${version}`, rank: 0 };
  }
  return null;
}

/**
 * The records of one SUSE CVE definition: one per release, package and fixed version
 * (`evr less than`), named by the CVE. SUSE lists each product (and service pack) that ships a
 * fix; when several products of one release disagree, the best-ranked release package wins (see
 * {@link suseRelease}). A state's arch pattern listing several arches is dropped (`arch: null`);
 * a single arch is kept. Criteria saying "not affected" and states without `less than` give nothing.
 */
export function suseOvalRecords(definition: OvalDefinition, updater = 'suse'): VulnerabilityRecord[] {
  const name = /\bCVE-\d{4}-\d{4,}\b/.exec(definition.title)?.[0] ?? null;
  if (name === null) return [];
  const cves = advisoryCves(definition);
  const own = cves.find((c) => c.id === name);
  const severity = advisorySeverity(definition) ?? own?.impact ?? null;
  const base = { ...advisoryFields(definition, updater, name, cves, severity), ecosystem: 'rpm' };

  // distribution → package → best rank and the fixes at that rank (version → arch)
  const best = new Map<string, Map<string, { rank: number; fixes: Map<string, string | null> }>>();
  for (const entry of rpmDefinitionEntries(definition)) {
    if (entry.evr === null || !isLessThan(entry.operation)) continue;
    for (const platform of entry.platforms) {
      const release = suseRelease(platform);
      if (release === null) continue;
      const packages = best.get(release.distribution) ?? new Map<string, { rank: number; fixes: Map<string, string | null> }>();
      best.set(release.distribution, packages);
      const current = packages.get(entry.packageName);
      if (current === undefined || release.rank < current.rank) {
        packages.set(entry.packageName, { rank: release.rank, fixes: new Map([[entry.evr, entry.arch]]) });
      } else if (release.rank === current.rank && !current.fixes.has(entry.evr)) {
        current.fixes.set(entry.evr, entry.arch);
      }
    }
  }
  const out: VulnerabilityRecord[] = [];
  for (const [distribution, packages] of best) {
    for (const [packageName, { fixes }] of packages) {
      for (const [fixedVersion, arch] of fixes) out.push(makeRecord({ ...base, distribution, packageName, arch, fixedVersion, state: 'fixed' }));
    }
  }
  return mergeSameKey(out, rpmVersion);
}
