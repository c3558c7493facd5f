import { APK_REPOSITORIES_PATH } from '../ecosystems/apk/apk-repository-scanner.ts';
import { distributionKey } from '../ecosystems/distribution-key.ts';
import type { FoundDistribution } from '../ecosystems/scanner.ts';

/** The package formats distribution feeds are written for. */
export type PackageFormat = 'dpkg' | 'apk' | 'rpm';

/** The distribution families Lookout has feeds for. */
export type DistroFamily = 'debian' | 'ubuntu' | 'alpine' | 'wolfi' | 'chainguard' | 'rhel' | 'oracle' | 'amazon' | 'suse' | 'photon';

/** How an image's OS packages are matched: which feeds' release keys apply, and who builds its packages. */
export interface DistroProfile {
  /** os-release `ID` (lower case). */
  did: string;
  family: DistroFamily;
  /** The package format whose records apply (`dpkg` for Debian and Ubuntu, …). */
  format: PackageFormat;
  /** Release keys (`vulnerabilities.distribution`) whose records apply, most specific first. */
  keys: readonly string[];
  /** How the release is named in notes and explanations (`debian:bookworm`, `rhel:9 (rocky 9.3)`). */
  label: string;
  /**
   * rpm vendors (RPM `Vendor` tag, tested in order) whose packages the family's advisories speak
   * of; another non-empty vendor marks a third-party package. Absent for dpkg and apk families.
   */
  vendors?: readonly RegExp[];
}

const RHEL_VENDORS = [/^Red Hat\b/i, /^CentOS\b/i, /^Rocky Enterprise Software Foundation\b/i, /^AlmaLinux\b/i, /^Scientific Linux\b/i];
const ORACLE_VENDORS = [/^Oracle America\b/i, /^Oracle\b/i];
const AMAZON_VENDORS = [/^Amazon\b/i];
const SUSE_VENDORS = [/SUSE\b/i];
const PHOTON_VENDORS = [/^VMware\b/i, /^Broadcom\b/i];

/**
 * The profile of an image's distribution, or null (with a note) when no feed covers it:
 * - debian, ubuntu → dpkg, by codename (`debian:bookworm`, `ubuntu:jammy`);
 * - alpine → apk, the branch of `etc/apk/repositories` (`releaseHint`, the apk repository
 *   scanner's result) when it names one, else os-release's major.minor (`alpine:3.19`, `alpine:edge`);
 * - wolfi, chainguard → apk, `wolfi:rolling` / `chainguard:rolling`;
 * - rhel and its rebuilds (centos, rocky, almalinux, scientific) → rpm, `rhel:<major>` (the key the Red Hat
 *   updaters write); ol → `ol:<major>`; amzn → `amzn:1|2|2022|2023`;
 * - sles, opensuse-leap (and pre-Leap opensuse) → rpm, the full version (`sles:15.5`);
 * - photon → rpm, `photon:<major>.0`.
 * Anything else (fedora, cbl-mariner, an unknown ID, no distribution at all) gets null.
 */
export function distroProfile(dist: FoundDistribution | null, releaseHint: FoundDistribution | null = null): { profile: DistroProfile | null; notes: string[] } {
  const notes: string[] = [];
  const hint = releaseHint !== null && releaseHint.did.toLowerCase() === 'alpine' ? releaseHint : null;
  if (dist === null && hint === null) return { profile: null, notes };
  const base = dist ?? (hint as FoundDistribution);
  const did = base.did.trim().toLowerCase();
  const shown = `${did}${base.versionId ? ` ${base.versionId}` : ''}`;
  const noRelease = (): { profile: null; notes: string[] } => {
    notes.push(`the ${shown} release could not be told; its OS packages are not matched against distribution advisories`);
    return { profile: null, notes };
  };
  const make = (family: DistroFamily, format: PackageFormat, key: string | null, vendors?: readonly RegExp[]) => {
    if (key === null) return noRelease();
    const label = key.startsWith(`${did}:`) ? key : `${key} (${shown})`;
    const profile: DistroProfile = { did, family, format, keys: [key], label };
    if (vendors) profile.vendors = vendors;
    return { profile, notes };
  };
  switch (did) {
    case 'debian':
      return make('debian', 'dpkg', distributionKey(base));
    case 'ubuntu':
      return make('ubuntu', 'dpkg', distributionKey(base));
    case 'alpine': {
      const fromHint = hint !== null ? distributionKey(hint) : null;
      const fromOsRelease = dist !== null ? distributionKey(dist) : null;
      if (fromHint !== null && fromOsRelease !== null && fromHint !== fromOsRelease) {
        notes.push(`${APK_REPOSITORIES_PATH} follows ${fromHint} while os-release says ${fromOsRelease}: ${fromHint} advisories are used`);
      }
      return make('alpine', 'apk', fromHint ?? fromOsRelease);
    }
    case 'wolfi':
    case 'chainguard':
      return make(did, 'apk', `${did}:rolling`);
    case 'rhel':
    case 'centos':
    case 'rocky':
    case 'almalinux':
    case 'scientific': {
      const major = /^(\d+)/.exec(base.versionId?.trim() ?? '')?.[1];
      return make('rhel', 'rpm', major ? `rhel:${major}` : null, RHEL_VENDORS);
    }
    case 'ol':
      return make('oracle', 'rpm', distributionKey(base), ORACLE_VENDORS);
    case 'amzn':
      return make('amazon', 'rpm', distributionKey(base), AMAZON_VENDORS);
    case 'sles':
    case 'opensuse-leap':
    case 'opensuse':
      return make('suse', 'rpm', distributionKey(base), SUSE_VENDORS);
    case 'photon': {
      const major = /^(\d+)/.exec(base.versionId?.trim() ?? '')?.[1];
      return make('photon', 'rpm', major ? `photon:${major}.0` : null, PHOTON_VENDORS);
    }
    default:
      notes.push(`no vulnerability feed covers ${shown}; its OS packages are not matched against distribution advisories`);
      return { profile: null, notes };
  }
}
