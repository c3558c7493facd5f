import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../log/create-logger.ts';
import type { ClaimedDelivery, NotificationChannel, NotificationStore, PruneSummary } from '../store/notification-store.ts';
import { buildDeliveryContent, type ContentInput, type DeliveryContent } from './delivery-content.ts';
import { NOOP_DELIVERY_OBSERVER, type DeliveryObserver } from './delivery-observer.ts';
import { retryable, type DeliveryOutcome } from './delivery-outcome.ts';
import type { EmailSender } from './email-sender.ts';
import { parseNotificationPayload } from './notification-payload.ts';
import { NOTIFIER_DEFAULTS, type NotifierConfig } from './notifier-config.ts';
import { renderEmail } from './render-email.ts';
import { retryDelay } from './retry-delay.ts';
import { parseSubscriptionTarget, type SubscriptionTarget } from './subscription-target.ts';
import { TokenBucketLimiter } from './token-bucket-limiter.ts';
import { clairCallbackBody, webhookBody } from './webhook-body.ts';
import { WebhookSender } from './webhook-sender.ts';

/** What the deliverer is built from (constructor injection; nothing global). */
export interface NotificationDelivererOptions {
  store: NotificationStore;
  /** Without `retentionMs`, ended deliveries are kept for {@link NOTIFIER_DEFAULTS}' period. */
  config: Pick<NotifierConfig, 'publicBaseUrl' | 'batching' | 'retry' | 'rateLimit' | 'concurrency' | 'leaseSeconds' | 'pollIntervalMs'> & Partial<Pick<NotifierConfig, 'retentionMs'>>;
  webhook: WebhookSender;
  /** Null when no SMTP server is configured: email deliveries fail (retryably) until one is. */
  email: EmailSender | null;
  logger: Logger;
  observer?: DeliveryObserver;
  /** For the backoff jitter; default `Math.random`. */
  random?: () => number;
}

/** What one {@link NotificationDeliverer.runOnce} did. */
export interface DeliveryRunSummary {
  /** Deliveries made from outbox rows. */
  queued: number;
  delivered: number;
  /** Failed attempts that will be retried. */
  failed: number;
  dead: number;
  /** Handed back unsent (rate limit). */
  deferred: number;
}

/** Attempts one run makes at most, so a steady stream cannot keep `runOnce` from returning. */
const MAX_ATTEMPTS_PER_RUN = 1000;
/** Longest wait for a rate-limit token before the delivery is handed back instead. */
const MAX_TOKEN_WAIT_MS = 1000;
/** How often the running loop deletes what the retention period has passed. */
const PRUNE_INTERVAL_MS = 3_600_000;

/**
 * Turns outbox rows into messages on the wire. Each run batches waiting rows into deliveries, then
 * `concurrency` workers claim due deliveries one at a time and send them: email (one message per
 * delivery), a signed webhook with the full payload, or a Clair-style callback. Success is
 * recorded; a retryable failure is retried with exponential backoff and jitter (at least the
 * receiver's `Retry-After`) until `retry.maxAttempts`, then the delivery is dead, as is one whose
 * failure is final. A token bucket per destination paces sends; a delivery over the limit is handed
 * back without using an attempt. Several deliverers may share a database (the store's claims are
 * exclusive); a delivery whose deliverer died is taken over after its lease and sent again with the
 * same id. Logs carry ids, channel, destination origin and reasons, never secrets or full URLs.
 */
export class NotificationDeliverer {
  private readonly store: NotificationStore;
  private readonly config: NotificationDelivererOptions['config'];
  private readonly webhook: WebhookSender;
  private readonly email: EmailSender | null;
  private readonly logger: Logger;
  private readonly observer: DeliveryObserver;
  private readonly random: () => number;
  private readonly limiter: TokenBucketLimiter;
  private readonly maxBatchedPerPass: number;
  /** The last pass batched as many deliveries as one pass takes: more rows may wait. */
  private backlog = false;
  private wakeUp: (() => void) | null = null;
  private woken = false;

  constructor(options: NotificationDelivererOptions) {
    const { config } = options;
    if (!Number.isInteger(config.concurrency) || config.concurrency < 1) throw new RangeError('notifier concurrency must be a whole number >= 1');
    if (!Number.isInteger(config.retry.maxAttempts) || config.retry.maxAttempts < 1) throw new RangeError('notifier retry.maxAttempts must be a whole number >= 1');
    if (!(config.leaseSeconds > 0)) throw new RangeError('notifier leaseSeconds must be positive');
    this.store = options.store;
    this.config = config;
    this.webhook = options.webhook;
    this.email = options.email;
    this.logger = options.logger;
    this.observer = options.observer ?? NOOP_DELIVERY_OBSERVER;
    this.random = options.random ?? Math.random;
    this.limiter = new TokenBucketLimiter(config.rateLimit);
    this.maxBatchedPerPass = Math.max(16, config.concurrency * 8);
  }

