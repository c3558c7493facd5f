import { createHash } from 'node:crypto';
import type { Finding, SuppressedFinding, VexStatus } from '../matcher/finding.ts';
import type { ImageReport, IndexReport, ReportPackage } from '../matcher/image-report.ts';
import { isFixable } from '../matcher/report-filter.ts';
import { apkPurl } from '../ecosystems/apk/apk-purl.ts';
import { dpkgPurl } from '../ecosystems/dpkg/dpkg-purl.ts';
import { rpmPurl } from '../ecosystems/rpm/rpm-purl.ts';

/** Where the exported image lives, for its purl (`registry.example/team/app`), when known. */
export interface VexExportOptions {
  repository?: string | null;
}

/** One exported statement: a finding (or suppressed finding) of one package of one image. */
export interface ExportStatement {
  imageDigest: string;
  imagePurl: string;
  packagePurl: string;
  pkg: ReportPackage | undefined;
  finding: Finding;
  status: VexStatus;
  justification: string | null;
  impactStatement: string | null;
  actionStatement: string | null;
  /** The finding's analysis in CycloneDX terms (responses). */
  responses: Array<'can_not_fix' | 'will_not_fix' | 'update' | 'rollback' | 'workaround_available'>;
  suppressed: SuppressedFinding['suppression'] | null;
}

/** The image reports of a report (one, or an index's platforms). */
export function imagesOf(report: ImageReport | IndexReport): ImageReport[] {
  return report.kind === 'index' ? report.manifests : [report];
}

/**
 * The OCI purl of an image (`pkg:oci/app@sha256%3A…?repository_url=registry.example/team/app`):
 * named after the last segment of its repository (from `options.repository` or the report's
 * reference), `image` when none is known.
 */
export function imagePurl(digest: string, reference: string | null, options: VexExportOptions = {}): string {
  const repository = options.repository ?? repositoryOf(reference);
  const name = repository?.split('/').pop()?.toLowerCase() || 'image';
  const query = repository ? `?repository_url=${encodeURIComponent(repository)}` : '';
  return `pkg:oci/${encodeURIComponent(name)}@${encodeURIComponent(digest)}${query}`;
}

function repositoryOf(reference: string | null): string | null {
  if (!reference) return null;
  const at = reference.indexOf('@');
  let name = at >= 0 ? reference.slice(0, at) : reference;
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) name = name.slice(0, colon);
  return /^[A-Za-z0-9._:/-]+$/.test(name) ? name : null;
}

const OS_PURLS: Readonly<Record<string, typeof dpkgPurl>> = { dpkg: dpkgPurl, apk: apkPurl, rpm: rpmPurl };

/**
 * A package's purl: its own; for an OS package, one made from the image's distribution
 * (`pkg:apk/alpine/libssl3@3.1.4-r0?arch=x86_64&distro=alpine-3.19.1`); else a `pkg:generic` one.
 */
export function packagePurl(p: ReportPackage | undefined, f: Finding, distribution: ImageReport['image']['distribution'] = null): string {
  if (p?.purl && p.purl.startsWith('pkg:')) return p.purl;
  const make = OS_PURLS[f.package.ecosystem];
  if (make !== undefined && distribution !== null) {
    return make({ name: f.package.name, version: f.package.version, ...(p?.arch ? { arch: p.arch } : {}) }, { did: distribution.did, ...(distribution.versionId !== null ? { versionId: distribution.versionId } : {}) });
  }
  return `pkg:generic/${encodeURIComponent(f.package.name)}@${encodeURIComponent(f.package.version)}`;
}

/**
 * What a report says of each finding, as VEX: a finding is `affected` (with the upgrade, or why
 * there is none, as action) or `under_investigation`; a finding a VEX statement closed keeps that
 * statement's status (`not_affected` with its justification and impact statement, or `fixed`); a
 * finding an exception accepted is `affected`, the acceptance (who, until when, why) as action.
 * One statement per (image, vulnerability, package purl, status); the report must have been
 * filtered with `includeSuppressed` for the decisions to be in it.
 */
export function exportStatements(report: ImageReport | IndexReport, options: VexExportOptions = {}): ExportStatement[] {
  const out: ExportStatement[] = [];
  for (const image of imagesOf(report)) {
    const imageRef = imagePurl(image.image.digest, image.image.reference ?? (report.kind === 'index' ? report.index.reference : null), options);
    const packages = new Map(image.packages.map((p) => [String(p.id), p]));
    const seen = new Set<string>();
    const push = (s: Omit<ExportStatement, 'imageDigest' | 'imagePurl' | 'packagePurl' | 'pkg'>) => {
      const pkg = packages.get(String(s.finding.packageId));
      const purl = packagePurl(pkg, s.finding, image.image.distribution);
      const key = `${s.finding.vulnerability}\u0000${purl}\u0000${s.status}`;
      if (seen.has(key)) return;
      seen.add(key);
      out.push({ ...s, imageDigest: image.image.digest, imagePurl: imageRef, packagePurl: purl, pkg });
    };
    for (const f of image.findings) {
      if (f.state === 'under_investigation') {
        push({ finding: f, status: 'under_investigation', justification: null, impactStatement: f.vex?.impactStatement ?? f.stateReason, actionStatement: f.vex?.actionStatement ?? null, responses: [], suppressed: null });
        continue;
      }
      const fix = isFixable(f);
      const action = fix
        ? `Upgrade ${f.package.name} to ${f.fixedVersion} or later.`
        : f.state === 'will_not_fix'
          ? `The vendor will not fix it${f.stateReason ? ` (${f.stateReason})` : ''}.`
          : f.state === 'end_of_life'
            ? 'The release is at end of life; move to a supported release.'
            : 'No fixed version is available yet.';
      const responses: ExportStatement['responses'] = fix ? ['update'] : f.state === 'will_not_fix' ? ['will_not_fix'] : f.state === 'end_of_life' ? ['can_not_fix'] : [];
      push({ finding: f, status: 'affected', justification: null, impactStatement: null, actionStatement: f.vex?.actionStatement ? `${f.vex.actionStatement} ${action}` : action, responses, suppressed: null });
    }
    for (const f of image.suppressedFindings ?? []) {
      const s = f.suppression;
      if (s.by === 'vex') {
        const status = s.status ?? 'not_affected';
        push({
          finding: f,
          status,
          justification: status === 'not_affected' ? s.justification : null,
          impactStatement: status === 'not_affected' ? (s.reason ?? `Not affected, as VEX document ${s.id} states.`) : null,
          actionStatement: status === 'fixed' ? s.reason : null,
          responses: [],
          suppressed: s,
        });
      } else {
        push({
          finding: f,
          status: 'affected',
          justification: null,
          impactStatement: null,
          actionStatement: `Risk accepted by ${s.author ?? 'an operator'} until ${s.expires ?? 'further notice'} (exception ${s.id}): ${s.reason ?? 'no reason given'}`,
          responses: ['will_not_fix'],
          suppressed: s,
        });
      }
    }
  }
  return out;
}

/** A `urn:uuid:` from a hash of `seed` (RFC 9562 version 8). */
export function uuidUrn(seed: string): string {
  const h = createHash('sha256').update(seed).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
