import type { Knex } from 'knex';
import { JOB_SCHEMA } from '../jobs/pg-boss-job-queue.ts';

/** What readiness needs to know about the database itself. */
export interface SystemStore {
  /** Resolves when a trivial query round-trips within `timeoutMs`. */
  ping(timeoutMs: number): Promise<void>;
  /** Names of the migrations recorded as applied. */
  appliedMigrations(): Promise<string[]>;
  /** Whether the job queue's schema is installed. */
  jobSchemaInstalled(): Promise<boolean>;
}

/** {@link SystemStore} on PostgreSQL. */
export class PgSystemStore implements SystemStore {
  private readonly knex: Knex;

  constructor(knex: Knex) {
    this.knex = knex;
  }

  async ping(timeoutMs: number): Promise<void> {
    await this.knex.transaction(async (trx) => {
      await trx.raw(`set local statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
      await trx.raw('select 1');
    });
  }

  async appliedMigrations(): Promise<string[]> {
    const exists = await this.knex.schema.hasTable('knex_migrations');
    if (!exists) return [];
    const rows = await this.knex('knex_migrations').select<{ name: string }[]>('name').orderBy('id');
    return rows.map((r) => r.name);
  }

  async jobSchemaInstalled(): Promise<boolean> {
    const { rows } = await this.knex.raw<{ rows: { present: boolean }[] }>(
      'select to_regclass(?) is not null as present',
      [`${JOB_SCHEMA}.version`],
    );
    return rows[0]?.present === true;
  }
}
