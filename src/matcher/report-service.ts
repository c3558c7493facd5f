import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { zstdCompress, zstdDecompress } from 'node:zlib';
import type { Knex } from 'knex';
import type { FoundDistribution } from '../ecosystems/scanner.ts';
import type { EnrichmentRecord } from '../ecosystems/vulnerability-record.ts';
import { applyDecisions, normalizeId } from '../decisions/apply-decisions.ts';
import type { DecisionSet, DecisionSource } from '../decisions/decision-set.ts';
import type { BaseImage } from '../remediation/build-remediation.ts';
import { buildImageReport, type ImageReport } from './image-report.ts';
import type { CandidateRecord, MatchOptions, MatchPackage } from './match-input.ts';
import { checkPackages, finishMatch, type MatchResult } from './match-packages.ts';
import { matchPlan, type Lookup } from './match-plan.ts';
import { packageFromRow } from './package-from-row.ts';
import { RECORD_COLUMNS, vulnerabilityFromValues } from '../store/vulnerability-row.ts';
import { layerChainIds } from '../store/layer-chain-ids.ts';

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
  /** The known image whose layers are a prefix of this one's (the longest such), null when none. */
  base?: BaseImage | null;
}

/** A cached report and its validator. */
export interface CachedReport {
  report: ImageReport;
  etag: string;
  generation: number;
}

/** Default bound of the in-process report cache: the JSON text size of the reports kept. */
const DEFAULT_CACHE_BYTES = 128 * 1024 * 1024;

const compress = promisify(zstdCompress);
const decompress = promisify(zstdDecompress);

/**
 * Reports from the database: an image's coalesced packages (`manifest_packages`) matched against
 * the `vulnerabilities` rows its match plan selects, enriched with NVD/EPSS/KEV. Reports are
 * cached per image in `reports` (the serialized JSON, zstd-compressed here off the event loop so
 * a write sends kilobytes, not megabytes; its ETag and summary) with the vulnerability-database
 * generation they were made at; a feed run that touches an image's packages deletes its cached
 * report (in the run's transaction) and an operator decision marks it stale (generation -1: made
 * again on the next read), so a cached report is current until then.
 * Parsed reports are also kept in process (least recently used first out, bounded by
 * `cacheBytes` of JSON), checked against the stored ETag on every read, so a poll costs one
 * indexed lookup; callers must not modify the reports they get. With a decision source, operator
 * decisions (VEX statements, live exceptions) are applied to the findings of every report made
 * (suppressed findings move to `suppressedFindings`); a change to them must refresh the cached
 * reports it touches or mark them stale.
 */
export class ReportService {
  private readonly knex: Knex;
  private readonly options: MatchOptions;
  private readonly cacheBytes: number;
  private readonly decisions: DecisionSource | null;
  private readonly now: () => Date;
  private readonly cache = new Map<number, CachedReport & { bytes: number }>();
  private cachedBytes = 0;

  constructor(deps: { knex: Knex; options?: MatchOptions; cacheBytes?: number; decisions?: DecisionSource; now?: () => Date }) {
    this.knex = deps.knex;
    this.options = deps.options ?? {};
    this.cacheBytes = deps.cacheBytes ?? DEFAULT_CACHE_BYTES;
    this.decisions = deps.decisions ?? null;
    this.now = deps.now ?? (() => new Date());
  }

  /** The vulnerability database generation: the id of the latest run that changed data (0 for none). */
  async generation(): Promise<number> {
    const row = await this.knex('update_runs').where({ state: 'changed' }).max<{ max: string | null }>('id as max').first();
    return Number(row?.max ?? 0);
  }

  /** The cached report of an indexed image, computing and storing it when missing or marked stale (generation -1). */
  async report(manifestId: number): Promise<CachedReport> {
    const stored = await this.knex('reports').where({ manifest_id: manifestId }).first('etag', 'generation');
    if (!stored || Number(stored.generation) < 0) return this.refresh(manifestId);
    const kept = this.cache.get(manifestId);
    if (kept && kept.etag === stored.etag) {
      this.cache.delete(manifestId);
      this.cache.set(manifestId, kept);
      return kept;
    }
    const row = await this.knex('reports').where({ manifest_id: manifestId }).first('report_zstd', 'etag', 'generation');
    if (!row || Number(row.generation) < 0) return this.refresh(manifestId);
    const json = await decompress(row.report_zstd as Buffer);
    const cached = { report: JSON.parse(json.toString('utf8')) as ImageReport, etag: row.etag as string, generation: Number(row.generation) };
    this.keep(manifestId, cached, json.length);
    return cached;
  }

  /** The ETag of an image's cached report, or null when none is cached or it is marked stale (one indexed lookup). */
  async etag(manifestId: number): Promise<string | null> {
    const row = await this.knex('reports').where({ manifest_id: manifestId }).first('etag', 'generation');
    return row && Number(row.generation) >= 0 ? (row.etag as string) : null;
  }

