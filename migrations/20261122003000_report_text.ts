import type { Knex } from 'knex';

/*
 * Cached reports are stored as the JSON text Lookout serialized (a report of a big image is
 * megabytes: jsonb's parse on write and re-serialization on read cost more than the match), with
 * the summary beside it as jsonb, so lists read counts without the report.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table reports add column summary jsonb;
    update reports set summary = report -> 'summary';
    alter table reports alter column report type text using report::text;
  `);
  // lz4 compresses megabytes of JSON several times faster than the default pglz; servers built
  // without lz4 keep pglz.
  await knex.raw(`
    do $$ begin
      alter table reports alter column report set compression lz4;
    exception when feature_not_supported then null;
    end $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table reports alter column report type jsonb using report::jsonb;
    alter table reports drop column summary;
  `);
}
