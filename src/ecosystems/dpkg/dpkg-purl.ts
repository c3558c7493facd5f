import type { FoundDistribution, FoundPackage } from '../scanner.ts';

/**
 * The package URL of a dpkg package once its distribution is known (the image view knows it; a
 * single layer often does not): `pkg:deb/<ID>/<name>@<version>?arch=<arch>&distro=<ID>-<VERSION_ID>`
 * per the purl `deb` type, the epoch's `:` percent-encoded. `distro` is left out without a VERSION_ID.
 */
export function dpkgPurl(pkg: Pick<FoundPackage, 'name' | 'version' | 'arch'>, dist: Pick<FoundDistribution, 'did' | 'versionId'>): string {
  const qualifiers: string[] = [];
  if (pkg.arch) qualifiers.push(`arch=${encodeURIComponent(pkg.arch)}`);
  if (dist.versionId) qualifiers.push(`distro=${encodeURIComponent(`${dist.did}-${dist.versionId}`)}`);
  const query = qualifiers.length > 0 ? `?${qualifiers.join('&')}` : '';
  return `pkg:deb/${encodeURIComponent(dist.did.toLowerCase())}/${encodeURIComponent(pkg.name)}@${encodeURIComponent(pkg.version)}${query}`;
}
