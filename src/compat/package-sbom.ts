import { createHash } from 'node:crypto';
import { apkPurl } from '../ecosystems/apk/apk-purl.ts';
import { dpkgPurl } from '../ecosystems/dpkg/dpkg-purl.ts';
import { rpmPurl } from '../ecosystems/rpm/rpm-purl.ts';
import type { ImageReport, ReportPackage } from '../matcher/image-report.ts';
import type { SbomMediaType } from './harbor-types.ts';

/** Who wrote the SBOM and what it describes. */
export interface SbomSubject {
  /** The repository name (`library/app`), the image's name in the document. */
  name: string;
  toolName: string;
  toolVersion: string;
}

/**
 * An SBOM of an image's packages (no vulnerabilities): CycloneDX 1.6 JSON or SPDX 2.3 JSON. Each
 * package once (by package id), with its purl when known and, as properties or source info, the
 * path it was found at and the layer that introduced it; the distribution as the operating
 * system. Identifiers are derived from the digest and the report time, so the same report gives
 * the same document.
 */
export function packageSbom(mediaType: SbomMediaType, report: ImageReport, subject: SbomSubject): Record<string, unknown> {
  return mediaType === 'application/spdx+json' ? spdx(report, subject) : cycloneDx(report, subject);
}

const OS_PURLS: Readonly<Record<string, typeof dpkgPurl>> = { dpkg: dpkgPurl, apk: apkPurl, rpm: rpmPurl };

/** Each package once, with a purl: its own, or for an OS package one made from the image's distribution. */
function uniquePackages(report: ImageReport): ReportPackage[] {
  const seen = new Set<string>();
  const d = report.image.distribution;
  const out: ReportPackage[] = [];
  for (const p of report.packages) {
    const id = String(p.id);
    if (seen.has(id)) continue;
    seen.add(id);
    const make = OS_PURLS[p.ecosystem];
    out.push(p.purl === null && make !== undefined && d !== null ? { ...p, purl: make({ name: p.name, version: p.version, ...(p.arch !== null ? { arch: p.arch } : {}) }, { did: d.did, ...(d.versionId !== null ? { versionId: d.versionId } : {}) }) } : p);
  }
  return out;
}

function cycloneDx(report: ImageReport, subject: SbomSubject): Record<string, unknown> {
  const d = report.image.distribution;
  const components: Record<string, unknown>[] = [];
  if (d !== null) components.push({ type: 'operating-system', 'bom-ref': 'os', name: d.did, ...(d.versionId ? { version: d.versionId } : {}) });
  for (const p of uniquePackages(report)) {
    const properties = [
      { name: 'lookout:package:ecosystem', value: p.ecosystem },
      { name: 'lookout:package:path', value: p.path },
      ...(p.introducedIn !== null ? [{ name: 'lookout:layer:digest', value: p.introducedIn }] : []),
      ...(p.sourceName !== null ? [{ name: 'lookout:package:source', value: `${p.sourceName} ${p.sourceVersion ?? ''}`.trim() }] : []),
    ];
    components.push({ type: 'library', 'bom-ref': `pkg-${String(p.id)}`, name: p.name, version: p.version, ...(p.purl !== null ? { purl: p.purl } : {}), properties });
  }
  return {
    $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: `urn:uuid:${uuidFrom(`${report.image.digest}\u0000${report.generatedAt}\u0000cdx`)}`,
    version: 1,
    metadata: {
      timestamp: report.generatedAt,
      tools: { components: [{ type: 'application', name: subject.toolName, version: subject.toolVersion }] },
      component: { type: 'container', 'bom-ref': 'image', name: subject.name, version: report.image.digest },
    },
    components,
    dependencies: [{ ref: 'image', dependsOn: components.map((c) => c['bom-ref'] as string) }],
  };
}

function spdx(report: ImageReport, subject: SbomSubject): Record<string, unknown> {
  const d = report.image.distribution;
  const packages: Record<string, unknown>[] = [
    {
      SPDXID: 'SPDXRef-Image',
      name: subject.name,
      versionInfo: report.image.digest,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      primaryPackagePurpose: 'CONTAINER',
      checksums: [{ algorithm: report.image.digest.startsWith('sha512:') ? 'SHA512' : 'SHA256', checksumValue: report.image.digest.slice(report.image.digest.indexOf(':') + 1) }],
    },
  ];
  const relationships: Record<string, string>[] = [{ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-Image' }];
  if (d !== null) {
    packages.push({ SPDXID: 'SPDXRef-OperatingSystem', name: d.did, versionInfo: d.versionId ?? 'NOASSERTION', downloadLocation: 'NOASSERTION', filesAnalyzed: false, primaryPackagePurpose: 'OPERATING-SYSTEM' });
    relationships.push({ spdxElementId: 'SPDXRef-Image', relationshipType: 'CONTAINS', relatedSpdxElement: 'SPDXRef-OperatingSystem' });
  }
  for (const p of uniquePackages(report)) {
    const id = `SPDXRef-Package-${String(p.id).replace(/[^A-Za-z0-9.-]/g, '-')}`;
    packages.push({
      SPDXID: id,
      name: p.name,
      versionInfo: p.version,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      primaryPackagePurpose: 'LIBRARY',
      sourceInfo: `found in ${p.path}${p.introducedIn !== null ? ` of layer ${p.introducedIn}` : ''}`,
      ...(p.purl !== null ? { externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p.purl }] } : {}),
    });
    relationships.push({ spdxElementId: 'SPDXRef-Image', relationshipType: 'CONTAINS', relatedSpdxElement: id });
  }
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${subject.name}@${report.image.digest}`,
    documentNamespace: `urn:uuid:${uuidFrom(`${report.image.digest}\u0000${report.generatedAt}\u0000spdx`)}`,
    creationInfo: { created: report.generatedAt.replace(/\.\d{3}Z$/, 'Z'), creators: [`Tool: ${subject.toolName}-${subject.toolVersion}`] },
    documentDescribes: ['SPDXRef-Image'],
    packages,
    relationships,
  };
}

/** An RFC 9562 version 8 (custom) UUID from a hash of `seed`. */
function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
