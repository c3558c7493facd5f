import type { Knex } from 'knex';

/*
 * Operator-owned vulnerability data:
 * - custom_advisories: the operator's own advisories (the source of truth; they reach matching
 *   as the `custom` updater's rows of `vulnerabilities`, written by a run like any feed's);
 * - vex_documents / vex_statements: imported VEX documents (OpenVEX, CycloneDX, CSAF), one
 *   statement row per (statement, product) the document names, looked up by vulnerability id;
 * - exceptions: findings accepted until a date, by vulnerability (optionally package, repository
 *   glob, image digest); `expiry_processed_at` says the expiry was acted on (reports refreshed,
 *   `exception-expired` notifications written).
 * - image_layer_chains: each image's layer chain id (a hash over its layer digests in order) and
 *   layer count, so the known image whose layers are a prefix of another's (its base, for the
 *   remediation advice) is one indexed lookup; filled for the images known now.
 * Cached reports are dropped: their documents gain suppressed findings and remediation advice.
 */
const DIGEST = `'^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$'`;

/**
 * Records the layer chain id of every image that has none yet (the same hash as
 * `layerChainIds` in the report service: sha256 hex of the first digest, then of the previous
 * chain id, a space and the next digest).
 */
export const BACKFILL_LAYER_CHAINS = `
    insert into image_layer_chains (manifest_id, chain_id, layers)
    with recursive chain as (
      select ml.manifest_id, ml.position, encode(sha256(convert_to(l.digest, 'UTF8')), 'hex') as chain_id
        from manifest_layers ml join layers l on l.id = ml.layer_id
       where ml.position = 0
      union all
      select ml.manifest_id, ml.position, encode(sha256(convert_to(c.chain_id || ' ' || l.digest, 'UTF8')), 'hex')
        from chain c
        join manifest_layers ml on ml.manifest_id = c.manifest_id and ml.position = c.position + 1
        join layers l on l.id = ml.layer_id
    )
    select distinct on (manifest_id) manifest_id, chain_id, position + 1 from chain order by manifest_id, position desc
    on conflict (manifest_id) do nothing`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table custom_advisories (
      id            text primary key check (id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$'),
      revision      integer not null default 1 check (revision > 0),
      advisory      jsonb not null,
      origin        text not null check (origin in ('api', 'cli', 'osv')),
      created_by    text,
      updated_by    text,
      created_at    timestamptz not null default now(),
      updated_at    timestamptz not null default now(),
      withdrawn_at  timestamptz,
      withdrawn_by  text
    );
    create index custom_advisories_active_idx on custom_advisories (id) where withdrawn_at is null;

    create table vex_documents (
      id               bigint generated always as identity primary key,
      format           text not null check (format in ('openvex', 'cyclonedx', 'csaf')),
      document_id      text,
      document_version text,
      author           text,
      issued_at        timestamptz,
      scope_kind       text not null check (scope_kind in ('global', 'image', 'repository')),
      scope_value      text,
      sha256           text not null,
      statement_count  integer not null check (statement_count >= 0),
      imported_by      text,
      imported_at      timestamptz not null default now(),
      check ((scope_kind = 'global') = (scope_value is null))
    );
    create unique index vex_documents_identity_idx on vex_documents (format, coalesce(document_id, sha256), scope_kind, coalesce(scope_value, ''));

    create table vex_statements (
      id                bigint generated always as identity primary key,
      document_id       bigint not null references vex_documents(id) on delete cascade,
      position          text not null,
      vulnerability     text not null,
      aliases           text[] not null default '{}',
      status            text not null check (status in ('not_affected', 'affected', 'fixed', 'under_investigation')),
      justification     text,
      impact_statement  text,
      action_statement  text,
      image_digest      text check (image_digest ~ ${DIGEST}),
      package_purl      text
    );
    create index vex_statements_vulnerability_idx on vex_statements (vulnerability);
    create index vex_statements_aliases_idx on vex_statements using gin (aliases);
    create index vex_statements_document_idx on vex_statements (document_id);

    create table exceptions (
      id                   uuid primary key default gen_random_uuid(),
      vulnerability        text not null,
      package_name         text,
      repository_pattern   text,
      image_digest         text check (image_digest ~ ${DIGEST}),
      reason               text not null,
      author               text not null,
      expires_at           timestamptz not null,
      created_at           timestamptz not null default now(),
      deleted_at           timestamptz,
      deleted_by           text,
      expiry_processed_at  timestamptz
    );
    create index exceptions_vulnerability_idx on exceptions (vulnerability) where deleted_at is null;
    create index exceptions_due_idx on exceptions (expires_at) where deleted_at is null and expiry_processed_at is null;

    create table image_layer_chains (
      manifest_id  bigint primary key references manifests(id) on delete cascade,
      chain_id     text not null,
      layers       integer not null check (layers > 0)
    );
    create index image_layer_chains_chain_idx on image_layer_chains (chain_id);

    ${BACKFILL_LAYER_CHAINS};

    delete from reports;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop table if exists image_layer_chains;
    drop table if exists exceptions;
    drop table if exists vex_statements;
    drop table if exists vex_documents;
    drop table if exists custom_advisories;
    delete from reports;
  `);
}
