import type { FoundDistribution } from '../ecosystems/scanner.ts';
import { parseDigest, type Digest } from '../oci/digest.ts';
import { buildRemediation, type BaseImage, type Remediation } from '../remediation/build-remediation.ts';
import type { Finding, SuppressedFinding } from './finding.ts';
import type { MatchPackage, PackageId } from './match-input.ts';
import type { MatchResult, PackageExplanation, SuppressionCount } from './match-packages.ts';
import { emptySuppressed, summarize, type ReportSummary, type ReportSuppressionReason } from './report-summary.ts';
import { compareText } from './compare-text.ts';

export { summarize, type ReportSummary } from './report-summary.ts';
export { failOn, filterFindings, filterReport, isFixable, parseSeverity, parseSeverityList, type FailOnDecision, type FindingFilter } from './report-filter.ts';

/** The version of the report document's shape; bumped on any incompatible change. */
export const REPORT_SCHEMA_VERSION = 1;

/** An image platform (OCI field names). */
export interface ReportPlatform {
  os: string;
  architecture: string;
  variant?: string;
}

/** The distribution as the report shows it, with the release key its advisories were taken from. */
export interface ReportDistribution {
  did: string;
  name: string | null;
  versionId: string | null;
  versionCodename: string | null;
  prettyName: string | null;
  /** The release key matched against (`debian:bookworm`), null when no feed covers it. */
  key: string | null;
}

/** One package of the report. */
export interface ReportPackage {
  id: PackageId;
  ecosystem: string;
  name: string;
  version: string;
  sourceName: string | null;
  sourceVersion: string | null;
  arch: string | null;
  module: string | null;
  vendor: string | null;
  purl: string | null;
  path: string;
  /** Digest of the layer that introduced it, null when unknown. */
  introducedIn: string | null;
  ownerPackageId: PackageId | null;
}

/** The vulnerability report of one image manifest: what the API serves and `lookout scan --format json` writes. */
export interface ImageReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  kind: 'image';
  image: {
    digest: Digest;
    mediaType: string;
    /** The reference it was asked for (`registry/repo:tag`), when known. */
    reference: string | null;
    platform: ReportPlatform | null;
    distribution: ReportDistribution | null;
    /** Layer digests, base first, when known (for grouping by introducing layer). */
    layers: string[];
  };
  generatedAt: string;
  vulnerabilityDatabase: { generation: number };
  matcher: { name: string; version: string };
  packages: ReportPackage[];
  /** The findings, those an operator decision suppressed left out. */
  findings: Finding[];
  /**
   * Findings left out by a VEX statement or an exception, each with its `suppression`. Kept in
   * the stored report; shown only when asked (`?suppressed=include`, VEX exports); absent otherwise.
   */
  suppressedFindings?: SuppressedFinding[];
  /** Counts over `findings` (suppressed ones are only counted under `suppressed`). */
  summary: ReportSummary;
  /** Package upgrades that fix the findings, and whether the base image or the image's own layers bring them. */
  remediation: Remediation;
  notes: string[];
  /** Per package: how it was matched and the records checked that gave no finding (absent unless asked). */
  explain?: PackageExplanation[];
}

/** The report of an image index: one report per platform manifest. */
export interface IndexReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  kind: 'index';
  index: { digest: Digest; mediaType: string; reference: string | null };
  generatedAt: string;
  vulnerabilityDatabase: { generation: number };
  manifests: ImageReport[];
  /** Counts over the distinct (vulnerability, package name, version, ecosystem) of all platforms. */
  summary: ReportSummary;
  notes: string[];
}

/** What {@link buildImageReport} needs. */
export interface ImageReportInput {
  image: { digest: string; mediaType: string; reference?: string | null; platform?: ReportPlatform | null; layers?: readonly string[] };
  distribution: FoundDistribution | null;
  packages: readonly MatchPackage[];
  match: MatchResult;
  /** The vulnerability database generation the match was made against. */
  generation: number;
  generatedAt: Date | string;
  /** More notes (indexing, the plan), shown before the matcher's. */
  notes?: readonly string[];
  /** Keep the per-package explanation (records checked and why they did not apply). */
  explain?: boolean;
  /** Findings an operator decision suppressed (already taken out of `match.findings`). */
  suppressedFindings?: readonly SuppressedFinding[];
  /** The known image this one was built on, for the remediation's base/own split. */
  base?: BaseImage | null;
}

const MAX_NOTES = 200;

/**
 * Builds the report document of one image. Throws on an invalid digest or generation (callers
 * pass what they stored); everything else is copied as given, packages sorted by path and name,
 * findings in the matcher's order, notes without duplicates (at most 200).
 */
