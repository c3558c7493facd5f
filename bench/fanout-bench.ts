import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import type { FindingState, Severity, VulnerabilityRecord } from '../src/ecosystems/vulnerability-record.ts';
import { createLogger } from '../src/log/create-logger.ts';
import { ChangeNotifier } from '../src/notifier/change-notifier.ts';
import { NotificationDeliverer } from '../src/notifier/notification-deliverer.ts';
import { NOTIFIER_DEFAULTS } from '../src/notifier/notifier-config.ts';
import { WebhookSender } from '../src/notifier/webhook-sender.ts';
import { createKnex } from '../src/store/database.ts';
import { migrateLatest } from '../src/store/migrations.ts';
import { PgNotificationStore } from '../src/store/notification-store.ts';
import { PgVulnerabilityStore } from '../src/store/vulnerability-store.ts';
import { benchDatabase } from './bench-database.ts';
import type { Bench } from './figure.ts';

const IMAGES = 100_000;
const PACKAGES_PER_IMAGE = 100;
/** Debian sources in the fleet: the first BASE are in every image (the base layer), the rest spread. */
const SOURCES = 2000;
const BASE = 40;
const VERSIONS = 3;
const REPOSITORIES = 2000;
const TEAMS = 50;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const logger = createLogger('silent');

/**
 * Notification fan-out: 100,000 indexed Debian bookworm images in 2,000 repositories (50 teams),
 * each with 100 packages — 80 binaries of 40 base sources shared by all (at one of three
 * versions), 20 from 1,960 other sources — and 11 webhook subscriptions (`**` at High and above,
 * and one per team for ten teams). A Debian feed run that adds or changes 1,000 vulnerabilities:
 * 700 for packages no image has, 150 new open CVEs on spread sources, 5 on base sources, 100
 * that gain a fix and 45 that stop applying. Figures: from the end of the run's own work (the
 * diff recorded) to its commit with every outbox row written; and from the commit until the
 * deliverer (default settings, woken at commit) has the first webhook received. Reference: the
 * run without the notifier hook.
 */
const bench: Bench = async (ctx) => {
  const db = await benchDatabase(ctx, 'fanout');
  const knex = createKnex(db.url, { poolMax: 6 });
  const receiver = await startReceiver();
  try {
    await migrateLatest(knex);
    let started = performance.now();
    await loadFleet(knex, receiver.url);
    ctx.log(`fleet loaded in ${((performance.now() - started) / 1000).toFixed(1)} s (${db.engine})`);
    const store = new PgVulnerabilityStore(knex);
    const first = await store.startRun('debian');
    await store.applyRun(first, 'debian', records(baseline()));
    await store.finishRun(first, { state: 'changed', fingerprint: 'baseline' });

    // Reference: the same change applied without the notifier, then undone.
    const reference = await timedRun(store, update(), null);
    ctx.log(`run without the notifier: ${reference.totalMs.toFixed(0)} ms`);
    const restore = await store.startRun('debian');
    await store.applyRun(restore, 'debian', records(baseline()));
    await store.finishRun(restore, { state: 'changed', fingerprint: 'baseline-again' });

    const notifier = new ChangeNotifier({ publicBaseUrl: 'https://lookout.example.test', currentImageDays: 30, logger });
    const webhook = new WebhookSender({ timeouts: NOTIFIER_DEFAULTS.webhook.timeouts, maxErrorBodyBytes: 256, userAgent: NOTIFIER_DEFAULTS.webhook.userAgent });
    const deliverer = new NotificationDeliverer({ store: new PgNotificationStore(knex), config: { ...NOTIFIER_DEFAULTS, publicBaseUrl: 'https://lookout.example.test' }, webhook, email: null, logger });
    const stop = new AbortController();
    const delivering = deliverer.run(stop.signal);
    await new Promise((r) => setTimeout(r, 300));
    receiver.firstAt = null;
    const run = await timedRun(store, update(), notifier);
    deliverer.wake();
    started = performance.now();
    const firstWebhookMs = await receiver.first(60_000).then((at) => at - run.committedAt);
    stop.abort();
    await delivering;
    await webhook.close();
    const rows = await count(knex, 'notifications');
    ctx.log(`outbox ${rows} rows; run ${run.totalMs.toFixed(0)} ms, notifier ${run.hookMs.toFixed(0)} ms; first webhook ${firstWebhookMs.toFixed(0)} ms after commit`);
    const note = `${IMAGES} images × ${PACKAGES_PER_IMAGE} packages, 11 subscriptions, 1,000 changed vulnerabilities → ${rows} outbox rows; ${db.engine} PostgreSQL`;
    ctx.emit({
      name: 'notify.fanout_outbox_seconds',
      value: round(run.sinceDiffMs / 1000),
      unit: 's',
      target: '<= 10 s',
      outbox_rows: rows,
      run_seconds: round(run.totalMs / 1000),
      reference: { name: 'the same run without the notifier, diff recorded to commit', value: round(reference.sinceDiffMs / 1000), unit: 's' },
      note: `from the run's diff recorded to its commit with every outbox row written; ${note}`,
    });
    ctx.emit({
      name: 'notify.fanout_first_webhook_seconds',
      value: round(firstWebhookMs / 1000),
      unit: 's',
      target: '<= 5 s',
      reference: null,
      note: `from the run's commit to the first webhook received (deliverer with default settings, woken at commit); ${note}`,
    });
  } finally {
    await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
    await knex.destroy();
    await db.drop();
  }
};
export default bench;

