import test from 'ava';
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { createLogger } from '../../src/log/create-logger.ts';
import { fanOut, type FanOutEvent } from '../../src/notifier/fan-out.ts';
import { parseNotificationPayload } from '../../src/notifier/notification-payload.ts';
import { PgImageStore } from '../../src/store/image-store.ts';
import { PgSubscriptionStore, type NewSubscription } from '../../src/store/subscription-store.ts';
import { useDatabase } from '../helpers/database.ts';

// The set-based fan-out against real rows: which images count, which subscription covers which
// location, one row per (subscription, image, finding), and a payload the deliverer accepts.

const database = useDatabase(test, 'fan_out');
const digestOf = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const logger = createLogger('silent');

interface World {
  knex: Knex;
  images: Record<'a' | 'b' | 'old' | 'child', { id: number; digest: string }>;
  layer: string;
  packageIds: number[];
  subscriptions: Record<'high' | 'team' | 'alpine', string>;
}

async function world(knex: Knex): Promise<World> {
  const store = new PgImageStore(knex);
  const [registry] = await knex('registries').insert({ name: 'local', url: 'http://127.0.0.1:9' }).returning('id');
  const [layerRow] = await knex('layers').insert({ digest: digestOf('layer'), size: 1 }).returning(['id', 'digest']);
  const [p1, p2] = await knex('packages')
    .insert([
      { key: 'dpkg:openssl:3.0.11-1:amd64', ecosystem: 'dpkg', name: 'openssl', version: '3.0.11-1', source_name: 'openssl', arch: 'amd64' },
      { key: 'dpkg:openssl:3.0.11-1:arm64', ecosystem: 'dpkg', name: 'openssl', version: '3.0.11-1', source_name: 'openssl', arch: 'arm64' },
    ])
    .returning('id');
  const image = async (name: string, opts: { platform?: boolean; seenDaysAgo?: number } = {}) => {
    const id = await store.upsertManifest({ digest: digestOf(name), mediaType: 'application/vnd.oci.image.manifest.v1+json', kind: 'image', size: 1, ...(opts.platform ? { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } } : {}) });
    await knex('manifests').where({ id }).update({ status: 'done', release_keys: ['debian:bookworm'], ...(opts.seenDaysAgo ? { last_seen_at: knex.raw(`now() - interval '${opts.seenDaysAgo} days'`) } : {}) });
    return { id, digest: digestOf(name) };
  };
  const a = await image('a');
  const b = await image('b');
  const old = await image('old', { seenDaysAgo: 90 });
  const child = await image('child', { platform: true });
  for (const m of [a, b, old, child]) {
    await knex('manifest_packages').insert([
      { manifest_id: m.id, package_id: p1.id, path: 'var/lib/dpkg/status', introduced_in: layerRow.id },
      // image a holds both architectures of the same version: still one notification
      ...(m === a ? [{ manifest_id: m.id, package_id: p2.id, path: 'var/lib/dpkg/status.d/openssl', introduced_in: layerRow.id }] : []),
    ]);
  }
  const repo = (name: string) => store.repositoryId(Number(registry.id), name);
  const app = await repo('team/app');
  const other = await repo('team/other');
  const elsewhere = await repo('ops/tools');
  await store.linkToRepository(app, a.id);
  await store.setTag(app, 'v1', a.id);
  await store.linkToRepository(elsewhere, a.id);
  await store.setTag(elsewhere, 'stable', a.id);
  await store.linkToRepository(other, b.id);
  await store.setTag(other, 'v1', b.id);
  await store.linkToRepository(app, old.id); // untagged, seen long ago: not current
  const index = await store.upsertManifest({ digest: digestOf('index'), mediaType: 'application/vnd.oci.image.index.v1+json', kind: 'index', size: 1 });
  await knex('manifest_children').insert({ index_id: index, child_id: child.id, position: 0, platform_os: 'linux', platform_arch: 'arm64' });
  await store.linkToRepository(app, index);
  await store.setTag(app, 'multi', index);

  const subs = new PgSubscriptionStore(knex);
  const sub = (s: Partial<NewSubscription> & { name: string }) =>
    subs.create({ owner: null, registry: null, repositories: ['**'], channel: 'webhook', target: { url: 'http://127.0.0.1:9/hook' }, secret: null, minSeverity: 'Low', events: ['newly-affected'], ...s });
  const high = await sub({ name: 'high', minSeverity: 'High' });
  const team = await sub({ name: 'team', repositories: ['team/**'], target: { url: 'http://127.0.0.1:9/hook', allowedRepositories: ['team/app'] } });
  const alpine = await sub({ name: 'alpine', events: ['fix-available'] });
  return { knex, images: { a, b, old, child }, layer: layerRow.digest, packageIds: [Number(p1.id), Number(p2.id)], subscriptions: { high: high.id, team: team.id, alpine: alpine.id } };
}

const event = (packageId: number, severity: 'Medium' | 'Critical'): FanOutEvent => ({
  packageId,
  packageName: 'openssl',
  event: 'newly-affected',
  vulnerability: 'CVE-2026-4242',
  distribution: 'debian:bookworm',
  finding: { vulnerability: 'CVE-2026-4242', aliases: [], package: 'openssl', ecosystem: 'dpkg', installedVersion: '3.0.11-1', fixedVersion: null, severity, vendorSeverity: severity.toLowerCase(), links: ['https://security-tracker.debian.org/tracker/CVE-2026-4242'] },
});

