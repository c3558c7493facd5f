import { PgBoss, type Job, type JobResult } from 'pg-boss';
import type { Logger } from '../log/create-logger.ts';
import {
  PermanentJobError,
  type EnqueueOptions,
  type JobContext,
  type JobDefinition,
  type JobDb,
  type JobInfo,
  type JobQueue,
  type JobState,
  type QueueCounts,
} from './job-queue.ts';

/** Defaults applied to queues that do not set their own (the `jobs.*` config section). */
export interface JobDefaults {
  concurrency: number;
  pollingIntervalSeconds: number;
  retryLimit: number;
  retryDelaySeconds: number;
  retryDelayMaxSeconds: number;
  expireInSeconds: number;
  superviseIntervalSeconds: number;
  retentionDays: number;
}

/** Hooks the queue calls around each run; the metrics module implements them. */
export interface JobObserver {
  jobFinished(queue: string, outcome: 'completed' | 'failed' | 'retry', seconds: number): void;
}

export interface PgBossJobQueueOptions {
  url: string;
  defaults: JobDefaults;
  logger: Logger;
  observer?: JobObserver;
  /** Name shown in pg-boss's instance registry (`api`, `worker`, …). */
  instanceName?: string;
}

/** The job queue's schema inside the database. */
export const JOB_SCHEMA = 'pgboss';

/** {@link JobQueue} on pg-boss: jobs in the `pgboss` schema, claimed with `SKIP LOCKED`. */
export class PgBossJobQueue implements JobQueue {
  private readonly boss: PgBoss;
  private readonly definitions = new Map<string, JobDefinition<any>>();
  private readonly defaults: JobDefaults;
  private readonly logger: Logger;
  private readonly observer: JobObserver | undefined;
  private started = false;

  constructor(options: PgBossJobQueueOptions) {
    this.defaults = options.defaults;
    this.logger = options.logger;
    this.observer = options.observer;
    this.boss = new PgBoss({
      connectionString: options.url,
      schema: JOB_SCHEMA,
      application_name: 'lookout-jobs',
      max: Math.max(2, options.defaults.concurrency + 1),
      superviseIntervalSeconds: options.defaults.superviseIntervalSeconds,
      monitorIntervalSeconds: Math.max(options.defaults.superviseIntervalSeconds, 10),
      // Workers of idle queues wake on NOTIFY when a job is sent; a backlog seen in the queue cache
      // (refreshed every few seconds) makes them fetch back to back instead of once per poll.
      useListenNotify: true,
      queueCacheIntervalSeconds: Math.min(5, options.defaults.superviseIntervalSeconds),
      schedule: false,
      instanceName: options.instanceName ?? 'lookout',
      openTelemetry: { enabled: false },
    });
    this.boss.on('error', (err: Error) => this.logger.error({ err }, 'job queue error'));
    this.boss.on('warning', (warning: unknown) => this.logger.warn({ warning }, 'job queue warning'));
  }

  /** Installs or upgrades the queue's schema without starting anything (used by `lookout migrate`). */
  static async install(url: string, logger: Logger): Promise<void> {
    const boss = new PgBoss({
      connectionString: url,
      schema: JOB_SCHEMA,
      supervise: false,
      schedule: false,
      registerInstance: false,
      max: 2,
      openTelemetry: { enabled: false },
    });
    boss.on('error', (err: Error) => logger.error({ err }, 'job queue error'));
    await boss.start();
    await boss.stop({ graceful: false, close: true });
  }

  define<T>(definition: JobDefinition<T>): void {
    if (this.started) throw new Error(`queue ${definition.queue} defined after start`);
    if (!/^[a-z][a-z0-9-]*$/.test(definition.queue)) throw new Error(`invalid queue name ${definition.queue}`);
    this.definitions.set(definition.queue, definition);
  }