interface TimedRun {
  totalMs: number;
  /** From the diff recorded (the hook's start) to the commit. */
  sinceDiffMs: number;
  hookMs: number;
  committedAt: number;
}

async function timedRun(store: PgVulnerabilityStore, data: VulnerabilityRecord[], notifier: ChangeNotifier | null): Promise<TimedRun> {
  const start = performance.now();
  const runId = await store.startRun('debian');
  let hookStart = 0;
  let hookMs = 0;
  await store.applyRun(runId, 'debian', records(data), {
    onApplied: async (trx, run) => {
      hookStart = performance.now();
      const written = notifier ? await notifier.onRunApplied(trx, run) : 0;
      hookMs = performance.now() - hookStart;
      return written;
    },
  });
  const committedAt = performance.now();
  await store.finishRun(runId, { state: 'changed', fingerprint: `run-${runId}` });
  return { totalMs: committedAt - start, sinceDiffMs: committedAt - hookStart, hookMs, committedAt };
}

async function* records(list: readonly VulnerabilityRecord[]): AsyncGenerator<VulnerabilityRecord> {
  yield* list;
}

function record(name: string, source: number, state: FindingState, fixedVersion: string | null, severity: Severity): VulnerabilityRecord {
  return {
    updater: 'debian',
    name,
    aliases: [],
    ecosystem: 'dpkg',
    distribution: 'debian:bookworm',
    repository: null,
    module: null,
    packageName: `src${source}`,
    packageKind: 'source',
    arch: null,
    affectedRange: null,
    fixedVersion,
    state,
    stateReason: state === 'not_fixed' ? 'no-dsa: Minor issue' : null,
    vendorSeverity: severity.toLowerCase(),
    normalizedSeverity: severity,
    severitySource: 'vendor',
    cvss: [],
    description: `${name} in src${source}`,
    links: [`https://security-tracker.debian.org/tracker/${name}`],
    publishedAt: null,
    modifiedAt: null,
  };
}

const SEVERITIES: Severity[] = ['High', 'Medium', 'Low'];
/** A spread (non-base) source that images have. */
const spread = (i: number) => BASE + ((i * 37) % (SOURCES - BASE));

/** Before: two fixed-long-ago records per source, 145 open ones that the update will fix or retract. */
function baseline(): VulnerabilityRecord[] {
  const out: VulnerabilityRecord[] = [];
  for (let s = 0; s < SOURCES; s++) for (let k = 0; k < 2; k++) out.push(record(`CVE-2020-${10000 + s * 2 + k}`, s, 'fixed', '0.1-1', SEVERITIES[k % 3]!));
  for (let i = 0; i < 145; i++) out.push(record(`CVE-2025-${20000 + i}`, spread(1000 + i), 'not_fixed', null, SEVERITIES[i % 3]!));
  return out;
}

/** After: the baseline with 1,000 vulnerabilities added or changed. */
function update(): VulnerabilityRecord[] {
  const out = baseline().filter((r) => !r.name.startsWith('CVE-2025-'));
  for (let i = 0; i < 700; i++) out.push(record(`CVE-2026-${30000 + i}`, SOURCES + i, 'not_fixed', null, SEVERITIES[i % 3]!)); // no image has these
  for (let i = 0; i < 150; i++) out.push(record(`CVE-2026-${31000 + i}`, spread(i), 'not_fixed', null, SEVERITIES[i % 3]!));
  for (let i = 0; i < 5; i++) out.push(record(`CVE-2026-${32000 + i}`, i * 7, 'not_fixed', null, SEVERITIES[(i + 1) % 3]!)); // base sources
  for (let i = 0; i < 100; i++) out.push(record(`CVE-2025-${20000 + i}`, spread(1000 + i), 'fixed', '9.9.9-1', SEVERITIES[i % 3]!)); // a fix appears
  for (let i = 100; i < 145; i++) out.push(record(`CVE-2025-${20000 + i}`, spread(1000 + i), 'not_affected', null, SEVERITIES[i % 3]!)); // retracted
  return out;
}

