import { severityFromCvss } from '../ecosystems/cvss/score-cvss-vector.ts';
import type { FoundDistribution } from '../ecosystems/scanner.ts';
import { SEVERITIES, type CvssScore, type EnrichmentRecord, type Severity } from '../ecosystems/vulnerability-record.ts';
import { checkRecord, recordCheck, type CheckContext } from './check-record.ts';
import { distroProfile, type DistroProfile } from './distro-profile.ts';
import { enrichmentIndex, type Enrichment } from './enrichment-index.ts';
import type { Finding, FindingCvss, RecordCheck } from './finding.ts';
import { isKernelHeaderPackage } from './kernel-header-package.ts';
import type { CandidateRecord, MatchOptions, MatchPackage, PackageId } from './match-input.ts';
import { lookupName, packageScope } from './package-scope.ts';
import { parseCpeUri, type CpeFields } from './repository-scope.ts';
import { groupByVulnerability, isCveId, recordIds } from './vulnerability-ids.ts';
import { compareIds, compareText } from './compare-text.ts';

/** The matcher's name and version, stored with every report: bump the version when matching rules change. */
export const MATCHER = { name: 'lookout-matcher', version: '1' } as const;

/** Everything one image's match needs; the caller fetched `records` with the lookups of `matchPlan`. */
export interface MatchInput {
  distribution: FoundDistribution | null;
  /** The apk repository scanner's distribution (path `etc/apk/repositories`), when the image has one. */
  releaseHint?: FoundDistribution | null;
  packages: readonly MatchPackage[];
  records: readonly CandidateRecord[];
  /** NVD, EPSS and KEV data: at least that of the findings' CVE ids (`CheckedImage.enrichmentIds`). */
  enrichments?: Iterable<EnrichmentRecord>;
  options?: MatchOptions;
}

/** Why findings or packages were left out of a report. */
export type SuppressionReason = 'kernel-headers' | 'third-party' | 'owned-by-os-package';

/** How much one suppression reason left out: packages, and findings when they were worked out (null when not). */
export interface SuppressionCount {
  packages: number;
  findings: number | null;
}

/** How a package was matched. */
export type PackageMatchStatus = 'matched' | 'kernel-headers' | 'third-party' | 'owned-by-os-package' | 'not-matched';

/** For `lookout explain`: how one package was matched, and every record checked that gave no finding. */
export interface PackageExplanation {
  packageId: PackageId;
  status: PackageMatchStatus;
  /** Why the package was not matched (third party, owner, no feed), or null. */
  reason: string | null;
  /** Findings reported for it (suppressed ones not counted). */
  findings: number;
  /** Records that gave no finding, with the reason each did not apply. */
  checks: RecordCheck[];
  /** Checks left out beyond `maxChecksPerPackage`. */
  checksOmitted: number;
}

/** The outcome of matching one image. */
export interface MatchResult {
  matcher: { name: string; version: string };
  distribution: DistroProfile | null;
  /** Sorted: most severe first, then by package name and vulnerability. */
  findings: Finding[];
  suppressed: Record<SuppressionReason, SuppressionCount>;
  /** One per package, in input order. */
  explanations: PackageExplanation[];
  notes: string[];
}

const DEFAULT_MAX_CHECKS = 2000;
const MAX_LINKS = 20;
const SAMPLE = 5;

interface Item {
  record: CandidateRecord;
  check: RecordCheck;
}

/** A finding to be: a package, the vulnerability it is keyed by, and the records that say it is affected. */
interface FindingGroup {
  pkg: MatchPackage;
  key: string;
  items: readonly Item[];
}

/**
 * An image's packages checked against their candidate records, before the findings are merged
 * (see {@link checkPackages}): everything but the NVD, EPSS and KEV data, whose CVE ids it names.
 */
export interface CheckedImage {
  /** The CVE ids of the findings to be, sorted: the enrichment data {@link finishMatch} needs. */
  readonly enrichmentIds: readonly string[];
  /** Every id the records of the findings to be carry (their vulnerabilities and aliases are among them). */
  readonly recordIds: readonly string[];
  readonly profile: DistroProfile | null;
  readonly groups: readonly FindingGroup[];
  readonly suppressed: Record<SuppressionReason, SuppressionCount>;
  readonly explanations: PackageExplanation[];
  readonly notes: string[];
  readonly priority: readonly string[];
}

