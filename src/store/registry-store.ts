import type { Knex } from 'knex';

/** The configured registries, as rows other tables refer to. */
export interface RegistryStore {
  /** Upserts each configured registry by name; returns name → id. Registries dropped from config keep their rows. */
  sync(registries: readonly { name: string; url: string }[]): Promise<Map<string, number>>;
}

/** {@link RegistryStore} on PostgreSQL. */
export class PgRegistryStore implements RegistryStore {
  private readonly knex: Knex;

  constructor(knex: Knex) {
    this.knex = knex;
  }

  async sync(registries: readonly { name: string; url: string }[]): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    if (registries.length === 0) return ids;
    const rows = await this.knex('registries')
      .insert(registries.map((r) => ({ name: r.name, url: r.url })))
      .onConflict('name')
      .merge({ url: this.knex.raw('excluded.url'), updated_at: this.knex.fn.now() })
      .returning<{ id: string; name: string }[]>(['id', 'name']);
    for (const row of rows) ids.set(row.name, Number(row.id));
    return ids;
  }
}
