import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import type { Bench, BenchContext } from './figure.ts';
import { benchDatabase } from './bench-database.ts';
import { createLogger } from '../src/log/create-logger.ts';
import { NotificationDeliverer } from '../src/notifier/notification-deliverer.ts';
import { imageLinks, type NotificationPayload } from '../src/notifier/notification-payload.ts';
import { NOTIFIER_DEFAULTS, type NotifierConfig } from '../src/notifier/notifier-config.ts';
import { WebhookSender } from '../src/notifier/webhook-sender.ts';
import { createKnex } from '../src/store/database.ts';
import { migrateLatest } from '../src/store/migrations.ts';
import { PgNotificationStore, writeOutbox } from '../src/store/notification-store.ts';
import { sha256Digest } from '../src/oci/digest.ts';

const ROWS = 1000;
const SUBSCRIPTIONS = 10;
const IMAGES = 100;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const BASE = 'https://lookout.example.test';
const logger = createLogger('silent');

/**
 * Notification delivery: 1,000 outbox rows across 10 webhook subscriptions, one local receiver.
 * Times from the commit of the rows (the deliverer woken at once, as the job queue will) to the
 * first and to the last POST received; batched (100 rows per message: 10 POSTs) and unbatched
 * (one row per message: 1,000 POSTs). Reference: a bare loop of signed POSTs of the same bodies
 * to the same receiver at the same concurrency (the cost of HTTP and signing alone).
 */
const bench: Bench = async (ctx) => {
  const db = await benchDatabase(ctx, 'notify');
  const receiver = await startReceiver();
  try {
    const knex = createKnex(db.url, { poolMax: 8 });
    try {
      await migrateLatest(knex);
      const manifests = await addManifests(knex);
      for (const [label, maxBatchSize] of [
        ['batched', 100],
        ['unbatched', 1],
      ] as const) {
        await knex.raw('truncate notifications, notification_deliveries, subscriptions cascade');
        const run = await deliveryRun(ctx, knex, receiver, manifests, maxBatchSize);
        const bare = await bareLoop(receiver, run.bodies, NOTIFIER_DEFAULTS.concurrency);
        const note = `${run.posts} POSTs, concurrency ${NOTIFIER_DEFAULTS.concurrency}, rate limit off; reference: the same signed bodies POSTed in a bare loop`;
        ctx.emit({ name: `notify.${label}_1000_rows.first_ms`, value: run.firstMs, unit: 'ms', reference: { name: 'bare signed POST loop, first response', value: bare.firstMs, unit: 'ms' }, note });
        ctx.emit({ name: `notify.${label}_1000_rows.last_ms`, value: run.lastMs, unit: 'ms', reference: { name: 'bare signed POST loop, last response', value: bare.lastMs, unit: 'ms' }, note });
      }
    } finally {
      await knex.destroy();
    }
  } finally {
    await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
    await db.drop();
  }
};
export default bench;

interface Receiver {
  server: Server;
  url: string;
  arrivals: number[];
  notifications: number;
  bodies: string[];
  onRequest: (() => void) | null;
}

