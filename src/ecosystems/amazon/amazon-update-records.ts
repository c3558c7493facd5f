import { isoDate } from '../oval/iso-date.ts';
import { makeRecord, uniqueStrings } from '../oval/make-record.ts';
import { rpmEvr } from '../oval/rpm-evr.ts';
import { normalizeVendorSeverity } from '../oval/vendor-severity.ts';
import { xmlAttr, xmlChild, xmlChildren, xmlChildText, type XmlElement } from '../oval/xml-element.ts';
import type { VulnerabilityRecord } from '../vulnerability-record.ts';
import { mergeSameKey } from '../oval/merge-same-key.ts';
import { rpmVersion } from '../rpm/rpm-version.ts';

/**
 * The Amazon Linux release an advisory belongs to, as `distributionKey` spells it, from its id:
 * `ALAS-…` → `amzn:1`, `ALAS2-…` (and the AL2 extras, `ALAS2DOCKER-…`) → `amzn:2`,
 * `ALAS2022-…` → `amzn:2022`, `ALAS2023-…` → `amzn:2023`. Null for other ids.
 */
export function amazonReleaseOfAdvisory(id: string): string | null {
  const m = /^ALAS(2023|2022|2[A-Z0-9]*)?-/.exec(id);
  if (!m) return null;
  if (m[1] === undefined) return 'amzn:1';
  if (m[1] === '2023' || m[1] === '2022') return `amzn:${m[1]}`;
  return 'amzn:2';
}

/**
 * The records of one `<update>` of an Amazon Linux `updateinfo.xml`: named by the advisory
 * (`ALAS2-2018-942`) with its CVE references as aliases, one per package and fixed version
 * (`[epoch:]version-release` from the pkglist, epoch dropped when 0). The arches of one build are
 * merged (`arch: null`); a package fixed at different versions on different arches gets one
 * record per arch. Non-security updates and updates of unknown releases give nothing.
 */
export function amazonUpdateRecords(update: XmlElement, fallbackDistribution: string | null, updater = 'amazon'): VulnerabilityRecord[] {
  const type = xmlAttr(update, 'type');
  if (type !== null && type !== 'security') return [];
  const id = xmlChildText(update, 'id');
  if (id === null) return [];
  const distribution = amazonReleaseOfAdvisory(id) ?? fallbackDistribution;
  if (distribution === null) return [];
  const references = xmlChildren(xmlChild(update, 'references'), 'reference');
  const severity = xmlChildText(update, 'severity');
  const base = {
    updater,
    name: id,
    aliases: uniqueStrings(references.filter((r) => (xmlAttr(r, 'type') ?? '').toLowerCase() === 'cve').map((r) => xmlAttr(r, 'id'))),
    ecosystem: 'rpm',
    distribution,
    vendorSeverity: severity,
    normalizedSeverity: normalizeVendorSeverity(severity),
    severitySource: severity ? 'vendor' : null,
    description: xmlChildText(update, 'description'),
    links: uniqueStrings(references.map((r) => xmlAttr(r, 'href'))),
    publishedAt: isoDate(xmlAttr(xmlChild(update, 'issued'), 'date')),
    modifiedAt: isoDate(xmlAttr(xmlChild(update, 'updated'), 'date')),
  };

  // package → version → arches
  const packages = new Map<string, Map<string, Set<string | null>>>();
  for (const collection of xmlChildren(xmlChild(update, 'pkglist'), 'collection')) {
    for (const p of xmlChildren(collection, 'package')) {
      const name = xmlAttr(p, 'name');
      const version = xmlAttr(p, 'version');
      if (name === null || version === null) continue;
      const evr = rpmEvr(xmlAttr(p, 'epoch'), version, xmlAttr(p, 'release'));
      const versions = packages.get(name) ?? new Map<string, Set<string | null>>();
      packages.set(name, versions);
      const arches = versions.get(evr) ?? new Set<string | null>();
      versions.set(evr, arches);
      arches.add(xmlAttr(p, 'arch'));
    }
  }
  const out: VulnerabilityRecord[] = [];
  for (const [packageName, versions] of packages) {
    for (const [fixedVersion, arches] of versions) {
      for (const arch of versions.size > 1 ? [...arches] : [null]) out.push(makeRecord({ ...base, packageName, arch, fixedVersion, state: 'fixed' }));
    }
  }
  return mergeSameKey(out, rpmVersion);
}
