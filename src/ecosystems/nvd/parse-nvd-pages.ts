import { createReadStream } from 'node:fs';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import { selectJson } from '../debian/select-json.ts';
import type { EnrichmentRecord } from '../vulnerability-record.ts';
import { nvdCveToEnrichment } from './nvd-cve-to-enrichment.ts';

/** The paging fields of an NVD CVE API 2.0 response. */
export interface NvdPageHeader {
  totalResults: number;
  resultsPerPage: number;
  startIndex: number;
}

const WHAT = 'NVD CVE API response';

/**
 * Reads the paging fields of a response page (they come before the CVEs, so only the head of the
 * file is read). Throws {@link FeedParseError} when they are missing or not counts.
 */
export async function readNvdPageHeader(file: string): Promise<NvdPageHeader> {
  const found: Partial<Record<keyof NvdPageHeader, unknown>> = {};
  const keys = ['totalResults', 'resultsPerPage', 'startIndex'] as const;
  for await (const { path, value } of selectJson(createReadStream(file, { highWaterMark: 64 * 1024 }), {
    what: WHAT,
    select: (p) => p.length === 1 && (keys as readonly (string | number)[]).includes(p[0]!),
  })) {
    found[path[0] as keyof NvdPageHeader] = value;
    if (keys.every((k) => k in found)) break;
  }
  for (const k of keys) {
    const v = found[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new FeedParseError(`${WHAT}: ${k} is missing or not a count`);
  }
  return found as NvdPageHeader;
}

/** Streams the CVEs of one response page as `nvd` enrichments (see {@link nvdCveToEnrichment}). */
export async function* parseNvdPage(input: AsyncIterable<Buffer | string>): AsyncGenerator<EnrichmentRecord> {
  let sawList = false;
  const select = (p: readonly (string | number)[]): boolean => {
    if (p.length === 1 && p[0] === 'vulnerabilities') sawList = true;
    return p.length === 2 && p[0] === 'vulnerabilities';
  };
  for await (const { value } of selectJson(input, { what: WHAT, select })) {
    const cve = typeof value === 'object' && value !== null ? (value as { cve?: unknown }).cve : undefined;
    const record = nvdCveToEnrichment(cve);
    if (record !== null) yield record;
  }
  if (!sawList) throw new FeedParseError(`${WHAT}: no vulnerabilities list (not an NVD CVE API 2.0 response)`);
}
