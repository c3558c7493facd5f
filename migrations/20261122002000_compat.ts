import type { Knex } from 'knex';

/*
 * The Clair v4-compatible API and the Harbor scanner adapter.
 *
 * clair_index_reports: the manifests a Clair client submitted, with the Clair index state of each
 * (the report a concurrent GET sees while indexing runs), the error of a failed index and the
 * indexer state (scanner-set fingerprint) it was made with. Layer URIs and their headers
 * (credentials) are never stored.
 *
 * clair_notification_acks: notification ids a Clair client has deleted (`DELETE
 * /notifier/api/v1/notification/{id}`); they are no longer served.
 *
 * harbor_scans: scan requests from Harbor (id → artifact, status, error). The registry
 * authorization Harbor sends is kept in memory only; `heartbeat_at` tells a scan still being run
 * by a live process from one whose process is gone (`lost`, which Harbor re-submits).
 */
const DIGEST = `'^[a-z0-9]+([+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$'`;
const CLAIR_STATES = `'CheckManifest', 'FetchLayers', 'ScanLayers', 'Coalesce', 'IndexManifest', 'IndexFinished', 'IndexError'`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table clair_index_reports (
      manifest_id    bigint primary key references manifests(id) on delete cascade,
      state          text not null check (state in (${CLAIR_STATES})),
      error          text,
      indexer_state  text,
      created_at     timestamptz not null default now(),
      updated_at     timestamptz not null default now()
    );

    create table clair_notification_acks (
      delivery_id  uuid primary key references notification_deliveries(id) on delete cascade,
      deleted_at   timestamptz not null default now()
    );

    create table harbor_scans (
      id            uuid primary key default gen_random_uuid(),
      registry      text not null,
      repository    text not null,
      digest        text not null check (digest ~ ${DIGEST}),
      tag           text,
      mime_type     text,
      capabilities  jsonb,
      status        text not null default 'queued' check (status in ('queued', 'running', 'done', 'failed', 'lost')),
      error         text,
      manifest_id   bigint references manifests(id) on delete set null,
      created_at    timestamptz not null default now(),
      updated_at    timestamptz not null default now(),
      heartbeat_at  timestamptz not null default now(),
      finished_at   timestamptz
    );
    create index harbor_scans_created_idx on harbor_scans (created_at);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop table if exists harbor_scans, clair_notification_acks, clair_index_reports`);
}
