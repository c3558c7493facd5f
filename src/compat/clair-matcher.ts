import type { ReportService } from '../matcher/report-service.ts';
import { clairVulnerabilityReport } from './clair-reports.ts';
import type { ClairStore } from './clair-store.ts';
import type { ClairVulnerabilityReport } from './clair-types.ts';

/** What `GET /matcher/api/v1/vulnerability_report/{digest}` answers. */
export type VulnerabilityReportOutcome =
  /** No vulnerability data has been loaded yet (Clair answers 202 with no body). */
  | { kind: 'initializing' }
  /** No finished index report for the digest (404). */
  | { kind: 'not-found' }
  | { kind: 'report'; report: ClairVulnerabilityReport; etag: string };

/**
 * Clair v4's matcher on Lookout's cached reports: the report of an indexed image is matched once
 * per vulnerability-database generation (not on every GET, as Clair does) and rendered in Clair's
 * VulnerabilityReport shape, with the cached report's entity tag.
 */
export class ClairMatcher {
  private readonly store: ClairStore;
  private readonly reports: ReportService;

  constructor(deps: { store: ClairStore; reports: ReportService }) {
    this.store = deps.store;
    this.reports = deps.reports;
  }

  /** The report of `digest`, or why there is none (see {@link VulnerabilityReportOutcome}). */
  async vulnerabilityReport(digest: string): Promise<VulnerabilityReportOutcome> {
    if ((await this.reports.generation()) === 0) return { kind: 'initializing' };
    const record = await this.store.find(digest);
    if (record === null || record.state !== 'IndexFinished') return { kind: 'not-found' };
    const cached = await this.reports.report(record.manifestId);
    const distribution = await this.store.distributionOf(record.manifestId);
    return { kind: 'report', report: clairVulnerabilityReport(cached.report, distribution), etag: cached.etag };
  }
}
