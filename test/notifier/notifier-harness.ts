import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';
import { createLogger } from '../../src/log/create-logger.ts';
import type { Severity } from '../../src/ecosystems/vulnerability-record.ts';
import type { DeliveryObserver } from '../../src/notifier/delivery-observer.ts';
import type { EmailSender } from '../../src/notifier/email-sender.ts';
import { NotificationDeliverer, type DeliveryRunSummary } from '../../src/notifier/notification-deliverer.ts';
import { imageLinks, type NotificationEvent, type NotificationPayload } from '../../src/notifier/notification-payload.ts';
import { NOTIFIER_DEFAULTS, type NotifierConfig } from '../../src/notifier/notifier-config.ts';
import { WebhookSender } from '../../src/notifier/webhook-sender.ts';
import { PgNotificationStore, writeOutbox, type NotificationChannel } from '../../src/store/notification-store.ts';

export const PUBLIC_BASE = 'https://lookout.example.test/base';
export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** Notifier settings for tests: no batching window, retries 125 to 500 ms apart (so one run makes one attempt), a generous rate limit. */
export function testConfig(overrides: Partial<NotifierConfig> = {}): NotifierConfig {
  return {
    ...NOTIFIER_DEFAULTS,
    publicBaseUrl: PUBLIC_BASE,
    smtp: null,
    batching: { windowSeconds: 0, maxBatchSize: 100 },
    retry: { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 500 },
    rateLimit: { perSecond: 1000, burst: 1000 },
    concurrency: 2,
    leaseSeconds: 30,
    pollIntervalMs: 100,
    webhook: { ...NOTIFIER_DEFAULTS.webhook, timeouts: { connectMs: 1000, headersMs: 5000, totalMs: 5000 } },
    ...overrides,
  };
}

/** A deliverer on `knex` with real senders; closed when the test ends. */
export function makeDeliverer(
  t: { teardown(fn: () => Promise<void> | void): void },
  knex: Knex,
  options: { config?: NotifierConfig; email?: EmailSender | null; observer?: DeliveryObserver } = {},
): { deliverer: NotificationDeliverer; store: PgNotificationStore; webhook: WebhookSender } {
  const config = options.config ?? testConfig();
  const store = new PgNotificationStore(knex);
  const webhook = new WebhookSender({ timeouts: config.webhook.timeouts, maxErrorBodyBytes: config.webhook.maxErrorBodyBytes, userAgent: config.webhook.userAgent });
  t.teardown(() => webhook.close());
  const deliverer = new NotificationDeliverer({
    store,
    config,
    webhook,
    email: options.email ?? null,
    logger: createLogger(process.env.LOOKOUT_TEST_LOG_LEVEL ?? 'silent'),
    ...(options.observer ? { observer: options.observer } : {}),
  });
  return { deliverer, store, webhook };
}

/** Empties the notifier's tables (tests in a file share one database and run one after another). */
export async function resetNotifierTables(knex: Knex): Promise<void> {
  await knex.raw('truncate notifications, notification_deliveries, subscriptions cascade');
}

/** A fresh sha256 digest. */
export function randomDigest(): string {
  return `sha256:${createHash('sha256').update(randomBytes(16)).digest('hex')}`;
}

/** Inserts image manifests; returns their ids and digests. */
export async function addManifests(knex: Knex, count: number): Promise<{ id: number; digest: string }[]> {
  const rows = Array.from({ length: count }, () => ({ digest: randomDigest(), media_type: 'application/vnd.oci.image.manifest.v1+json', kind: 'image' }));
  const inserted = await knex('manifests').insert(rows).returning<{ id: string; digest: string }[]>(['id', 'digest']);
  return inserted.map((r) => ({ id: Number(r.id), digest: r.digest }));
}

/** Inserts a subscription; returns its id. */
export async function addSubscription(knex: Knex, s: { name?: string; channel: NotificationChannel; target: unknown; secret?: string | null }): Promise<string> {
  const [row] = await knex('subscriptions')
    .insert({
      name: s.name ?? `sub-${randomBytes(3).toString('hex')}`,
      origin: 'api',
      channel: s.channel,
      target: JSON.stringify(s.target),
      secret: s.secret ?? null,
      events: ['newly-affected', 'fix-available', 'resolved'],
    })
    .returning<{ id: string }[]>('id');
  return row!.id;
}