/**
 * Matches an image's packages against candidate records (see the rules of `checkRecord` and
 * `packageScope`) and merges what they say into one finding per (package, vulnerability):
 * - records are grouped per vulnerability (`groupByVulnerability`: CVE ↔ GHSA/advisory aliases
 *   merge, an advisory naming several CVEs counts once per CVE);
 * - the record the state, fix and severity come from is, in order: a distribution record (over a
 *   language one), an updater earlier in `options.updaterPriority`, one stating a fixed version,
 *   one named by the vulnerability itself (over an advisory naming it as an alias), one keyed by
 *   the binary name (over the source name), the lowest id;
 * - a vendor's not-affected statement (VEX, a `0` fixed version) from a distribution record of
 *   the same vulnerability overrides "affected" records (their checks say `superseded`);
 * - severity: the first record (in that order) with a known normalized severity, else the NVD
 *   score's rating (`severitySource: 'nvd'`), else Unknown; CVSS v2/v3/v4 from the records, each
 *   version falling back to NVD's; EPSS and KEV by CVE id;
 * - kernel header packages' findings are suppressed (counted) unless `includeKernelHeaders`;
 *   third-party OS packages and OS-owned language packages are not matched (counted).
 * Pure and synchronous; never throws on bad records (they become `invalid-version` checks).
 */
export function matchPackages(input: MatchInput): MatchResult {
  return finishMatch(checkPackages(input), input.enrichments ?? []);
}

/**
 * The first step of {@link matchPackages}: every package checked and its affected records grouped
 * per vulnerability, vetoes, suppressions, explanations and notes, but no finding merged yet, so
 * that the enrichment data of the findings' CVE ids alone can be read before {@link finishMatch}.
 */
