import type { FoundDistribution, FoundPackage } from '../scanner.ts';

/**
 * The package URL of an apk package once its distribution is known:
 * `pkg:apk/<ID>/<name>@<version>?arch=<arch>&distro=<ID>-<VERSION_ID>` (purl `apk` type, as
 * Alpine, Wolfi and Chainguard SBOMs write it). `distro` is left out without a VERSION_ID.
 */
export function apkPurl(pkg: Pick<FoundPackage, 'name' | 'version' | 'arch'>, dist: Pick<FoundDistribution, 'did' | 'versionId'>): string {
  const qualifiers: string[] = [];
  if (pkg.arch) qualifiers.push(`arch=${encodeURIComponent(pkg.arch)}`);
  if (dist.versionId) qualifiers.push(`distro=${encodeURIComponent(`${dist.did}-${dist.versionId}`)}`);
  const query = qualifiers.length > 0 ? `?${qualifiers.join('&')}` : '';
  return `pkg:apk/${encodeURIComponent(dist.did.toLowerCase())}/${encodeURIComponent(pkg.name)}@${encodeURIComponent(pkg.version)}${query}`;
}
