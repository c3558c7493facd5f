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