export function checkPackages(input: Omit<MatchInput, 'enrichments'>): CheckedImage {
  const options = input.options ?? {};
  const { profile, notes } = distroProfile(input.distribution, input.releaseHint ?? null);
  const maxChecks = Math.max(0, Math.floor(options.maxChecksPerPackage ?? DEFAULT_MAX_CHECKS));
  const imageCpes = options.repositoryCpes === undefined ? null : options.repositoryCpes.map(parseCpeUri).filter((c): c is CpeFields => c !== null);
  // Without checks listed, those that show no finding are only counted.
  const context: CheckContext = { releaseKeys: new Set(profile?.keys ?? []), imageCpes, brief: maxChecks === 0 };

  // ecosystem → package name as records key it → records
  const index = new Map<string, Map<string, CandidateRecord[]>>();
  const seenIds = new Set<number | string>();
  for (const record of input.records) {
    if (seenIds.has(record.id)) continue;
    seenIds.add(record.id);
    let byName = index.get(record.ecosystem);
    if (byName === undefined) index.set(record.ecosystem, (byName = new Map()));
    const name = lookupName(record.ecosystem, record.packageName);
    const list = byName.get(name);
    if (list) list.push(record);
    else byName.set(name, [record]);
  }
  const candidatesOf = (pkg: MatchPackage): readonly CandidateRecord[] => {
    const byName = index.get(pkg.ecosystem);
    if (byName === undefined) return [];
    const own = byName.get(lookupName(pkg.ecosystem, pkg.name)) ?? [];
    const source = pkg.sourceName?.trim();
    if (!source || lookupName(pkg.ecosystem, source) === lookupName(pkg.ecosystem, pkg.name)) return own;
    const bySource = byName.get(lookupName(pkg.ecosystem, source)) ?? [];
    return bySource.length === 0 ? own : [...own, ...bySource];
  };

  // The binaries of one source build (Debian, Alpine) meet the same source-keyed records: such a
  // record without an arch is checked once per build (source, source version, module), its check
  // shared by the binaries (checks are never changed once made).
  const buildChecks = new Map<string, Map<CandidateRecord, RecordCheck>>();

  const byId = new Map<PackageId, MatchPackage>(input.packages.map((p) => [p.id, p]));
  const groupsOut: FindingGroup[] = [];
  const explanations: PackageExplanation[] = [];
  const suppressed: Record<SuppressionReason, SuppressionCount> = {
    'kernel-headers': { packages: 0, findings: 0 },
    'third-party': { packages: 0, findings: null },
    'owned-by-os-package': { packages: 0, findings: null },
  };
  const thirdParty: string[] = [];
  const unmatched: string[] = [];
  let firstUnmatched = '';
  let invalid = 0;
  let firstInvalid = '';

  for (const pkg of input.packages) {
    const scope = packageScope(pkg, profile, options, byId);
    const candidates = candidatesOf(pkg);
    if (scope.kind !== 'distro' && scope.kind !== 'language') {
      const status: PackageMatchStatus = scope.kind === 'owned' ? 'owned-by-os-package' : scope.kind === 'third-party' ? 'third-party' : 'not-matched';
      if (scope.kind === 'owned') suppressed['owned-by-os-package'].packages++;
      else if (scope.kind === 'third-party') {
        suppressed['third-party'].packages++;
        thirdParty.push(`${pkg.name} ${pkg.version}`);
      } else {
        if (unmatched.length === 0) firstUnmatched = scope.reason;
        unmatched.push(pkg.name);
      }
      if (maxChecks === 0) {
        // nothing is listed: only counted
        explanations.push({ packageId: pkg.id, status, reason: scope.reason, findings: 0, checks: [], checksOmitted: candidates.length });
        continue;
      }
      const checks = candidates.map((record) => recordCheck(record, 'package-not-matched', scope.reason));
      explanations.push(explanation(pkg.id, status, scope.reason, 0, checks, maxChecks));
      continue;
    }

    const affected: Item[] = [];
    const notAffected: Item[] = [];
    const checks: RecordCheck[] = [];
    const build = `${pkg.ecosystem}\u0000${pkg.sourceName?.trim() || pkg.name}\u0000${pkg.sourceVersion?.trim() || pkg.version}\u0000${pkg.module ?? ''}`;
    let shared = buildChecks.get(build);
    if (shared === undefined) buildChecks.set(build, (shared = new Map()));
    for (const record of candidates) {
      let check: RecordCheck;
      if (record.packageKind === 'source' && (record.arch === null || record.arch.trim() === '')) {
        const known = shared.get(record);
        if (known !== undefined) check = known;
        else shared.set(record, (check = checkRecord(pkg, record, context)));
      } else {
        check = checkRecord(pkg, record, context);
      }
      if (check.verdict === 'affected') affected.push({ record, check });
      else {
        if (check.verdict === 'not-affected' && record.distribution !== null) notAffected.push({ record, check });
        if (check.verdict === 'invalid-version' && invalid++ === 0) firstInvalid = `${pkg.name}: ${check.detail}`;
        checks.push(check);
      }
    }

    const vetoes = groupByVulnerability(notAffected, (i) => recordIds(i.record));
    const groups = groupByVulnerability(affected, (i) => recordIds(i.record));
    const kernel = isKernelHeaderPackage(pkg.ecosystem, pkg.name) && options.includeKernelHeaders !== true;
    let reported = 0;
    let hidden = 0;
    for (const [key, items] of groups) {
      const veto = vetoes.size === 0 ? undefined : (vetoes.get(key)?.[0] ?? items.flatMap((i) => recordIds(i.record)).map((id) => vetoes.get(id)?.[0]).find((v) => v !== undefined));
      if (veto !== undefined) {
        const says = `${veto.record.updater} ${veto.record.name} says not affected${veto.record.stateReason ? ` (${veto.record.stateReason})` : ''}`;
        for (const i of items) checks.push({ ...i.check, verdict: 'superseded', detail: `${i.check.detail}; superseded: ${says}` });
        continue;
      }
      if (kernel) {
        hidden++;
        for (const i of items) checks.push({ ...i.check, verdict: 'suppressed', detail: `${i.check.detail}; suppressed: ${pkg.name} holds kernel headers or build files, not a running kernel` });
        continue;
      }
      reported++;
      groupsOut.push({ pkg, key, items });
    }
    if (kernel) {
      suppressed['kernel-headers'].packages++;
      suppressed['kernel-headers'].findings = (suppressed['kernel-headers'].findings ?? 0) + hidden;
    }
    if (maxChecks > 0) checks.sort((a, b) => compareText(a.vulnerability, b.vulnerability) || compareText(a.updater, b.updater) || compareIds(a.recordId, b.recordId));
    const status: PackageMatchStatus = kernel ? 'kernel-headers' : 'matched';
    const reason = kernel ? `${pkg.name} holds kernel headers or build files, not a kernel that runs in a container; its findings are suppressed` : null;
    explanations.push(explanation(pkg.id, status, reason, reported, checks, maxChecks));
  }

  const label = profile?.label ?? 'distribution';
  if (thirdParty.length > 0) {
    notes.push(`${thirdParty.length} package${thirdParty.length === 1 ? '' : 's'} from third-party repositories ${thirdParty.length === 1 ? 'is' : 'are'} not matched against ${label} advisories: ${sample(thirdParty)}`);
  }
  const owned = suppressed['owned-by-os-package'].packages;
  if (owned > 0) notes.push(`${owned} language package${owned === 1 ? ' was' : 's were'} installed by OS packages and ${owned === 1 ? 'is' : 'are'} matched through ${owned === 1 ? 'it' : 'them'} only`);
  const k = suppressed['kernel-headers'];
  if ((k.findings ?? 0) > 0) notes.push(`${k.findings} finding${k.findings === 1 ? '' : 's'} in ${k.packages} kernel header package${k.packages === 1 ? '' : 's'} suppressed (they hold no running kernel; include them to see them)`);
  if (unmatched.length > 0) notes.push(`${unmatched.length} package${unmatched.length === 1 ? ' is' : 's are'} not matched (${firstUnmatched}): ${sample(unmatched)}`);
  if (invalid > 0) notes.push(`${invalid} record${invalid === 1 ? '' : 's'} could not be compared with the installed version (${firstInvalid})`);

  // A group keyed by something else than a CVE id names no CVE at all (see groupByVulnerability).
  const enrichmentIds = [...new Set(groupsOut.map((g) => g.key).filter(isCveId))].sort(compareText);
  const ids = new Set<string>();
  for (const g of groupsOut) for (const i of g.items) for (const id of recordIds(i.record)) ids.add(id);
  return { enrichmentIds, recordIds: [...ids], profile, groups: groupsOut, suppressed, explanations, notes, priority: options.updaterPriority ?? [] };
}

