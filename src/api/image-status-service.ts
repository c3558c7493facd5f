import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { filterReport, type FindingFilter } from '../matcher/report-filter.ts';
import type { ImageReport } from '../matcher/image-report.ts';
import type { ReportService } from '../matcher/report-service.ts';
import type { StatusChange, StatusChanges } from '../store/status-change-listener.ts';

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

/** The manifest columns a status document shows. */
export interface ManifestRow {
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

/** What decides a status document (see {@link ImageStatusService.head}); `locations` may be narrowed to what a caller may see. */
export interface StatusHead {
  row: ManifestRow;
  locations: ImageLocation[];
  /** The cached report's ETag, null when none is cached. */
  reportEtag: string | null;
  /** Ids of the indexes holding the manifest. */
  holders: number[];
  /** For an index: its platform images. */
  children?: StatusHead[];
}

interface HeadRow extends ManifestRow {
  report_etag: string | null;
  holders: string[];
  locations: Array<{ registry: string; repository: string; tags: string[] | null }>;
}

/**
 * A manifest, its cached report's ETag, and where it is known: each repository it (or an index
 * holding it) is in, with the tags pointing at it there now. Completed with a WHERE clause.
 */
const HEAD_SQL = `
  select m.id, m.digest, m.media_type, m.kind, m.status, m.status_reason, m.status_changed_at, m.first_seen_at, m.last_seen_at,
         m.indexed_at, m.platform_os, m.platform_arch, m.platform_variant, r.etag as report_etag, loc.locations,
         array(select c3.index_id from manifest_children c3 where c3.child_id = m.id) as holders
    from manifests m
    left join reports r on r.manifest_id = m.id
    left join lateral (
      select coalesce(json_agg(json_build_object('registry', l.registry, 'repository', l.repository, 'tags', l.tags) order by l.registry, l.repository), '[]'::json) as locations
        from (select g.name as registry, rp.name as repository, array_remove(array_agg(distinct tg.name), null) as tags
                from repository_manifests rm
                join repositories rp on rp.id = rm.repository_id
                join registries g on g.id = rp.registry_id
                left join tags tg on tg.repository_id = rp.id and tg.manifest_id = rm.manifest_id and tg.deleted_at is null
               where rm.deleted_at is null
                 and (rm.manifest_id = m.id or rm.manifest_id in (select c2.index_id from manifest_children c2 where c2.child_id = m.id))
               group by g.name, rp.name) l
    ) loc on true`;

function toHead(row: HeadRow): StatusHead {
  const { report_etag: reportEtag, locations, holders, ...manifest } = row;
  return {
    row: { ...manifest, id: String(manifest.id) },
    locations: locations.map((l) => ({ registry: l.registry, repository: l.repository, tags: [...(l.tags ?? [])].sort() })),
    reportEtag,
    holders: holders.map(Number),
  };
}

/** A copy whose locations (and children) can be narrowed without touching the original. */
function cloneHead(head: StatusHead): StatusHead {
  return {
    ...head,
    locations: head.locations.map((l) => ({ ...l, tags: [...l.tags] })),
    ...(head.children ? { children: head.children.map(cloneHead) } : {}),
  };
}

/** Most status heads kept in memory; past it the cache starts over. */
const MAX_CACHED_HEADS = 10_000;

/**
 * Reads images' statuses for the API: the manifest's state, where it is known (repositories and
 * current tags), and its cached report. Callers decide what the caller may see by repository.
 */
export class ImageStatusService {
  private readonly knex: Knex;
  private readonly reports: ReportService;

  private readonly changes: StatusChanges | null;
  private readonly heads = new Map<string, { head: StatusHead; ids: number[] }>();
  private readonly digestsById = new Map<number, Set<string>>();

  constructor(deps: { knex: Knex; reports: ReportService; changes?: StatusChanges }) {
    this.knex = deps.knex;
    this.reports = deps.reports;
    this.changes = deps.changes ?? null;
    this.changes?.onChange((change) => this.forget(change));
  }

  /** Repositories (with registry and current tags) the manifest, or an index holding it, is known under. */
  async locations(digest: string): Promise<ImageLocation[]> {
    const head = await this.head(digest);
    return head?.locations ?? [];
  }

