import type { CvssScore, VulnerabilityRecord } from '../vulnerability-record.ts';
import { isoDate } from './iso-date.ts';
import { parseScoreSlashVector } from './oval-cvss.ts';
import type { OvalDefinition } from './oval-definition.ts';
import { uniqueStrings } from './make-record.ts';
import { normalizeVendorSeverity } from './vendor-severity.ts';
import { xmlAttr, xmlChild, xmlChildren, xmlChildText } from './xml-element.ts';

const CVE_ID = /\bCVE-\d{4}-\d{4,}\b/;

/** A CVE an advisory lists, with the vendor's scores for it. */
export interface AdvisoryCve {
  id: string;
  cvss: CvssScore[];
  /** The vendor's impact for this CVE (SUSE `impact`), when given. */
  impact: string | null;
  href: string | null;
}

/**
 * The CVEs of an rpm-vendor OVAL definition (Red Hat, Oracle, SUSE, Photon): the advisory's `<cve>`
 * elements (their `cvss2` / `cvss3` attributes as scores with `source` set to the CVE id), then
 * `CVE` references not already listed. Ids are read out of the text (`CVE-2010-1323 at SUSE`).
 */
export function advisoryCves(definition: OvalDefinition): AdvisoryCve[] {
  const byId = new Map<string, AdvisoryCve>();
  for (const c of xmlChildren(definition.advisory, 'cve')) {
    const id = CVE_ID.exec(c.text)?.[0];
    if (!id) continue;
    const entry = byId.get(id) ?? { id, cvss: [], impact: null, href: null };
    for (const attr of ['cvss3', 'cvss2']) {
      const score = parseScoreSlashVector(xmlAttr(c, attr), id);
      if (score && !entry.cvss.some((s) => s.vector === score.vector)) entry.cvss.push(score);
    }
    entry.impact ??= xmlAttr(c, 'impact');
    entry.href ??= xmlAttr(c, 'href');
    byId.set(id, entry);
  }
  for (const r of definition.references) {
    const id = CVE_ID.exec(r.refId ?? '')?.[0];
    if (r.source?.toUpperCase() === 'CVE' && id && !byId.has(id)) byId.set(id, { id, cvss: [], impact: null, href: r.refUrl });
  }
  return [...byId.values()];
}

/** The advisory's `<severity>` text, or null. */
export function advisorySeverity(definition: OvalDefinition): string | null {
  return xmlChildText(definition.advisory, 'severity');
}

/** The advisory's `<issued date>` / `<updated date>` as an ISO timestamp, or null. */
export function advisoryDate(definition: OvalDefinition, which: 'issued' | 'updated'): string | null {
  return isoDate(xmlAttr(xmlChild(definition.advisory, which), 'date'));
}

/** The advisory's `<affected_cpe_list>` CPEs. */
export function affectedCpes(definition: OvalDefinition): string[] {
  return uniqueStrings(xmlChildren(xmlChild(definition.advisory, 'affected_cpe_list'), 'cpe').map((c) => c.text));
}

/** The reference URLs of a definition, then its CVEs' vendor pages, without duplicates. */
export function definitionLinks(definition: OvalDefinition, cves: readonly AdvisoryCve[] = []): string[] {
  return uniqueStrings([...definition.references.map((r) => r.refUrl), ...cves.map((c) => c.href)]);
}

/**
 * What every record of one advisory definition shares: its updater and name, the CVEs it names
 * as aliases (the name itself left out), the severity (the advisory's own unless `severity` is
 * given) as said and normalized, the CVEs' CVSS, the description, links and dates.
 */
export function advisoryFields(
  definition: OvalDefinition,
  updater: string,
  name: string,
  cves: readonly AdvisoryCve[] = advisoryCves(definition),
  severity: string | null = advisorySeverity(definition),
): Pick<
  VulnerabilityRecord,
  'updater' | 'name' | 'aliases' | 'vendorSeverity' | 'normalizedSeverity' | 'severitySource' | 'cvss' | 'description' | 'links' | 'publishedAt' | 'modifiedAt'
> {
  return {
    updater,
    name,
    aliases: cves.map((c) => c.id).filter((id) => id !== name),
    vendorSeverity: severity,
    normalizedSeverity: normalizeVendorSeverity(severity),
    severitySource: severity ? 'vendor' : null,
    cvss: cves.flatMap((c) => c.cvss),
    description: definition.description === '' ? null : definition.description,
    links: definitionLinks(definition, cves),
    publishedAt: advisoryDate(definition, 'issued'),
    modifiedAt: advisoryDate(definition, 'updated'),
  };
}
