import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { Config } from '../config/config-schema.ts';
import { createApp } from '../http/create-app.ts';
import { healthRoutes } from '../http/routes/health-routes.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import { PgBossJobQueue } from '../jobs/pg-boss-job-queue.ts';
import type { Logger } from '../log/create-logger.ts';
import { createMetrics, type Metrics } from '../metrics/metrics.ts';
import { openDatabase, type Database } from '../store/database.ts';
import { migrateLatest, migrationNames } from '../store/migrations.ts';
import { PgSystemStore } from '../store/system-store.ts';
import { Readiness } from './readiness.ts';

/** A built Lookout process: every part wired, nothing started yet. */
export interface Lookout {
  readonly config: Config;
  readonly logger: Logger;
  readonly database: Database;
  readonly queue: JobQueue;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  readonly app: Koa;
  /** Starts the job queue (workers when the role says so) and the HTTP server; resolves to its address. */
  start(): Promise<AddressInfo>;
  /**
   * Graceful stop: not ready, stop accepting connections, let in-flight requests and jobs finish
   * within `server.shutdownTimeoutSeconds` (then release them), close the database.
   */
  stop(): Promise<void>;
}

export interface BuildOptions {
  logger: Logger;
  /** Apply pending migrations (and the job schema) before anything else. */
  migrate: boolean;
}

/**
 * The composition root: the only place that builds config-dependent objects and hands them to one
 * another (constructor injection, no globals). Every entry point (serve, CLI commands, tests) goes
 * through it.
 */
export async function buildLookout(config: Config, options: BuildOptions): Promise<Lookout> {
  const { logger } = options;
  const metrics = createMetrics({ processMetrics: config.metrics.processMetrics });
  const database = await openDatabase(config, logger);
  try {
    if (options.migrate) {
      const applied = await migrateLatest(database.knex);
      await PgBossJobQueue.install(database.url, logger);
      logger.info({ applied }, 'database migrated');
    }
  } catch (err) {
    await database.close();
    throw err;
  }

  const queue = new PgBossJobQueue({
    url: database.url,
    defaults: config.jobs,
    logger,
    observer: metrics,
    instanceName: config.roles.join(','),
  });
  metrics.watchQueues(() => queue.counts());

  const readiness = new Readiness(new PgSystemStore(database.knex), migrationNames());
  const app = createApp({
    logger,
    metrics,
    bodyLimitBytes: config.server.bodyLimitBytes,
    trustProxy: config.server.trustProxy,
    routers: [healthRoutes({ readiness, metrics: config.metrics.enabled ? metrics : null })],
  });

  let server: Server | null = null;
  let stopping: Promise<void> | null = null;

  return {
    config,
    logger,
    database,
    queue,
    metrics,
    readiness,
    app,
    async start() {
      await queue.start({ work: config.roles.includes('worker') });
      server = createServer({ requestTimeout: config.server.requestTimeoutSeconds * 1000 }, app.callback());
      server.keepAliveTimeout = 5_000;
      const listening = server;
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(config.server.port, config.server.host, () => {
          listening.off('error', reject);
          resolve();
        });
      });
      const address = listening.address() as AddressInfo;
      logger.info({ host: address.address, port: address.port, roles: config.roles }, 'server listening');
      return address;
    },
    stop() {
      stopping ??= (async () => {
        const timeoutMs = config.server.shutdownTimeoutSeconds * 1000;
        readiness.markShuttingDown();
        logger.info({ timeoutMs }, 'server stopping');
        const closed = server ? closeServer(server, timeoutMs) : Promise.resolve();
        await Promise.all([closed, queue.stop(timeoutMs)]);
        await database.close();
        logger.info('server stopped');
      })();
      return stopping;
    },
  };
}

async function closeServer(server: Server, timeoutMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
  await closed;
  clearTimeout(timer);
}
