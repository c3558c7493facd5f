import type { JobQueue } from '../jobs/job-queue.ts';
import type { Logger } from '../log/create-logger.ts';
import type { WebhookEventStore } from '../store/webhook-event-store.ts';
import { REGISTRY_EVENT_QUEUE, type RegistryEventJob } from './intake-service.ts';

export interface IntakeDispatcherOptions {
  store: WebhookEventStore;
  queue: JobQueue;
  logger: Logger;
  /** How often received events are looked for when nothing wakes the dispatcher. */
  intervalMs?: number;
  /** Events moved per transaction. */
  batch?: number;
}

/**
 * Moves received webhook events into the job queue, in batches: each batch is claimed with
 * `SKIP LOCKED` and its jobs written in the same transaction, so any number of worker processes
 * can run one and every event gets exactly one job. The webhook itself only inserts the event
 * (one statement, durable before the 202), which keeps intake fast.
 */
export class IntakeDispatcher {
  private readonly options: Required<IntakeDispatcherOptions>;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;

  constructor(options: IntakeDispatcherOptions) {
    this.options = { intervalMs: 250, batch: 500, ...options };
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.options.intervalMs);
    this.timer.unref();
    this.wake();
  }

  /** Runs a pass soon (after the current one, if one is running). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Moves every received event; resolves to how many. */
  async dispatchOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const moved = await this.options.store.claimReceived(this.options.batch, async (claimed, db) => {
        await this.options.queue.enqueueMany<RegistryEventJob>(
          REGISTRY_EVENT_QUEUE,
          claimed.map((e) => ({ data: { eventRowId: e.id } })),
          { db },
        );
      });
      total += moved;
      if (moved < this.options.batch) return total;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private async pass(): Promise<void> {
    try {
      const moved = await this.dispatchOnce();
      if (moved > 0) this.options.logger.debug({ moved }, 'intake events dispatched');
    } catch (err) {
      this.options.logger.warn({ err }, 'intake dispatch failed');
    }
  }
}
