import type { MatchPackage } from './match-input.ts';

/**
 * A `packages` row as the matcher's package, without what belongs to one image's copy of it
 * (`path`, the layer that introduced it, the package that owns it): callers add those.
 */
export function packageFromRow(r: Record<string, any>): Omit<MatchPackage, 'path'> {
  return {
    id: Number(r.id),
    ecosystem: r.ecosystem,
    name: r.name,
    version: r.version,
    sourceName: r.source_name,
    sourceVersion: r.source_version,
    arch: r.arch,
    module: r.module,
    vendor: r.vendor,
    purl: r.purl,
  };
}
