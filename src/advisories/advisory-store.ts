import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Knex } from 'knex';
import type { VulnerabilityRecord } from '../ecosystems/vulnerability-record.ts';
import { advisoryRecords, type AdvisoryDocument } from './advisory-document.ts';

/** Who or what wrote an advisory. */
export type AdvisoryOrigin = 'api' | 'cli' | 'osv';

/** A stored advisory with its history fields. */
export interface StoredAdvisory {
  id: string;
  revision: number;
  advisory: AdvisoryDocument;
  origin: AdvisoryOrigin;
  createdBy: string | null;
  updatedBy: string | null;
  createdAt: string;
  updatedAt: string;
  withdrawnAt: string | null;
  withdrawnBy: string | null;
}

/** One change of an import: an advisory to add or change, or one to withdraw. */
export type AdvisoryChange = { kind: 'put'; advisory: AdvisoryDocument } | { kind: 'withdraw'; id: string };

/** What an import changed. */
export interface AdvisoryImportCounts {
  added: number;
  changed: number;
  unchanged: number;
  withdrawn: number;
}

/**
 * The operator's advisories (`custom_advisories`), the source of truth of the `custom` updater's
 * vulnerability rows. Withdrawn advisories are kept (with who and when) and no longer matched.
 */
export interface AdvisoryStore {
  /** Adds one; null when an advisory with that id exists (active or withdrawn). */
  create(advisory: AdvisoryDocument, origin: AdvisoryOrigin, by: string | null): Promise<StoredAdvisory | null>;
  /** Replaces one (reinstating it if withdrawn), bumping its revision; null when unknown. */
  replace(advisory: AdvisoryDocument, origin: AdvisoryOrigin, by: string | null): Promise<StoredAdvisory | null>;
  /** Withdraws an active one; null when unknown or already withdrawn. */
  withdraw(id: string, by: string | null): Promise<StoredAdvisory | null>;
  get(id: string): Promise<StoredAdvisory | null>;
  list(options: { includeWithdrawn: boolean; limit: number; after?: string }): Promise<StoredAdvisory[]>;
  /** Applies an import's changes in one transaction (all or none); unchanged advisories keep their revision. */
  apply(changes: readonly AdvisoryChange[], origin: AdvisoryOrigin, by: string | null): Promise<AdvisoryImportCounts>;
  countActive(): Promise<number>;
  /** The vulnerability records of every active advisory. */
  records(): AsyncIterable<VulnerabilityRecord>;
  /** A hash of the active advisories' ids and revisions: it changes exactly when their records may. */
  fingerprint(): Promise<string>;
}

function toStored(r: Record<string, any>): StoredAdvisory {
  return {
    id: r.id,
    revision: Number(r.revision),
    advisory: r.advisory as AdvisoryDocument,
    origin: r.origin,
    createdBy: r.created_by,
    updatedBy: r.updated_by,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
    withdrawnAt: r.withdrawn_at ? new Date(r.withdrawn_at).toISOString() : null,
    withdrawnBy: r.withdrawn_by,
  };
}

/** {@link AdvisoryStore} on PostgreSQL. */
export class PgAdvisoryStore implements AdvisoryStore {
  private readonly knex: Knex;

  constructor(knex: Knex) {
    this.knex = knex;
  }

  async create(advisory: AdvisoryDocument, origin: AdvisoryOrigin, by: string | null): Promise<StoredAdvisory | null> {
    const rows = await this.knex('custom_advisories')
      .insert({ id: advisory.id, advisory: JSON.stringify(advisory), origin, created_by: by, updated_by: by })
      .onConflict('id')
      .ignore()
      .returning('*');
    return rows[0] ? toStored(rows[0]) : null;
  }