  async start(options: { work: boolean | ((queue: string) => boolean) }): Promise<void> {
    await this.boss.start();
    this.started = true;
    for (const def of this.definitions.values()) {
      const queueOptions = {
        retryLimit: def.retryLimit ?? this.defaults.retryLimit,
        retryDelay: def.retryDelaySeconds ?? this.defaults.retryDelaySeconds,
        retryBackoff: true,
        retryDelayMax: def.retryDelayMaxSeconds ?? this.defaults.retryDelayMaxSeconds,
        expireInSeconds: def.expireInSeconds ?? this.defaults.expireInSeconds,
        deleteAfterSeconds: this.defaults.retentionDays * 86_400,
      };
      await this.boss.createQueue(def.queue, { policy: def.dedupe ? 'stately' : 'standard', notify: true, ...queueOptions });
      await this.boss.updateQueue(def.queue, queueOptions);
    }
    const works = typeof options.work === 'function' ? options.work : () => options.work === true;
    for (const def of this.definitions.values()) {
      if (!works(def.queue)) continue;
      await this.boss.work<object>(
        def.queue,
        {
          batchSize: 1,
          localConcurrency: def.concurrency ?? this.defaults.concurrency,
          pollingIntervalSeconds: this.defaults.pollingIntervalSeconds,
          // Retries and delayed jobs are not announced by NOTIFY: keep polling at the normal pace.
          notifyPollingIntervalSeconds: this.defaults.pollingIntervalSeconds,
          burstWhenReadyExceeds: 1,
          perJobResults: true,
        },
        async (jobs: Job<object>[]) => Promise.all(jobs.map((job) => this.run(def, job))),
      );
    }
  }

  private async run(def: JobDefinition<unknown>, job: Job<object>): Promise<JobResult> {
    const started = performance.now();
    const context: JobContext<unknown> = {
      id: job.id,
      queue: def.queue,
      data: job.data,
      attempt: job.retryCount,
      signal: job.signal,
    };
    const log = this.logger.child({ queue: def.queue, job: job.id, attempt: job.retryCount });
    log.debug('job run start');
    try {
      await def.handle(context);
      const seconds = (performance.now() - started) / 1000;
      log.info({ seconds }, 'job run done');
      this.observer?.jobFinished(def.queue, 'completed', seconds);
      return { id: job.id, status: 'completed' };
    } catch (err) {
      const seconds = (performance.now() - started) / 1000;
      const permanent = err instanceof PermanentJobError;
      const message = err instanceof Error ? err.message : String(err);
      log.warn({ err, permanent, seconds }, 'job run failed');
      const retryLimit = def.retryLimit ?? this.defaults.retryLimit;
      const willRetry = !permanent && job.retryCount < retryLimit;
      this.observer?.jobFinished(def.queue, willRetry ? 'retry' : 'failed', seconds);
      return {
        id: job.id,
        status: permanent ? 'deadletter' : 'failed',
        output: { message, permanent, name: err instanceof Error ? err.name : 'Error' },
      };
    }
  }

  async enqueue<T extends object>(queue: string, data: T, options: EnqueueOptions = {}): Promise<string | null> {
    if (!this.definitions.has(queue)) throw new Error(`unknown queue ${queue}`);
    return this.boss.send(queue, data, {
      ...(options.key !== undefined ? { singletonKey: options.key } : {}),
      ...(options.delaySeconds !== undefined ? { startAfter: options.delaySeconds } : {}),
      ...(options.db !== undefined ? { db: options.db } : {}),
    });
  }

  async enqueueMany<T extends object>(queue: string, jobs: readonly { data: T; key?: string; delaySeconds?: number }[], options: { db?: JobDb } = {}): Promise<void> {
    if (!this.definitions.has(queue)) throw new Error(`unknown queue ${queue}`);
    if (jobs.length === 0) return;
    await this.boss.insert(
      queue,
      jobs.map((j) => ({
        data: j.data,
        ...(j.key !== undefined ? { singletonKey: j.key } : {}),
        ...(j.delaySeconds !== undefined ? { startAfter: j.delaySeconds } : {}),
      })),
      options.db ? { db: options.db } : {},
    );
  }

  async get<T = unknown>(queue: string, id: string): Promise<JobInfo<T> | null> {
    const job = await this.boss.getJobById<T>(queue, id);
    if (!job) return null;
    const output = job.output as { message?: unknown } | null | undefined;
    const failedish = job.state === 'failed' || job.state === 'retry';
    return {
      id: job.id,
      queue,
      state: job.state as JobState,
      data: job.data,
      retryCount: job.retryCount,
      retryLimit: job.retryLimit,
      lastError: failedish && typeof output?.message === 'string' ? output.message : null,
      createdAt: job.createdOn,
      startedAt: job.startedOn ?? null,
      completedAt: job.completedOn ?? null,
    };
  }

  async counts(): Promise<QueueCounts[]> {
    const names = [...this.definitions.keys()];
    if (names.length === 0) return [];
    const queues = await this.boss.getQueues(names);
    return queues.map((q) => ({
      queue: q.name,
      queued: q.queuedCount,
      active: q.activeCount,
      failed: q.failedCount,
      total: q.totalCount,
    }));
  }

  async stop(timeoutMs: number): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.boss.stop({ graceful: true, close: true, timeout: timeoutMs });
  }
}