  /** Computes the report now and stores it (replacing a cached one). */
  async refresh(manifestId: number): Promise<CachedReport> {
    const [generation, facts] = await Promise.all([this.generation(), this.facts(manifestId)]);
    const { report, releaseKeys } = await this.compute(facts, { generation });
    const json = Buffer.from(JSON.stringify(report), 'utf8');
    const compressed = compress(json);
    const etag = reportEtag(json, report.generatedAt);
    await Promise.all([
      compressed.then((zstd) =>
        this.knex('reports')
          .insert({ manifest_id: manifestId, generation, etag, report_zstd: zstd, summary: JSON.stringify(report.summary), created_at: this.knex.fn.now() })
          .onConflict('manifest_id')
          .merge(),
      ),
      // Recorded for the reverse match: which release keys this image's OS packages follow.
      this.knex('manifests').where({ id: manifestId }).whereRaw('release_keys is distinct from ?::text[]', [releaseKeys]).update({ release_keys: releaseKeys }),
    ]);
    const cached = { report, etag, generation };
    this.keep(manifestId, cached, json.length);
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
    // Without an explanation asked for, the checks behind each package's result are counted, not listed.
    const matchOptions = { ...this.options, ...(options.explain === true ? {} : { maxChecksPerPackage: 0 }), ...options.match };
    const plan = matchPlan(facts.distribution, facts.releaseHint, facts.packages, matchOptions);
    const checked = checkPackages({
      distribution: facts.distribution,
      releaseHint: facts.releaseHint,
      packages: facts.packages,
      records: await this.candidates(plan.lookups),
      options: matchOptions,
    });
    // NVD, EPSS and KEV data for the findings alone (a few thousand candidates name far more CVEs),
    // read beside the operator decisions that may apply to them.
    const now = this.now();
    const source = this.decisions !== null && checked.recordIds.length > 0 ? this.decisions : null;
    const [enrichments, decisions, repositories] = await Promise.all([
      this.enrichments(checked.enrichmentIds),
      source?.forImage([...new Set(checked.recordIds.map(normalizeId))], now) ?? null,
      source !== null && facts.manifestId > 0 ? source.repositoriesOf(facts.manifestId) : [],
    ]);
    const match = finishMatch(checked, enrichments);
    const decided = decisions === null ? { findings: match.findings, suppressed: [] } : this.decide(facts, match, repositories, decisions, now);
    const report = buildImageReport({
      image: { digest: facts.digest, mediaType: facts.mediaType, platform: facts.platform, layers: facts.layers },
      distribution: facts.distribution,
      packages: facts.packages,
      match: { ...match, findings: decided.findings },
      suppressedFindings: decided.suppressed,
      base: facts.base ?? null,
      generation: options.generation ?? (await this.generation()),
      generatedAt: new Date(),
      notes: [...facts.notes, ...plan.notes],
      explain: options.explain === true,
    });
    return { report, match, releaseKeys: [...(plan.distribution?.keys ?? [])] };
  }

  /** The match's findings with the operator's decisions that name their ids applied. */
  private decide(facts: ImageFacts, match: MatchResult, repositories: string[], decisions: DecisionSet, now: Date): ReturnType<typeof applyDecisions> {
    const d = facts.distribution;
    const release = d === null ? null : { did: d.did, versionId: d.versionId ?? null, versionCodename: d.versionCodename ?? null, key: match.distribution?.keys[0] ?? null };
    const packages = new Map(facts.packages.map((p) => [String(p.id), p]));
    return applyDecisions(match.findings, packages, { digest: facts.digest, repositories, release }, decisions, now);
  }