  async replace(advisory: AdvisoryDocument, origin: AdvisoryOrigin, by: string | null): Promise<StoredAdvisory | null> {
    const [row] = await this.knex('custom_advisories')
      .where({ id: advisory.id })
      .update({
        advisory: JSON.stringify(advisory),
        origin,
        updated_by: by,
        updated_at: this.knex.fn.now(),
        revision: this.knex.raw('revision + 1'),
        withdrawn_at: null,
        withdrawn_by: null,
      })
      .returning('*');
    return row ? toStored(row) : null;
  }

  async withdraw(id: string, by: string | null): Promise<StoredAdvisory | null> {
    const [row] = await this.knex('custom_advisories')
      .where({ id })
      .whereNull('withdrawn_at')
      .update({ withdrawn_at: this.knex.fn.now(), withdrawn_by: by, revision: this.knex.raw('revision + 1') })
      .returning('*');
    return row ? toStored(row) : null;
  }

  async get(id: string): Promise<StoredAdvisory | null> {
    const row = await this.knex('custom_advisories').where({ id }).first();
    return row ? toStored(row) : null;
  }

  async list(options: { includeWithdrawn: boolean; limit: number; after?: string }): Promise<StoredAdvisory[]> {
    const query = this.knex('custom_advisories').orderBy('id').limit(options.limit);
    if (!options.includeWithdrawn) query.whereNull('withdrawn_at');
    if (options.after !== undefined) query.where('id', '>', options.after);
    return (await query).map(toStored);
  }

  async apply(changes: readonly AdvisoryChange[], origin: AdvisoryOrigin, by: string | null): Promise<AdvisoryImportCounts> {
    const counts: AdvisoryImportCounts = { added: 0, changed: 0, unchanged: 0, withdrawn: 0 };
    await this.knex.transaction(async (trx) => {
      for (const change of changes) {
        if (change.kind === 'withdraw') {
          const n = await trx('custom_advisories').where({ id: change.id }).whereNull('withdrawn_at').update({ withdrawn_at: trx.fn.now(), withdrawn_by: by, revision: trx.raw('revision + 1') });
          counts.withdrawn += n;
          continue;
        }
        const existing = await trx('custom_advisories').where({ id: change.advisory.id }).forUpdate().first('advisory', 'withdrawn_at');
        if (!existing) {
          await trx('custom_advisories').insert({ id: change.advisory.id, advisory: JSON.stringify(change.advisory), origin, created_by: by, updated_by: by });
          counts.added++;
        } else if (existing.withdrawn_at === null && isDeepStrictEqual(existing.advisory, JSON.parse(JSON.stringify(change.advisory)))) {
          counts.unchanged++;
        } else {
          await trx('custom_advisories')
            .where({ id: change.advisory.id })
            .update({ advisory: JSON.stringify(change.advisory), origin, updated_by: by, updated_at: trx.fn.now(), revision: trx.raw('revision + 1'), withdrawn_at: null, withdrawn_by: null });
          counts.changed++;
        }
      }
    });
    return counts;
  }

  async countActive(): Promise<number> {
    const row = await this.knex('custom_advisories').whereNull('withdrawn_at').count<{ n: string }[]>('* as n').first();
    return Number(row?.n ?? 0);
  }

  async *records(): AsyncIterable<VulnerabilityRecord> {
    let after = '';
    for (;;) {
      const rows = await this.knex('custom_advisories').whereNull('withdrawn_at').where('id', '>', after).orderBy('id').limit(500);
      if (rows.length === 0) return;
      for (const r of rows) {
        const s = toStored(r);
        yield* advisoryRecords(s.advisory, { createdAt: s.createdAt, updatedAt: s.updatedAt });
      }
      after = rows[rows.length - 1].id;
    }
  }

  async fingerprint(): Promise<string> {
    const rows = await this.knex('custom_advisories').whereNull('withdrawn_at').orderBy('id').select('id', 'revision');
    const hash = createHash('sha256');
    for (const r of rows) hash.update(`${r.id}:${r.revision}\n`);
    return hash.digest('hex');
  }
}
