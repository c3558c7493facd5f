import type { Severity } from '../ecosystems/vulnerability-record.ts';

/** Clair v4 media types (`application/json` is accepted and answered too). */
export const CLAIR_MEDIA_TYPES = {
  indexReport: 'application/vnd.clair.index_report.v1+json',
  vulnerabilityReport: 'application/vnd.clair.vulnerability_report.v1+json',
  indexState: 'application/vnd.clair.index_state.v1+json',
  bulkDelete: 'application/vnd.clair.bulk_delete.v1+json',
  notificationPage: 'application/vnd.clair.notification_page.v1+json',
  error: 'application/json',
} as const;

/** The states of Clair's index state machine, as `IndexReport.state` spells them. */
export const CLAIR_INDEX_STATES = ['CheckManifest', 'FetchLayers', 'ScanLayers', 'Coalesce', 'IndexManifest', 'IndexFinished', 'IndexError'] as const;
/** One of {@link CLAIR_INDEX_STATES}. */
export type ClairIndexState = (typeof CLAIR_INDEX_STATES)[number];

/** One layer of a submitted manifest: where to fetch it and the headers to send. */
export interface ClairLayer {
  hash: string;
  uri: string;
  headers: Record<string, string[]>;
  media_type?: string;
}

/** The body of `POST /indexer/api/v1/index_report`. */
export interface ClairManifest {
  hash: string;
  layers: ClairLayer[];
}

/** A package on the wire. `kind` is spelled as the published schema says (upper case). */
export interface ClairPackage {
  id?: string;
  name: string;
  version: string;
  kind?: 'BINARY' | 'SOURCE';
  source?: ClairPackage;
  arch?: string;
  module?: string;
  cpe?: string;
}

/** A distribution (os-release fields). */
export interface ClairDistribution {
  id: string;
  did?: string;
  name?: string;
  version?: string;
  version_code_name?: string;
  version_id?: string;
  arch?: string;
  cpe?: string;
  pretty_name?: string;
}

/** A package repository (language ecosystems). */
export interface ClairRepository {
  id: string;
  name?: string;
  key?: string;
  uri?: string;
  cpe?: string;
}

/** Where a package was found. */
export interface ClairEnvironment {
  package_db?: string;
  introduced_in?: string;
  distribution_id?: string;
  repository_ids?: string[];
}

/**
 * A vulnerability on the wire. `links`, `description` and `fixed_in_version` are always present
 * (empty when unknown), as Clair writes them and as Quay reads them.
 */
export interface ClairVulnerability {
  id: string;
  updater: string;
  name: string;
  description: string;
  issued?: string;
  links: string;
  severity: string;
  normalized_severity: Severity;
  package?: ClairPackage;
  distribution?: ClairDistribution;
  repository?: ClairRepository;
  fixed_in_version: string;
  arch_op?: 'equals' | 'not equals' | 'pattern match';
}

/** `GET|POST /indexer/api/v1/index_report[/{digest}]`. */
export interface ClairIndexReport {
  manifest_hash: string;
  state: ClairIndexState;
  packages: Record<string, ClairPackage>;
  distributions: Record<string, ClairDistribution>;
  repository: Record<string, ClairRepository>;
  environments: Record<string, ClairEnvironment[]>;
  success: boolean;
  err: string;
}

/** `GET /matcher/api/v1/vulnerability_report/{digest}`. */
export interface ClairVulnerabilityReport {
  manifest_hash: string;
  packages: Record<string, ClairPackage>;
  distributions: Record<string, ClairDistribution>;
  repository: Record<string, ClairRepository>;
  environments: Record<string, ClairEnvironment[]>;
  vulnerabilities: Record<string, ClairVulnerability>;
  package_vulnerabilities: Record<string, string[]>;
  enrichments: Record<string, Array<Record<string, ClairCvssEnrichment[]>>>;
}

/** One CVSS entry of the `clair.cvss` enrichment (NVD API 2.0 `cvssData` fields Quay reads). */
export interface ClairCvssEnrichment {
  version: string;
  vectorString: string;
  baseScore: number;
  baseSeverity: string;
}

/** The enrichment key Clair's CVSS enricher writes under. */
export const CLAIR_CVSS_ENRICHMENT =
  'message/vnd.clair.map.vulnerability; enricher=clair.cvss schema=https://csrc.nist.gov/schema/nvd/api/2.0/cve_api_json_2.0.schema';
