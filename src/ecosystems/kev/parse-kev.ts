import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import { selectJson } from '../debian/select-json.ts';
import type { EnrichmentRecord } from '../vulnerability-record.ts';

const CVE = /^CVE-\d{4}-\d{4,}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const WHAT = 'CISA KEV catalog';

/**
 * Parses the CISA Known Exploited Vulnerabilities catalog (`{vulnerabilities: [{cveID, dateAdded,
 * dueDate, knownRansomwareCampaignUse, vulnerabilityName, …}]}`), one entry at a time, into `kev`
 * enrichments (`knownRansomware` true when CISA says `Known`). A missing list, an entry without a
 * CVE id or without a `YYYY-MM-DD` dateAdded throw {@link FeedParseError}.
 */
export async function* parseKev(input: AsyncIterable<Buffer | string>): AsyncGenerator<EnrichmentRecord> {
  let sawList = false;
  const select = (p: readonly (string | number)[]): boolean => {
    if (p.length === 1 && p[0] === 'vulnerabilities') sawList = true;
    return p.length === 2 && p[0] === 'vulnerabilities';
  };
  for await (const { path, value } of selectJson(input, { what: WHAT, select })) {
    if (typeof value !== 'object' || value === null) throw new FeedParseError(`${WHAT}: entry ${path[1]} is not an object`);
    const v = value as Record<string, unknown>;
    const cve = typeof v.cveID === 'string' ? v.cveID.trim() : '';
    if (!CVE.test(cve)) throw new FeedParseError(`${WHAT}: entry ${path[1]} has no valid cveID`);
    if (typeof v.dateAdded !== 'string' || !DATE.test(v.dateAdded)) throw new FeedParseError(`${WHAT}: ${cve} has no valid dateAdded`);
    const dueDate = typeof v.dueDate === 'string' && DATE.test(v.dueDate) ? v.dueDate : null;
    const name = typeof v.vulnerabilityName === 'string' && v.vulnerabilityName.trim() !== '' ? v.vulnerabilityName.trim().slice(0, 1024) : null;
    yield { kind: 'kev', vulnName: cve, data: { dateAdded: v.dateAdded, dueDate, knownRansomware: v.knownRansomwareCampaignUse === 'Known', name } };
  }
  if (!sawList) throw new FeedParseError(`${WHAT}: no vulnerabilities list`);
}
