import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { filterReport, type FindingFilter } from '../matcher/report-filter.ts';
import type { ImageReport } from '../matcher/image-report.ts';
import type { ReportService } from '../matcher/report-service.ts';

/** Where an image is known: a repository of a registry, and the tags pointing at it there now. */
export interface ImageLocation {
  registry: string;
  repository: string;
  tags: string[];
}

/** An image's security status as `GET /api/v1/images/{digest}` shows it. */
export interface ImageStatus {
  digest: string;
  mediaType: string;
  kind: 'image' | 'index' | 'artifact';
  status: string;
  statusReason: string | null;
  statusChangedAt: string;
  firstSeenAt: string;
  lastSeenAt: string;
  indexedAt: string | null;
  platform: { os: string; architecture: string; variant?: string } | null;
  repositories: ImageLocation[];
  /** The report (findings filtered as asked) once the image is `done`; null before. */
  report: ImageReport | null;
  /** For an index: each platform image's status. */
  manifests?: ImageStatus[];
}

interface ManifestRow {
  id: string;
  digest: string;
  media_type: string;
  kind: 'image' | 'index' | 'artifact';
  status: string;
  status_reason: string | null;
  status_changed_at: Date;
  first_seen_at: Date;
  last_seen_at: Date;
  indexed_at: Date | null;
  platform_os: string | null;
  platform_arch: string | null;
  platform_variant: string | null;
}

/**
 * Reads images' statuses for the API: the manifest's state, where it is known (repositories and
 * current tags), and its cached report. Callers decide what the caller may see by repository.
 */
export class ImageStatusService {
  private readonly knex: Knex;
  private readonly reports: ReportService;

  constructor(deps: { knex: Knex; reports: ReportService }) {
    this.knex = deps.knex;
    this.reports = deps.reports;
  }

  /** Repositories (with registry and current tags) the manifest, or an index holding it, is known under. */
  async locations(digest: string): Promise<ImageLocation[]> {
    const rows = await this.knex.raw<{ rows: { registry: string; repository: string; tags: string[] | null }[] }>(
      `with target as (select id from manifests where digest = ?),
            holders as (select id from target union select c.index_id from manifest_children c join target t on c.child_id = t.id)
       select g.name as registry, r.name as repository,
              array_remove(array_agg(distinct tg.name) filter (where tg.manifest_id = rm.manifest_id and tg.deleted_at is null), null) as tags
       from repository_manifests rm
       join holders h on h.id = rm.manifest_id
       join repositories r on r.id = rm.repository_id
       join registries g on g.id = r.registry_id
       left join tags tg on tg.repository_id = r.id
       where rm.deleted_at is null
       group by g.name, r.name
       order by g.name, r.name`,
      [digest],
    );
    return rows.rows.map((r) => ({ registry: r.registry, repository: r.repository, tags: (r.tags ?? []).sort() }));
  }

  /** The status of one manifest (and, for an index, of each platform image), or null when unknown. */
  async status(digest: string, filter: FindingFilter = {}): Promise<ImageStatus | null> {
    const row = (await this.knex('manifests').where({ digest }).first()) as ManifestRow | undefined;
    if (!row) return null;
    const base = await this.describe(row, filter);
    if (row.kind === 'index') {
      const children = (await this.knex('manifest_children as c')
        .join('manifests as m', 'm.id', 'c.child_id')
        .where('c.index_id', row.id)
        .whereNull('c.skip_reason')
        .orderBy('c.position')
        .select('m.*')) as ManifestRow[];
      base.manifests = await Promise.all(children.map((child) => this.describe(child, filter)));
    }
    return base;
  }

  /** Where a repository's tag points now, or null. */
  async tag(registry: string | null, repository: string, tag: string): Promise<{ registry: string; digest: string } | null> {
    const query = this.knex('tags as t')
      .join('repositories as r', 'r.id', 't.repository_id')
      .join('registries as g', 'g.id', 'r.registry_id')
      .join('manifests as m', 'm.id', 't.manifest_id')
      .where({ 'r.name': repository, 't.name': tag })
      .whereNull('t.deleted_at')
      .orderBy('t.updated_at', 'desc')
      .first('g.name as registry', 'm.digest');
    if (registry !== null) query.where('g.name', registry);
    const row = await query;
    return row ? { registry: row.registry, digest: row.digest } : null;
  }