async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = { server: createServer(), url: '', arrivals: [], notifications: 0, bodies: [], onRequest: null };
  receiver.server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      receiver.arrivals.push(performance.now());
      const body = Buffer.concat(chunks).toString('utf8');
      receiver.bodies.push(body);
      const parsed = JSON.parse(body) as { data?: { images?: { findings: unknown[] }[] } };
      receiver.notifications += (parsed.data?.images ?? []).reduce((n, i) => n + i.findings.length, 0);
      res.writeHead(204).end();
      receiver.onRequest?.();
    });
  });
  await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/hook`;
  return receiver;
}

async function addManifests(knex: Knex): Promise<{ id: number; digest: string }[]> {
  const rows = Array.from({ length: IMAGES }, (_, i) => ({ digest: sha256Digest(`notify-bench-${i}`), media_type: 'application/vnd.oci.image.manifest.v1+json', kind: 'image' }));
  const inserted = await knex('manifests').insert(rows).onConflict('digest').merge().returning<{ id: string; digest: string }[]>(['id', 'digest']);
  return inserted.map((r) => ({ id: Number(r.id), digest: r.digest }));
}

/** Writes the rows in one transaction, wakes a running deliverer, and times the receiver's arrivals. */
async function deliveryRun(
  ctx: BenchContext,
  knex: Knex,
  receiver: Receiver,
  manifests: { id: number; digest: string }[],
  maxBatchSize: number,
): Promise<{ firstMs: number; lastMs: number; posts: number; bodies: string[] }> {
  const subscriptions: string[] = [];
  for (let s = 0; s < SUBSCRIPTIONS; s++) {
    const [row] = await knex('subscriptions')
      .insert({ name: `bench-${s}`, origin: 'api', channel: 'webhook', target: JSON.stringify({ url: receiver.url }), secret: SECRET, events: ['newly-affected'] })
      .returning<{ id: string }[]>('id');
    subscriptions.push(row!.id);
  }
  const config: NotifierConfig = {
    ...NOTIFIER_DEFAULTS,
    publicBaseUrl: BASE,
    smtp: null,
    batching: { windowSeconds: 0, maxBatchSize },
    rateLimit: { perSecond: 1_000_000, burst: 1_000_000 },
    pollIntervalMs: 60_000,
  };
  const webhook = new WebhookSender({ timeouts: config.webhook.timeouts, maxErrorBodyBytes: 256, userAgent: config.webhook.userAgent });
  const deliverer = new NotificationDeliverer({ store: new PgNotificationStore(knex), config, webhook, email: null, logger });
  const stop = new AbortController();
  const running = deliverer.run(stop.signal);
  await new Promise((r) => setTimeout(r, 300)); // the loop has looked, found nothing, and sleeps
  receiver.arrivals = [];
  receiver.bodies = [];
  receiver.notifications = 0;
  let timer: NodeJS.Timeout | undefined;
  const all = new Promise<void>((resolve, reject) => {
    receiver.onRequest = () => {
      if (receiver.notifications >= ROWS) resolve();
    };
    timer = setTimeout(() => reject(new Error(`only ${receiver.notifications} of ${ROWS} notifications arrived in two minutes`)), 120_000);
  }).finally(() => clearTimeout(timer));

  const entries = Array.from({ length: ROWS }, (_, i) => {
    const subscriptionId = subscriptions[i % SUBSCRIPTIONS]!;
    const manifest = manifests[Math.floor(i / SUBSCRIPTIONS) % IMAGES]!;
    const vuln = `CVE-2026-${1000 + Math.floor(i / (SUBSCRIPTIONS * IMAGES))}`;
    const payload: NotificationPayload = {
      version: 1,
      event: 'newly-affected',
      image: { registry: 'registry.example.test', repository: `team/app-${manifest.id % 20}`, tags: ['latest'], digest: manifest.digest },
      finding: { vulnerability: vuln, package: 'openssl', ecosystem: 'dpkg', installedVersion: '3.0.11-1', fixedVersion: '3.0.11-2', severity: 'High', layer: sha256Digest(`layer-${manifest.id}`) },
      links: imageLinks(BASE, manifest.digest),
    };
    return { subscriptionId, manifestId: manifest.id, vulnName: vuln, event: 'newly-affected', dedupeKey: `${subscriptionId}:${manifest.digest}:${vuln}:${maxBatchSize}:${i}`, payload };
  });
  await knex.transaction(async (trx) => {
    await writeOutbox(trx, entries);
  });
  const written = performance.now();
  deliverer.wake();
  await all;
  const firstMs = round(receiver.arrivals[0]! - written);
  const lastMs = round(receiver.arrivals.at(-1)! - written);
  const posts = receiver.arrivals.length;
  const bodies = [...receiver.bodies];
  ctx.log(`maxBatchSize ${maxBatchSize}: ${posts} POSTs, first after ${firstMs} ms, last after ${lastMs} ms`);
  receiver.onRequest = null;
  stop.abort();
  deliverer.wake();
  await running;
  await webhook.close();
  return { firstMs, lastMs, posts, bodies };
}

/** The same bodies, signed and POSTed by `concurrency` bare loops, timed to the first and last response. */
async function bareLoop(receiver: Receiver, bodies: string[], concurrency: number): Promise<{ firstMs: number; lastMs: number }> {
  const sender = new WebhookSender({ timeouts: NOTIFIER_DEFAULTS.webhook.timeouts, maxErrorBodyBytes: 256, userAgent: 'bench' });
  receiver.onRequest = null;
  const started = performance.now();
  const done: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const i = next++;
        const outcome = await sender.send({ url: receiver.url, id: `bench-${i}`, secret: SECRET, body: bodies[i]! });
        if (!outcome.ok) throw new Error(`bare POST failed: ${outcome.reason}`);
        done.push(performance.now());
      }
    }),
  );
  await sender.close();
  return { firstMs: round(Math.min(...done) - started), lastMs: round(Math.max(...done) - started) };
}

/** A fresh database on the configured server, or an embedded one in the scratch directory. */
function round(n: number): number {
  return Math.round(n * 10) / 10;
}
