import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobObserver } from '../jobs/pg-boss-job-queue.ts';
import type { QueueCounts } from '../jobs/job-queue.ts';
import type { DeliveryObserver } from '../notifier/delivery-observer.ts';

/** The process's Prometheus registry and the instruments the parts record into. */
export interface Metrics extends JobObserver {
  readonly registry: Registry;
  /** Records one HTTP request (route is the matched pattern, never the raw path). */
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  /** Counts webhook events by source and outcome (accepted, duplicate, ignored, unauthorized). */
  webhookEvents(source: string, outcome: string, count: number): void;
  /** Counts tags a reconciliation pass changed, by registry and outcome (ingested, removed, failed). */
  reconciledTags(registry: string, outcome: 'ingested' | 'removed' | 'failed', count: number): void;
  /** Reads queue depths when /metrics is scraped. */
  watchQueues(read: () => Promise<QueueCounts[]>): void;
  render(): Promise<string>;
  readonly contentType: string;
  /** Notification delivery: queued, delivered (with latency), failed, dead, deferred. */
  readonly deliveries: DeliveryObserver;
}

/** Creates a registry of its own (no global state), with Node process metrics when asked. */
export function createMetrics(options: { processMetrics: boolean }): Metrics {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'lookout_' });

  const requests = new Counter({
    name: 'lookout_http_requests_total',
    help: 'HTTP requests by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'lookout_http_request_duration_seconds',
    help: 'HTTP request duration by method and route.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const jobsFinished = new Counter({
    name: 'lookout_jobs_finished_total',
    help: 'Job runs by queue and outcome (completed, retry, failed).',
    labelNames: ['queue', 'outcome'] as const,
    registers: [registry],
  });
  const jobDuration = new Histogram({
    name: 'lookout_job_duration_seconds',
    help: 'Job run duration by queue.',
    labelNames: ['queue'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900],
    registers: [registry],
  });
  const webhooks = new Counter({
    name: 'lookout_webhook_events_total',
    help: 'Registry webhook events by source and outcome (accepted, duplicate, ignored, unauthorized).',
    labelNames: ['source', 'outcome'] as const,
    registers: [registry],
  });
  const reconciled = new Counter({
    name: 'lookout_reconcile_tags_total',
    help: 'Tags a registry reconciliation pass found out of step: ingested (missed pushes), removed (missed deletes), failed.',
    labelNames: ['registry', 'outcome'] as const,
    registers: [registry],
  });
  const notifications = new Counter({
    name: 'lookout_notifications_total',
    help: 'Notification deliveries by channel and outcome (queued, delivered, failed, dead, deferred).',
    labelNames: ['channel', 'outcome'] as const,
    registers: [registry],
  });
  const deliveryLatency = new Histogram({
    name: 'lookout_notification_delivery_latency_seconds',
    help: 'From the oldest outbox row of a delivery to its successful send.',
    labelNames: ['channel'] as const,
    buckets: [0.5, 1, 5, 15, 30, 60, 120, 300, 900, 3600],
    registers: [registry],
  });
  let readQueues: (() => Promise<QueueCounts[]>) | null = null;
  new Gauge({
    name: 'lookout_jobs',
    help: 'Jobs stored per queue and state (queued, active, failed).',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      if (!readQueues) return;
      this.reset();
      try {
        for (const q of await readQueues()) {
          this.set({ queue: q.queue, state: 'queued' }, q.queued);
          this.set({ queue: q.queue, state: 'active' }, q.active);
          this.set({ queue: q.queue, state: 'failed' }, q.failed);
        }
      } catch {
        // The database is down: readiness reports it; the scrape still answers.
      }
    },
  });

  return {
    registry,
    contentType: registry.contentType,
    httpRequest(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route }, seconds);
    },
    jobFinished(queue, outcome, seconds) {
      jobsFinished.inc({ queue, outcome });
      jobDuration.observe({ queue }, seconds);
    },
    webhookEvents(source, outcome, count) {
      if (count > 0) webhooks.inc({ source, outcome }, count);
    },
    reconciledTags(registryName, outcome, count) {
      if (count > 0) reconciled.inc({ registry: registryName, outcome }, count);
    },
    watchQueues(read) {
      readQueues = read;
    },
    render: () => registry.metrics(),
    deliveries: {
      queued: (channel, deliveries) => notifications.inc({ channel, outcome: 'queued' }, deliveries),
      delivered: (channel, info) => {
        notifications.inc({ channel, outcome: 'delivered' });
        deliveryLatency.observe({ channel }, info.latencySeconds);
      },
      failed: (channel) => notifications.inc({ channel, outcome: 'failed' }),
      dead: (channel) => notifications.inc({ channel, outcome: 'dead' }),
      deferred: (channel) => notifications.inc({ channel, outcome: 'deferred' }),
    },
  };
}
