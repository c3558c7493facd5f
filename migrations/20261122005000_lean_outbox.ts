import type { Knex } from 'knex';

/*
 * Outbox rows written by a feed run no longer carry their payload: a run that reaches every image
 * writes hundreds of thousands of them, and the payload's bytes were most of the time and the WAL.
 * Such a row names instead its finding (written once per finding in `notification_findings`), the
 * layer that brought the package, and the repository the subscription sees the image in; the
 * view `notification_payloads` makes the payload of any row (the stored one when there is one)
 * when it is read, with the tags that point at the image there at that moment. Like the other
 * outbox columns, the new references are not foreign keys: checking one per row costs as much as
 * writing the row, and none of the rows they name are deleted by Lookout.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table notification_findings (
      id             bigint generated always as identity primary key,
      update_run_id  bigint,
      event          text not null,
      vuln_name      text not null,
      aliases        text[] not null default '{}',
      package_name   text not null,
      installed_version text not null,
      ecosystem      text,
      finding        json not null,
      links_base     text not null,
      occurred_at    timestamptz not null default now()
    );
    create index notification_findings_run_idx on notification_findings (update_run_id);
    alter table notifications
      add column finding_id bigint,
      add column layer_id bigint,
      add column repository_id bigint,
      alter column payload drop not null,
      add constraint notifications_payload_or_finding check (payload is not null or finding_id is not null);
    create view notification_payloads as
    select n.id,
           coalesce(n.payload, json_build_object(
             'version', 1,
             'event', n.event,
             'image', json_build_object(
               'registry', g.name,
               'repository', r.name,
               'tags', coalesce((select json_agg(distinct t.name) from tags t
                                  where t.repository_id = n.repository_id and t.deleted_at is null
                                    and (t.manifest_id = n.manifest_id
                                         or t.manifest_id in (select c.index_id from manifest_children c where c.child_id = n.manifest_id))),
                                '[]'::json),
               'digest', m.digest,
               'platform', case when m.platform_os is not null and m.platform_arch is not null
                                then m.platform_os || '/' || m.platform_arch || coalesce('/' || m.platform_variant, '') end),
             'finding', (left(f.finding::text, -1) || ',"layer":' || coalesce(to_json(l.digest)::text, 'null') || '}')::json,
             'links', json_build_object('status', f.links_base || '/api/v1/images/' || m.digest, 'report', f.links_base || '/images/' || m.digest),
             'occurredAt', f.occurred_at)) as payload
      from notifications n
      left join notification_findings f on f.id = n.finding_id
      left join manifests m on m.id = n.manifest_id
      left join layers l on l.id = n.layer_id
      left join repositories r on r.id = n.repository_id
      left join registries g on g.id = r.registry_id;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    update notifications n set payload = p.payload from notification_payloads p where p.id = n.id and n.payload is null;
    drop view notification_payloads;
    alter table notifications drop constraint notifications_payload_or_finding;
    alter table notifications alter column payload set not null;
    alter table notifications drop column repository_id, drop column layer_id, drop column finding_id;
    drop table notification_findings;
  `);
}