/** The fleet, written with set-based SQL: packages, images, their packages, repositories, tags, subscriptions. */
async function loadFleet(knex: Knex, hookUrl: string): Promise<void> {
  const [registry] = await knex('registries').insert({ name: 'bench', url: 'http://127.0.0.1:5000' }).returning('id');
  const [dist] = await knex('distributions').insert({ key: 'debian:bookworm', did: 'debian', version_id: '12', version_codename: 'bookworm' }).returning('id');
  const [layer] = await knex('layers').insert({ digest: `sha256:${'1'.repeat(64)}`, size: 1 }).returning('id');
  // package id = source * 6 + binary * 3 + version + 1
  await knex.raw(
    `insert into packages (key, ecosystem, name, version, source_name, source_version, arch)
     select 'dpkg:' || s || ':' || b || ':' || v, 'dpkg', 'src' || s || case when b = 1 then '-bin' else '' end, '1.' || v || '.0-1', 'src' || s, '1.' || v || '.0-1', 'amd64'
       from generate_series(0, ?) s, generate_series(0, 1) b, generate_series(0, ?) v order by s, b, v`,
    [SOURCES - 1, VERSIONS - 1],
  );
  await knex.raw(
    `insert into manifests (digest, media_type, kind, status, distribution_id, platform_os, platform_arch, release_keys, indexed_at)
     select 'sha256:' || encode(sha256(('image-' || g)::bytea), 'hex'), 'application/vnd.oci.image.manifest.v1+json', 'image', 'done', ?, 'linux', 'amd64', '{debian:bookworm}', now()
       from generate_series(1, ?) g order by g`,
    [dist.id, IMAGES],
  );
  await knex.raw(
    `insert into repositories (registry_id, name) select ?, 'team-' || (r % ?) || '/svc-' || r from generate_series(0, ?) r order by r`,
    [registry.id, TEAMS, REPOSITORIES - 1],
  );
  await knex.raw(`insert into repository_manifests (repository_id, manifest_id) select 1 + (m.id % ?), m.id from manifests m`, [REPOSITORIES]);
  await knex.raw(`insert into tags (repository_id, name, manifest_id) select 1 + (m.id % ?), 'build-' || m.id, m.id from manifests m`, [REPOSITORIES]);
  // Base packages: both binaries of the 40 base sources, at the image's version; then 20 spread binaries.
  const base = PACKAGES_PER_IMAGE - 20;
  await knex.raw(
    `insert into manifest_packages (manifest_id, package_id, path, introduced_in, distribution_id)
     select m.id, s * 6 + b * 3 + (m.id % ?::int) + 1, 'var/lib/dpkg/status', ?::bigint, ?::bigint
       from manifests m, generate_series(0, ?::int) s, generate_series(0, 1) b
     union all
     select m.id, (?::int + ((m.id * 7919 + k * 104729) % ?::int)) * 6 + (k % 2) * 3 + ((m.id + k) % ?::int) + 1, 'var/lib/dpkg/status', ?::bigint, ?::bigint
       from manifests m, generate_series(1, ?::int) k
     on conflict do nothing`,
    [VERSIONS, layer.id, dist.id, base / 2 - 1, BASE, SOURCES - BASE, VERSIONS, layer.id, dist.id, PACKAGES_PER_IMAGE - base],
  );
  // A fleet built up over months has been vacuumed many times (hint bits set, visibility map
  // made); loaded in one go it has not, and the first scan would pay for that instead.
  await knex.raw('vacuum analyze');
  const subscription = (name: string, patterns: string[], minSeverity: Severity) => ({
    name,
    origin: 'config',
    repository_pattern: JSON.stringify(patterns),
    channel: 'webhook',
    target: JSON.stringify({ url: hookUrl }),
    secret: SECRET,
    min_severity: minSeverity,
    events: ['new-image', 'newly-affected', 'fix-available', 'resolved'],
  });
  await knex('subscriptions').insert([subscription('security-high', ['**'], 'High'), ...Array.from({ length: 10 }, (_, t) => subscription(`team-${t}`, [`team-${t}/**`], 'Low'))]);
}

async function count(knex: Knex, table: string): Promise<number> {
  const row = await knex(table).count<{ count: string }[]>('* as count').first();
  return Number(row?.count ?? 0);
}

interface Receiver {
  server: ReturnType<typeof createServer>;
  url: string;
  firstAt: number | null;
  first(timeoutMs: number): Promise<number>;
}

async function startReceiver(): Promise<Receiver> {
  let waiting: ((at: number) => void) | null = null;
  const receiver: Receiver = {
    server: createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(204).end();
        if (receiver.firstAt === null) {
          receiver.firstAt = performance.now();
          waiting?.(receiver.firstAt);
        }
      });
    }),
    url: '',
    firstAt: null,
    first(timeoutMs) {
      if (receiver.firstAt !== null) return Promise.resolve(receiver.firstAt);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no webhook arrived')), timeoutMs);
        waiting = (at) => {
          clearTimeout(timer);
          resolve(at);
        };
      });
    },
  };
  await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/hook`;
  return receiver;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

