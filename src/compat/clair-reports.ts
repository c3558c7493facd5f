import { severityFromCvss } from '../ecosystems/cvss/score-cvss-vector.ts';
import type { Finding, FindingCvss } from '../matcher/finding.ts';
import type { ImageReport, ReportPackage } from '../matcher/image-report.ts';
import type { StoredDistribution } from './clair-store.ts';
import {
  CLAIR_CVSS_ENRICHMENT,
  type ClairCvssEnrichment,
  type ClairDistribution,
  type ClairEnvironment,
  type ClairIndexReport,
  type ClairIndexState,
  type ClairPackage,
  type ClairRepository,
  type ClairVulnerability,
  type ClairVulnerabilityReport,
} from './clair-types.ts';

/** Package formats of operating systems: their packages belong to the distribution. */
const OS_ECOSYSTEMS = new Set(['dpkg', 'apk', 'rpm']);
/** Clair's repository names for language ecosystems (Lookout's ecosystem name otherwise). */
const REPOSITORY_NAMES: Readonly<Record<string, string>> = { gem: 'rubygems' };
const CPE22 = /^[c][pP][eE]:\/[AHOaho]?(:[A-Za-z0-9._\-~%]*){0,6}$/;
/** The unescaped subset of the CPE 2.3 formatted-string grammar (what os-release files carry). */
const CPE23 = /^cpe:2\.3:[aho*-](:([A-Za-z0-9._-]+|\*|-)){5}:([A-Za-z]{2,3}(-([A-Za-z]{2}|[0-9]{3}))?|\*|-)(:([A-Za-z0-9._-]+|\*|-)){4}$/;

/** What a Clair index report is made of. */
export interface ClairIndexReportInput {
  digest: string;
  state: ClairIndexState;
  error: string | null;
  /** The image's report (its packages and layers); null while indexing or after a failure. */
  report: ImageReport | null;
  distribution: StoredDistribution | null;
}

/**
 * A Clair `IndexReport` from Lookout's image report: packages (binary, with their source
 * package), the distribution, language repositories, and one environment per place a package
 * was found (package database, introducing layer, distribution or repository). Before the index
 * finished, the maps are empty and `success` is false; after a failure `err` says why.
 */
export function clairIndexReport(input: ClairIndexReportInput): ClairIndexReport {
  const finished = input.state === 'IndexFinished' && input.report !== null;
  const contents = finished ? contentsOf(input.report!, input.distribution) : { packages: {}, distributions: {}, repository: {}, environments: {} };
  return {
    manifest_hash: input.digest,
    state: input.state,
    ...contents,
    success: input.state === 'IndexFinished',
    err: input.state === 'IndexError' ? (input.error ?? 'indexing failed') : '',
  };
}

/**
 * A Clair `VulnerabilityReport`: the index report's maps plus one vulnerability per matched
 * advisory record (keyed by its row id, so two packages of one source share it), each package's
 * vulnerability ids, and the CVSS scores in the `clair.cvss` enrichment shape Quay reads
 * (vulnerability id → `[{version, vectorString, baseScore, baseSeverity}]`). Vulnerabilities carry
 * `links`, `description` and `fixed_in_version` always (empty when unknown) and the normalized
 * severity as Clair spells it.
 */
export function clairVulnerabilityReport(report: ImageReport, distribution: StoredDistribution | null): ClairVulnerabilityReport {
  const contents = contentsOf(report, distribution);
  const dist = Object.values(contents.distributions)[0];
  const vulnerabilities: Record<string, ClairVulnerability> = {};
  const byPackage: Record<string, string[]> = {};
  const cvss: Record<string, ClairCvssEnrichment[]> = {};
  const packages = new Map(report.packages.map((p) => [String(p.id), p]));
  for (const finding of report.findings) {
    const packageId = String(finding.packageId);
    if (!(packageId in contents.packages)) continue;
    const id = String(finding.source.recordId);
    if (!(id in vulnerabilities)) vulnerabilities[id] = vulnerabilityOf(id, finding, packages.get(packageId), dist, contents.repository);
    if (!(id in cvss)) {
      const scores = cvssOf(finding);
      if (scores.length > 0) cvss[id] = scores;
    }
    const list = (byPackage[packageId] ??= []);
    if (!list.includes(id)) list.push(id);
  }
  return {
    manifest_hash: report.image.digest,
    packages: contents.packages,
    distributions: contents.distributions,
    repository: contents.repository,
    environments: contents.environments,
    vulnerabilities,
    package_vulnerabilities: byPackage,
    enrichments: Object.keys(cvss).length > 0 ? { [CLAIR_CVSS_ENRICHMENT]: [cvss] } : {},
  };
}