  /**
   * One pass: batch waiting outbox rows, then send every delivery due now (up to 1,000 attempts),
   * `concurrency` at a time. Stops claiming when `signal` aborts; sends in flight finish.
   */
  async runOnce(signal?: AbortSignal): Promise<DeliveryRunSummary> {
    const summary: DeliveryRunSummary = { queued: 0, delivered: 0, failed: 0, dead: 0, deferred: 0 };
    // A bounded number of deliveries per pass, so sending starts at once however many rows wait.
    const created = await this.store.batchPending({ windowSeconds: this.config.batching.windowSeconds, maxBatchSize: this.config.batching.maxBatchSize, maxDeliveries: this.maxBatchedPerPass });
    this.backlog = created.length >= this.maxBatchedPerPass;
    if (created.length > 0) {
      const perChannel = new Map<NotificationChannel, { deliveries: number; notifications: number }>();
      for (const d of created) {
        const entry = perChannel.get(d.channel) ?? { deliveries: 0, notifications: 0 };
        entry.deliveries += 1;
        entry.notifications += d.notificationCount;
        perChannel.set(d.channel, entry);
      }
      for (const [channel, n] of perChannel) this.observer.queued(channel, n.deliveries, n.notifications);
      summary.queued = created.length;
      this.logger.debug({ deliveries: created.length }, 'notifier batch created');
    }
    let budget = MAX_ATTEMPTS_PER_RUN;
    const worker = async (): Promise<void> => {
      while (budget > 0 && !signal?.aborted) {
        const [claim] = await this.store.claimDue(1, this.config.leaseSeconds);
        if (claim === undefined) return;
        budget -= 1;
        try {
          summary[await this.deliver(claim)] += 1;
        } catch (err) {
          // the store failed mid-way: the lease runs out and the delivery is tried again
          this.logger.error({ deliveryId: claim.id, err }, 'notifier delivery error');
        }
      }
    };
    await Promise.all(Array.from({ length: this.config.concurrency }, worker));
    return summary;
  }

  /** Deletes ended deliveries (and their outbox rows) older than the retention period. */
  async prune(now: Date = new Date()): Promise<PruneSummary> {
    const before = new Date(now.getTime() - (this.config.retentionMs ?? NOTIFIER_DEFAULTS.retentionMs));
    const pruned = await this.store.prune(before);
    if (pruned.deliveries + pruned.notifications + pruned.findings > 0) this.logger.info({ ...pruned, before }, 'notifier outbox pruned');
    return pruned;
  }

  /**
   * Runs until `signal` aborts: a pass, then a pause until the next delivery is due, the poll
   * interval passes or {@link wake} is called; hourly, what the retention period has passed is
   * deleted. Resolves once the last pass has finished.
   */
  async run(signal: AbortSignal): Promise<void> {
    this.logger.info({ concurrency: this.config.concurrency }, 'notifier start');
    let pruneAt = 0;
    while (!signal.aborted) {
      let waitMs = this.config.pollIntervalMs;
      try {
        this.woken = false;
        const summary = await this.runOnce(signal);
        // after the pass, so a large backlog to delete never holds up sending
        if (Date.now() >= pruneAt) {
          pruneAt = Date.now() + PRUNE_INTERVAL_MS;
          await this.prune();
        }
        const busy = summary.delivered + summary.failed + summary.dead + summary.deferred >= MAX_ATTEMPTS_PER_RUN || this.backlog;
        const due = await this.store.nextDueAt();
        if (busy) waitMs = 0;
        else if (due !== null) waitMs = Math.min(waitMs, Math.max(0, due.getTime() - Date.now()));
      } catch (err) {
        this.logger.error({ err }, 'notifier run failed');
      }
      if (!this.woken && waitMs > 0) await this.pause(waitMs, signal);
    }
    this.logger.info({}, 'notifier stop');
  }