  /** Everything known about an indexed image: packages with their layers, distribution, notes. */
  async facts(manifestId: number): Promise<ImageFacts> {
    // One round of queries, run together: the base image's lookup follows the layers' alone.
    const layersRead: Promise<string[]> = this.knex('manifest_layers as ml')
      .join('layers as l', 'l.id', 'ml.layer_id')
      .where('ml.manifest_id', manifestId)
      .orderBy('ml.position')
      .pluck('l.digest')
      .then((digests) => digests as string[]); // a promise: a query builder would run again for each reader
    const [manifest, rows, dist, layers, failed, base] = await Promise.all([
      this.knex('manifests').where({ id: manifestId }).first(),
      this.knex('manifest_packages as mp')
        .join('packages as p', 'p.id', 'mp.package_id')
        .join('layers as l', 'l.id', 'mp.introduced_in')
        .where('mp.manifest_id', manifestId)
        .select('p.*', 'mp.path', 'mp.owner_package_id', 'l.digest as introduced_in'),
      this.knex('distributions').whereIn('id', this.knex('manifests').where({ id: manifestId }).select('distribution_id')).first(),
      layersRead,
      this.knex('layer_scans as s')
        .join('manifest_layers as ml', 'ml.layer_id', 's.layer_id')
        .join('layers as l', 'l.id', 's.layer_id')
        .where({ 'ml.manifest_id': manifestId, 's.state': 'failed' })
        .distinct('l.digest', 's.error'),
      layersRead.then((digests) => this.baseImage(manifestId, digests)),
    ]);
    if (!manifest) throw new Error(`manifest ${manifestId} does not exist`);
    const packages: MatchPackage[] = rows.map((r) => ({
      ...packageFromRow(r),
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
      base,
    };
  }

  /**
   * The known image this one was built on: of the other images whose layers are all, in order,
   * the first layers of this one (fewer of them), the one with the most layers; null when there
   * is none (a base image of its own, or its base was never scanned). Each image's layer chain id
   * (see {@link layerChainIds}) is recorded with its layers, so the lookup is one indexed query.
   */
  private async baseImage(manifestId: number, layers: readonly string[]): Promise<BaseImage | null> {
    if (layers.length < 2) return null;
    const chains = layerChainIds(layers);
    const row = await this.knex('image_layer_chains as c')
      .join('manifests as m', 'm.id', 'c.manifest_id')
      .where('m.kind', 'image')
      .whereNot('c.manifest_id', manifestId)
      .where('c.layers', '<', layers.length)
      .whereRaw('c.chain_id = any(?)', [chains.slice(0, -1)])
      .orderBy([{ column: 'c.layers', order: 'desc' }, { column: 'm.digest' }])
      .first('m.digest', 'c.layers');
    return row ? { digest: row.digest, layers: Number(row.layers) } : null;
  }

  /**
   * The records the lookups select, one query per lookup, run together; rows come as arrays
   * (no per-row objects from the driver), without the ecosystem and distribution the lookup
   * selected them by (thousands of copies of one string), which are the lookup's.
   */
  private async candidates(lookups: readonly Lookup[]): Promise<CandidateRecord[]> {
    const results = await Promise.all(
      lookups.map(async (lookup) => {
        const query = this.knex('vulnerabilities')
          .select(this.knex.raw(CANDIDATE_SELECT))
          .where({ ecosystem: lookup.ecosystem })
          .whereRaw('package_name = any(?)', [lookup.packageNames as string[]])
          .options({ rowMode: 'array' });
        if (lookup.distribution === null) query.whereNull('distribution');
        else query.where({ distribution: lookup.distribution });
        return ((await query) as unknown as unknown[][]).map((row) => candidateFromValues(row, lookup));
      }),
    );
    return results.flat();
  }

  /**
   * The NVD, EPSS and KEV data of `ids` (upper-case CVE ids): one probe of the table's key (id,
   * kind) per id. Written as a join with the ids, not `= any(ids)`, which the planner turns into a
   * scan of the whole table past a few thousand ids.
   */
  private async enrichments(ids: readonly string[]): Promise<EnrichmentRecord[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.knex.raw<{ rows: Array<{ kind: EnrichmentRecord['kind']; vuln_name: string; data: any }> }>(
      'select e.kind, e.vuln_name, e.data from unnest(?::text[]) as i(id) join enrichments e on e.vuln_name = i.id',
      [ids as string[]],
    );
    return rows.map((r) => ({ kind: r.kind, vulnName: r.vuln_name, data: r.data }) as EnrichmentRecord);
  }
}

/** The select list of `id` and {@link RECORD_COLUMNS}, the lookup's own columns as nulls. */
const CANDIDATE_SELECT = ['id', ...RECORD_COLUMNS.map((c) => (c === 'ecosystem' || c === 'distribution' ? `null as ${c}` : c))].join(', ');

/** A row of {@link CANDIDATE_SELECT} values, selected by `lookup`, as the matcher's candidate record. */
function candidateFromValues(v: unknown[], lookup: Lookup): CandidateRecord {
  const record = vulnerabilityFromValues(v, 1) as CandidateRecord;
  record.id = Number(v[0]);
  record.ecosystem = lookup.ecosystem;
  record.distribution = lookup.distribution;
  return record;
}

/**
 * The validator of a report's JSON: a hash of everything but the `generatedAt` member (the first
 * one, the report's own), so an unchanged recomputation keeps it.
 */
function reportEtag(json: Buffer, generatedAt: string): string {
  const member = Buffer.from(`"generatedAt":${JSON.stringify(generatedAt)}`, 'utf8');
  const at = json.indexOf(member);
  const hash = createHash('sha256');
  if (at < 0) hash.update(json);
  else hash.update(json.subarray(0, at)).update(json.subarray(at + member.length));
  return `"${hash.digest('hex').slice(0, 32)}"`;
}