interface Contents {
  packages: Record<string, ClairPackage>;
  distributions: Record<string, ClairDistribution>;
  repository: Record<string, ClairRepository>;
  environments: Record<string, ClairEnvironment[]>;
}

function contentsOf(report: ImageReport, stored: StoredDistribution | null): Contents {
  const distributions: Record<string, ClairDistribution> = {};
  const dist = distributionOf(report, stored);
  if (dist !== null) distributions[dist.id] = dist;
  const packages: Record<string, ClairPackage> = {};
  const repository: Record<string, ClairRepository> = {};
  const environments: Record<string, ClairEnvironment[]> = {};
  for (const p of report.packages) {
    const id = String(p.id);
    packages[id] ??= packageOf(p);
    const environment: ClairEnvironment = { package_db: p.path };
    if (p.introducedIn !== null) environment.introduced_in = p.introducedIn;
    if (OS_ECOSYSTEMS.has(p.ecosystem)) {
      if (dist !== null) environment.distribution_id = dist.id;
    } else {
      const repo = repositoryOf(p.ecosystem);
      repository[repo.id] ??= repo;
      environment.repository_ids = [repo.id];
    }
    (environments[id] ??= []).push(environment);
  }
  return { packages, distributions, repository, environments };
}

function packageOf(p: ReportPackage): ClairPackage {
  const out: ClairPackage = { id: String(p.id), name: p.name, version: p.version, kind: 'BINARY' };
  if (p.sourceName !== null && p.sourceName !== '') out.source = { name: p.sourceName, version: p.sourceVersion ?? p.version, kind: 'SOURCE' };
  if (p.arch !== null && p.arch !== '') out.arch = p.arch;
  if (p.module !== null && p.module !== '') out.module = p.module;
  return out;
}

function distributionOf(report: ImageReport, stored: StoredDistribution | null): ClairDistribution | null {
  const d = report.image.distribution;
  if (d === null && stored === null) return null;
  const out: ClairDistribution = { id: stored !== null ? String(stored.id) : '1', did: stored?.did ?? d!.did };
  const fields: Array<[keyof ClairDistribution, string | null | undefined]> = [
    ['name', stored?.name ?? d?.name],
    ['version', stored?.version],
    ['version_code_name', stored?.versionCodename ?? d?.versionCodename],
    ['version_id', stored?.versionId ?? d?.versionId],
    ['arch', stored?.arch ?? report.image.platform?.architecture],
    ['pretty_name', stored?.prettyName ?? d?.prettyName],
  ];
  for (const [key, value] of fields) if (value !== null && value !== undefined && value !== '') out[key] = value;
  if (stored?.cpe && (CPE22.test(stored.cpe) || CPE23.test(stored.cpe))) out.cpe = stored.cpe;
  return out;
}

function repositoryOf(ecosystem: string): ClairRepository {
  const name = REPOSITORY_NAMES[ecosystem] ?? ecosystem;
  return { id: `repo:${name}`, name, key: name };
}

function vulnerabilityOf(id: string, f: Finding, p: ReportPackage | undefined, dist: ClairDistribution | undefined, repositories: Record<string, ClairRepository>): ClairVulnerability {
  const bySource = f.explain[0]?.matchedBy === 'source' && f.package.sourceName !== null;
  const out: ClairVulnerability = {
    id,
    updater: f.source.updater,
    name: f.vulnerability,
    description: f.description ?? '',
    links: f.links.join(' '),
    severity: f.vendorSeverity ?? '',
    normalized_severity: f.severity,
    package: { name: bySource ? f.package.sourceName! : f.package.name, version: '', kind: bySource ? 'SOURCE' : 'BINARY' },
    arch_op: 'equals',
    fixed_in_version: f.fixedVersion ?? '',
  };
  if (f.publishedAt !== null && !Number.isNaN(Date.parse(f.publishedAt))) out.issued = new Date(f.publishedAt).toISOString();
  if (f.source.distribution !== null && dist !== undefined) out.distribution = dist;
  if (p !== undefined && !OS_ECOSYSTEMS.has(p.ecosystem)) {
    const repo = repositories[repositoryOf(p.ecosystem).id];
    if (repo !== undefined) out.repository = repo;
  }
  return out;
}

function cvssOf(f: Finding): ClairCvssEnrichment[] {
  return [f.cvss.v4, f.cvss.v3, f.cvss.v2]
    .filter((c): c is FindingCvss => c !== null)
    .map((c) => ({ version: c.version, vectorString: c.vector, baseScore: c.score, baseSeverity: severityFromCvss(c).toUpperCase() }));
}
