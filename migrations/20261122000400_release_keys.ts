import type { Knex } from 'knex';

/*
 * The feed release keys an image's OS packages are matched against (`debian:bookworm`, `rhel:9`),
 * recorded when its report is made, so the reverse match (a changed advisory → the images it may
 * affect) finds them through an index instead of re-deriving each image's distribution.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table manifests add column release_keys text[] not null default '{}';
    create index manifests_release_keys_idx on manifests using gin (release_keys);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop index if exists manifests_release_keys_idx; alter table manifests drop column release_keys;`);
}
