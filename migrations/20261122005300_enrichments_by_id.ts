import type { Knex } from 'knex';

/*
 * The enrichments' key leads with the vulnerability id, then the kind: a report reads the NVD,
 * EPSS and KEV data of its findings' CVE ids (a thousand or more), and with the kind first each id
 * was looked up once per kind through the whole index. Upserts name both columns, so they are
 * unchanged; the feed runs that delete one kind's old rows scan the table either way.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table enrichments drop constraint enrichments_pkey;
    alter table enrichments add constraint enrichments_pkey primary key (vuln_name, kind);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table enrichments drop constraint enrichments_pkey;
    alter table enrichments add constraint enrichments_pkey primary key (kind, vuln_name);
  `);
}