/**
 * The second step of {@link matchPackages}: one finding per group, enriched from `enrichments`
 * (the data of the checked image's `enrichmentIds` is all it reads), sorted.
 */
export function finishMatch(checked: CheckedImage, enrichments: Iterable<EnrichmentRecord>): MatchResult {
  const enrich = enrichmentIndex(enrichments);
  const findings = checked.groups.map((g) => mergeFinding(g.pkg, g.key, g.items, checked.priority, enrich));
  findings.sort(compareFindings);
  return { matcher: { ...MATCHER }, distribution: checked.profile, findings, suppressed: checked.suppressed, explanations: checked.explanations, notes: checked.notes };
}

function explanation(packageId: PackageId, status: PackageMatchStatus, reason: string | null, findings: number, checks: RecordCheck[], max: number): PackageExplanation {
  return { packageId, status, reason, findings, checks: checks.slice(0, max), checksOmitted: Math.max(0, checks.length - max) };
}

function sample(items: readonly string[]): string {
  const shown = items.slice(0, SAMPLE).map((s) => (s.length > 120 ? `${s.slice(0, 120)}…` : s));
  return items.length > SAMPLE ? `${shown.join(', ')}, …` : shown.join(', ');
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<Severity, number>;

/** Most severe first, then package name, version and vulnerability. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
    compareText(a.package.name, b.package.name) ||
    compareText(a.package.version, b.package.version) ||
    compareText(a.vulnerability, b.vulnerability) ||
    compareIds(a.packageId, b.packageId)
  );
}

function rankItems(items: readonly Item[], key: string, priority: readonly string[]): readonly Item[] {
  if (items.length === 1) return items;
  const prio = (u: string): number => {
    const i = priority.indexOf(u);
    return i < 0 ? priority.length : i;
  };
  const score = (i: Item): number[] => [
    i.record.distribution !== null ? 0 : 1,
    prio(i.record.updater),
    i.record.state === 'fixed' && i.check.fixedVersion !== null ? 0 : 1,
    recordIds(i.record)[0] === key ? 0 : 1,
    i.check.matchedBy === 'binary' ? 0 : 1,
  ];
  const scored = items.map((i) => ({ i, s: score(i) }));
  scored.sort((x, y) => {
    for (let n = 0; n < x.s.length; n++) if (x.s[n] !== y.s[n]) return x.s[n]! - y.s[n]!;
    return compareIds(x.i.record.id, y.i.record.id);
  });
  return scored.map((x) => x.i);
}

function cvssFamily(c: CvssScore): 'v2' | 'v3' | 'v4' {
  return c.version === '4.0' ? 'v4' : c.version === '2.0' ? 'v2' : 'v3';
}

function mergeFinding(pkg: MatchPackage, key: string, items: readonly Item[], priority: readonly string[], enrich: ReadonlyMap<string, Enrichment>): Finding {
  const ranked = rankItems(items, key, priority);
  const primary = ranked[0]!;
  const vulnerability = isCveId(key) ? key : recordIds(primary.record)[0] ?? key;
  // Aliases are the other ids that are not CVE ids: the finding's own CVE id is its vulnerability.
  const aliases: string[] = [];
  for (const i of ranked) for (const id of recordIds(i.record)) if (id !== vulnerability && !isCveId(id) && !aliases.includes(id)) aliases.push(id);

  const enrichment: Enrichment = (isCveId(vulnerability) ? enrich.get(vulnerability) : undefined) ?? NO_ENRICHMENT;
  const nvdCvss = enrichment.nvd?.cvss ?? [];

  const cvss: Finding['cvss'] = { v2: null, v3: null, v4: null };
  for (const i of ranked) {
    if (i.record.cvss.length === 0) continue;
    const sorted = [...i.record.cvss].sort((a, b) => compareText(b.version, a.version));
    for (const c of sorted) {
      const family = cvssFamily(c);
      if (cvss[family] === null) cvss[family] = scored(c, c.source ?? i.record.updater);
    }
  }
  if (nvdCvss.length > 0) {
    for (const c of nvdCvss.length === 1 ? nvdCvss : [...nvdCvss].sort((a, b) => compareText(b.version, a.version))) {
      const family = cvssFamily(c);
      if (cvss[family] === null) cvss[family] = scored(c, 'nvd');
    }
  }

  let severity: Severity = 'Unknown';
  let severitySource: string | null = null;
  let vendorSeverity = primary.record.vendorSeverity;
  const rated = ranked.find((i) => i.record.normalizedSeverity !== 'Unknown');
  if (rated !== undefined) {
    severity = rated.record.normalizedSeverity;
    severitySource = rated.record.severitySource ?? 'vendor';
    vendorSeverity = rated.record.vendorSeverity ?? vendorSeverity;
  } else {
    let nvd: CvssScore | undefined;
    for (const c of nvdCvss) if (nvd === undefined || NVD_RANK[c.version] < NVD_RANK[nvd.version]) nvd = c;
    if (nvd !== undefined) {
      const s = severityFromCvss(nvd);
      if (s !== 'Unknown') {
        severity = s;
        severitySource = 'nvd';
      }
    }
  }

  const links: string[] = [];
  for (const i of ranked) for (const l of i.record.links) if (links.length < MAX_LINKS && !links.includes(l)) links.push(l);

  return {
    key: `${String(pkg.id)}/${vulnerability}`,
    packageId: pkg.id,
    package: { name: pkg.name, version: pkg.version, ecosystem: pkg.ecosystem, sourceName: pkg.sourceName ?? null, sourceVersion: pkg.sourceVersion ?? null },
    vulnerability,
    aliases: aliases.sort(),
    state: primary.record.state,
    stateReason: primary.record.stateReason,
    fixedVersion: primary.check.fixedVersion,
    vendorSeverity,
    severity,
    severitySource,
    cvss,
    epss: enrichment.epss ? { score: enrichment.epss.score, percentile: enrichment.epss.percentile, date: enrichment.epss.date } : null,
    kev: enrichment.kev ? { dateAdded: enrichment.kev.dateAdded, dueDate: enrichment.kev.dueDate, knownRansomware: enrichment.kev.knownRansomware } : null,
    description: ranked.find((i) => i.record.description !== null)?.record.description ?? enrichment.nvd?.description ?? null,
    links,
    publishedAt: ranked.find((i) => i.record.publishedAt !== null)?.record.publishedAt ?? enrichment.nvd?.published ?? null,
    source: { updater: primary.record.updater, recordId: primary.record.id, distribution: primary.record.distribution },
    explain: ranked.map((i) => i.check),
  };
}

/** NVD severity: v3.1 first, then v3.0, v4.0, v2. */
const NVD_RANK: Readonly<Record<CvssScore['version'], number>> = { '3.1': 0, '3.0': 1, '4.0': 2, '2.0': 3 };

const NO_ENRICHMENT: Enrichment = {};

function scored(c: CvssScore, source: string): FindingCvss {
  return { version: c.version, vector: c.vector, score: c.score, source };
}
