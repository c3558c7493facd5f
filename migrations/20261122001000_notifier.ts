import type { Knex } from 'knex';

/*
 * Notification delivery: a delivery's outbox rows are read by delivery id; claims take pending
 * deliveries and those whose lease ran out (a process died mid-send); the dead-letter list is read
 * newest first; the time of the last attempt is kept for operators.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table notification_deliveries add column last_attempt_at timestamptz;
    create index notifications_delivery_idx on notifications (delivery_id) where delivery_id is not null;
    create index notification_deliveries_claim_idx on notification_deliveries (next_attempt_at) where state in ('pending', 'delivering');
    create index notification_deliveries_dead_idx on notification_deliveries (created_at desc, id) where state = 'dead';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index if exists notification_deliveries_dead_idx;
    drop index if exists notification_deliveries_claim_idx;
    drop index if exists notifications_delivery_idx;
    alter table notification_deliveries drop column last_attempt_at;
  `);
}
