import { createHash } from 'node:crypto';
import { severityFromCvss } from '../../ecosystems/cvss/score-cvss-vector.ts';
import type { FindingState, Severity } from '../../ecosystems/vulnerability-record.ts';
import type { Finding, FindingCvss, RecordCheck } from '../finding.ts';
import type { ImageReport, IndexReport, ReportPackage } from '../image-report.ts';

/** CycloneDX severities. */
export type CdxSeverity = 'critical' | 'high' | 'medium' | 'low' | 'info' | 'none' | 'unknown';
/** CycloneDX rating methods this renderer writes. */
export type CdxMethod = 'CVSSv2' | 'CVSSv3' | 'CVSSv31' | 'CVSSv4' | 'other';
/** CycloneDX impact analysis states. */
export type CdxAnalysisState = 'resolved' | 'resolved_with_pedigree' | 'exploitable' | 'in_triage' | 'false_positive' | 'not_affected';
export type CdxJustification =
  | 'code_not_present' | 'code_not_reachable' | 'requires_configuration' | 'requires_dependency' | 'requires_environment'
  | 'protected_by_compiler' | 'protected_at_runtime' | 'protected_at_perimeter' | 'protected_by_mitigating_control';
export type CdxResponse = 'can_not_fix' | 'will_not_fix' | 'update' | 'rollback' | 'workaround_available';

export interface CdxProperty {
  name: string;
  value: string;
}

export interface CdxComponent {
  type: 'container' | 'operating-system' | 'library' | 'application';
  'bom-ref': string;
  name: string;
  version?: string;
  purl?: string;
  properties?: CdxProperty[];
}

export interface CdxRating {
  source?: { name: string; url?: string };
  score?: number;
  severity: CdxSeverity;
  method: CdxMethod;
  vector?: string;
}

export interface CdxVulnerability {
  'bom-ref': string;
  id: string;
  source?: { name: string; url?: string };
  references?: Array<{ id: string; source: { name: string; url?: string } }>;
  ratings: CdxRating[];
  description?: string;
  recommendation?: string;
  advisories?: Array<{ url: string }>;
  published?: string;
  affects: Array<{ ref: string; versions: Array<{ version: string; status: 'affected' | 'unaffected' | 'unknown' }> }>;
  analysis: { state: CdxAnalysisState; justification?: CdxJustification; response?: CdxResponse[]; detail?: string };
  properties?: CdxProperty[];
}

/** The parts of a CycloneDX 1.6 BOM this renderer writes. */
export interface CdxBom {
  $schema: string;
  bomFormat: 'CycloneDX';
  specVersion: '1.6';
  serialNumber: string;
  version: number;
  metadata: { timestamp: string; tools: { components: CdxComponent[] }; component: CdxComponent; properties: CdxProperty[] };
  components: CdxComponent[];
  vulnerabilities: CdxVulnerability[];
}

export const CYCLONEDX_SCHEMA = 'http://cyclonedx.org/schema/bom-1.6.schema.json';

const CDX_SEVERITY: Readonly<Record<Severity, CdxSeverity>> = { Critical: 'critical', High: 'high', Medium: 'medium', Low: 'low', Negligible: 'info', Unknown: 'unknown' };
const METHOD: Readonly<Record<FindingCvss['version'], CdxMethod>> = { '2.0': 'CVSSv2', '3.0': 'CVSSv3', '3.1': 'CVSSv31', '4.0': 'CVSSv4' };

/** CSAF VEX flags (as Red Hat writes them in `stateReason`) → CycloneDX justifications. */
const JUSTIFICATION: Readonly<Record<string, CdxJustification>> = {
  component_not_present: 'code_not_present',
  vulnerable_code_not_present: 'code_not_present',
  vulnerable_code_not_in_execute_path: 'code_not_reachable',
  vulnerable_code_cannot_be_controlled_by_adversary: 'protected_by_mitigating_control',
  inline_mitigations_already_exist: 'protected_by_mitigating_control',
};

/**
 * A CycloneDX 1.6 JSON BOM with vulnerabilities (a VEX-capable BOM) of a report: the image as the
 * metadata component, the distribution and every package as components (with purls when known,
 * the package path, layer and ecosystem as properties), one vulnerability per finding with its
 * ratings (vendor, CVSS by version), references (aliases), advisories (links), what it affects and
 * an analysis — affected findings are `exploitable` (`update` when a fix exists, `will_not_fix`,
 * `can_not_fix` for end of life), under investigation `in_triage`; with the report's explanation,
 * the vendors' not-affected statements are added as `not_affected` with their justification.
 * The serial number is derived from the image digest, generation and time, so the same report
 * gives the same BOM.
 */
