import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { FoundDistribution } from '../ecosystems/scanner.ts';
import type { EnrichmentRecord } from '../ecosystems/vulnerability-record.ts';
import { enrichmentIds } from './enrichment-index.ts';
import { buildImageReport, type ImageReport } from './image-report.ts';
import type { CandidateRecord, MatchOptions, MatchPackage } from './match-input.ts';
import { matchPackages, type MatchResult } from './match-packages.ts';
import { matchPlan, type Lookup } from './match-plan.ts';

/** What the report service knows of one image before matching. */
export interface ImageFacts {
  manifestId: number;
  digest: string;
  mediaType: string;
  platform: { os: string; architecture: string; variant?: string } | null;
  distribution: FoundDistribution | null;
  releaseHint: FoundDistribution | null;
  packages: MatchPackage[];
  layers: string[];
  notes: string[];
}

/** A cached report and its validator. */
export interface CachedReport {
  report: ImageReport;
  etag: string;
  generation: number;
}

/**
 * Reports from the database: an image's coalesced packages (`manifest_packages`) matched against
 * the `vulnerabilities` rows its match plan selects, enriched with NVD/EPSS/KEV. Reports are
 * cached per image in `reports` with the vulnerability-database generation they were made at; a
 * feed run that touches an image's packages deletes its cached report (in the run's transaction),
 * so a cached report is current until then.
 */
export class ReportService {
  private readonly knex: Knex;
  private readonly options: MatchOptions;

  constructor(deps: { knex: Knex; options?: MatchOptions }) {
    this.knex = deps.knex;
    this.options = deps.options ?? {};
  }

  /** The vulnerability database generation: the id of the latest run that changed data (0 for none). */
  async generation(): Promise<number> {
    const row = await this.knex('update_runs').where({ state: 'changed' }).max<{ max: string | null }>('id as max').first();
    return Number(row?.max ?? 0);
  }

  /** The cached report of an indexed image, computing and storing it when missing. */
  async report(manifestId: number): Promise<CachedReport> {
    const cached = await this.knex('reports').where({ manifest_id: manifestId }).first();
    if (cached) return { report: cached.report as ImageReport, etag: cached.etag, generation: Number(cached.generation) };
    return this.refresh(manifestId);
  }

  /** Computes the report now and stores it (replacing a cached one). */
  async refresh(manifestId: number): Promise<CachedReport> {
    const generation = await this.generation();
    const facts = await this.facts(manifestId);
    const { report, releaseKeys } = await this.compute(facts, { generation });
    const etag = `"${createHash('sha256').update(JSON.stringify([report.findings, report.summary, report.packages.length, generation])).digest('hex').slice(0, 32)}"`;
    await this.knex('reports')
      .insert({ manifest_id: manifestId, generation, etag, report: JSON.stringify(report), created_at: this.knex.fn.now() })
      .onConflict('manifest_id')
      .merge();
    // Recorded for the reverse match: which release keys this image's OS packages follow.
    await this.knex('manifests').where({ id: manifestId }).update({ release_keys: releaseKeys });
    return { report, etag, generation };
  }

  /** Matches an image (not cached): the report, and the match with per-package explanations. */
  async compute(facts: ImageFacts, options: { generation?: number; explain?: boolean; match?: MatchOptions } = {}): Promise<{ report: ImageReport; match: MatchResult; releaseKeys: string[] }> {
    const matchOptions = { ...this.options, ...options.match };
    const plan = matchPlan(facts.distribution, facts.releaseHint, facts.packages, matchOptions);
    const records = await this.candidates(plan.lookups);
    const enrichments = await this.enrichments(enrichmentIds(records));
    const match = matchPackages({
      distribution: facts.distribution,
      releaseHint: facts.releaseHint,
      packages: facts.packages,
      records,
      enrichments,
      options: matchOptions,
    });
    const report = buildImageReport({
      image: { digest: facts.digest, mediaType: facts.mediaType, platform: facts.platform, layers: facts.layers },
      distribution: facts.distribution,
      packages: facts.packages,
      match,
      generation: options.generation ?? (await this.generation()),
      generatedAt: new Date(),
      notes: [...facts.notes, ...plan.notes],
      explain: options.explain === true,
    });
    return { report, match, releaseKeys: [...(plan.distribution?.keys ?? [])] };
  }

