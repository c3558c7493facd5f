import type { Knex } from 'knex';
import { SEVERITIES } from '../ecosystems/vulnerability-record.ts';
import type { Subscription } from '../store/subscription-store.ts';
import type { NotificationEvent, NotificationPayload } from './notification-payload.ts';
import { publicBase } from './notification-payload.ts';
import { repositoryMatcher } from './repository-matcher.ts';
import type { Logger } from '../log/create-logger.ts';

/** One change of one stored package's exposure to one vulnerability (the reverse match's output). */
export interface FanOutEvent {
  packageId: number;
  packageName: string;
  event: NotificationEvent;
  vulnerability: string;
  /** The record's release key for distribution records (only images of that release count); null for language records. */
  distribution: string | null;
  /** The payload's finding, but for the layer (each image's own). */
  finding: Omit<NotificationPayload['finding'], 'layer'>;
}

export interface FanOutOptions {
  runId: number;
  publicBaseUrl: string;
  /** An image counts when a tag points at it (or at an index holding it) or it was seen this recently. */
  currentImageDays: number;
  logger: Logger;
}

/**
 * Writes the outbox rows of a run's package events in the run's transaction, set-based: the
 * events (merged per finding) go to a temporary table; one statement finds the current images
 * holding each event's packages (through the package index), another where those images are
 * known; the repositories each subscription covers are decided here (registry, patterns, the
 * repositories its owner may read), and each subscription's location of an image is the first it
 * covers by registry and repository name. Each finding is written once (`notification_findings`);
 * one INSERT … SELECT then writes one lean row per (subscription, image, finding) naming the
 * finding, the layer that brought the package and the location — `notification_payloads` makes
 * the payload when the row is read. The rows need no dedupe key: the run's transaction writes
 * them exactly once or not at all. Returns the rows written.
 */
