import type { Knex } from 'knex';

/** Per-image status that clients poll. */
export type ManifestStatus = 'queued' | 'indexing' | 'matching' | 'done' | 'failed' | 'skipped' | 'deleted';

export interface ManifestRecord {
  digest: string;
  mediaType: string;
  kind: 'image' | 'index' | 'artifact';
  size: number | null;
  configDigest?: string | null;
  artifactType?: string | null;
  platform?: { os?: string | null; architecture?: string | null; variant?: string | null } | null;
  skipReason?: string | null;
  /** The manifest JSON as fetched. */
  content?: unknown;
}

export interface ManifestRow {
  id: number;
  digest: string;
  mediaType: string;
  kind: 'image' | 'index' | 'artifact';
  status: ManifestStatus;
  statusReason: string | null;
  skipReason: string | null;
  indexedAt: Date | null;
  /** The scanner-set fingerprint the image was last indexed with. */
  indexedWith: string | null;
  releaseHint: string | null;
}

export interface IndexChild {
  digest: string;
  mediaType: string;
  size: number | null;
  platform: { os?: string | null; architecture?: string | null; variant?: string | null } | null;
  skipReason: string | null;
}

export interface TagHistoryEntry {
  digest: string;
  firstSeenAt: Date;
  lastSeenAt: Date;
  until: Date | null;
}

/**
 * Repositories, tags (with history), manifests, index children and manifest layers: what intake
 * learns from registries. Manifests are content-addressed (one row per digest, whatever the
 * repository or registry); a repository links to the manifests pushed to it.
 */
export interface ImageStore {
  repositoryId(registryId: number, name: string): Promise<number>;
  /** Inserts or refreshes a manifest by digest (last seen now); returns its id. */
  upsertManifest(record: ManifestRecord): Promise<number>;
  /** Marks the manifest as present in the repository (again, if it was deleted there). */
  linkToRepository(repositoryId: number, manifestId: number): Promise<void>;
  /** Points `tag` at the manifest; a move closes the tag's previous history entry. */
  setTag(repositoryId: number, tag: string, manifestId: number): Promise<void>;
  /** The tag is gone (deleted, or its manifest was). */
  deleteTag(repositoryId: number, tag: string): Promise<boolean>;
  /** The manifest is gone from the repository: its link and the tags pointing at it there end. */
  deleteFromRepository(repositoryId: number, digest: string): Promise<boolean>;
  setIndexChildren(indexId: number, children: readonly IndexChild[]): Promise<Map<string, number>>;
  setStatus(manifestId: number, status: ManifestStatus, reason?: string | null): Promise<void>;
  /**
   * Records which scanner set indexed the image, its release hint (Alpine's repositories branch),
   * and its platform from the image config when the manifest did not say.
   */
  recordIndexed(manifestId: number, fingerprint: string, releaseHint: string | null, platform?: { os: string | null; architecture: string | null; variant: string | null }): Promise<void>;
  manifestByDigest(digest: string): Promise<ManifestRow | null>;
  currentTag(repositoryId: number, tag: string): Promise<string | null>;
  /** The registry's live tags as recorded: repository name → tag → digest. */
  liveTags(registryId: number): Promise<Map<string, Map<string, string>>>;
  tagHistory(repositoryId: number, tag: string): Promise<TagHistoryEntry[]>;
}

interface ManifestDbRow {
  id: string;
  digest: string;
  media_type: string;
  kind: ManifestRow['kind'];
  status: ManifestStatus;
  status_reason: string | null;
  skip_reason: string | null;
  indexed_at: Date | null;
  indexed_with: string | null;
  release_hint: string | null;
}

/** {@link ImageStore} on PostgreSQL. */
export class PgImageStore implements ImageStore {
  private readonly knex: Knex;

  constructor(knex: Knex) {
    this.knex = knex;
  }

  async repositoryId(registryId: number, name: string): Promise<number> {
    const [row] = await this.knex('repositories')
      .insert({ registry_id: registryId, name })
      .onConflict(['registry_id', 'name'])
      .merge({ name })
      .returning<{ id: string }[]>('id');
    return Number(row!.id);
  }