test.serial('current images only, each subscription at its first covered location, one row per finding, a payload the deliverer accepts', async (t) => {
  const db = await database();
  const w = await world(db.knex);
  const [run] = await db.knex('update_runs').insert({ updater: 'debian', state: 'running' }).returning('id');
  const subscriptions = await new PgSubscriptionStore(db.knex).list();
  const none = await db.knex.transaction((trx) => fanOut(trx, subscriptions, [], { runId: Number(run.id), publicBaseUrl: 'https://lookout.example.test/', currentImageDays: 30, logger }));
  t.is(none, 0, 'nothing to do without events');

  const count = await db.knex.transaction((trx) =>
    fanOut(trx, subscriptions, w.packageIds.map((id) => event(id, 'Medium')), { runId: Number(run.id), publicBaseUrl: 'https://lookout.example.test/', currentImageDays: 30, logger }),
  );
  const rows = await db.knex('notifications as n')
    .join('notification_payloads as p', 'p.id', 'n.id')
    .orderBy('n.manifest_id')
    .select('n.subscription_id', 'n.manifest_id', 'n.vuln_name', 'n.event', 'n.update_run_id', 'n.dedupe_key', 'n.finding_id', 'p.payload', { stored: 'n.payload' });
  t.is(count, rows.length);
  // Lean rows: no stored payload, each names its finding, which is written once per finding.
  t.true(rows.every((r) => r.stored === null && r.finding_id !== null));
  const findings = await db.knex('notification_findings').where({ update_run_id: run.id }).select('id', 'package_name', 'installed_version');
  t.is(findings.length, 1, 'both packages are openssl 3.0.11-1 of one release: one finding');
  t.true(rows.every((r) => String(r.finding_id) === String(findings[0]!.id)));
  // Medium: not for `high`; `alpine` wants fix-available only; `team` covers team/app only (its owner's repositories).
  t.deepEqual(
    rows.map((r) => [r.subscription_id, Number(r.manifest_id)]),
    [
      [w.subscriptions.team, w.images.a.id],
      [w.subscriptions.team, w.images.child.id],
    ],
    'a (tagged in team/app) and the platform image of an index tagged there; not b (team/other), not the old untagged image',
  );
  const byImage = new Map(rows.map((r) => [Number(r.manifest_id), r]));
  for (const r of rows) {
    const parsed = parseNotificationPayload(r.payload);
    t.true(parsed.ok, parsed.ok ? '' : parsed.reason);
    t.is(r.dedupe_key, null);
    t.is(Number(r.update_run_id), Number(run.id));
  }
  const a = byImage.get(w.images.a.id)!.payload;
  t.deepEqual(a.image, { registry: 'local', repository: 'team/app', tags: ['v1'], digest: w.images.a.digest, platform: null });
  t.like(a.finding, { vulnerability: 'CVE-2026-4242', package: 'openssl', installedVersion: '3.0.11-1', severity: 'Medium', layer: w.layer });
  t.deepEqual(a.links, { status: `https://lookout.example.test/api/v1/images/${w.images.a.digest}`, report: `https://lookout.example.test/images/${w.images.a.digest}` });
  const child = byImage.get(w.images.child.id)!.payload;
  t.deepEqual(child.image, { registry: 'local', repository: 'team/app', tags: ['multi'], digest: w.images.child.digest, platform: 'linux/arm64/v8' });

  // Critical: `high` hears of every current image too, at its first location by name (ops/tools before team/app).
  await db.knex('notifications').delete();
  await db.knex.transaction((trx) =>
    fanOut(trx, subscriptions, w.packageIds.map((id) => event(id, 'Critical')), { runId: Number(run.id), publicBaseUrl: 'https://lookout.example.test', currentImageDays: 30, logger }),
  );
  const high = await db.knex('notifications as n')
    .join('notification_payloads as p', 'p.id', 'n.id')
    .where({ 'n.subscription_id': w.subscriptions.high })
    .orderBy('n.manifest_id')
    .select('n.manifest_id', 'p.payload');
  t.deepEqual(high.map((r) => Number(r.manifest_id)), [w.images.a.id, w.images.b.id, w.images.child.id]);
  t.is(high[0]!.payload.image.repository, 'ops/tools');

  // Seen within the window: the untagged image counts again.
  await db.knex('notifications').delete();
  await db.knex.transaction((trx) =>
    fanOut(trx, subscriptions, w.packageIds.map((id) => event(id, 'Critical')), { runId: Number(run.id), publicBaseUrl: 'https://lookout.example.test', currentImageDays: 365, logger }),
  );
  t.true((await db.knex('notifications').where({ subscription_id: w.subscriptions.high }).pluck('manifest_id')).map(Number).includes(w.images.old.id));
});

test.serial('a rolled-back run leaves no outbox row', async (t) => {
  const db = await database();
  await db.knex('notifications').delete();
  const subscriptions = await new PgSubscriptionStore(db.knex).list();
  const ids = (await db.knex('packages').pluck('id')).map(Number);
  const [run] = await db.knex('update_runs').insert({ updater: 'debian', state: 'running' }).returning('id');
  await t.throwsAsync(
    db.knex.transaction(async (trx) => {
      const n = await fanOut(trx, subscriptions, ids.map((id) => event(id, 'Critical')), { runId: Number(run.id), publicBaseUrl: 'https://lookout.example.test', currentImageDays: 30, logger });
      t.true(n > 0);
      throw new Error('the run failed after the outbox was written');
    }),
  );
  t.is(Number((await db.knex('notifications').count<{ count: string }[]>('* as count').first())!.count), 0);
});
