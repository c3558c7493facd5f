import type { VulnerabilityRecord } from '../ecosystems/vulnerability-record.ts';

/** A package's identity in one image: the store's row id, or any id a caller makes up (unique per image). */
export type PackageId = number | string;

/**
 * One package of an image as the matcher sees it: a scanner's `FoundPackage` plus where it sits
 * in the image. Versions are compared with the version scheme named by `ecosystem`.
 */
export interface MatchPackage {
  id: PackageId;
  /** Version scheme / package format: dpkg, apk, rpm, pypi, npm, go, maven, gem. */
  ecosystem: string;
  name: string;
  version: string;
  /** Source package (dpkg `Source:`, apk origin, rpm source RPM name) and its version. */
  sourceName?: string | null;
  sourceVersion?: string | null;
  arch?: string | null;
  /** RPM modularity label as rpm stores it (`nodejs:18:8090020230810123456:a75119d5`). */
  module?: string | null;
  /** dpkg Maintainer / rpm Vendor / apk maintainer. */
  vendor?: string | null;
  purl?: string | null;
  /** The package database or manifest it was read from. */
  path: string;
  /** Digest of the layer that introduced the package, when known. */
  introducedIn?: string | null;
  /** The OS package that installed this (language) package's files, when one did. */
  ownerPackageId?: PackageId | null;
}

/** A row of the vulnerability table handed to the matcher: the record plus its row id. */
export type CandidateRecord = VulnerabilityRecord & { id: number | string };

/** Switches of {@link import('./match-packages.ts').matchPackages} and {@link import('./match-plan.ts').matchPlan}. */
export interface MatchOptions {
  /**
   * Report findings in kernel header and build packages (`linux-libc-dev`, `linux-headers-*`,
   * `kernel-headers`, `kernel-devel`, …), which hold no kernel that runs in a container. Off by
   * default: such findings are counted as suppressed.
   */
  includeKernelHeaders?: boolean;
  /** Match packages from third-party repositories against the distribution's advisories anyway. Off by default. */
  includeThirdParty?: boolean;
  /** More dpkg maintainers to treat as third-party: case-insensitive substrings of the Maintainer field (`@example.com`). */
  thirdPartyMaintainers?: readonly string[];
  /**
   * Red Hat product CPEs of the repositories the image's RPMs came from (from its content sets).
   * Given, a record scoped to a CPE applies only when one of these falls under it; absent, only
   * records of RHEL itself (`enterprise_linux`) apply, not those of layered products or
   * extended-support streams.
   */
  repositoryCpes?: readonly string[];
  /** Updater names, most trusted first, to break ties when several feeds speak of one vulnerability. */
  updaterPriority?: readonly string[];
  /** Most records listed as checked per package in the explanation (default 2,000); the rest are counted. */
  maxChecksPerPackage?: number;
}