  async upsertManifest(record: ManifestRecord): Promise<number> {
    const row = {
      digest: record.digest,
      media_type: record.mediaType,
      kind: record.kind,
      size: record.size,
      config_digest: record.configDigest ?? null,
      artifact_type: record.artifactType ?? null,
      platform_os: record.platform?.os ?? null,
      platform_arch: record.platform?.architecture ?? null,
      platform_variant: record.platform?.variant ?? null,
      skip_reason: record.skipReason ?? null,
      content: record.content === undefined ? null : JSON.stringify(record.content),
      ...(record.kind === 'artifact' ? { status: 'skipped', status_reason: record.skipReason ?? 'not an image' } : {}),
    };
    const [inserted] = await this.knex('manifests')
      .insert(row)
      .onConflict('digest')
      .merge({
        last_seen_at: this.knex.fn.now(),
        // Fill in what an earlier, thinner record (e.g. an index child seen before its own push) lacked.
        media_type: row.media_type,
        kind: row.kind,
        size: this.knex.raw('coalesce(excluded.size, manifests.size)'),
        config_digest: this.knex.raw('coalesce(excluded.config_digest, manifests.config_digest)'),
        platform_os: this.knex.raw('coalesce(manifests.platform_os, excluded.platform_os)'),
        platform_arch: this.knex.raw('coalesce(manifests.platform_arch, excluded.platform_arch)'),
        platform_variant: this.knex.raw('coalesce(manifests.platform_variant, excluded.platform_variant)'),
        content: this.knex.raw('coalesce(excluded.content, manifests.content)'),
      })
      .returning<{ id: string }[]>('id');
    return Number(inserted!.id);
  }

  async linkToRepository(repositoryId: number, manifestId: number): Promise<void> {
    await this.knex('repository_manifests')
      .insert({ repository_id: repositoryId, manifest_id: manifestId })
      .onConflict(['repository_id', 'manifest_id'])
      .merge({ last_seen_at: this.knex.fn.now(), deleted_at: null });
  }

  async setTag(repositoryId: number, tag: string, manifestId: number): Promise<void> {
    await this.knex.transaction(async (trx) => {
      const [row] = await trx('tags')
        .insert({ repository_id: repositoryId, name: tag, manifest_id: manifestId })
        .onConflict(['repository_id', 'name'])
        .merge({ manifest_id: manifestId, updated_at: trx.fn.now(), deleted_at: null })
        .returning<{ id: string }[]>('id');
      const tagId = Number(row!.id);
      const open = await trx('tag_history').where({ tag_id: tagId }).whereNull('until').forUpdate().first();
      if (open && Number(open.manifest_id) === manifestId) {
        await trx('tag_history').where({ id: open.id }).update({ last_seen_at: trx.fn.now() });
        return;
      }
      if (open) await trx('tag_history').where({ id: open.id }).update({ until: trx.fn.now() });
      await trx('tag_history').insert({ tag_id: tagId, manifest_id: manifestId });
    });
  }

  async deleteTag(repositoryId: number, tag: string): Promise<boolean> {
    return this.knex.transaction(async (trx) => {
      const row = await trx('tags').where({ repository_id: repositoryId, name: tag }).whereNull('deleted_at').forUpdate().first();
      if (!row) return false;
      await trx('tags').where({ id: row.id }).update({ manifest_id: null, deleted_at: trx.fn.now(), updated_at: trx.fn.now() });
      await trx('tag_history').where({ tag_id: row.id }).whereNull('until').update({ until: trx.fn.now() });
      return true;
    });
  }

  async deleteFromRepository(repositoryId: number, digest: string): Promise<boolean> {
    return this.knex.transaction(async (trx) => {
      const manifest = await trx('manifests').where({ digest }).first('id');
      if (!manifest) return false;
      const updated = await trx('repository_manifests')
        .where({ repository_id: repositoryId, manifest_id: manifest.id })
        .whereNull('deleted_at')
        .update({ deleted_at: trx.fn.now() });
      const tags = await trx('tags').where({ repository_id: repositoryId, manifest_id: manifest.id }).whereNull('deleted_at').pluck('id');
      if (tags.length > 0) {
        await trx('tags').whereIn('id', tags).update({ manifest_id: null, deleted_at: trx.fn.now(), updated_at: trx.fn.now() });
        await trx('tag_history').whereIn('tag_id', tags).whereNull('until').update({ until: trx.fn.now() });
      }
      const elsewhere = await trx('repository_manifests').where({ manifest_id: manifest.id }).whereNull('deleted_at').first();
      if (!elsewhere) {
        await trx('manifests').where({ id: manifest.id }).update({ status: 'deleted', status_reason: 'deleted from every repository', status_changed_at: trx.fn.now() });
      }
      return updated > 0;
    });
  }

