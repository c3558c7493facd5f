import type { Knex } from 'knex';

/*
 * The outbox takes hundreds of thousands of rows in one feed run's transaction (a CVE in a base
 * image package reaches every image), so its per-row costs are cut:
 * - the payload is stored as `json` (the text as written, checked but not converted);
 * - the dedupe key is a 16-byte uuid (md5 of the key text) in a partial unique index: rows written
 *   by a feed run carry none (the run's own transaction makes them exactly once);
 * - no per-row foreign-key checks: subscriptions are only ever soft-deleted, runs and manifests
 *   are not deleted by Lookout, and readers of the outbox skip rows whose image is gone.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table notifications drop constraint if exists notifications_subscription_id_fkey;
    alter table notifications drop constraint if exists notifications_manifest_id_fkey;
    alter table notifications drop constraint if exists notifications_update_run_id_fkey;
    alter table notifications drop constraint if exists notifications_dedupe_key_key;
    alter table notifications alter column dedupe_key drop not null;
    alter table notifications alter column dedupe_key type uuid using md5(dedupe_key)::uuid;
    create unique index notifications_dedupe_key_idx on notifications (dedupe_key) where dedupe_key is not null;
    alter table notifications alter column payload type json using payload::json;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table notifications alter column payload type jsonb using payload::jsonb;
    drop index if exists notifications_dedupe_key_idx;
    update notifications set dedupe_key = gen_random_uuid() where dedupe_key is null;
    alter table notifications alter column dedupe_key type text using dedupe_key::text;
    alter table notifications alter column dedupe_key set not null;
    alter table notifications add constraint notifications_dedupe_key_key unique (dedupe_key);
    delete from notifications n where not exists (select 1 from subscriptions s where s.id = n.subscription_id)
                                   or not exists (select 1 from manifests m where m.id = n.manifest_id);
    update notifications n set update_run_id = null where not exists (select 1 from update_runs r where r.id = n.update_run_id);
    alter table notifications add constraint notifications_subscription_id_fkey foreign key (subscription_id) references subscriptions(id) on delete cascade;
    alter table notifications add constraint notifications_manifest_id_fkey foreign key (manifest_id) references manifests(id) on delete cascade;
    alter table notifications add constraint notifications_update_run_id_fkey foreign key (update_run_id) references update_runs(id);
  `);
}
