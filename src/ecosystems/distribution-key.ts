import type { FoundDistribution } from './scanner.ts';

/** Debian releases by major version; feeds key Debian by codename. */
export const DEBIAN_CODENAMES: Readonly<Record<string, string>> = {
  '7': 'wheezy', '8': 'jessie', '9': 'stretch', '10': 'buster', '11': 'bullseye', '12': 'bookworm', '13': 'trixie', '14': 'forky',
};

/** Ubuntu releases by version id; feeds key Ubuntu by codename. */
export const UBUNTU_CODENAMES: Readonly<Record<string, string>> = {
  '14.04': 'trusty', '16.04': 'xenial', '18.04': 'bionic', '20.04': 'focal', '22.04': 'jammy', '23.04': 'lunar',
  '23.10': 'mantic', '24.04': 'noble', '24.10': 'oracular', '25.04': 'plucky', '25.10': 'questing', '26.04': 'resolute',
};

/**
 * The release key feeds and the matcher agree on (the `vulnerabilities.distribution` column):
 * - debian, ubuntu: `debian:bookworm`, `ubuntu:jammy` (codename; from VERSION_CODENAME or the version table)
 * - alpine: `alpine:3.19` (major.minor), `alpine:edge`
 * - rhel and its rebuilds (centos, rocky, almalinux), ol, amzn: major version (`rhel:9`, `ol:8`, `amzn:2`,
 *   `amzn:2023`; Amazon Linux 1 `2018.03` → `amzn:1`)
 * - sles, opensuse-leap, photon: full VERSION_ID (`sles:15.5`, `photon:3.0`)
 * - rolling distributions (wolfi, chainguard, opensuse-tumbleweed, debian sid): `wolfi:rolling`
 * Null when the release cannot be told.
 */
export function distributionKey(dist: Pick<FoundDistribution, 'did' | 'versionId' | 'versionCodename'>): string | null {
  const did = dist.did.toLowerCase();
  const versionId = dist.versionId?.trim() ?? '';
  const codename = dist.versionCodename?.trim().toLowerCase() ?? '';
  switch (did) {
    case 'debian': {
      const major = versionId.split('.')[0] ?? '';
      const name = codename || DEBIAN_CODENAMES[major] || '';
      return name ? `debian:${name}` : null;
    }
    case 'ubuntu': {
      const name = codename || UBUNTU_CODENAMES[versionId] || '';
      return name ? `ubuntu:${name}` : null;
    }
    case 'alpine': {
      if (versionId === '' ) return null;
      if (versionId.includes('edge') || /_alpha|_beta|_rc/.test(versionId)) return 'alpine:edge';
      const [major, minor] = versionId.split('.');
      return minor === undefined ? null : `alpine:${major}.${minor}`;
    }
    case 'rhel':
    case 'centos':
    case 'rocky':
    case 'almalinux':
    case 'ol': {
      const major = versionId.split('.')[0] ?? '';
      return major ? `${did}:${major}` : null;
    }
    case 'amzn': {
      if (versionId === '') return null;
      if (/^20\d\d\.\d\d$/.test(versionId)) return 'amzn:1';
      return `amzn:${versionId.split('.')[0]}`;
    }
    case 'wolfi':
    case 'chainguard':
    case 'opensuse-tumbleweed':
      return `${did}:rolling`;
    default:
      return versionId ? `${did}:${versionId}` : null;
  }
}