  async setIndexChildren(indexId: number, children: readonly IndexChild[]): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    await this.knex.transaction(async (trx) => {
      await trx('manifest_children').where({ index_id: indexId }).delete();
      for (const [position, child] of children.entries()) {
        const [row] = await trx('manifests')
          .insert({
            digest: child.digest,
            media_type: child.mediaType,
            kind: child.skipReason ? 'artifact' : 'image',
            size: child.size,
            platform_os: child.platform?.os ?? null,
            platform_arch: child.platform?.architecture ?? null,
            platform_variant: child.platform?.variant ?? null,
            skip_reason: child.skipReason,
            ...(child.skipReason ? { status: 'skipped', status_reason: child.skipReason } : {}),
          })
          .onConflict('digest')
          .merge({
            last_seen_at: trx.fn.now(),
            platform_os: trx.raw('coalesce(manifests.platform_os, excluded.platform_os)'),
            platform_arch: trx.raw('coalesce(manifests.platform_arch, excluded.platform_arch)'),
            platform_variant: trx.raw('coalesce(manifests.platform_variant, excluded.platform_variant)'),
          })
          .returning<{ id: string }[]>('id');
        const childId = Number(row!.id);
        ids.set(child.digest, childId);
        await trx('manifest_children').insert({
          index_id: indexId,
          child_id: childId,
          position,
          platform_os: child.platform?.os ?? null,
          platform_arch: child.platform?.architecture ?? null,
          platform_variant: child.platform?.variant ?? null,
          skip_reason: child.skipReason,
        });
      }
    });
    return ids;
  }

  async setStatus(manifestId: number, status: ManifestStatus, reason: string | null = null): Promise<void> {
    await this.knex('manifests')
      .where({ id: manifestId })
      .update({
        status,
        status_reason: reason,
        status_changed_at: this.knex.fn.now(),
        ...(status === 'done' ? { indexed_at: this.knex.fn.now() } : {}),
      });
  }

  async recordIndexed(manifestId: number, fingerprint: string, releaseHint: string | null, platform?: { os: string | null; architecture: string | null; variant: string | null }): Promise<void> {
    await this.knex('manifests')
      .where({ id: manifestId })
      .update({
        indexed_with: fingerprint,
        release_hint: releaseHint,
        ...(platform
          ? {
              platform_os: this.knex.raw('coalesce(platform_os, ?)', [platform.os]),
              platform_arch: this.knex.raw('coalesce(platform_arch, ?)', [platform.architecture]),
              platform_variant: this.knex.raw('coalesce(platform_variant, ?)', [platform.variant]),
            }
          : {}),
      });
  }

  async manifestByDigest(digest: string): Promise<ManifestRow | null> {
    const row = (await this.knex('manifests').where({ digest }).first()) as ManifestDbRow | undefined;
    if (!row) return null;
    return {
      id: Number(row.id),
      digest: row.digest,
      mediaType: row.media_type,
      kind: row.kind,
      status: row.status,
      statusReason: row.status_reason,
      skipReason: row.skip_reason,
      indexedAt: row.indexed_at,
      indexedWith: row.indexed_with,
      releaseHint: row.release_hint,
    };
  }

  async currentTag(repositoryId: number, tag: string): Promise<string | null> {
    const row = await this.knex('tags')
      .join('manifests', 'manifests.id', 'tags.manifest_id')
      .where({ 'tags.repository_id': repositoryId, 'tags.name': tag })
      .whereNull('tags.deleted_at')
      .first('manifests.digest');
    return (row?.digest as string | undefined) ?? null;
  }

  async liveTags(registryId: number): Promise<Map<string, Map<string, string>>> {
    const rows = await this.knex('tags')
      .join('repositories', 'repositories.id', 'tags.repository_id')
      .join('manifests', 'manifests.id', 'tags.manifest_id')
      .where('repositories.registry_id', registryId)
      .whereNull('tags.deleted_at')
      .select<{ repository: string; tag: string; digest: string }[]>('repositories.name as repository', 'tags.name as tag', 'manifests.digest');
    const out = new Map<string, Map<string, string>>();
    for (const r of rows) {
      let tags = out.get(r.repository);
      if (!tags) out.set(r.repository, (tags = new Map()));
      tags.set(r.tag, r.digest);
    }
    return out;
  }

  async tagHistory(repositoryId: number, tag: string): Promise<TagHistoryEntry[]> {
    const rows = await this.knex('tag_history')
      .join('tags', 'tags.id', 'tag_history.tag_id')
      .join('manifests', 'manifests.id', 'tag_history.manifest_id')
      .where({ 'tags.repository_id': repositoryId, 'tags.name': tag })
      .orderBy('tag_history.id')
      .select('manifests.digest', 'tag_history.first_seen_at', 'tag_history.last_seen_at', 'tag_history.until');
    return rows.map((r) => ({ digest: r.digest, firstSeenAt: r.first_seen_at, lastSeenAt: r.last_seen_at, until: r.until }));
  }
}