  /**
   * A page of images (newest first) known under repositories `readable` allows, optionally one
   * repository and tag, with at least one finding of the given severities when asked.
   */
  async list(options: { repository?: string; tag?: string; severities?: string[]; readable: (repository: string) => Promise<boolean>; limit: number; cursor?: number }): Promise<{ items: { digest: string; status: string; repositories: ImageLocation[]; summary: unknown }[]; next: number | null }> {
    const items: { digest: string; status: string; repositories: ImageLocation[]; summary: unknown }[] = [];
    let cursor = options.cursor ?? Number.MAX_SAFE_INTEGER;
    for (let round = 0; round < 20 && items.length < options.limit; round++) {
      const query = this.knex('manifests as m')
        .where('m.id', '<', cursor)
        .whereIn('m.kind', ['image', 'index'])
        .whereExists(function () {
          this.select(1).from('repository_manifests as rm').join('repositories as r', 'r.id', 'rm.repository_id').whereRaw('rm.manifest_id = m.id').whereNull('rm.deleted_at');
          if (options.repository) this.where('r.name', options.repository);
        })
        .orderBy('m.id', 'desc')
        .limit(options.limit * 2)
        .select('m.id', 'm.digest', 'm.status');
      if (options.tag) {
        query.whereExists(function () {
          this.select(1).from('tags as t').whereRaw('t.manifest_id = m.id').where('t.name', options.tag!).whereNull('t.deleted_at');
        });
      }
      const rows = await query;
      if (rows.length === 0) return { items, next: null };
      for (const row of rows) {
        cursor = Number(row.id);
        const locations = await this.locations(row.digest);
        const visible: ImageLocation[] = [];
        for (const l of locations) if (await options.readable(l.repository)) visible.push(l);
        if (visible.length === 0) continue;
        const stored = row.status === 'done' ? await this.knex('reports').where({ manifest_id: row.id }).first('summary') : null;
        const summary = (stored?.summary as ImageReport['summary'] | null | undefined) ?? null;
        if (options.severities && options.severities.length > 0) {
          const counts = ((summary as { bySeverity?: Record<string, number> } | null)?.bySeverity) ?? {};
          if (!options.severities.some((s) => (counts[s] ?? 0) > 0)) continue;
        }
        items.push({ digest: row.digest, status: row.status, repositories: visible, summary });
        if (items.length >= options.limit) return { items, next: cursor };
      }
    }
    return { items, next: items.length >= options.limit ? cursor : null };
  }

  /** A strong validator for a status document. */
  static etag(document: unknown): string {
    return `"${createHash('sha256').update(JSON.stringify(document)).digest('hex').slice(0, 32)}"`;
  }

  private async describe(row: ManifestRow, filter: FindingFilter): Promise<ImageStatus> {
    let report: ImageReport | null = null;
    if (row.kind === 'image' && row.status === 'done') {
      report = filterReport((await this.reports.report(Number(row.id))).report, filter);
    }
    return {
      digest: row.digest,
      mediaType: row.media_type,
      kind: row.kind,
      status: row.status,
      statusReason: row.status_reason,
      statusChangedAt: row.status_changed_at.toISOString(),
      firstSeenAt: row.first_seen_at.toISOString(),
      lastSeenAt: row.last_seen_at.toISOString(),
      indexedAt: row.indexed_at ? row.indexed_at.toISOString() : null,
      platform: row.platform_os && row.platform_arch ? { os: row.platform_os, architecture: row.platform_arch, ...(row.platform_variant ? { variant: row.platform_variant } : {}) } : null,
      repositories: await this.locations(row.digest),
      report,
    };
  }
}
