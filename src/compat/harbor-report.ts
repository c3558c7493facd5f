import { SEVERITIES, type Severity } from '../ecosystems/vulnerability-record.ts';
import type { Finding, FindingCvss } from '../matcher/finding.ts';
import type { ImageReport } from '../matcher/image-report.ts';
import type { HarborArtifact, HarborCvss, HarborScanner, HarborVulnerabilityItem, HarborVulnerabilityReport } from './harbor-types.ts';

/**
 * Harbor's vulnerability report (the `version=1.1` report, same shape as harbor+json 1.0) from
 * Lookout's image report: one item per (vulnerability, package, version) — the first, most
 * relevant finding when a package appears at several paths — with the fixed version (empty when
 * none), normalized severity, links, preferred CVSS (v3 and v2 scores and vectors) and, as vendor
 * attributes, every CVSS by source as Harbor shows them (`CVSS: {source: {V3Score, V3Vector, …}}`),
 * the finding state and the layer that introduced the package. The report severity is the highest
 * item severity (`Unknown` when there are none, as the spec's enum has no "none").
 */
export function harborVulnerabilityReport(report: ImageReport, artifact: HarborArtifact, scanner: HarborScanner): HarborVulnerabilityReport {
  const seen = new Set<string>();
  const items: HarborVulnerabilityItem[] = [];
  const layerOf = new Map(report.packages.map((p) => [String(p.id), p.introducedIn]));
  for (const f of report.findings) {
    const key = `${f.vulnerability}\u0000${f.package.name}\u0000${f.package.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    items.push(itemOf(f, layerOf.get(String(f.packageId)) ?? null));
  }
  let highest: Severity = 'Unknown';
  for (const item of items) if (SEVERITIES.indexOf(item.severity) > SEVERITIES.indexOf(highest)) highest = item.severity;
  return {
    generated_at: report.generatedAt,
    artifact,
    scanner,
    severity: highest,
    vulnerabilities: items,
  };
}

function itemOf(f: Finding, layer: string | null): HarborVulnerabilityItem {
  const preferred: HarborCvss = {};
  if (f.cvss.v3 !== null) {
    preferred.score_v3 = f.cvss.v3.score;
    preferred.vector_v3 = f.cvss.v3.vector;
  }
  if (f.cvss.v2 !== null) {
    preferred.score_v2 = f.cvss.v2.score;
    preferred.vector_v2 = f.cvss.v2.vector;
  }
  const vendor: Record<string, unknown> = { state: f.state };
  if (f.stateReason !== null) vendor.stateReason = f.stateReason;
  if (f.vendorSeverity !== null) vendor.vendorSeverity = f.vendorSeverity;
  if (f.aliases.length > 0) vendor.aliases = f.aliases;
  if (layer !== null) vendor.layer = layer;
  const cvss = cvssBySource([f.cvss.v2, f.cvss.v3, f.cvss.v4]);
  if (Object.keys(cvss).length > 0) vendor.CVSS = cvss;
  const item: HarborVulnerabilityItem = {
    id: f.vulnerability,
    package: f.package.name,
    version: f.package.version,
    fix_version: f.fixedVersion ?? '',
    severity: f.severity,
    description: f.description ?? '',
    links: f.links.filter((l) => /^https?:\/\//i.test(l)),
    cwe_ids: [],
    vendor_attributes: vendor,
  };
  if (Object.keys(preferred).length > 0) item.preferred_cvss = preferred;
  return item;
}

function cvssBySource(scores: ReadonlyArray<FindingCvss | null>): Record<string, Record<string, string | number>> {
  const out: Record<string, Record<string, string | number>> = {};
  for (const c of scores) {
    if (c === null) continue;
    const entry = (out[c.source] ??= {});
    const v = c.version === '2.0' ? 'V2' : c.version === '4.0' ? 'V40' : 'V3';
    entry[`${v}Score`] = c.score;
    entry[`${v}Vector`] = c.vector;
  }
  return out;
}
