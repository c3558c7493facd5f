import { parsePackageUrl, type PackageUrl } from '../ecosystems/rhel/package-url.ts';
import { VERSION_SCHEME_BY_NAME } from '../ecosystems/version-schemes.ts';
import { lookupName } from '../matcher/package-scope.ts';

/** purl types → Lookout ecosystems (the `packages.ecosystem` values). */
const PURL_ECOSYSTEM: Readonly<Record<string, string>> = {
  apk: 'apk',
  alpine: 'apk',
  deb: 'dpkg',
  rpm: 'rpm',
  pypi: 'pypi',
  npm: 'npm',
  golang: 'go',
  maven: 'maven',
  gem: 'gem',
  cargo: 'cargo',
};

/** The Lookout ecosystem of a purl type, or null when Lookout has no packages of that type. */
export function ecosystemOfPurlType(type: string): string | null {
  return PURL_ECOSYSTEM[type.toLowerCase()] ?? null;
}

/** What a purl is matched against: a package of an image and the image's release. */
export interface PurlTarget {
  ecosystem: string;
  name: string;
  version: string;
  sourceName?: string | null;
  sourceVersion?: string | null;
}

/** The release of the image a package is in (for a purl's `distro` qualifier). */
export interface PurlRelease {
  did: string;
  versionId: string | null;
  versionCodename: string | null;
  /** The release key (`ubuntu:jammy`, `alpine:3.19`). */
  key: string | null;
}

/** The package name a purl stands for, as Lookout stores names of its ecosystem (Maven `group:artifact`, npm `@scope/name`, Go module path). */
export function purlPackageName(purl: PackageUrl, ecosystem: string): string {
  const ns = purl.namespace;
  switch (ecosystem) {
    case 'maven':
      return ns ? `${ns}:${purl.name}` : purl.name;
    case 'npm':
      return ns ? `${ns}/${purl.name}` : purl.name;
    case 'go':
      return ns ? `${ns}/${purl.name}` : purl.name;
    default:
      return purl.name;
  }
}

function sameVersion(ecosystem: string, a: string, b: string): boolean {
  if (a === b) return true;
  const scheme = Object.hasOwn(VERSION_SCHEME_BY_NAME, ecosystem) ? VERSION_SCHEME_BY_NAME[ecosystem as keyof typeof VERSION_SCHEME_BY_NAME] : undefined;
  if (scheme === undefined || !scheme.isValid(a) || !scheme.isValid(b)) return false;
  return scheme.compare(a, b) === 0;
}

/**
 * Whether a purl's `distro` qualifier names the image's release: its last path segment
 * (`esm-infra/focal` → `focal`), without a `<did>-` prefix (`alpine-3.19.1` → `3.19.1`), equal to
 * the release codename, the release key's release part or the VERSION_ID (or a prefix of it at a
 * dot: `3.19` for `3.19.1`). Without a qualifier, or without a known release, it fits.
 */
function distroFits(qualifier: string | undefined, release: PurlRelease | null): boolean {
  if (qualifier === undefined || qualifier === '' || release === null) return true;
  let q = qualifier.trim().toLowerCase().split('/').pop() ?? '';
  const did = release.did.toLowerCase();
  if (q.startsWith(`${did}-`)) q = q.slice(did.length + 1);
  const keyRelease = release.key?.split(':')[1]?.toLowerCase() ?? null;
  const versionId = release.versionId?.toLowerCase() ?? null;
  return q === release.versionCodename?.toLowerCase() || q === keyRelease || q === versionId || (versionId !== null && versionId.startsWith(`${q}.`));
}

/**
 * Whether a package purl (`pkg:deb/ubuntu/curl@7.81.0-1ubuntu1.24?arch=source&distro=jammy`)
 * names `pkg`: same ecosystem, same name as the ecosystem keys it (PEP 503 for PyPI), the same
 * version when the purl has one (compared with the ecosystem's scheme), a `distro` qualifier that
 * fits the image's release. `arch=source`/`arch=src` names the source package: it matches the
 * package's source name and source version (or its own name when it has no source); any other
 * purl names the binary package only. Malformed purls never match.
 */
export function purlMatchesPackage(purlText: string, pkg: PurlTarget, release: PurlRelease | null): boolean {
  const purl = parsePackageUrl(purlText);
  if (purl === null) return false;
  const ecosystem = ecosystemOfPurlType(purl.type);
  if (ecosystem === null || ecosystem !== pkg.ecosystem) return false;
  if (!distroFits(purl.qualifiers.distro, release)) return false;
  const name = lookupName(ecosystem, purlPackageName(purl, ecosystem));
  const version = versionOf(purl, ecosystem);
  const arch = purl.qualifiers.arch?.toLowerCase();
  const sourceName = pkg.sourceName?.trim() || pkg.name;
  const sourceVersion = pkg.sourceVersion?.trim() || pkg.version;
  if (arch === 'source' || arch === 'src') {
    if (name !== lookupName(ecosystem, sourceName)) return false;
    return version === null || sameVersion(ecosystem, version, sourceVersion);
  }
  if (name !== lookupName(ecosystem, pkg.name)) return false;
  return version === null || sameVersion(ecosystem, version, pkg.version);
}

/** The purl's version as the ecosystem writes it (rpm: with the `epoch` qualifier as `E:`). */
function versionOf(purl: PackageUrl, ecosystem: string): string | null {
  if (purl.version === null) return null;
  const epoch = purl.qualifiers.epoch;
  if (ecosystem === 'rpm' && epoch !== undefined && epoch !== '' && epoch !== '0' && !purl.version.includes(':')) return `${epoch}:${purl.version}`;
  return purl.version;
}
