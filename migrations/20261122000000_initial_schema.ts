import type { Knex } from 'knex';

/*
 * The first schema, shaped for every part in DESIGN.md §2 so later work adds to it rather than
 * fighting it. Conventions: bigint identity keys; digests are `algo:hex` text checked here too;
 * content-addressed rows (layers, manifests, packages, distributions) are unique on their digest
 * or content key; timestamps are timestamptz; the raw input a row came from is kept as jsonb.
 * Durable jobs live in the job queue's own schema (pg-boss, `pgboss.*`), installed by `lookout migrate`.
 */

const DIGEST = `'^[a-z0-9]+([+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$'`;
const SEVERITIES = `'Unknown', 'Negligible', 'Low', 'Medium', 'High', 'Critical'`;
const FINDING_STATES = `'fixed', 'not_fixed', 'fix_deferred', 'will_not_fix', 'end_of_life', 'under_investigation', 'not_affected'`;

const UP = `
-- Registries come from config; this table gives them stable ids for everything below.
create table registries (
  id          bigint generated always as identity primary key,
  name        text not null unique,
  url         text not null,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);

create table repositories (
  id           bigint generated always as identity primary key,
  registry_id  bigint not null references registries(id) on delete cascade,
  name         text not null,
  created_at   timestamptz not null default now(),
  unique (registry_id, name)
);

-- Manifests are content-addressed: one row per digest, whichever repository or registry it is in.
-- kind: image (has layers), index (has children), artifact (not scanned; skip_reason says why).
create table manifests (
  id                 bigint generated always as identity primary key,
  digest             text not null unique check (digest ~ ${DIGEST}),
  media_type         text not null,
  kind               text not null check (kind in ('image', 'index', 'artifact')),
  size               bigint check (size >= 0),
  config_digest      text check (config_digest ~ ${DIGEST}),
  artifact_type      text,
  platform_os        text,
  platform_arch      text,
  platform_variant   text,
  skip_reason        text,
  status             text not null default 'queued'
                     check (status in ('queued', 'indexing', 'matching', 'done', 'failed', 'skipped', 'deleted')),
  status_reason      text,
  status_changed_at  timestamptz not null default now(),
  distribution_id    bigint,
  content            jsonb,
  first_seen_at      timestamptz not null default now(),
  last_seen_at       timestamptz not null default now(),
  indexed_at         timestamptz
);
create index manifests_status_idx on manifests (status) where status in ('queued', 'indexing', 'matching', 'failed');

-- The platform manifests of an index, in index order.
create table manifest_children (
  index_id          bigint not null references manifests(id) on delete cascade,
  child_id          bigint not null references manifests(id) on delete cascade,
  position          integer not null check (position >= 0),
  platform_os       text,
  platform_arch     text,
  platform_variant  text,
  skip_reason       text,
  primary key (index_id, position)
);
create index manifest_children_child_idx on manifest_children (child_id);

-- Which repositories a manifest has been pushed to (tagged or not).
create table repository_manifests (
  repository_id  bigint not null references repositories(id) on delete cascade,
  manifest_id    bigint not null references manifests(id) on delete cascade,
  first_seen_at  timestamptz not null default now(),
  last_seen_at   timestamptz not null default now(),
  deleted_at     timestamptz,
  primary key (repository_id, manifest_id)
);
create index repository_manifests_manifest_idx on repository_manifests (manifest_id);

-- A tag's current digest (null once deleted) ...
create table tags (
  id             bigint generated always as identity primary key,
  repository_id  bigint not null references repositories(id) on delete cascade,
  name           text not null,
  manifest_id    bigint references manifests(id) on delete set null,
  first_seen_at  timestamptz not null default now(),
  updated_at     timestamptz not null default now(),
  deleted_at     timestamptz,
  unique (repository_id, name)
);
create index tags_manifest_idx on tags (manifest_id);

-- ... and its history: each digest it pointed at, from when until when.
create table tag_history (
  id             bigint generated always as identity primary key,
  tag_id         bigint not null references tags(id) on delete cascade,
  manifest_id    bigint not null references manifests(id) on delete cascade,
  first_seen_at  timestamptz not null default now(),
  last_seen_at   timestamptz not null default now(),
  until          timestamptz
);
create index tag_history_tag_idx on tag_history (tag_id, first_seen_at desc);
create unique index tag_history_open_idx on tag_history (tag_id) where until is null;

-- Layers by compressed blob digest; diff_id is the uncompressed digest from the image config.
create table layers (
  id          bigint generated always as identity primary key,
  digest      text not null unique check (digest ~ ${DIGEST}),
  diff_id     text check (diff_id ~ ${DIGEST}),
  media_type  text,
  size        bigint check (size >= 0),
  created_at  timestamptz not null default now()
);
create index layers_diff_id_idx on layers (diff_id);

create table manifest_layers (
  manifest_id  bigint not null references manifests(id) on delete cascade,
  position     integer not null check (position >= 0),
  layer_id     bigint not null references layers(id),
  primary key (manifest_id, position)
);
create index manifest_layers_layer_idx on manifest_layers (layer_id);

-- Every scanner (package, distribution, repository, file), by stable name and version.
create table scanners (
  id       bigint generated always as identity primary key,
  name     text not null,
  version  text not null,
  kind     text not null check (kind in ('package', 'distribution', 'repository', 'file')),
  unique (name, version, kind)
);

-- A layer is scanned once per scanner version; this row says it was (or why it failed).
create table layer_scans (
  layer_id    bigint not null references layers(id) on delete cascade,
  scanner_id  bigint not null references scanners(id) on delete cascade,
  state       text not null check (state in ('done', 'failed')),
  error       text,
  scanned_at  timestamptz not null default now(),
  primary key (layer_id, scanner_id)
);

-- Distributions, deduplicated on a content key (hash of the identifying fields).
create table distributions (
  id                bigint generated always as identity primary key,
  key               text not null unique,
  did               text not null,
  name              text,
  version           text,
  version_id        text,
  version_codename  text,
  pretty_name       text,
  cpe               text,
  arch              text
);
alter table manifests add constraint manifests_distribution_fk foreign key (distribution_id) references distributions(id);

create table layer_distributions (
  layer_id         bigint not null references layers(id) on delete cascade,
  scanner_id       bigint not null references scanners(id) on delete cascade,
  distribution_id  bigint not null references distributions(id),
  source_path      text not null,
  primary key (layer_id, scanner_id, distribution_id, source_path)
);

-- Packages, deduplicated on a content key. ecosystem: dpkg, apk, rpm, pypi, npm, go, maven, gem, ...
-- Distro feeds key Debian/Ubuntu by source package, so source name and version are columns.
create table packages (
  id              bigint generated always as identity primary key,
  key             text not null unique,
  ecosystem       text not null,
  name            text not null,
  version         text not null,
  kind            text not null default 'binary' check (kind in ('binary', 'source')),
  source_name     text,
  source_version  text,
  arch            text,
  module          text,
  vendor          text,
  purl            text,
  extra           jsonb
);
create index packages_ecosystem_name_idx on packages (ecosystem, name);
create index packages_ecosystem_source_idx on packages (ecosystem, source_name) where source_name is not null;

-- What a layer's scan found: the package database (path) holding each package, and the OS package
-- that owns a language package's files, so it is matched through that OS package only.
create table layer_packages (
  layer_id          bigint not null references layers(id) on delete cascade,
  scanner_id        bigint not null references scanners(id) on delete cascade,
  package_id        bigint not null references packages(id),
  path              text not null,
  owner_package_id  bigint references packages(id),
  primary key (layer_id, scanner_id, package_id, path)
);
create index layer_packages_package_idx on layer_packages (package_id);

-- Whiteouts a layer carries: a deleted path, or an opaque directory.
create table layer_whiteouts (
  layer_id  bigint not null references layers(id) on delete cascade,
  path      text not null,
  opaque    boolean not null default false,
  primary key (layer_id, path)
);

-- The image view (layers coalesced): each package in a manifest with the layer that introduced it.
-- The reverse match (vulnerability -> images) runs on this table's package index.
create table manifest_packages (
  manifest_id         bigint not null references manifests(id) on delete cascade,
  package_id          bigint not null references packages(id),
  path                text not null,
  introduced_in       bigint not null references layers(id),
  distribution_id     bigint references distributions(id),
  owner_package_id    bigint references packages(id),
  primary key (manifest_id, package_id, path)
);
create index manifest_packages_package_idx on manifest_packages (package_id);

-- Runs of each feed updater: fingerprint (ETag / Last-Modified / content hash), outcome, counts.
create table update_runs (
  id            bigint generated always as identity primary key,
  updater       text not null,
  state         text not null check (state in ('running', 'changed', 'unchanged', 'failed')),
  fingerprint   text,
  started_at    timestamptz not null default now(),
  finished_at   timestamptz,
  error         text,
  counts        jsonb not null default '{}'::jsonb
);
create index update_runs_updater_idx on update_runs (updater, started_at desc);

-- The generic vulnerability table: one row per (updater, advisory, affected package in a release).
-- vkey identifies the row across runs (for diffs); content_hash tells whether it changed.
create table vulnerabilities (
  id                   bigint generated always as identity primary key,
  updater              text not null,
  vkey                 text not null,
  content_hash         text not null,
  name                 text not null,
  aliases              text[] not null default '{}',
  ecosystem            text not null,
  distribution         text,
  repository           text,
  module               text,
  package_name         text not null,
  package_kind         text not null default 'binary' check (package_kind in ('binary', 'source')),
  arch                 text,
  affected_range       jsonb,
  fixed_version        text,
  state                text not null check (state in (${FINDING_STATES})),
  state_reason         text,
  vendor_severity      text,
  normalized_severity  text not null default 'Unknown' check (normalized_severity in (${SEVERITIES})),
  severity_source      text,
  cvss                 jsonb,
  description          text,
  links                text[] not null default '{}',
  published_at         timestamptz,
  modified_at          timestamptz,
  raw                  jsonb,
  first_run_id         bigint references update_runs(id),
  last_run_id          bigint references update_runs(id),
  unique (updater, vkey)
);
create index vulnerabilities_package_idx on vulnerabilities (ecosystem, package_name);
create index vulnerabilities_dist_package_idx on vulnerabilities (ecosystem, distribution, package_name);
create index vulnerabilities_name_idx on vulnerabilities (name);

-- What one run changed, for the notifier: added, removed, or changed (fields that changed).
create table update_diffs (
  run_id      bigint not null references update_runs(id) on delete cascade,
  vkey        text not null,
  change      text not null check (change in ('added', 'removed', 'changed')),
  fields      text[] not null default '{}',
  before      jsonb,
  after       jsonb,
  primary key (run_id, vkey)
);

-- Per-vulnerability enrichment keyed by id (CVE): NVD CVSS, EPSS score, CISA KEV flag.
create table enrichments (
  kind        text not null check (kind in ('nvd', 'epss', 'kev')),
  vuln_name   text not null,
  data        jsonb not null,
  run_id      bigint references update_runs(id),
  updated_at  timestamptz not null default now(),
  primary key (kind, vuln_name)
);

-- A report cached per manifest and vulnerability-database generation; deleted to invalidate.
create table reports (
  manifest_id  bigint primary key references manifests(id) on delete cascade,
  generation   bigint not null,
  etag         text not null,
  report       jsonb not null,
  created_at   timestamptz not null default now()
);

create table subscriptions (
  id                  uuid primary key default gen_random_uuid(),
  name                text not null,
  origin              text not null check (origin in ('config', 'api')),
  owner               text,
  registry            text,
  repository_pattern  text not null default '*',
  pattern_kind        text not null default 'glob' check (pattern_kind in ('exact', 'prefix', 'glob')),
  channel             text not null check (channel in ('email', 'webhook', 'clair')),
  target              jsonb not null,
  secret              text,
  min_severity        text not null default 'Unknown' check (min_severity in (${SEVERITIES})),
  events              text[] not null,
  created_at          timestamptz not null default now(),
  deleted_at          timestamptz
);
create unique index subscriptions_config_name_idx on subscriptions (name) where origin = 'config' and deleted_at is null;

-- One delivery = one message on the wire (an email, a webhook POST) carrying one or more outbox rows.
create table notification_deliveries (
  id               uuid primary key default gen_random_uuid(),
  subscription_id  uuid not null references subscriptions(id) on delete cascade,
  state            text not null default 'pending' check (state in ('pending', 'delivering', 'delivered', 'dead')),
  attempts         integer not null default 0,
  next_attempt_at  timestamptz not null default now(),
  last_error       text,
  created_at       timestamptz not null default now(),
  delivered_at     timestamptz
);
create index notification_deliveries_due_idx on notification_deliveries (next_attempt_at) where state = 'pending';

-- The outbox: one row per (subscription, image, vulnerability, event), written in the same
-- transaction as the change that caused it; dedupe_key makes a second write of it a no-op.
create table notifications (
  id               uuid primary key default gen_random_uuid(),
  subscription_id  uuid not null references subscriptions(id) on delete cascade,
  manifest_id      bigint not null references manifests(id) on delete cascade,
  vuln_name        text not null,
  event            text not null check (event in ('new-image', 'newly-affected', 'fix-available', 'resolved', 'exception-expired')),
  update_run_id    bigint references update_runs(id),
  dedupe_key       text not null unique,
  payload          jsonb not null,
  delivery_id      uuid references notification_deliveries(id) on delete set null,
  created_at       timestamptz not null default now()
);
create index notifications_undelivered_idx on notifications (subscription_id, created_at) where delivery_id is null;

-- Push events as received, deduplicated on the sender's event id; nothing accepted is lost.
create table webhook_events (
  id            bigint generated always as identity primary key,
  registry_id   bigint not null references registries(id) on delete cascade,
  source        text not null check (source in ('distribution', 'harbor', 'quay')),
  event_id      text not null,
  action        text,
  repository    text,
  tag           text,
  digest        text,
  media_type    text,
  body          jsonb not null,
  state         text not null default 'received' check (state in ('received', 'enqueued', 'ignored', 'processed', 'failed')),
  reason        text,
  received_at   timestamptz not null default now(),
  processed_at  timestamptz,
  unique (registry_id, source, event_id)
);
create index webhook_events_pending_idx on webhook_events (received_at) where state = 'received';
`;

const TABLES = [
  'webhook_events',
  'notifications',
  'notification_deliveries',
  'subscriptions',
  'reports',
  'enrichments',
  'update_diffs',
  'vulnerabilities',
  'update_runs',
  'manifest_packages',
  'layer_whiteouts',
  'layer_packages',
  'packages',
  'layer_distributions',
  'distributions',
  'layer_scans',
  'scanners',
  'manifest_layers',
  'layers',
  'tag_history',
  'tags',
  'repository_manifests',
  'manifest_children',
  'manifests',
  'repositories',
  'registries',
];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(UP);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop table if exists ${TABLES.join(', ')} cascade`);
}