  /** Everything known about an indexed image: packages with their layers, distribution, notes. */
  async facts(manifestId: number): Promise<ImageFacts> {
    const manifest = await this.knex('manifests').where({ id: manifestId }).first();
    if (!manifest) throw new Error(`manifest ${manifestId} does not exist`);
    const rows = await this.knex('manifest_packages as mp')
      .join('packages as p', 'p.id', 'mp.package_id')
      .join('layers as l', 'l.id', 'mp.introduced_in')
      .where('mp.manifest_id', manifestId)
      .select('p.*', 'mp.path', 'mp.owner_package_id', 'l.digest as introduced_in');
    const packages: MatchPackage[] = rows.map((r) => ({
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
      path: r.path,
      introducedIn: r.introduced_in,
      ownerPackageId: r.owner_package_id === null ? null : Number(r.owner_package_id),
    }));
    const dist = manifest.distribution_id ? await this.knex('distributions').where({ id: manifest.distribution_id }).first() : null;
    const distribution: FoundDistribution | null = dist
      ? {
          did: dist.did,
          path: 'etc/os-release',
          ...(dist.name ? { name: dist.name } : {}),
          ...(dist.version ? { version: dist.version } : {}),
          ...(dist.version_id ? { versionId: dist.version_id } : {}),
          ...(dist.version_codename ? { versionCodename: dist.version_codename } : {}),
          ...(dist.pretty_name ? { prettyName: dist.pretty_name } : {}),
          ...(dist.cpe ? { cpe: dist.cpe } : {}),
        }
      : null;
    const hint = typeof manifest.release_hint === 'string' ? manifest.release_hint.split(':') : null;
    const releaseHint: FoundDistribution | null = hint && hint.length === 2 ? { did: hint[0]!, versionId: hint[1]!, path: 'etc/apk/repositories' } : null;
    const layers = await this.knex('manifest_layers as ml').join('layers as l', 'l.id', 'ml.layer_id').where('ml.manifest_id', manifestId).orderBy('ml.position').pluck('l.digest');
    const failed = await this.knex('layer_scans as s')
      .join('manifest_layers as ml', 'ml.layer_id', 's.layer_id')
      .join('layers as l', 'l.id', 's.layer_id')
      .where({ 'ml.manifest_id': manifestId, 's.state': 'failed' })
      .distinct('l.digest', 's.error');
    return {
      manifestId,
      digest: manifest.digest,
      mediaType: manifest.media_type,
      platform: manifest.platform_os && manifest.platform_arch
        ? { os: manifest.platform_os, architecture: manifest.platform_arch, ...(manifest.platform_variant ? { variant: manifest.platform_variant } : {}) }
        : null,
      distribution,
      releaseHint,
      packages,
      layers,
      notes: failed.map((f) => `layer ${f.digest} could not be scanned: ${f.error}`),
    };
  }

  private async candidates(lookups: readonly Lookup[]): Promise<CandidateRecord[]> {
    const records: CandidateRecord[] = [];
    for (const lookup of lookups) {
      const query = this.knex('vulnerabilities').where({ ecosystem: lookup.ecosystem }).whereIn('package_name', lookup.packageNames);
      if (lookup.distribution === null) query.whereNull('distribution');
      else query.where({ distribution: lookup.distribution });
      for (const r of await query) records.push(toCandidate(r));
    }
    return records;
  }

  private async enrichments(ids: readonly string[]): Promise<EnrichmentRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.knex('enrichments').whereIn('vuln_name', [...ids]).select('kind', 'vuln_name', 'data');
    return rows.map((r) => ({ kind: r.kind, vulnName: r.vuln_name, data: r.data }) as EnrichmentRecord);
  }
}

/** A `vulnerabilities` row as the matcher's candidate record. */
export function toCandidate(r: Record<string, any>): CandidateRecord {
  return {
    id: Number(r.id),
    updater: r.updater,
    name: r.name,
    aliases: r.aliases ?? [],
    ecosystem: r.ecosystem,
    distribution: r.distribution,
    repository: r.repository,
    module: r.module,
    packageName: r.package_name,
    packageKind: r.package_kind,
    arch: r.arch,
    affectedRange: r.affected_range,
    fixedVersion: r.fixed_version,
    state: r.state,
    stateReason: r.state_reason,
    vendorSeverity: r.vendor_severity,
    normalizedSeverity: r.normalized_severity,
    severitySource: r.severity_source,
    cvss: r.cvss ?? [],
    description: r.description,
    links: r.links ?? [],
    publishedAt: r.published_at ? new Date(r.published_at).toISOString() : null,
    modifiedAt: r.modified_at ? new Date(r.modified_at).toISOString() : null,
  };
}
