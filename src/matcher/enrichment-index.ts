import type { CvssScore, EnrichmentRecord } from '../ecosystems/vulnerability-record.ts';

/** The enrichment data known for one vulnerability id. */
export interface Enrichment {
  nvd?: { cvss: CvssScore[]; description: string | null; published: string | null; cwes: string[] };
  epss?: { score: number; percentile: number; date: string };
  kev?: { dateAdded: string; dueDate: string | null; knownRansomware: boolean; name: string | null };
}

/** Enrichments by vulnerability id (upper case); the last record of a kind for an id wins. */
export function enrichmentIndex(records: Iterable<EnrichmentRecord>): Map<string, Enrichment> {
  const out = new Map<string, Enrichment>();
  for (const r of records) {
    const id = r.vulnName.trim().toUpperCase();
    let e = out.get(id);
    if (!e) out.set(id, (e = {}));
    if (r.kind === 'nvd') e.nvd = r.data;
    else if (r.kind === 'epss') e.epss = r.data;
    else e.kev = r.data;
  }
  return out;
}

const CVE = /^CVE-\d{4}-\d{4,}$/i;

/**
 * The CVE ids named by `records` (their names and aliases), sorted and without duplicates: what to
 * fetch from the enrichment table before matching.
 */
export function enrichmentIds(records: Iterable<{ name: string; aliases: readonly string[] }>): string[] {
  const ids = new Set<string>();
  for (const r of records) for (const id of [r.name, ...r.aliases]) if (CVE.test(id.trim())) ids.add(id.trim().toUpperCase());
  return [...ids].sort();
}
