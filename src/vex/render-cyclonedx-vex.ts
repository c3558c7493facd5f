import { SEVERITIES } from '../ecosystems/vulnerability-record.ts';
import type { ImageReport, IndexReport } from '../matcher/image-report.ts';
import { CYCLONEDX_SCHEMA, type CdxProperty, type CdxSeverity } from '../matcher/format/cyclonedx.ts';
import { exportStatements, imagePurl, imagesOf, uuidUrn, type VexExportOptions } from './export-decisions.ts';
import { toCycloneDxJustification } from './vex-vocabulary.ts';

/** A component of the VEX BOM: an image (container) holding its packages. */
export interface CdxVexComponent {
  type: 'container' | 'library';
  'bom-ref': string;
  name: string;
  version: string;
  purl: string;
  components?: CdxVexComponent[];
}

/** A vulnerability of the VEX BOM with its analysis. */
export interface CdxVexVulnerability {
  'bom-ref': string;
  id: string;
  references?: Array<{ id: string; source: { name: string } }>;
  ratings: Array<{ severity: CdxSeverity; method: 'other'; source?: { name: string } }>;
  analysis: { state: string; justification?: string; response?: string[]; detail?: string };
  affects: Array<{ ref: string }>;
  properties?: CdxProperty[];
}

/** A CycloneDX 1.6 VEX BOM. */
export interface CdxVexBom {
  $schema: string;
  bomFormat: 'CycloneDX';
  specVersion: '1.6';
  serialNumber: string;
  version: number;
  metadata: { timestamp: string; tools: { components: Array<{ type: 'application'; name: string; version?: string }> }; component: CdxVexComponent };
  components: CdxVexComponent[];
  vulnerabilities: CdxVexVulnerability[];
}

const CDX_SEVERITY: Readonly<Record<(typeof SEVERITIES)[number], CdxSeverity>> = { Critical: 'critical', High: 'high', Medium: 'medium', Low: 'low', Negligible: 'info', Unknown: 'unknown' };

/**
 * The decisions of an image report (or an index's) as a CycloneDX 1.6 VEX: the image as the
 * metadata component (for an index, each platform image as a container component), the affected
 * packages as components nested in their image, and one vulnerability per finding with its
 * analysis — `exploitable` (response `update` when a fix exists, `will_not_fix` for an accepted
 * exception, with who, until when and why), `in_triage`, `not_affected` (the VEX justification in
 * CycloneDX words, the impact statement as detail) or `resolved` (a VEX `fixed`). Importing it
 * back applies the same decisions.
 */
export function renderCycloneDxVex(report: ImageReport | IndexReport, options: VexExportOptions & { tool?: string; toolVersion?: string } = {}): CdxVexBom {
  const statements = exportStatements(report, options);
  const images = imagesOf(report);
  const digest = report.kind === 'index' ? report.index.digest : report.image.digest;
  const reference = report.kind === 'index' ? report.index.reference : report.image.reference;
  const top: CdxVexComponent = { type: 'container', 'bom-ref': 'image', name: reference ?? digest, version: digest, purl: imagePurl(digest, reference, options) };
  const containers = new Map<string, CdxVexComponent>();
  images.forEach((image, i) => {
    const c: CdxVexComponent = report.kind === 'index'
      ? { type: 'container', 'bom-ref': `image-${i + 1}`, name: image.image.reference ?? image.image.digest, version: image.image.digest, purl: imagePurl(image.image.digest, image.image.reference ?? reference, options) }
      : top;
    containers.set(image.image.digest, c);
  });
  const refs = new Map<string, string>();
  const vulnerabilities: CdxVexVulnerability[] = [];
  statements.forEach((s, i) => {
    const container = containers.get(s.imageDigest)!;
    const key = `${s.imageDigest}\u0000${s.packagePurl}`;
    let ref = refs.get(key);
    if (ref === undefined) {
      ref = `${container['bom-ref']}/pkg-${refs.size + 1}`;
      refs.set(key, ref);
      (container.components ??= []).push({ type: 'library', 'bom-ref': ref, name: s.finding.package.name, version: s.finding.package.version, purl: s.packagePurl });
    }
    let analysis: CdxVexVulnerability['analysis'];
    if (s.status === 'not_affected') {
      const justification = toCycloneDxJustification(s.justification);
      analysis = { state: 'not_affected', ...(justification ? { justification } : {}), ...(s.impactStatement ? { detail: s.impactStatement } : {}) };
    } else if (s.status === 'fixed') {
      analysis = { state: 'resolved', ...(s.actionStatement ? { detail: s.actionStatement } : {}) };
    } else if (s.status === 'under_investigation') {
      analysis = { state: 'in_triage', ...(s.impactStatement ? { detail: s.impactStatement } : {}) };
    } else {
      analysis = { state: 'exploitable', ...(s.responses.length > 0 ? { response: s.responses } : {}), ...(s.actionStatement ? { detail: s.actionStatement } : {}) };
    }
    const v: CdxVexVulnerability = {
      'bom-ref': `vex-${i + 1}`,
      id: s.finding.vulnerability,
      ratings: [{ severity: CDX_SEVERITY[s.finding.severity], method: 'other', source: { name: s.finding.source.updater } }],
      analysis,
      affects: [{ ref }],
    };
    if (s.finding.aliases.length > 0) v.references = s.finding.aliases.map((id) => ({ id, source: { name: id.split('-')[0] ?? id } }));
    const properties = [
      s.suppressed ? { name: 'lookout:suppression:by', value: s.suppressed.by } : null,
      s.suppressed ? { name: 'lookout:suppression:id', value: s.suppressed.id } : null,
      s.suppressed?.expires ? { name: 'lookout:suppression:expires', value: s.suppressed.expires } : null,
      s.finding.fixedVersion ? { name: 'lookout:fixedVersion', value: s.finding.fixedVersion } : null,
    ].filter((p): p is CdxProperty => p !== null);
    if (properties.length > 0) v.properties = properties;
    vulnerabilities.push(v);
  });
  const components = report.kind === 'index' ? [...containers.values()] : (top.components ?? []);
  const metadataComponent: CdxVexComponent = { ...top };
  delete metadataComponent.components;
  return {
    $schema: CYCLONEDX_SCHEMA,
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: uuidUrn(`cyclonedx-vex\u0000${digest}\u0000${report.vulnerabilityDatabase.generation}\u0000${report.generatedAt}`),
    version: 1,
    metadata: { timestamp: report.generatedAt, tools: { components: [{ type: 'application', name: options.tool ?? 'lookout', ...(options.toolVersion ? { version: options.toolVersion } : {}) }] }, component: metadataComponent },
    components,
    vulnerabilities,
  };
}
