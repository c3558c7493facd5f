import type { Knex } from 'knex';

/*
 * Status documents change when a manifest's row, its report, its tags, its repository links or
 * its index membership change. Each statement on those tables sends one notification on channel
 * `lookout_status` (at commit) naming the manifest ids it touched, or `*` when there are too many
 * for a payload, so API processes can keep status heads in memory and drop exactly the stale ones.
 */
const TABLES: ReadonlyArray<[table: string, idColumns: string[]]> = [
  ['manifests', ['id']],
  ['reports', ['manifest_id']],
  ['tags', ['manifest_id']],
  ['repository_manifests', ['manifest_id']],
  ['manifest_children', ['index_id', 'child_id']],
];

export async function up(knex: Knex): Promise<void> {
  for (const [table, columns] of TABLES) {
    const ids = (alias: string) => columns.map((c) => `select ${c} as id from ${alias}`).join(' union ');
    await knex.raw(`
      create function lookout_notify_${table}() returns trigger language plpgsql as $$
      declare
        payload text;
      begin
        if tg_op = 'INSERT' then
          select string_agg(distinct id::text, ',') into payload from (${ids('new_rows')}) x where id is not null;
        elsif tg_op = 'DELETE' then
          select string_agg(distinct id::text, ',') into payload from (${ids('old_rows')}) x where id is not null;
        else
          select string_agg(distinct id::text, ',') into payload from (${ids('new_rows')} union ${ids('old_rows')}) x where id is not null;
        end if;
        if payload is not null then
          perform pg_notify('lookout_status', case when length(payload) > 7000 then '*' else payload end);
        end if;
        return null;
      end $$;
      create trigger lookout_notify_${table}_insert after insert on ${table} referencing new table as new_rows for each statement execute function lookout_notify_${table}();
      create trigger lookout_notify_${table}_update after update on ${table} referencing old table as old_rows new table as new_rows for each statement execute function lookout_notify_${table}();
      create trigger lookout_notify_${table}_delete after delete on ${table} referencing old table as old_rows for each statement execute function lookout_notify_${table}();
    `);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const [table] of TABLES) {
    await knex.raw(`
      drop trigger if exists lookout_notify_${table}_insert on ${table};
      drop trigger if exists lookout_notify_${table}_update on ${table};
      drop trigger if exists lookout_notify_${table}_delete on ${table};
      drop function if exists lookout_notify_${table}();
    `);
  }
}