export function renderCycloneDx(report: ImageReport | IndexReport): CdxBom {
  const images = report.kind === 'index' ? report.manifests : [report];
  const digest = report.kind === 'index' ? report.index.digest : report.image.digest;
  const reference = report.kind === 'index' ? report.index.reference : report.image.reference;
  const components: CdxComponent[] = [];
  const vulnerabilities: CdxVulnerability[] = [];
  images.forEach((image, m) => {
    const prefix = images.length > 1 ? `m${m}/` : '';
    const d = image.image.distribution;
    if (d !== null) {
      const os: CdxComponent = { type: 'operating-system', 'bom-ref': `${prefix}os`, name: d.did };
      if (d.versionId) os.version = d.versionId;
      const props = [prop('lookout:distribution:key', d.key), prop('lookout:platform', platformOf(image))].filter((p): p is CdxProperty => p !== null);
      if (props.length > 0) os.properties = props;
      components.push(os);
    }
    const refOf = new Map<string, string>();
    for (const p of image.packages) {
      const ref = `${prefix}pkg-${String(p.id)}`;
      refOf.set(String(p.id), ref);
      components.push(component(p, ref));
    }
    image.findings.forEach((f, i) => vulnerabilities.push(vulnerability(f, `${prefix}vuln-${i + 1}`, refOf.get(String(f.packageId)) ?? `${prefix}pkg-${String(f.packageId)}`)));
    let n = 0;
    const byId = new Map(image.packages.map((p) => [String(p.id), p]));
    for (const e of image.explain ?? []) {
      const p = byId.get(String(e.packageId));
      if (p === undefined) continue;
      const seen = new Set<string>();
      for (const c of e.checks) {
        if (c.verdict !== 'not-affected' || seen.has(c.vulnerability)) continue;
        seen.add(c.vulnerability);
        vulnerabilities.push(notAffected(c, `${prefix}vex-${++n}`, refOf.get(String(p.id))!, p));
      }
    }
  });
  const version = report.kind === 'index' ? (report.manifests[0]?.matcher.version ?? '0') : report.matcher.version;
  const metadata: CdxBom['metadata'] = {
    timestamp: report.generatedAt,
    tools: { components: [{ type: 'application', 'bom-ref': 'tool-lookout', name: 'lookout', version }] },
    component: { type: 'container', 'bom-ref': 'image', name: reference ?? digest, version: digest },
    properties: [{ name: 'lookout:vulnerabilityDatabase:generation', value: String(report.vulnerabilityDatabase.generation) }],
  };
  return {
    $schema: CYCLONEDX_SCHEMA,
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: serialNumber(`${digest}\u0000${report.generatedAt}\u0000${report.vulnerabilityDatabase.generation}`),
    version: 1,
    metadata,
    components,
    vulnerabilities,
  };
}

