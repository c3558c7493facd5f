import type { Knex } from 'knex';

/*
 * What coalescing layers into an image view needs from each layer scan besides the packages:
 * which wanted files the layer held (a package database present but emptied still replaces the
 * older one), the symlinks at wanted paths (etc/os-release → ../usr/lib/os-release across layers),
 * and the scanner's notes. Layers also record how they were stored.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table layer_scans add column files text[] not null default '{}';
    alter table layer_scans add column symlinks jsonb not null default '{}'::jsonb;
    alter table layer_scans add column notes text[] not null default '{}';
    alter table layers add column uncompressed_size bigint;
    alter table layers add column compression text;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table layers drop column compression, drop column uncompressed_size;
    alter table layer_scans drop column notes, drop column symlinks, drop column files;
  `);
}
