import type { Knex } from 'knex';

/*
 * An image records which scanner set indexed it (so a re-push of an indexed digest is not indexed
 * again, and a scanner upgrade is noticed) and the release hint some distributions keep apart from
 * os-release (Alpine's etc/apk/repositories branch).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table manifests add column indexed_with text;
    alter table manifests add column release_hint text;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`alter table manifests drop column release_hint, drop column indexed_with;`);
}
