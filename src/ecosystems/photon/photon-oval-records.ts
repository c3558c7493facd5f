import { advisoryFields } from '../oval/oval-advisory.ts';
import type { OvalDefinition } from '../oval/oval-definition.ts';
import { makeRecord } from '../oval/make-record.ts';
import { isLessThan, rpmDefinitionEntries, type RpmEntry } from '../oval/rpm-definition-entries.ts';
import type { VulnerabilityRecord } from '../vulnerability-record.ts';
import { mergeSameKey } from '../oval/merge-same-key.ts';
import { rpmVersion } from '../rpm/rpm-version.ts';

/**
 * The Photon release of a package entry as `distributionKey` spells it (`photon:3.0`: Photon's
 * VERSION_ID is `<major>.0`), from the branch's `photon-release` check or the metadata platform.
 */
export function photonDistribution(entry: RpmEntry, definition: OvalDefinition, fallbackMajor: string | null = null): string | null {
  let major: string | null = null;
  for (const p of entry.platforms) {
    major = /Photon OS (\d+)/.exec(p.comment ?? '')?.[1] ?? (p.name === 'photon-release' ? (/^\^?(\d+)/.exec(p.version ?? '')?.[1] ?? null) : null);
    if (major) break;
  }
  if (major === null) {
    const platforms = definition.platforms.map((p) => /^Photon(?: OS)? (\d+)/.exec(p)?.[1]).filter((p): p is string => p !== undefined);
    major = platforms.length === 1 ? platforms[0]! : fallbackMajor;
  }
  return major === null ? null : `photon:${major}.0`;
}

/**
 * The records of one Photon advisory definition (PHSA): named by the advisory
 * (`PHSA-2020:00001`, from the title) with its CVEs as aliases, one per package and fixed version
 * (`evr less than`) in `photon:<major>.0`.
 */
export function photonOvalRecords(definition: OvalDefinition, fallbackMajor: string | null = null, updater = 'photon'): VulnerabilityRecord[] {
  const name = /^PHSA-[0-9]{4}[:-][0-9A-Za-z.:-]+/.exec(definition.title)?.[0] ?? null;
  if (name === null) return [];
  const base = { ...advisoryFields(definition, updater, name), ecosystem: 'rpm' };
  const out: VulnerabilityRecord[] = [];
  const seen = new Set<string>();
  for (const entry of rpmDefinitionEntries(definition)) {
    if (entry.evr === null || !isLessThan(entry.operation)) continue;
    const distribution = photonDistribution(entry, definition, fallbackMajor);
    if (distribution === null) continue;
    const key = `${distribution}\u0000${entry.packageName}\u0000${entry.evr}\u0000${entry.arch ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(makeRecord({ ...base, distribution, packageName: entry.packageName, arch: entry.arch, fixedVersion: entry.evr, state: 'fixed' }));
  }
  return mergeSameKey(out, rpmVersion);
}