export interface FindingSpec {
  vulnerability?: string;
  severity?: Severity;
  event?: NotificationEvent;
  package?: string;
  installedVersion?: string;
  fixedVersion?: string | null;
  repository?: string;
  tags?: string[];
}

/** A payload as the outbox writer fills it. */
export function payloadFor(digest: string, spec: FindingSpec = {}, layer: string | null = randomDigest()): NotificationPayload {
  return {
    version: 1,
    event: spec.event ?? 'newly-affected',
    image: { registry: 'registry.example.test', repository: spec.repository ?? 'team/app', tags: spec.tags ?? ['1.0'], digest },
    finding: {
      vulnerability: spec.vulnerability ?? 'CVE-2026-1234',
      package: spec.package ?? 'openssl',
      ecosystem: 'dpkg',
      installedVersion: spec.installedVersion ?? '3.0.11-1~deb12u1',
      fixedVersion: spec.fixedVersion === undefined ? '3.0.11-1~deb12u2' : spec.fixedVersion,
      severity: spec.severity ?? 'Critical',
      layer,
      links: [`https://security-tracker.example.test/${spec.vulnerability ?? 'CVE-2026-1234'}`],
    },
    links: imageLinks(PUBLIC_BASE, digest),
    occurredAt: new Date().toISOString(),
  };
}

/** Writes one outbox row per (manifest, spec); returns the notification ids. */
export async function writeRows(knex: Knex | Knex.Transaction, subscriptionId: string, rows: { manifest: { id: number; digest: string }; spec?: FindingSpec; payload?: unknown }[]): Promise<string[]> {
  return writeOutbox(
    knex,
    rows.map(({ manifest, spec, payload }) => {
      const p = payloadFor(manifest.digest, spec);
      return {
        subscriptionId,
        manifestId: manifest.id,
        vulnName: p.finding.vulnerability,
        event: p.event,
        dedupeKey: `${subscriptionId}:${manifest.digest}:${p.finding.vulnerability}:${p.event}:${randomBytes(4).toString('hex')}`,
        payload: payload ?? p,
      };
    }),
  );
}

/** Runs the deliverer until `done` says so (or ten seconds pass); returns the summed summaries. */
export async function drain(deliverer: NotificationDeliverer, done: () => Promise<boolean>, timeoutMs = 10_000): Promise<DeliveryRunSummary> {
  const total: DeliveryRunSummary = { queued: 0, delivered: 0, failed: 0, dead: 0, deferred: 0 };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await deliverer.runOnce();
    for (const k of Object.keys(total) as (keyof DeliveryRunSummary)[]) total[k] += s[k];
    if ((await done()) || Date.now() > deadline) return total;
    await sleep(25);
  }
}

/** A delivery's row. */
export async function deliveryRow(knex: Knex, id: string): Promise<{ state: string; attempts: number; last_error: string | null; next_attempt_at: Date }> {
  return knex('notification_deliveries').where({ id }).first();
}

export async function deliveryStates(knex: Knex): Promise<string[]> {
  const rows = await knex('notification_deliveries').select('state');
  return rows.map((r: { state: string }) => r.state);
}

/** One request the receiver got. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/**
 * A webhook receiver on 127.0.0.1 that records every request and answers with `respond` (called
 * with the request number, 0 first); closed when the test ends.
 */
export async function startReceiver(
  t: { teardown(fn: () => Promise<void>): void },
  respond: (n: number, req: ReceivedRequest, res: ServerResponse) => void | Promise<void> = (_n, _req, res) => void res.writeHead(200).end('ok'),
): Promise<{ url: string; requests: ReceivedRequest[] }> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: performance.now() };
      const n = requests.length;
      requests.push(received);
      void Promise.resolve(respond(n, received, res)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/lookout?token=not-logged`, requests };
}