export async function fanOut(trx: Knex.Transaction, subscriptions: readonly Subscription[], events: readonly FanOutEvent[], options: FanOutOptions): Promise<number> {
  if (events.length === 0 || subscriptions.length === 0) return 0;
  let last = performance.now();
  const step = (name: string, rows?: number) => {
    const now = performance.now();
    options.logger.debug({ step: name, ms: Math.round(now - last), ...(rows === undefined ? {} : { rows }) }, 'notifier fan-out step');
    last = now;
  };
  // One event per finding (package name and version, vulnerability, change, release): stored
  // packages that differ only in what a notification does not show (architecture, path) together,
  // so an image gets one row however many of them it holds.
  const merged = new Map<string, { event: FanOutEvent; packageIds: number[] }>();
  for (const e of events) {
    const key = `${e.event}\u0000${e.distribution ?? ''}\u0000${JSON.stringify(e.finding)}`;
    const entry = merged.get(key);
    if (entry) entry.packageIds.push(e.packageId);
    else merged.set(key, { event: e, packageIds: [e.packageId] });
  }
  const list = [...merged.values()];
  await trx.raw(`
    create temp table notify_events (idx int primary key, package_ids bigint[] not null, event text not null, vuln_name text not null,
      release_key text, severity_rank int not null, finding json not null,
      finding_id bigint not null default nextval(pg_get_serial_sequence('notification_findings', 'id'))) on commit drop`);
  for (let i = 0; i < list.length; i += 5000) {
    const chunk = list.slice(i, i + 5000);
    await trx.raw(
      `insert into notify_events select u.idx, string_to_array(u.ids, ',')::bigint[], u.event, u.vuln_name, u.release_key, u.rank, u.finding::json
         from unnest(?::int[], ?::text[], ?::text[], ?::text[], ?::text[], ?::int[], ?::text[]) as u(idx, ids, event, vuln_name, release_key, rank, finding)`,
      [
        chunk.map((_, j) => i + j),
        chunk.map((e) => e.packageIds.join(',')),
        chunk.map((e) => e.event.event),
        chunk.map((e) => e.event.vulnerability),
        chunk.map((e) => e.event.distribution),
        chunk.map((e) => SEVERITIES.indexOf(e.event.finding.severity)),
        chunk.map((e) => JSON.stringify(e.event.finding)),
      ] as unknown as Knex.RawBinding[],
    );
  }
  await trx.raw(`create temp table notify_event_packages on commit drop as select idx, unnest(package_ids) as package_id from notify_events`);
  await trx.raw('analyze notify_events; analyze notify_event_packages');
  step('events', list.length);

  // Images holding each event's package, of the record's release; language packages installed by an
  // OS package are matched through it only.
  await trx.raw(`
    create temp table notify_pairs on commit drop as
    select e.idx, mp.manifest_id, min(mp.introduced_in) as layer_id
      from notify_event_packages ep
      join notify_events e on e.idx = ep.idx
      join manifest_packages mp on mp.package_id = ep.package_id and (e.release_key is not null or mp.owner_package_id is null)
      join manifests m on m.id = mp.manifest_id and m.kind = 'image' and m.status = 'done'
                      and (e.release_key is null or m.release_keys @> array[e.release_key])
     group by e.idx, mp.manifest_id`);
  step('pairs');
  // Only current images count: a tag points at them (or at an index holding them), or they were seen lately.
  await trx.raw(
    `create temp table notify_images on commit drop as
     select m.id as manifest_id
       from (select distinct manifest_id from notify_pairs) a
       join manifests m on m.id = a.manifest_id
      where exists (select 1 from tags t where t.manifest_id = m.id and t.deleted_at is null)
         or exists (select 1 from manifest_children c join tags t on t.manifest_id = c.index_id and t.deleted_at is null where c.child_id = m.id)
         or m.last_seen_at > now() - make_interval(days => ?)`,
    [options.currentImageDays],
  );
  step('images');
  // Where each image (or an index holding it) is known (the tags are read when a row is delivered).
  await trx.raw(`
    create temp table notify_locations on commit drop as
    select distinct i.manifest_id, r.id as repository_id, g.name as registry, r.name as repository
      from notify_images i
      join lateral (select i.manifest_id as holder union select c.index_id from manifest_children c where c.child_id = i.manifest_id) h on true
      join repository_manifests rm on rm.manifest_id = h.holder and rm.deleted_at is null
      join repositories r on r.id = rm.repository_id
      join registries g on g.id = r.registry_id`);
  step('locations');

  // Which subscription covers which of those repositories.
  const { rows: repositories } = await trx.raw<{ rows: { repository_id: string; registry: string; repository: string }[] }>(
    'select distinct repository_id, registry, repository from notify_locations',
  );
  const coverage: Array<[string, string]> = [];
  for (const subscription of subscriptions) {
    const covers = repositoryMatcher(subscription);
    for (const r of repositories) if (covers(r.registry, r.repository)) coverage.push([subscription.id, r.repository_id]);
  }
  if (coverage.length === 0) return 0;
  await trx.raw(`create temp table notify_coverage (subscription_id uuid not null, repository_id bigint not null, min_rank int not null, events text not null) on commit drop`);
  const bySubscription = new Map(subscriptions.map((s) => [s.id, s]));
  for (let i = 0; i < coverage.length; i += 10_000) {
    const chunk = coverage.slice(i, i + 10_000);
    await trx.raw(`insert into notify_coverage select * from unnest(?::uuid[], ?::bigint[], ?::int[], ?::text[])`, [
      chunk.map(([s]) => s),
      chunk.map(([, r]) => r),
      chunk.map(([s]) => SEVERITIES.indexOf(bySubscription.get(s)!.minSeverity)),
      chunk.map(([s]) => bySubscription.get(s)!.events.join(',')),
    ] as unknown as Knex.RawBinding[]);
  }
  await trx.raw('analyze notify_coverage; analyze notify_locations');
  step('coverage', coverage.length);

  // Each subscription's location of each image: the first it covers, by registry and repository name.
  await trx.raw(`
    create temp table notify_targets on commit drop as
    select distinct on (c.subscription_id, loc.manifest_id)
           c.subscription_id, loc.manifest_id, loc.repository_id, c.min_rank, string_to_array(c.events, ',') as events
      from notify_locations loc
      join notify_coverage c on c.repository_id = loc.repository_id
     order by c.subscription_id, loc.manifest_id, loc.registry, loc.repository`);
  await trx.raw('analyze notify_pairs; analyze notify_targets');
  step('targets');

  // Each finding once (the payload's finding but the layer; its id was drawn when the event was
  // written); the rows name it, their layer and location.
  await trx.raw(
    `insert into notification_findings (id, update_run_id, event, vuln_name, aliases, package_name, installed_version, ecosystem, finding, links_base, occurred_at)
     overriding system value
     select e.finding_id, ?::bigint, e.event, e.vuln_name,
            coalesce(array(select json_array_elements_text(e.finding->'aliases')), '{}'),
            e.finding->>'package', e.finding->>'installedVersion', e.finding->>'ecosystem', e.finding, ?::text, now()
       from notify_events e`,
    [options.runId, publicBase(options.publicBaseUrl)],
  );
  step('findings');
  const result = await trx.raw(
    `insert into notifications (subscription_id, manifest_id, vuln_name, event, update_run_id, finding_id, layer_id, repository_id)
     select t.subscription_id, p.manifest_id, e.vuln_name, e.event, ?::bigint, e.finding_id, p.layer_id, t.repository_id
       from notify_pairs p
       join notify_events e on e.idx = p.idx
       join notify_targets t on t.manifest_id = p.manifest_id and e.severity_rank >= t.min_rank and e.event = any(t.events)`,
    [options.runId],
  );
  step('outbox', result.rowCount as number);
  return result.rowCount as number;
}