/** A `urn:uuid:` from a hash of `seed` (an RFC 9562 version 8, i.e. custom, UUID). */
function serialNumber(seed: string): string {
  const h = createHash('sha256').update(seed).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function platformOf(image: ImageReport): string | null {
  const p = image.image.platform;
  return p ? [p.os, p.architecture, p.variant].filter(Boolean).join('/') : null;
}

function prop(name: string, value: string | null | undefined): CdxProperty | null {
  return value === null || value === undefined || value === '' ? null : { name, value };
}

function component(p: ReportPackage, ref: string): CdxComponent {
  const out: CdxComponent = { type: 'library', 'bom-ref': ref, name: p.name, version: p.version };
  if (p.purl && p.purl.startsWith('pkg:')) out.purl = p.purl;
  out.properties = [
    prop('lookout:package:ecosystem', p.ecosystem),
    prop('lookout:package:path', p.path),
    prop('lookout:package:layer', p.introducedIn),
    prop('lookout:package:sourceName', p.sourceName),
    prop('lookout:package:sourceVersion', p.sourceVersion),
    prop('lookout:package:arch', p.arch),
    prop('lookout:package:module', p.module),
  ].filter((x): x is CdxProperty => x !== null);
  return out;
}

function referenceSource(id: string): { name: string; url?: string } {
  if (/^CVE-/i.test(id)) return { name: 'NVD', url: `https://nvd.nist.gov/vuln/detail/${id}` };
  if (/^GHSA-/i.test(id)) return { name: 'GitHub', url: `https://github.com/advisories/${id}` };
  return { name: id.split('-')[0] ?? id };
}

function analysis(state: FindingState, stateReason: string | null, fixedVersion: string | null): CdxVulnerability['analysis'] {
  const reason = stateReason ? `: ${stateReason}` : '';
  switch (state) {
    case 'fixed':
      return { state: 'exploitable', response: ['update'], detail: fixedVersion ? `fixed in ${fixedVersion}` : `fixed${reason}` };
    case 'will_not_fix':
      return { state: 'exploitable', response: ['will_not_fix'], detail: `the vendor will not fix it${reason}` };
    case 'end_of_life':
      return { state: 'exploitable', response: ['can_not_fix'], detail: `the release is at end of life${reason}` };
    case 'fix_deferred':
      return { state: 'exploitable', detail: `the vendor deferred the fix${reason}` };
    case 'under_investigation':
      return { state: 'in_triage', detail: `under investigation${reason}` };
    case 'not_affected':
      return { state: 'not_affected', detail: `not affected${reason}` };
    default:
      return { state: 'exploitable', detail: `no fix yet${reason}` };
  }
}

function ratings(f: Finding): CdxRating[] {
  const out: CdxRating[] = [{ source: { name: f.source.updater }, severity: CDX_SEVERITY[f.severity], method: 'other' }];
  for (const c of [f.cvss.v4, f.cvss.v3, f.cvss.v2]) {
    if (c === null) continue;
    const s = severityFromCvss(c);
    out.push({ source: { name: c.source }, score: c.score, severity: c.score === 0 ? 'none' : CDX_SEVERITY[s], method: METHOD[c.version], vector: c.vector });
  }
  return out;
}

function vulnerability(f: Finding, ref: string, affects: string): CdxVulnerability {
  const out: CdxVulnerability = {
    'bom-ref': ref,
    id: f.vulnerability,
    source: { name: f.source.updater },
    ratings: ratings(f),
    affects: [{ ref: affects, versions: [{ version: f.package.version, status: 'affected' }] }],
    analysis: analysis(f.state, f.stateReason, f.fixedVersion),
  };
  const link = f.links.find((l) => /^https?:\/\//.test(l));
  if (link) out.source!.url = link;
  if (f.aliases.length > 0) out.references = f.aliases.map((id) => ({ id, source: referenceSource(id) }));
  if (f.description) out.description = f.description;
  if (f.fixedVersion !== null && f.state === 'fixed') out.recommendation = `Upgrade ${f.package.name} to ${f.fixedVersion} or later.`;
  const advisories = f.links.filter((l) => /^https?:\/\//.test(l)).map((url) => ({ url }));
  if (advisories.length > 0) out.advisories = advisories;
  if (f.publishedAt) out.published = f.publishedAt;
  const properties = [
    prop('lookout:fixedVersion', f.fixedVersion),
    prop('lookout:vendorSeverity', f.vendorSeverity),
    prop('lookout:severitySource', f.severitySource),
    prop('lookout:epss:score', f.epss ? String(f.epss.score) : null),
    prop('lookout:epss:percentile', f.epss ? String(f.epss.percentile) : null),
    prop('lookout:kev', f.kev ? 'true' : null),
  ].filter((x): x is CdxProperty => x !== null);
  if (properties.length > 0) out.properties = properties;
  return out;
}

function notAffected(c: RecordCheck, ref: string, affects: string, p: ReportPackage): CdxVulnerability {
  const out: CdxVulnerability = {
    'bom-ref': ref,
    id: c.vulnerability,
    source: { name: c.updater },
    ratings: [{ source: { name: c.updater }, severity: 'unknown', method: 'other' }],
    affects: [{ ref: affects, versions: [{ version: p.version, status: 'unaffected' }] }],
    analysis: { state: 'not_affected', detail: c.detail },
  };
  const justification = c.stateReason ? JUSTIFICATION[c.stateReason.trim().toLowerCase()] : undefined;
  if (justification) out.analysis.justification = justification;
  return out;
}