  /** Cuts the current pause short (new outbox rows were written, a job arrived). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private async pause(ms: number, signal: AbortSignal): Promise<void> {
    const controller = new AbortController();
    this.wakeUp = () => controller.abort();
    try {
      await delay(ms, undefined, { signal: AbortSignal.any([signal, controller.signal]) });
    } catch {
      // woken or stopped
    } finally {
      this.wakeUp = null;
    }
  }

  /** Sends one claimed delivery and records how it went. */
  private async deliver(claim: ClaimedDelivery): Promise<'delivered' | 'failed' | 'dead' | 'deferred'> {
    const channel = claim.subscription.channel;
    const fields = { deliveryId: claim.id, subscriptionId: claim.subscription.id, channel, attempt: claim.attempt };
    const { maxAttempts } = this.config.retry;
    if (claim.attempt > maxAttempts) return this.bury(claim, fields, 'the last attempt did not finish (its lease ran out)');
    if (claim.subscription.deletedAt !== null) return this.bury(claim, fields, 'the subscription was deleted');
    const target = parseSubscriptionTarget(channel, claim.subscription.target);
    if (!target.ok) return this.bury(claim, fields, target.reason);

    if (claim.notifications.length === 0) return this.bury(claim, fields, 'its notifications are gone (their images were deleted)');
    const rows: ContentInput[] = [];
    for (const n of claim.notifications) {
      const parsed = parseNotificationPayload(n.payload);
      if (parsed.ok) rows.push({ notificationId: n.id, payload: parsed.payload });
      else this.logger.warn({ ...fields, notificationId: n.id, reason: parsed.reason }, 'notifier payload invalid');
    }
    if (rows.length === 0) return this.bury(claim, fields, 'no notification in it has a valid payload');
    const content = buildDeliveryContent(rows);

    const destination = this.destination(target.target);
    const wait = await this.takeToken(destination);
    if (wait > 0) {
      await this.store.defer(claim, wait);
      this.observer.deferred?.(channel);
      this.logger.debug({ ...fields, destination, waitMs: wait }, 'notifier delivery deferred');
      return 'deferred';
    }

    const started = performance.now();
    const outcome = await this.send(claim, target.target, content);
    const attemptSeconds = (performance.now() - started) / 1000;
    if (outcome.ok) {
      await this.store.recordSuccess(claim);
      const oldest = claim.notifications[0]?.createdAt ?? claim.createdAt;
      const latencySeconds = Math.max(0, (Date.now() - oldest.getTime()) / 1000);
      this.observer.delivered(channel, { latencySeconds, attemptSeconds, attempts: claim.attempt });
      this.logger.info({ ...fields, destination, notifications: rows.length, status: outcome.status, detail: outcome.detail, latencySeconds }, 'notifier delivery sent');
      return 'delivered';
    }
    if (outcome.status === 429 && outcome.retryAfterMs !== null) this.limiter.block(destination, outcome.retryAfterMs);
    if (!outcome.retry || claim.attempt >= maxAttempts) {
      const why = outcome.retry ? `${outcome.reason} (after ${claim.attempt} attempts)` : outcome.reason;
      return this.bury(claim, { ...fields, destination, status: outcome.status }, why);
    }
    const retryInMs = retryDelay(claim.attempt, this.config.retry, outcome.retryAfterMs, this.random);
    await this.store.recordFailure(claim, { error: outcome.reason, retryInMs });
    this.observer.failed(channel, { attemptSeconds, status: outcome.status });
    this.logger.warn({ ...fields, destination, status: outcome.status, reason: outcome.reason, retryInMs }, 'notifier delivery failed');
    return 'failed';
  }

  private async send(claim: ClaimedDelivery, target: SubscriptionTarget, content: DeliveryContent): Promise<DeliveryOutcome> {
    switch (target.channel) {
      case 'webhook':
        return this.webhook.send({ url: target.url, id: claim.id, secret: claim.subscription.secret, body: JSON.stringify(webhookBody(content, { id: claim.id, createdAt: claim.createdAt, subscription: claim.subscription })) });
      case 'clair':
        return this.webhook.send({ url: target.url, id: claim.id, secret: claim.subscription.secret, body: JSON.stringify(clairCallbackBody(claim.id, this.config.publicBaseUrl)) });
      case 'email': {
        if (this.email === null) return retryable('email is not configured (no SMTP server)');
        const rendered = renderEmail(content, { deliveryId: claim.id, subscriptionName: claim.subscription.name });
        return this.email.send({ id: claim.id, to: target.recipients, ...rendered });
      }
    }
  }

  private destination(target: SubscriptionTarget): string {
    if (target.channel === 'email') return this.email?.destination() ?? 'smtp';
    return WebhookSender.destination(target.url) ?? 'invalid-url';
  }

  /** 0 once a token is taken (waiting up to a second for one), else the ms until one will be there. */
  private async takeToken(destination: string): Promise<number> {
    for (;;) {
      const wait = this.limiter.tryTake(destination);
      if (wait === 0 || wait > MAX_TOKEN_WAIT_MS) return wait;
      await delay(wait);
    }
  }

  private async bury(claim: ClaimedDelivery, fields: Record<string, unknown>, reason: string): Promise<'dead'> {
    const state = await this.store.recordFailure(claim, { error: reason, retryInMs: null });
    if (state === 'dead') {
      this.observer.dead(claim.subscription.channel);
      this.logger.warn({ ...fields, reason }, 'notifier delivery dead');
    }
    return 'dead';
  }
}