  /**
   * What decides an image's status document, read in one query (an index: one more for its
   * platform images): the manifest row, where it is known, and its cached report's ETag. Enough
   * for {@link etagOf}, so a poll that has not changed never reads a report. With a healthy
   * change listener, heads are kept in memory until a change to any manifest they depend on
   * (itself, the indexes holding it, its platform images) is announced. Returns a copy the caller
   * may narrow.
   */
  async head(digest: string): Promise<StatusHead | null> {
    const changes = this.changes;
    if (changes?.healthy) {
      const hit = this.heads.get(digest);
      if (hit) return cloneHead(hit.head);
    }
    const epoch = changes?.epoch;
    const head = await this.readHead(digest);
    if (head && changes?.healthy && changes.epoch === epoch) this.keep(digest, head);
    return head ? cloneHead(head) : null;
  }

  private async readHead(digest: string): Promise<StatusHead | null> {
    const { rows } = await this.knex.raw<{ rows: HeadRow[] }>(`${HEAD_SQL} where m.digest = ?`, [digest]);
    const row = rows[0];
    if (!row) return null;
    const head = toHead(row);
    if (row.kind === 'index') {
      const children = await this.knex.raw<{ rows: HeadRow[] }>(
        `${HEAD_SQL} join manifest_children c on c.child_id = m.id where c.index_id = ? and c.skip_reason is null order by c.position`,
        [row.id],
      );
      head.children = children.rows.map(toHead);
    }
    // A done image whose report is not cached (dropped by a feed run, or marked stale) gets it made
    // now: the validator must name the report the document will carry, or two invalidations in a
    // row would share the validator of "no report".
    for (const h of [head, ...(head.children ?? [])]) {
      if (h.row.kind === 'image' && h.row.status === 'done' && (h.reportEtag === null || h.reportEtag.startsWith('"stale-'))) {
        h.reportEtag = (await this.reports.report(Number(h.row.id))).etag;
      }
    }
    return head;
  }

  private keep(digest: string, head: StatusHead): void {
    if (this.heads.size >= MAX_CACHED_HEADS) this.forgetAll();
    const ids = [...new Set([head, ...(head.children ?? [])].flatMap((h) => [Number(h.row.id), ...h.holders]))];
    this.heads.set(digest, { head, ids });
    for (const id of ids) {
      const digests = this.digestsById.get(id);
      if (digests) digests.add(digest);
      else this.digestsById.set(id, new Set([digest]));
    }
  }

  private forget(change: StatusChange): void {
    if (change === 'all') return this.forgetAll();
    for (const id of change) {
      for (const digest of this.digestsById.get(id) ?? []) {
        const entry = this.heads.get(digest);
        this.heads.delete(digest);
        for (const other of entry?.ids ?? []) this.digestsById.get(other)?.delete(digest);
      }
      this.digestsById.delete(id);
    }
  }

  private forgetAll(): void {
    this.heads.clear();
    this.digestsById.clear();
  }

  /** A strong validator of the document {@link document} makes from `head`, without making it. */
  etagOf(head: StatusHead, filter: FindingFilter, format: string): string {
    const fingerprint = (h: StatusHead): unknown => [h.row, h.locations, h.reportEtag, h.holders, h.children?.map(fingerprint) ?? null];
    return ImageStatusService.etag([format, filter.severities ?? null, filter.fixable ?? null, fingerprint(head)]);
  }

  /** The status document of a head: its cached report (findings filtered as asked) once done. */
  async document(head: StatusHead, filter: FindingFilter): Promise<ImageStatus> {
    const status = await this.describe(head, filter);
    if (head.children) status.manifests = await Promise.all(head.children.map((child) => this.describe(child, filter)));
    return status;
  }

  /** The status of one manifest (and, for an index, of each platform image), or null when unknown. */
  async status(digest: string, filter: FindingFilter = {}): Promise<ImageStatus | null> {
    const head = await this.head(digest);
    return head ? this.document(head, filter) : null;
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

  private async describe(head: StatusHead, filter: FindingFilter): Promise<ImageStatus> {
    const row = head.row;
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
      statusChangedAt: new Date(row.status_changed_at).toISOString(),
      firstSeenAt: new Date(row.first_seen_at).toISOString(),
      lastSeenAt: new Date(row.last_seen_at).toISOString(),
      indexedAt: row.indexed_at ? new Date(row.indexed_at).toISOString() : null,
      platform: row.platform_os && row.platform_arch ? { os: row.platform_os, architecture: row.platform_arch, ...(row.platform_variant ? { variant: row.platform_variant } : {}) } : null,
      repositories: head.locations.map((l) => ({ ...l, tags: [...l.tags] })),
      report,
    };
  }
}
