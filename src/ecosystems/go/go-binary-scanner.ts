import { isRegularFile, type FoundPackage, type LayerFile, type ScanResult, type Scanner } from '../scanner.ts';
import {
  DEFAULT_GO_BUILD_INFO_LIMITS,
  decodeGoBuildInfo,
  encodeGoBuildInfo,
  extractGoBuildInfo,
  type GoBuildInfo,
  type GoBuildInfoLimits,
} from './extract-go-build-info.ts';
import { goPurl } from './go-purl.ts';
import { goReleaseToSemver } from './go-release-tag.ts';
import { parseGoModinfo, type GoDependency } from './parse-go-modinfo.ts';
import { releaseFromLdflags } from './parse-ldflags.ts';

/** What the Go binary scanner reads. */
export interface GoBinaryScannerOptions {
  /** Executables smaller than this are not read (no Go toolchain writes one that small). */
  minBytes: number;
  /** Executables bigger than this are not read. */
  maxBytes: number;
  limits: Readonly<GoBuildInfoLimits>;
  /** At most this many notes per layer; the rest are counted in a last note. */
  maxNotes: number;
}

/** Defaults: executables from 64 KiB to 1 GiB are streamed; 100 notes. */
export const DEFAULT_GO_BINARY_SCANNER_OPTIONS: Readonly<GoBinaryScannerOptions> = Object.freeze({
  minBytes: 64 * 1024,
  maxBytes: 1024 ** 3,
  limits: DEFAULT_GO_BUILD_INFO_LIMITS,
  maxNotes: 100,
});

/**
 * Whether a tar entry may be a Go executable worth streaming: a regular file (or one whose mode
 * carries no type bits) with an execute bit, its size within `[minBytes, maxBytes]`.
 */
export function isExecutableCandidate(size: number, mode: number, options: Pick<GoBinaryScannerOptions, 'minBytes' | 'maxBytes'>): boolean {
  return isRegularFile(mode) && (mode & 0o111) !== 0 && size >= options.minBytes && size <= options.maxBytes;
}

function pkg(path: string, name: string, version: string, relationship: string, more: Record<string, unknown> = {}): FoundPackage {
  return { ecosystem: 'go', name, version, purl: goPurl(name, version), path, extra: { relationship, ...more } };
}

/** The packages one binary's build info names, with notes on what was left out. */
export function goBuildInfoPackages(path: string, info: GoBuildInfo): { packages: FoundPackage[]; notes: string[] } {
  const packages: FoundPackage[] = [];
  const notes = info.notes.map((note) => `${path}: ${note}`);
  if (info.modinfo !== null && info.modinfo !== '') {
    const { info: mod, skipped } = parseGoModinfo(info.modinfo);
    if (skipped > 0) notes.push(`${path}: ${skipped} unreadable module information line(s) skipped`);
    const main = mod.main;
    if (main !== null && main.path !== 'command-line-arguments') {
      let version = main.version === '' ? '(devel)' : main.version;
      const extra: Record<string, unknown> = {};
      if (version === '(devel)') {
        const ldflags = mod.settings.find(([key]) => key === '-ldflags')?.[1];
        const stamped = ldflags === undefined ? null : releaseFromLdflags(ldflags, main.path);
        if (stamped !== null) {
          version = stamped;
          extra.versionSource = 'ldflags';
        }
      }
      const revision = mod.settings.find(([key]) => key === 'vcs.revision')?.[1];
      if (revision !== undefined) extra.vcsRevision = revision;
      packages.push(pkg(path, main.path, version, 'main', extra));
    }
    for (const dep of mod.deps) {
      const found = dependencyPackage(path, dep);
      if (typeof found === 'string') notes.push(found);
      else packages.push(found);
    }
  }
  if (info.goVersion !== null) {
    const stdlib = goReleaseToSemver(info.goVersion);
    if (stdlib === null) notes.push(`${path}: built by a toolchain without a release number (${info.goVersion.slice(0, 80)}); the standard library is not reported`);
    else packages.push(pkg(path, 'stdlib', stdlib, 'stdlib'));
  }
  return { packages, notes };
}

/** A dependency as it was compiled in: its replacement when it has one. A note when it cannot be told. */
function dependencyPackage(path: string, dep: GoDependency): FoundPackage | string {
  const replace = dep.replace;
  if (replace === undefined) return pkg(path, dep.path, dep.version, 'dependency');
  if (replace.version === '') {
    return `${path}: module ${dep.path} ${dep.version} is replaced by the local directory ${replace.path}; not reported`;
  }
  return pkg(path, replace.path, replace.version, 'dependency', { replaces: `${dep.path}@${dep.version}` });
}

/** Builds a Go binary scanner with the given bounds. */
export function createGoBinaryScanner(options: Partial<GoBinaryScannerOptions> = {}): Scanner {
  const settings: GoBinaryScannerOptions = { ...DEFAULT_GO_BINARY_SCANNER_OPTIONS, ...options };
  return {
    name: 'gobin',
    version: '1',
    kind: 'package',
    files: {
      match: (_path, size, mode) => isExecutableCandidate(size, mode, settings),
      extract: async (_path, chunks) => {
        const info = await extractGoBuildInfo(chunks, settings.limits);
        return info === null ? null : encodeGoBuildInfo(info);
      },
    },
    scan(layer) {
      const packages: FoundPackage[] = [];
      const notes: string[] = [];
      const files = [...layer.files.values()].sort((a: LayerFile, b: LayerFile) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      for (const file of files) {
        const info = decodeGoBuildInfo(file.data);
        if (info === null) {
          notes.push(`${file.path}: build info could not be read`);
          continue;
        }
        const found = goBuildInfoPackages(file.path, info);
        packages.push(...found.packages);
        notes.push(...found.notes);
      }
      return capNotes({ packages, notes }, settings.maxNotes);
    },
  };
}

function capNotes(result: { packages: FoundPackage[]; notes: string[] }, max: number): ScanResult {
  if (result.notes.length <= max) return result;
  const rest = result.notes.length - max;
  return { packages: result.packages, notes: [...result.notes.slice(0, max), `${rest} more note(s) left out`] };
}

/** The Go binary scanner: the modules and toolchain compiled into Go executables. */
export const goBinaryScanner: Scanner = createGoBinaryScanner();
