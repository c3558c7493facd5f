import type { Severity } from '../ecosystems/vulnerability-record.ts';

/** Media types of the Harbor pluggable scanner API (spec v1.2). */
export const HARBOR_MEDIA_TYPES = {
  metadata: 'application/vnd.scanner.adapter.metadata+json',
  scanResponse: 'application/vnd.scanner.adapter.scan.response+json; version=1.0',
  error: 'application/vnd.scanner.adapter.error+json; version=1.0',
  vulnerabilityReport: 'application/vnd.security.vulnerability.report; version=1.1',
  harborReport: 'application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0',
  sbomReport: 'application/vnd.security.sbom.report+json; version=1.0',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  spdx: 'application/spdx+json',
  cyclonedx: 'application/vnd.cyclonedx+json',
} as const;

/** The report media types this adapter produces for the `vulnerability` capability. */
export const VULNERABILITY_REPORT_TYPES = [HARBOR_MEDIA_TYPES.vulnerabilityReport, HARBOR_MEDIA_TYPES.harborReport] as const;
/** The artifact media types it consumes. */
export const CONSUMED_TYPES = [HARBOR_MEDIA_TYPES.ociManifest, HARBOR_MEDIA_TYPES.dockerManifest] as const;
/** The SBOM formats it writes. */
export const SBOM_MEDIA_TYPES = [HARBOR_MEDIA_TYPES.spdx, HARBOR_MEDIA_TYPES.cyclonedx] as const;
/** One of {@link SBOM_MEDIA_TYPES}. */
export type SbomMediaType = (typeof SBOM_MEDIA_TYPES)[number];

/** `Scanner` of the spec. */
export interface HarborScanner {
  name: string;
  vendor: string;
  version: string;
}

/** `ScannerAdapterMetadata`. */
export interface HarborMetadata {
  scanner: HarborScanner;
  capabilities: Array<{
    type: 'vulnerability' | 'sbom';
    consumes_mime_types: string[];
    produces_mime_types: string[];
    additional_attributes?: { sbom_media_types: string[] };
  }>;
  properties: Record<string, string>;
}

/** A validated `ScanRequest`. */
export interface HarborScanRequest {
  registry: { url: string; authorization: string | null };
  artifact: { repository: string; digest: string; tag: string | null; mimeType: string | null };
  /** The capabilities asked for (all when Harbor sent none). */
  capabilities: Array<{ type: 'vulnerability' | 'sbom'; producesMimeTypes: string[] | null; sbomMediaTypes: string[] | null }>;
}

/** `Artifact` as reports echo it. */
export interface HarborArtifact {
  repository: string;
  digest: string;
  mime_type?: string;
}

/** `CVSSDetails`. */
export interface HarborCvss {
  score_v3?: number;
  score_v2?: number;
  vector_v3?: string;
  vector_v2?: string;
}

/** `VulnerabilityItem`. */
export interface HarborVulnerabilityItem {
  id: string;
  package: string;
  version: string;
  fix_version: string;
  severity: Severity;
  description: string;
  links: string[];
  preferred_cvss?: HarborCvss;
  cwe_ids: string[];
  vendor_attributes: Record<string, unknown>;
}

/** `HarborVulnerabilityReport` (the 1.1 report and the harbor+json 1.0 one have this shape). */
export interface HarborVulnerabilityReport {
  generated_at: string;
  artifact: HarborArtifact;
  scanner: HarborScanner;
  severity: Severity;
  vulnerabilities: HarborVulnerabilityItem[];
}

/** `HarborSbomReport`. */
export interface HarborSbomReport {
  generated_at: string;
  artifact: HarborArtifact;
  scanner: HarborScanner;
  vendor_attributes: Record<string, unknown>;
  media_type: SbomMediaType;
  sbom: Record<string, unknown>;
}
