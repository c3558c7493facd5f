import path from 'node:path';
import type { FoundDistribution, FoundPackage } from '../ecosystems/scanner.ts';

/** What one layer contributed, in image order (index 0 = the base layer). */
export interface LayerContribution<P extends FoundPackage = FoundPackage> {
  /** Packages found, each with the package database / manifest `path` it came from. */
  packages: readonly P[];
  distributions: readonly FoundDistribution[];
  /** Wanted files present in the layer (package databases included, even when empty). */
  files: readonly string[];
  whiteouts: readonly { path: string; opaque: boolean }[];
  /** Symbolic links at wanted paths in this layer (path → target as written). */
  symlinks?: Readonly<Record<string, string>>;
}

export interface ImagePackage<P extends FoundPackage = FoundPackage> {
  package: P;
  /** Index of the layer the package's database was read from. */
  layer: number;
  /** Index of the first layer where this package (same ecosystem, name and version) appeared at this path. */
  introducedIn: number;
}

export interface ImageView<P extends FoundPackage = FoundPackage> {
  packages: ImagePackage<P>[];
  distribution: { distribution: FoundDistribution; layer: number } | null;
}

/**
 * Coalesces layer results into what the image holds. For each package database or manifest path,
 * the newest layer holding that file wins (so packages removed by dpkg/apk/rpm disappear), unless
 * a later layer deletes it (a `.wh.` whiteout of the path or a parent, or an opaque parent
 * directory). Each package keeps the first layer in which the same package appeared at that path.
 * The distribution is the newest layer's that is not deleted later.
 */
export function coalesceImage<P extends FoundPackage>(layers: readonly LayerContribution<P>[]): ImageView<P> {
  const deletions = layers.map(indexWhiteouts);
  const deletedAfter = (path: string, index: number): boolean => {
    const ancestors = ancestorsOf(path);
    for (let later = index + 1; later < layers.length; later++) {
      const { removed, opaque } = deletions[later]!;
      if (removed.has(path) || opaque.has('')) return true;
      for (const dir of ancestors) if (removed.has(dir) || opaque.has(dir)) return true;
    }
    return false;
  };
  const newest = new Map<string, number>();
  layers.forEach((layer, index) => {
    for (const file of layer.files) newest.set(file, index);
    for (const pkg of layer.packages) if (!newest.has(pkg.path) || newest.get(pkg.path)! < index) newest.set(pkg.path, index);
  });

  const packages: ImagePackage<P>[] = [];
  for (const [path, index] of newest) {
    if (deletedAfter(path, index)) continue;
    for (const pkg of layers[index]!.packages) {
      if (pkg.path !== path) continue;
      packages.push({ package: pkg, layer: index, introducedIn: firstAppearance(layers, pkg, index) });
    }
  }
  packages.sort((a, b) => a.package.path.localeCompare(b.package.path) || a.package.name.localeCompare(b.package.name));

  return { packages, distribution: findDistribution(layers, deletedAfter) };
}

const OS_RELEASE = 'etc/os-release';

/**
 * The newest layer's distribution that is not deleted later. A layer whose `etc/os-release` is a
 * symlink to a file it does not hold itself (`../usr/lib/os-release` in a lower layer) takes the
 * distribution read from that file in the newest lower layer that has it.
 */
function findDistribution<P extends FoundPackage>(
  layers: readonly LayerContribution<P>[],
  deletedAfter: (path: string, index: number) => boolean,
): ImageView<P>['distribution'] {
  for (let index = layers.length - 1; index >= 0; index--) {
    const layer = layers[index]!;
    const found = layer.distributions.find((d) => !deletedAfter(d.path, index));
    if (found) return { distribution: found, layer: index };
    const link = layer.symlinks?.[OS_RELEASE];
    if (link === undefined) continue;
    const target = path.posix.normalize(path.posix.join('/', link.startsWith('/') ? link : path.posix.join(path.posix.dirname(OS_RELEASE), link))).slice(1);
    for (let lower = index - 1; lower >= 0; lower--) {
      const match = layers[lower]!.distributions.find((d) => d.path === target && !deletedAfter(d.path, lower));
      if (match) return { distribution: match, layer: lower };
    }
    return null;
  }
  return null;
}

/** A layer's whiteouts as sets: deleted paths, and directories made opaque ('' = the root). */
function indexWhiteouts(layer: LayerContribution): { removed: Set<string>; opaque: Set<string> } {
  const removed = new Set<string>();
  const opaque = new Set<string>();
  for (const w of layer.whiteouts) (w.opaque ? opaque : removed).add(w.path);
  return { removed, opaque };
}

/** `a/b/c` → `['a/b', 'a']`. */
function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) out.push(path.slice(0, i));
  return out;
}

function firstAppearance(layers: readonly LayerContribution[], pkg: FoundPackage, upTo: number): number {
  for (let index = 0; index <= upTo; index++) {
    if (layers[index]!.packages.some((p) => p.path === pkg.path && p.ecosystem === pkg.ecosystem && p.name === pkg.name && p.version === pkg.version)) {
      return index;
    }
  }
  return upTo;
}
