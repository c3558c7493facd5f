import type { Knex } from 'knex';
import type { ClairIndexState } from './clair-types.ts';

/** What the Clair API knows of one manifest's indexing. */
export interface ClairIndexRecord {
  manifestId: number;
  digest: string;
  state: ClairIndexState;
  /** Why indexing failed (`IndexError`), else null. */
  error: string | null;
  /** The indexer state (scanner-set fingerprint) it was indexed with, null until indexed. */
  indexerState: string | null;
  /** True when a Clair client submitted it (false: Lookout indexed it from a registry push). */
  submitted: boolean;
}

/** A distribution row with every os-release field kept. */
export interface StoredDistribution {
  id: number;
  did: string;
  name: string | null;
  version: string | null;
  versionId: string | null;
  versionCodename: string | null;
  prettyName: string | null;
  cpe: string | null;
  arch: string | null;
}

/**
 * The Clair API's own state: index states of submitted manifests, and notification ids a client
 * has deleted. Manifests themselves stay in the image store.
 */
export interface ClairStore {
  /**
   * The index record of `digest`: the one a Clair client's submission made, or — for an image
   * Lookout indexed from a registry — one derived from the image status. Null when unknown.
   */
  find(digest: string): Promise<ClairIndexRecord | null>;
  /** Records the Clair state of a submitted manifest (created on first call). */
  setState(manifestId: number, state: ClairIndexState, options?: { error?: string | null; indexerState?: string | null }): Promise<void>;
  /**
   * Forgets submitted manifests: their Clair records go, and a manifest no registry repository
   * or index refers to goes with its image view and report. Returns the digests that were submitted.
   */
  delete(digests: readonly string[]): Promise<string[]>;
  /** The image's distribution with every stored field, null when it has none. */
  distributionOf(manifestId: number): Promise<StoredDistribution | null>;
  /** Marks a notification id deleted by the client (idempotent). */
  acknowledge(deliveryId: string): Promise<void>;
  /** Whether the client deleted that notification id. */
  acknowledged(deliveryId: string): Promise<boolean>;
}

const STATUS_STATE: Record<string, ClairIndexState | null> = {
  queued: 'CheckManifest',
  indexing: 'ScanLayers',
  matching: 'IndexManifest',
  done: 'IndexFinished',
  failed: 'IndexError',
  skipped: null,
  deleted: null,
};

/** {@link ClairStore} on PostgreSQL. */
export class PgClairStore implements ClairStore {
  private readonly knex: Knex;

  constructor(knex: Knex) {
    this.knex = knex;
  }

  async find(digest: string): Promise<ClairIndexRecord | null> {
    const row = await this.knex('manifests as m')
      .leftJoin('clair_index_reports as c', 'c.manifest_id', 'm.id')
      .where('m.digest', digest)
      .first('m.id', 'm.digest', 'm.kind', 'm.status', 'm.status_reason', 'm.indexed_with', 'c.state', 'c.error', 'c.indexer_state', 'c.manifest_id as submitted');
    if (!row) return null;
    if (row.submitted !== null) {
      return { manifestId: Number(row.id), digest: row.digest, state: row.state, error: row.error, indexerState: row.indexer_state, submitted: true };
    }
    const state = row.kind === 'image' ? (STATUS_STATE[row.status as string] ?? null) : null;
    if (state === null) return null;
    return {
      manifestId: Number(row.id),
      digest: row.digest,
      state,
      error: state === 'IndexError' ? (row.status_reason ?? 'indexing failed') : null,
      indexerState: row.indexed_with,
      submitted: false,
    };
  }

  async setState(manifestId: number, state: ClairIndexState, options: { error?: string | null; indexerState?: string | null } = {}): Promise<void> {
    const values: Record<string, unknown> = { manifest_id: manifestId, state, error: options.error ?? null, updated_at: this.knex.fn.now() };
    if (options.indexerState !== undefined) values.indexer_state = options.indexerState;
    await this.knex('clair_index_reports').insert(values).onConflict('manifest_id').merge();
  }

  async delete(digests: readonly string[]): Promise<string[]> {
    if (digests.length === 0) return [];
    return this.knex.transaction(async (trx) => {
      const rows = await trx('clair_index_reports as c')
        .join('manifests as m', 'm.id', 'c.manifest_id')
        .whereIn('m.digest', [...new Set(digests)])
        .forUpdate()
        .select<{ id: string; digest: string }[]>('m.id', 'm.digest');
      if (rows.length === 0) return [];
      const ids = rows.map((r) => r.id);
      await trx('clair_index_reports').whereIn('manifest_id', ids).delete();
      // A manifest only a Clair client knew goes with its image view and report; one a registry
      // repository or an index still refers to stays.
      await trx('manifests')
        .whereIn('id', ids)
        .whereNotExists(trx('repository_manifests').whereRaw('repository_manifests.manifest_id = manifests.id'))
        .whereNotExists(trx('manifest_children').whereRaw('manifest_children.child_id = manifests.id'))
        .delete();
      return rows.map((r) => r.digest);
    });
  }

  async distributionOf(manifestId: number): Promise<StoredDistribution | null> {
    const row = await this.knex('manifests as m').join('distributions as d', 'd.id', 'm.distribution_id').where('m.id', manifestId).first('d.*');
    if (!row) return null;
    return {
      id: Number(row.id),
      did: row.did,
      name: row.name,
      version: row.version,
      versionId: row.version_id,
      versionCodename: row.version_codename,
      prettyName: row.pretty_name,
      cpe: row.cpe,
      arch: row.arch,
    };
  }

  async acknowledge(deliveryId: string): Promise<void> {
    await this.knex('clair_notification_acks').insert({ delivery_id: deliveryId }).onConflict('delivery_id').ignore();
  }

  async acknowledged(deliveryId: string): Promise<boolean> {
    return (await this.knex('clair_notification_acks').where({ delivery_id: deliveryId }).first()) !== undefined;
  }
}
