import type { Knex } from 'knex';

/*
 * Outbox row ids become time-ordered (UUID version 7, RFC 9562) instead of random (version 4): a
 * feed run writes hundreds of thousands of rows at once, and random keys scatter those inserts
 * over the whole primary-key index, while time-ordered ones append at its end. PostgreSQL 18 has
 * `uuidv7()`; on older servers the same layout is made in SQL (48-bit Unix milliseconds, version
 * and variant bits, the rest random). The ids stay uuids, so nothing that reads them changes.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function lookout_uuid_v7() returns uuid language sql volatile parallel safe as $$
      select encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                    placing substring(int8send((extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
                    from 1 for 6), 52, 1), 53, 1), 'hex')::uuid
    $$;
    do $$
    begin
      if to_regproc('pg_catalog.uuidv7') is not null then
        alter table notifications alter column id set default uuidv7();
      else
        alter table notifications alter column id set default lookout_uuid_v7();
      end if;
    end
    $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table notifications alter column id set default gen_random_uuid();
    drop function lookout_uuid_v7();
  `);
}
