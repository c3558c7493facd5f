import type { FoundDistribution, FoundPackage } from '../scanner.ts';

/**
 * The package URL of an rpm package once its distribution is known:
 * `pkg:rpm/<vendor>/<name>@<version>-<release>?arch=<arch>&epoch=<n>&distro=<ID>-<VERSION_ID>`
 * (purl `rpm` type: the epoch is a qualifier, not part of the version). The vendor namespace is
 * the os-release ID, `redhat` for `rhel`. `pkg.version` is Lookout's `[epoch:]version-release`.
 */
export function rpmPurl(pkg: Pick<FoundPackage, 'name' | 'version' | 'arch'>, dist: Pick<FoundDistribution, 'did' | 'versionId'>): string {
  const m = /^(\d+):(.*)$/.exec(pkg.version);
  const epoch = m ? (m[1] as string) : null;
  const vr = m ? (m[2] as string) : pkg.version;
  const did = dist.did.toLowerCase();
  const namespace = did === 'rhel' ? 'redhat' : did;
  const qualifiers: string[] = [];
  if (pkg.arch) qualifiers.push(`arch=${encodeURIComponent(pkg.arch)}`);
  if (epoch !== null && epoch !== '0') qualifiers.push(`epoch=${epoch}`);
  if (dist.versionId) qualifiers.push(`distro=${encodeURIComponent(`${did}-${dist.versionId}`)}`);
  const query = qualifiers.length > 0 ? `?${qualifiers.join('&')}` : '';
  return `pkg:rpm/${encodeURIComponent(namespace)}/${encodeURIComponent(pkg.name)}@${encodeURIComponent(vr)}${query}`;
}
