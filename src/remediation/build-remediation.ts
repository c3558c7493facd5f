import { SEVERITIES, type Severity } from '../ecosystems/vulnerability-record.ts';
import { compareText } from '../matcher/compare-text.ts';
import type { Finding } from '../matcher/finding.ts';
import type { PackageId } from '../matcher/match-input.ts';
import { upgradeTarget } from './upgrade-target.ts';

/** The known image this one was built on: its digest and how many of this image's layers it holds. */
export interface BaseImage {
  digest: string;
  /** This image's first `layers` layers are the base image's layers. */
  layers: number;
}

/**
 * Where a package comes from: `base` (a layer of the base image), `own` (a layer the image added
 * on top), `unknown` (no known base image, or the package's layer is not known).
 */
export type LayerOrigin = 'base' | 'own' | 'unknown';

/** One package upgrade and what it removes. */
export interface PackageUpgrade {
  packageId: PackageId;
  ecosystem: string;
  name: string;
  installedVersion: string;
  /**
   * The smallest version that fixes every fixable finding of the package; null when their fixed
   * versions could not be compared in the ecosystem's version scheme (see `fixedVersions`).
   */
  upgradeTo: string | null;
  /** The fixed versions of its findings, lowest first. */
  fixedVersions: string[];
  /** The findings the upgrade removes, by severity. */
  removes: { total: number; bySeverity: Record<Severity, number> };
  /** Their vulnerability ids, most severe first. */
  vulnerabilities: string[];
  /** Findings of the package no upgrade removes yet (no fixed version). */
  remaining: number;
  /** The layer that brought the package, when known. */
  layer: string | null;
  origin: LayerOrigin;
}

/** The shortest way to a clean image: the package upgrades and how much of the report they clear. */
export interface Remediation {
  /** Most severe removals first, then most findings removed, then package name. */
  upgrades: PackageUpgrade[];
  /** Findings counted (those of the report, suppressed ones left out). */
  findings: number;
  /** Findings a plain package update removes (a fixed version exists). */
  fixable: number;
  /** `fixable / findings` (0 when there are no findings), to four decimals. */
  fixableShare: number;
  /** The base image, when a known image's layers are a prefix of this one's; null when unknown. */
  base: BaseImage | null;
  /** Findings by where their package comes from. */
  byOrigin: Record<LayerOrigin, number>;
  /** Fixable findings by where their package comes from. */
  fixableByOrigin: Record<LayerOrigin, number>;
}

/** What {@link buildRemediation} reads of a report. */
export interface RemediationInput {
  findings: readonly Finding[];
  packages: ReadonlyArray<{ id: PackageId; introducedIn: string | null }>;
  /** The image's layer digests, base first. */
  layers: readonly string[];
  base: BaseImage | null;
}

function isFixable(f: Finding): boolean {
  return f.state === 'fixed' && f.fixedVersion !== null && f.fixedVersion.trim() !== '';
}

function severities(): Record<Severity, number> {
  return Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
}

/**
 * Groups the fixable findings of a report per package: the smallest version fixing all of them
 * (the highest fixed version, compared with the ecosystem's scheme), what the upgrade removes by
 * severity, what stays (findings without a fix), and whether the package came with the base
 * image or the image's own layers. Pure; never throws.
 */
export function buildRemediation(input: RemediationInput): Remediation {
  const layerOf = new Map(input.packages.map((p) => [String(p.id), p.introducedIn]));
  const position = new Map(input.layers.map((d, i) => [d, i]));
  const originOf = (layer: string | null): LayerOrigin => {
    if (input.base === null || layer === null) return 'unknown';
    const i = position.get(layer);
    if (i === undefined) return 'unknown';
    return i < input.base.layers ? 'base' : 'own';
  };
  const byOrigin: Record<LayerOrigin, number> = { base: 0, own: 0, unknown: 0 };
  const fixableByOrigin: Record<LayerOrigin, number> = { base: 0, own: 0, unknown: 0 };
  const byPackage = new Map<string, { fixable: Finding[]; other: number; sample: Finding }>();
  let fixable = 0;
  for (const f of input.findings) {
    const origin = originOf(layerOf.get(String(f.packageId)) ?? null);
    byOrigin[origin]++;
    const key = String(f.packageId);
    let entry = byPackage.get(key);
    if (!entry) byPackage.set(key, (entry = { fixable: [], other: 0, sample: f }));
    if (isFixable(f)) {
      fixable++;
      fixableByOrigin[origin]++;
      entry.fixable.push(f);
    } else {
      entry.other++;
    }
  }

  const upgrades: PackageUpgrade[] = [];
  for (const [key, entry] of byPackage) {
    if (entry.fixable.length === 0) continue;
    const f0 = entry.sample;
    const target = upgradeTarget(f0.package.ecosystem, entry.fixable.map((f) => f.fixedVersion!));
    const bySeverity = severities();
    for (const f of entry.fixable) bySeverity[f.severity]++;
    const ordered = [...entry.fixable].sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || compareText(a.vulnerability, b.vulnerability));
    const layer = layerOf.get(key) ?? null;
    upgrades.push({
      packageId: f0.packageId,
      ecosystem: f0.package.ecosystem,
      name: f0.package.name,
      installedVersion: f0.package.version,
      upgradeTo: target.version,
      fixedVersions: target.fixedVersions,
      removes: { total: entry.fixable.length, bySeverity },
      vulnerabilities: [...new Set(ordered.map((f) => f.vulnerability))],
      remaining: entry.other,
      layer,
      origin: originOf(layer),
    });
  }
  const worst = (u: PackageUpgrade): number => {
    for (let i = SEVERITIES.length - 1; i >= 0; i--) if (u.removes.bySeverity[SEVERITIES[i]!] > 0) return i;
    return -1;
  };
  upgrades.sort((a, b) => worst(b) - worst(a) || b.removes.total - a.removes.total || compareText(a.name, b.name) || compareText(String(a.packageId), String(b.packageId)));
  const total = input.findings.length;
  return {
    upgrades,
    findings: total,
    fixable,
    fixableShare: total === 0 ? 0 : Math.round((fixable / total) * 10_000) / 10_000,
    base: input.base === null ? null : { ...input.base },
    byOrigin,
    fixableByOrigin,
  };
}
