import type { Knex } from 'knex';

/*
 * Feed runs keep the HTTP validators (ETag / Last-Modified per URL) for the next conditional fetch,
 * and diffs carry the package they are about, so the reverse match (diff → affected images) is an
 * index lookup instead of a scan of JSON.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table update_runs add column validators jsonb not null default '{}'::jsonb;
    alter table update_runs add column initial boolean not null default false;
    alter table update_diffs add column vuln_name text;
    alter table update_diffs add column ecosystem text;
    alter table update_diffs add column distribution text;
    alter table update_diffs add column package_name text;
    alter table update_diffs add column package_kind text;
    create index update_diffs_package_idx on update_diffs (ecosystem, package_name);
    create index update_runs_changed_idx on update_runs (updater, id desc) where state = 'changed';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index if exists update_runs_changed_idx;
    drop index if exists update_diffs_package_idx;
    alter table update_diffs drop column package_kind, drop column package_name, drop column distribution,
      drop column ecosystem, drop column vuln_name;
    alter table update_runs drop column initial, drop column validators;
  `);
}
