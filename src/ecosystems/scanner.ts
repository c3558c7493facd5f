/** The file type bits of a `mode` given to {@link FileRequest.match} and kept on a {@link LayerFile} (Unix `st_mode`). */
export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

/** Whether `mode` is a regular file's (or carries no type bits, as some archives write). */
export function isRegularFile(mode: number): boolean {
  const type = mode & S_IFMT;
  return type === 0 || type === S_IFREG;
}

/** What a scanner reads from a layer. Everything no scanner asks for is skipped unread. */
export interface FileRequest {
  /** Exact paths, relative to the root, no leading `/` (`var/lib/dpkg/status`). */
  paths?: readonly string[];
  /** picomatch globs over the same relative paths (`usr/lib/python3*\/site-packages/*.dist-info/METADATA`). */
  globs?: readonly string[];
  /** A predicate on the tar header alone: path, size in bytes, and mode bits. */
  match?: (path: string, size: number, mode: number) => boolean;
  /** The largest file buffered for this scanner; a bigger wanted file is skipped and noted. */
  maxBytes?: number;
  /**
   * Instead of buffering a wanted file whole, feed its bytes through `extract`, which keeps only
   * what it needs (a Go binary's build info) and returns it, or null for "nothing here".
   */
  extract?: (path: string, chunks: AsyncIterable<Buffer>) => Promise<Buffer | null>;
}

/** A wanted file as read from one layer (`data` is the extract's result when the request has one). */
export interface LayerFile {
  path: string;
  size: number;
  mode: number;
  data: Buffer;
}

/** What one scanner sees of one layer. */
export interface LayerFiles {
  /** Wanted regular files by path. Hard links to a wanted path appear here with the target's bytes. */
  readonly files: ReadonlyMap<string, LayerFile>;
  /** Wanted paths that are symbolic links in this layer: path → link target as written. */
  readonly symlinks: ReadonlyMap<string, string>;
}

/** A package found in a layer. */
export interface FoundPackage {
  /** Version scheme / package format: dpkg, apk, rpm, pypi, npm, go, maven, gem. */
  ecosystem: string;
  /** For language ecosystems the normalized name (PEP 503, Maven `group:artifact`, Go module path). */
  name: string;
  version: string;
  /** Source package (dpkg `Source:`, apk origin, rpm source RPM name) and its version. */
  sourceName?: string;
  sourceVersion?: string;
  arch?: string;
  /** RPM modularity label (`nodejs:18:…`). */
  module?: string;
  /** dpkg Maintainer / rpm Vendor / apk maintainer: decides third-party vs distro. */
  vendor?: string;
  purl?: string;
  /** The package database or manifest it came from (`var/lib/dpkg/status`, `…/METADATA`). */
  path: string;
  /** Files the package installed (OS packages), used to attribute language packages to their OS package. */
  files?: string[];
  extra?: Record<string, unknown>;
}

/** A distribution release identified in a layer. */
export interface FoundDistribution {
  /** os-release `ID` (debian, ubuntu, alpine, rhel, centos, rocky, almalinux, amzn, ol, sles, opensuse-leap, photon, wolfi, …). */
  did: string;
  name?: string;
  version?: string;
  versionId?: string;
  versionCodename?: string;
  prettyName?: string;
  cpe?: string;
  /** The file it was read from. */
  path: string;
}

export interface ScanResult {
  packages?: FoundPackage[];
  distributions?: FoundDistribution[];
  /** Anything the scanner skipped or could not read, in plain words (shown in reports, never fatal). */
  notes?: string[];
}

/**
 * A layer scanner. Results are stored with `name` and `version`: bumping the version makes
 * exactly the layers this scanner reads scan again. `scan` must not throw on malformed content:
 * it returns what it could read and says the rest in `notes`.
 */
export interface Scanner {
  readonly name: string;
  readonly version: string;
  readonly kind: 'package' | 'distribution' | 'repository';
  readonly files: FileRequest;
  scan(layer: LayerFiles): ScanResult | Promise<ScanResult>;
}
