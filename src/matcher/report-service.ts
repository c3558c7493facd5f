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

/** Columns of `vulnerabilities` the matcher reads (never `raw`, which holds the feed's whole record). */
const CANDIDATE_COLUMNS = [
  'id', 'updater', 'name', 'aliases', 'ecosystem', 'distribution', 'repository', 'module', 'package_name', 'package_kind', 'arch',
  'affected_range', 'fixed_version', 'state', 'state_reason', 'vendor_severity', 'normalized_severity', 'severity_source', 'cvss',
  'description', 'links', 'published_at', 'modified_at',
] as const;

/** Default bound of the in-process report cache: the JSON text size of the reports kept. */
const DEFAULT_CACHE_BYTES = 128 * 1024 * 1024;

/**
 * Reports from the database: an image's coalesced packages (`manifest_packages`) matched against
 * the `vulnerabilities` rows its match plan selects, enriched with NVD/EPSS/KEV. Reports are
 * cached per image in `reports` (the serialized JSON, its ETag and summary) with the
 * vulnerability-database generation they were made at; a feed run that touches an image's
 * packages deletes its cached report (in the run's transaction), so a cached report is current
 * until then. Parsed reports are also kept in process (least recently used first out, bounded by
 * `cacheBytes` of JSON), checked against the stored ETag on every read, so a poll costs one
 * indexed lookup; callers must not modify the reports they get.
 */
export class ReportService {
  private readonly knex: Knex;
  private readonly options: MatchOptions;
  private readonly cacheBytes: number;
  private readonly cache = new Map<number, CachedReport & { bytes: number }>();
  private cachedBytes = 0;

  constructor(deps: { knex: Knex; options?: MatchOptions; cacheBytes?: number }) {
    this.knex = deps.knex;
    this.options = deps.options ?? {};
    this.cacheBytes = deps.cacheBytes ?? DEFAULT_CACHE_BYTES;
  }

  /** The vulnerability database generation: the id of the latest run that changed data (0 for none). */
  async generation(): Promise<number> {
    const row = await this.knex('update_runs').where({ state: 'changed' }).max<{ max: string | null }>('id as max').first();
    return Number(row?.max ?? 0);
  }

  /** The cached report of an indexed image, computing and storing it when missing. */
  async report(manifestId: number): Promise<CachedReport> {
    const stored = await this.knex('reports').where({ manifest_id: manifestId }).first('etag', 'generation');
    if (!stored) return this.refresh(manifestId);
    const kept = this.cache.get(manifestId);
    if (kept && kept.etag === stored.etag) {
      this.cache.delete(manifestId);
      this.cache.set(manifestId, kept);
      return kept;
    }
    const row = await this.knex('reports').where({ manifest_id: manifestId }).first('report', 'etag', 'generation');
    if (!row) return this.refresh(manifestId);
    const cached = { report: JSON.parse(row.report as string) as ImageReport, etag: row.etag as string, generation: Number(row.generation) };
    this.keep(manifestId, cached, (row.report as string).length);
    return cached;
  }

  /** The ETag of an image's cached report, or null when none is cached (one indexed lookup). */
  async etag(manifestId: number): Promise<string | null> {
    const row = await this.knex('reports').where({ manifest_id: manifestId }).first('etag');
    return (row?.etag as string | undefined) ?? null;
  }

  /** Computes the report now and stores it (replacing a cached one). */
  async refresh(manifestId: number): Promise<CachedReport> {
    const [generation, facts] = await Promise.all([this.generation(), this.facts(manifestId)]);
    const { report, releaseKeys } = await this.compute(facts, { generation });
    const text = JSON.stringify(report);
    // The validator covers everything but the time it was made, so an unchanged recomputation keeps it.
    const etag = `"${createHash('sha256').update(text.replace(`"generatedAt":${JSON.stringify(report.generatedAt)}`, '')).digest('hex').slice(0, 32)}"`;
    await Promise.all([
      this.knex('reports')
        .insert({ manifest_id: manifestId, generation, etag, report: text, summary: JSON.stringify(report.summary), created_at: this.knex.fn.now() })
        .onConflict('manifest_id')
        .merge(),
      // Recorded for the reverse match: which release keys this image's OS packages follow.
      this.knex('manifests').where({ id: manifestId }).update({ release_keys: releaseKeys }),
    ]);
    const cached = { report, etag, generation };
    this.keep(manifestId, cached, text.length);
    return cached;
  }

  private keep(manifestId: number, cached: CachedReport, bytes: number): void {
    const old = this.cache.get(manifestId);
    if (old) {
      this.cachedBytes -= old.bytes;
      this.cache.delete(manifestId);
    }
    if (bytes > this.cacheBytes / 4) return; // one huge report must not empty the cache
    this.cache.set(manifestId, { ...cached, bytes });
    this.cachedBytes += bytes;
    for (const [id, entry] of this.cache) {
      if (this.cachedBytes <= this.cacheBytes) break;
      this.cache.delete(id);
      this.cachedBytes -= entry.bytes;
    }
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
    const [rows, dist, layers, failed] = await Promise.all([
      this.knex('manifest_packages as mp')
        .join('packages as p', 'p.id', 'mp.package_id')
        .join('layers as l', 'l.id', 'mp.introduced_in')
        .where('mp.manifest_id', manifestId)
        .select('p.*', 'mp.path', 'mp.owner_package_id', 'l.digest as introduced_in'),
      manifest.distribution_id ? this.knex('distributions').where({ id: manifest.distribution_id }).first() : null,
      this.knex('manifest_layers as ml').join('layers as l', 'l.id', 'ml.layer_id').where('ml.manifest_id', manifestId).orderBy('ml.position').pluck('l.digest'),
      this.knex('layer_scans as s')
        .join('manifest_layers as ml', 'ml.layer_id', 's.layer_id')
        .join('layers as l', 'l.id', 's.layer_id')
        .where({ 'ml.manifest_id': manifestId, 's.state': 'failed' })
        .distinct('l.digest', 's.error'),
    ]);
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

  /**
   * The records the lookups select, one query per lookup, run together; rows come as arrays
   * (no per-row objects from the driver).
   */
  private async candidates(lookups: readonly Lookup[]): Promise<CandidateRecord[]> {
    const results = await Promise.all(
      lookups.map(async (lookup) => {
        const query = this.knex('vulnerabilities')
          .select(CANDIDATE_COLUMNS)
          .where({ ecosystem: lookup.ecosystem })
          .whereRaw('package_name = any(?)', [lookup.packageNames as string[]])
          .options({ rowMode: 'array' });
        if (lookup.distribution === null) query.whereNull('distribution');
        else query.where({ distribution: lookup.distribution });
        return ((await query) as unknown as unknown[][]).map(candidateFromArray);
      }),
    );
    return results.flat();
  }

  private async enrichments(ids: readonly string[]): Promise<EnrichmentRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.knex('enrichments').whereRaw('vuln_name = any(?)', [[...ids]]).select('kind', 'vuln_name', 'data');
    return rows.map((r) => ({ kind: r.kind, vulnName: r.vuln_name, data: r.data }) as EnrichmentRecord);
  }
}

/** A row of {@link CANDIDATE_COLUMNS} values, in that order, as the matcher's candidate record. */
function candidateFromArray(v: unknown[]): CandidateRecord {
  const r: Record<string, unknown> = {};
  for (let i = 0; i < CANDIDATE_COLUMNS.length; i++) r[CANDIDATE_COLUMNS[i]!] = v[i];
  return toCandidate(r);
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
