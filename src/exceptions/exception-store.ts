import type { Knex } from 'knex';
import type { ExceptionDecision } from '../decisions/decision-set.ts';
import { invalidateReportsFor, manifestsFor } from '../decisions/invalidate-reports.ts';
import { toExceptionDecision } from '../decisions/pg-decision-source.ts';

/** An exception to store: a decision without its id, expiring at a time. */
export type NewException = Omit<ExceptionDecision, 'id' | 'expiresAt'> & { expiresAt: Date };

/** A stored exception, with its life. */
export interface StoredException extends ExceptionDecision {
  createdAt: string;
  deletedAt: string | null;
  deletedBy: string | null;
  /** When its expiry was acted on (reports refreshed, `exception-expired` written), null before. */
  expiryProcessedAt: string | null;
}

/** Which exceptions a list shows. */
export type ExceptionState = 'active' | 'expired' | 'deleted' | 'all';

/**
 * Exceptions: findings accepted until a date. Creating or deleting one drops, in the same
 * transaction, the cached reports that may show a finding of its vulnerability.
 */
export interface ExceptionStore {
  create(e: NewException): Promise<StoredException>;
  list(options: { state: ExceptionState; now: Date; limit: number; vulnerability?: string }): Promise<StoredException[]>;
  get(id: string): Promise<StoredException | null>;
  /** Marks it deleted (kept for the record); null when unknown or already deleted. */
  delete(id: string, by: string | null): Promise<StoredException | null>;
  /** Live exceptions whose expiry has passed and was not yet acted on, oldest expiry first. */
  due(now: Date, limit: number): Promise<StoredException[]>;
  markExpiryProcessed(id: string): Promise<void>;
  /** The indexed images (id and digest) a decision about these vulnerability ids may change. */
  affectedManifests(vulnerabilityIds: readonly string[]): Promise<Array<{ id: number; digest: string }>>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toStored(r: Record<string, any>): StoredException {
  return {
    ...toExceptionDecision(r),
    createdAt: new Date(r.created_at).toISOString(),
    deletedAt: r.deleted_at ? new Date(r.deleted_at).toISOString() : null,
    deletedBy: r.deleted_by,
    expiryProcessedAt: r.expiry_processed_at ? new Date(r.expiry_processed_at).toISOString() : null,
  };
}

/** {@link ExceptionStore} on PostgreSQL. */
export class PgExceptionStore implements ExceptionStore {
  private readonly knex: Knex;

  constructor(knex: Knex) {
    this.knex = knex;
  }

  async create(e: NewException): Promise<StoredException> {
    return this.knex.transaction(async (trx) => {
      const [row] = await trx('exceptions')
        .insert({
          vulnerability: e.vulnerability,
          package_name: e.packageName,
          repository_pattern: e.repositoryPattern,
          image_digest: e.imageDigest,
          reason: e.reason,
          author: e.author,
          expires_at: e.expiresAt,
        })
        .returning('*');
      await invalidateReportsFor(trx, [e.vulnerability]);
      return toStored(row);
    });
  }

  async list(options: { state: ExceptionState; now: Date; limit: number; vulnerability?: string }): Promise<StoredException[]> {
    const query = this.knex('exceptions').orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(options.limit);
    if (options.state === 'active') query.whereNull('deleted_at').where('expires_at', '>', options.now);
    else if (options.state === 'expired') query.whereNull('deleted_at').where('expires_at', '<=', options.now);
    else if (options.state === 'deleted') query.whereNotNull('deleted_at');
    if (options.vulnerability !== undefined) query.where({ vulnerability: options.vulnerability });
    return (await query).map(toStored);
  }

  async get(id: string): Promise<StoredException | null> {
    if (!UUID.test(id)) return null;
    const row = await this.knex('exceptions').where({ id }).first();
    return row ? toStored(row) : null;
  }

  async delete(id: string, by: string | null): Promise<StoredException | null> {
    if (!UUID.test(id)) return null;
    return this.knex.transaction(async (trx) => {
      const [row] = await trx('exceptions').where({ id }).whereNull('deleted_at').update({ deleted_at: trx.fn.now(), deleted_by: by }).returning('*');
      if (!row) return null;
      await invalidateReportsFor(trx, [row.vulnerability]);
      return toStored(row);
    });
  }

  async due(now: Date, limit: number): Promise<StoredException[]> {
    const rows = await this.knex('exceptions').whereNull('deleted_at').whereNull('expiry_processed_at').where('expires_at', '<=', now).orderBy('expires_at').limit(limit);
    return rows.map(toStored);
  }

  async markExpiryProcessed(id: string): Promise<void> {
    await this.knex('exceptions').where({ id }).update({ expiry_processed_at: this.knex.fn.now() });
  }

  async affectedManifests(vulnerabilityIds: readonly string[]): Promise<Array<{ id: number; digest: string }>> {
    return manifestsFor(this.knex, vulnerabilityIds);
  }
}