export function buildImageReport(input: ImageReportInput): ImageReport {
  const digest = parseDigest(input.image.digest, 'image digest');
  if (!Number.isSafeInteger(input.generation) || input.generation < 0) throw new RangeError('vulnerability database generation must be a non-negative integer');
  const generatedAt = toIso(input.generatedAt);
  const dist = input.distribution;
  const packages = input.packages.map(reportPackage).sort((a, b) => compareText(a.path, b.path) || compareText(a.name, b.name) || compareText(a.version, b.version));
  const report: ImageReport = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'image',
    image: {
      digest,
      mediaType: input.image.mediaType,
      reference: input.image.reference ?? null,
      platform: input.image.platform ? platform(input.image.platform) : null,
      distribution: dist === null
        ? null
        : {
            did: dist.did,
            name: dist.name ?? null,
            versionId: dist.versionId ?? null,
            versionCodename: dist.versionCodename ?? null,
            prettyName: dist.prettyName ?? null,
            key: input.match.distribution?.keys[0] ?? null,
          },
      layers: [...(input.image.layers ?? [])],
    },
    generatedAt,
    vulnerabilityDatabase: { generation: input.generation },
    matcher: { ...input.match.matcher },
    packages,
    findings: input.match.findings,
    suppressedFindings: [...(input.suppressedFindings ?? [])],
    summary: summarize(input.match.findings, packages.length, { ...input.match.suppressed, ...decisionCounts(input.suppressedFindings ?? []) }),
    remediation: buildRemediation({ findings: input.match.findings, packages, layers: input.image.layers ?? [], base: input.base ?? null }),
    notes: uniqueNotes([...(input.notes ?? []), ...input.match.notes]),
  };
  if (input.explain === true) report.explain = input.match.explanations;
  return report;
}

/** The `vex` and `exception` suppression counts: findings, and the distinct packages they are in. */
export function decisionCounts(suppressed: readonly SuppressedFinding[]): Record<'vex' | 'exception', SuppressionCount> {
  const out = { vex: { packages: 0, findings: 0 }, exception: { packages: 0, findings: 0 } };
  const packages = { vex: new Set<string>(), exception: new Set<string>() };
  for (const f of suppressed) {
    out[f.suppression.by].findings++;
    packages[f.suppression.by].add(String(f.packageId));
  }
  out.vex.packages = packages.vex.size;
  out.exception.packages = packages.exception.size;
  return out;
}

/** The report of an index from its platforms' reports (in the order given). */
export function buildIndexReport(input: { digest: string; mediaType: string; reference?: string | null; generation: number; generatedAt: Date | string; manifests: readonly ImageReport[]; notes?: readonly string[] }): IndexReport {
  const digest = parseDigest(input.digest, 'index digest');
  const distinct = new Map<string, Finding>();
  let packages = 0;
  const suppressed = emptySuppressed();
  for (const m of input.manifests) {
    packages += m.packages.length;
    for (const f of m.findings) distinct.set(`${f.vulnerability}\u0000${f.package.ecosystem}\u0000${f.package.name}\u0000${f.package.version}`, f);
    for (const [reason, count] of Object.entries(m.summary.suppressed) as Array<[ReportSuppressionReason, SuppressionCount]>) {
      if (!Object.hasOwn(suppressed, reason)) continue;
      suppressed[reason].packages += count.packages;
      if (count.findings !== null) suppressed[reason].findings = (suppressed[reason].findings ?? 0) + count.findings;
    }
  }
  const summary = summarize([...distinct.values()], packages, suppressed);
  summary.packages.vulnerable = input.manifests.reduce((n, m) => n + m.summary.packages.vulnerable, 0);
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'index',
    index: { digest, mediaType: input.mediaType, reference: input.reference ?? null },
    generatedAt: toIso(input.generatedAt),
    vulnerabilityDatabase: { generation: input.generation },
    manifests: [...input.manifests],
    summary,
    notes: uniqueNotes(input.notes ?? []),
  };
}

function reportPackage(p: MatchPackage): ReportPackage {
  return {
    id: p.id,
    ecosystem: p.ecosystem,
    name: p.name,
    version: p.version,
    sourceName: p.sourceName ?? null,
    sourceVersion: p.sourceVersion ?? null,
    arch: p.arch ?? null,
    module: p.module ?? null,
    vendor: p.vendor ?? null,
    purl: p.purl ?? null,
    path: p.path,
    introducedIn: p.introducedIn ?? null,
    ownerPackageId: p.ownerPackageId ?? null,
  };
}

function platform(p: ReportPlatform): ReportPlatform {
  const out: ReportPlatform = { os: p.os, architecture: p.architecture };
  if (p.variant) out.variant = p.variant;
  return out;
}

function toIso(at: Date | string): string {
  const d = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(d.getTime())) throw new RangeError(`generatedAt ${JSON.stringify(String(at)).slice(0, 60)} is not a time`);
  return d.toISOString();
}

function uniqueNotes(notes: readonly string[]): string[] {
  return [...new Set(notes.map((n) => n.trim()).filter((n) => n !== ''))].slice(0, MAX_NOTES);
}
