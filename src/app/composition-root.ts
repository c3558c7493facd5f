import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { Config, Role } from '../config/config-schema.ts';
import { createApp } from '../http/create-app.ts';
import { healthRoutes } from '../http/routes/health-routes.ts';
import { webhookRoutes } from '../http/routes/webhook-routes.ts';
import { apiRoutes } from '../http/routes/api-routes.ts';
import { subscriptionRoutes } from '../http/routes/subscription-routes.ts';
import { SubscriptionService } from '../api/subscription-service.ts';
import { createAuth } from '../http/auth/create-auth.ts';
import type { AuthHandle } from '../http/auth/auth-handle.ts';
import { ImageStatusService } from '../api/image-status-service.ts';
import { createCompat, type Compat } from '../compat/create-compat.ts';
import { clairRoutes } from '../http/routes/clair-routes.ts';
import { harborRoutes } from '../http/routes/harbor-routes.ts';
import { LOOKOUT_VERSION } from './version.ts';
import { ScanRequestService } from '../api/scan-request-service.ts';
import { allFeeds, allScanners } from '../ecosystems/index.ts';
import { FeedRunner } from '../feeds/feed-runner.ts';
import { FEED_UPDATE_QUEUE, FeedService } from '../feeds/feed-service.ts';
import { PgVulnerabilityStore, type VulnerabilityStore } from '../store/vulnerability-store.ts';
import { INDEX_MANIFEST_QUEUE, IndexManifestHandler, type IndexManifestJob } from '../indexer/index-manifest-job.ts';
import { ManifestIndexer } from '../indexer/manifest-indexer.ts';
import { ReportService } from '../matcher/report-service.ts';
import { ChangeNotifier } from '../notifier/change-notifier.ts';
import { EmailSender } from '../notifier/email-sender.ts';
import { NotificationDeliverer } from '../notifier/notification-deliverer.ts';
import { WebhookSender } from '../notifier/webhook-sender.ts';
import { PgNotificationStore } from '../store/notification-store.ts';
import { PgSubscriptionStore } from '../store/subscription-store.ts';
import { configSubscriptions, toNotifierConfig } from './notifier-config.ts';
import { IntakeService, REGISTRY_EVENT_QUEUE, type RegistryEventJob } from '../intake/intake-service.ts';
import { IntakeDispatcher } from '../intake/intake-dispatcher.ts';
import { RegistryEventProcessor } from '../intake/registry-event-processor.ts';
import { RECONCILE_QUEUE, RegistryReconciler } from '../intake/registry-reconciler.ts';
import { RegistrySet } from '../registry/registry-set.ts';
import { PgImageStore, type ImageStore } from '../store/image-store.ts';
import { PgLayerStore } from '../store/layer-store.ts';
import { PgRegistryStore } from '../store/registry-store.ts';
import { PgWebhookEventStore } from '../store/webhook-event-store.ts';
import { toRegistryConfigs } from './registry-configs.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import { PgBossJobQueue } from '../jobs/pg-boss-job-queue.ts';
import type { Logger } from '../log/create-logger.ts';
import { createMetrics, type Metrics } from '../metrics/metrics.ts';
import { openDatabase, type Database } from '../store/database.ts';
import { migrateLatest, migrationNames } from '../store/migrations.ts';
import { PgSystemStore } from '../store/system-store.ts';
import { PgStatusChangeListener } from '../store/status-change-listener.ts';
import { Readiness } from './readiness.ts';
import { CUSTOM_UPDATER } from '../advisories/advisory-document.ts';
import { AdvisoryService } from '../advisories/advisory-service.ts';
import { PgAdvisoryStore } from '../advisories/advisory-store.ts';
import { PgDecisionSource } from '../decisions/pg-decision-source.ts';
import { withDecisions } from '../decisions/with-decisions.ts';
import { EXCEPTION_EXPIRY_QUEUE, ExceptionExpirySchedule } from '../exceptions/exception-expiry-schedule.ts';
import { ExceptionService } from '../exceptions/exception-service.ts';
import { PgExceptionStore } from '../exceptions/exception-store.ts';
import { advisoryRoutes } from '../http/routes/advisory-routes.ts';
import { exceptionRoutes } from '../http/routes/exception-routes.ts';
import { vexRoutes } from '../http/routes/vex-routes.ts';
import { VexService } from '../vex/vex-service.ts';
import { PgVexStore } from '../vex/vex-store.ts';

/** A built Lookout process: every part wired, nothing started yet. */
export interface Lookout {
  readonly config: Config;
  readonly logger: Logger;
  readonly database: Database;
  readonly queue: JobQueue;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  readonly app: Koa;
  readonly registries: RegistrySet;
  readonly images: ImageStore;
  readonly indexer: ManifestIndexer;
  readonly feeds: FeedService;
  readonly reports: ReportService;
  readonly vulnerabilities: VulnerabilityStore;
  /** The operator's own advisories (applied as the `custom` feed). */
  readonly advisories: AdvisoryService;
  /** Imported VEX documents. */
  readonly vex: VexService;
  /** Findings accepted until a date. */
  readonly exceptions: ExceptionService;
  /** Catalog walks that catch pushes and deletes a registry never announced. */
  readonly reconciler: RegistryReconciler;
  /** Writes what the config defines into the database (registries, subscriptions); `start` does it first. */
  syncConfig(): Promise<void>;
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
    return await assemble(config, options, database, metrics);
  } catch (err) {
    await database.close();
    throw err;
  }
}

/** Everything after the database is open; the caller closes the database if this throws. */
async function assemble(config: Config, options: BuildOptions, database: Database, metrics: Metrics): Promise<Lookout> {
  const { logger } = options;
  if (options.migrate) {
    const applied = await migrateLatest(database.knex);
    await PgBossJobQueue.install(database.url, logger);
    logger.info({ applied }, 'database migrated');
  }

  const queue = new PgBossJobQueue({
    url: database.url,
    defaults: config.jobs,
    logger,
    observer: metrics,
    instanceName: config.roles.join(','),
  });
  metrics.watchQueues(() => queue.counts());

  // Registries: rows for the configured ones, a client each (the allow-list of what is fetched).
  // Filled by start() (the database may not be reachable yet while the process is being built:
  // /healthz answers and /readyz says why until it is).
  const registryIds = new Map<string, number>();
  const registries = new RegistrySet(toRegistryConfigs(config), { logger });
  const images = new PgImageStore(database.knex);
  const layers = new PgLayerStore(database.knex);
  const webhookEvents = new PgWebhookEventStore(database.knex);

  const indexer = new ManifestIndexer({
    layerStore: layers,
    scanners: allScanners(),
    databaseUrl: database.url,
    logger,
    layerConcurrency: config.indexer.layerConcurrency,
    limits: {
      compressedBytes: config.indexer.maxCompressedBytes,
      decompressedBytes: config.indexer.maxUncompressedBytes,
      entries: config.indexer.maxEntries,
      fileBytes: config.indexer.maxFileBytes,
      keptBytes: config.indexer.maxKeptBytes,
    },
  });
  const dispatcher = new IntakeDispatcher({ store: webhookEvents, queue, logger });
  const runsWorkers = config.roles.includes('worker');
  const intake = new IntakeService({
    registries: config.registries,
    registryIds,
    store: webhookEvents,
    metrics,
    logger,
    ...(runsWorkers ? { onStored: () => dispatcher.wake() } : {}),
  });
  const eventProcessor = new RegistryEventProcessor({
    events: webhookEvents,
    images,
    registries,
    registryIds,
    platforms: new Map(config.registries.map((r) => [r.name, r.platforms])),
    queue,
    debounceSeconds: config.intake.debounceSeconds,
    logger,
  });
  const reconciler = new RegistryReconciler({
    registries,
    registryIds,
    images,
    processor: eventProcessor,
    intervalMinutes: config.intake.reconcileIntervalMinutes,
    logger,
    onSummary: (name, summary) => {
      metrics.reconciledTags(name, 'ingested', summary.ingested);
      metrics.reconciledTags(name, 'removed', summary.removed);
      metrics.reconciledTags(name, 'failed', summary.failed);
    },
  });
  reconciler.defineSchedule(queue);
  // Operator decisions (VEX, exceptions) apply to every report; operator advisories win ties with feeds.
  const decisions = new PgDecisionSource(database.knex);
  const reports = new ReportService({ knex: database.knex, decisions, options: { updaterPriority: [CUSTOM_UPDATER] } });
  const subscriptions = new PgSubscriptionStore(database.knex);

  const changeNotifier = new ChangeNotifier({ publicBaseUrl: config.notifier.publicBaseUrl, currentImageDays: config.notifier.currentImageDays, logger });
  // A data change's outbox rows, less those of findings an operator decision suppresses; the
  // reports it dropped marked stale, so status validators move on.
  const onApplied = withDecisions((trx, run) => changeNotifier.onRunApplied(trx, run), decisions);
  const notifierConfig = toNotifierConfig(config);
  const notifications = new PgNotificationStore(database.knex);
  const webhookSender = new WebhookSender({ ...notifierConfig.webhook });
  const emailSender = notifierConfig.smtp ? new EmailSender(notifierConfig.smtp) : null;
  const deliverer: NotificationDeliverer | null = config.roles.includes('notifier')
    ? new NotificationDeliverer({ store: notifications, config: notifierConfig, webhook: webhookSender, email: emailSender, logger, observer: metrics.deliveries })
    : null;
  const stopDelivering = new AbortController();
  let delivering: Promise<void> | null = null;
  const indexHandler = new IndexManifestHandler({
    registries,
    images,
    indexer,
    logger,
    retryLimit: config.jobs.retryLimit,
    afterIndex: async (manifestId) => {
      const { report } = await reports.refresh(manifestId);
      await images.setStatus(manifestId, 'done');
      if ((await changeNotifier.onFirstReport(database.knex, manifestId, report)) > 0) deliverer?.wake();
    },
  });
  queue.define<RegistryEventJob>({ queue: REGISTRY_EVENT_QUEUE, handle: (job) => eventProcessor.handle(job) });
  queue.define<IndexManifestJob>({ queue: INDEX_MANIFEST_QUEUE, dedupe: true, handle: (job) => indexHandler.handle(job) });

  const vulnerabilities = new PgVulnerabilityStore(database.knex);
  const feeds = new FeedService({
    config,
    definitions: allFeeds(),
    runner: new FeedRunner({
      store: vulnerabilities,
      databaseUrl: database.url,
      logger,
      onApplied,
    }),
    store: vulnerabilities,
    logger,
  });
  feeds.whenChanged(async (outcome) => {
    if (outcome.counts.notifications > 0) deliverer?.wake();
  });
  feeds.defineSchedule(queue);

  const advisories = new AdvisoryService({
    store: new PgAdvisoryStore(database.knex),
    vulnerabilities,
    onApplied,
    databaseUrl: database.url,
    logger,
    maxAdvisories: config.advisories.maxAdvisories,
    onNotified: () => deliverer?.wake(),
  });
  const vex = new VexService({ store: new PgVexStore(database.knex), limits: { maxBytes: config.vex.maxDocumentBytes, maxStatements: config.vex.maxStatements }, logger });
  const exceptions = new ExceptionService({
    store: new PgExceptionStore(database.knex),
    reports,
    decisions,
    notify: (manifestId, report, findings, event, dedupeSuffix) => changeNotifier.onFindings(database.knex, manifestId, report, findings, event, dedupeSuffix),
    logger,
    maxDurationDays: config.exceptions.maxDurationDays,
    onNotified: () => deliverer?.wake(),
  });
  const expirySchedule = new ExceptionExpirySchedule({
    service: exceptions,
    intervalSeconds: config.exceptions.checkIntervalSeconds,
    logger,
    // An advisory stored while applying it failed is applied here.
    chores: [{ name: 'advisories', run: () => advisories.sync() }],
  });
  expirySchedule.define(queue);
  /** Which role works each queue. */
  const queueRoles: Record<string, Role> = {
    [REGISTRY_EVENT_QUEUE]: 'worker',
    [INDEX_MANIFEST_QUEUE]: 'worker',
    [RECONCILE_QUEUE]: 'worker',
    [FEED_UPDATE_QUEUE]: 'updater',
    [EXCEPTION_EXPIRY_QUEUE]: 'worker',
  };

  const readiness = new Readiness(new PgSystemStore(database.knex), migrationNames());
  const routers = [healthRoutes({ readiness, metrics: config.metrics.enabled ? metrics : null })];
  const authHandles: AuthHandle[] = [];
  let compat: Compat | null = null;
  // API processes keep status heads in memory, dropped as the database announces changes.
  const statusChanges = config.roles.includes('api') ? new PgStatusChangeListener({ databaseUrl: database.url, logger }) : null;
  if (config.roles.includes('api')) {
    routers.push(webhookRoutes({ intake, bodyLimitBytes: config.server.bodyLimitBytes }));
    const apiAuth = createAuth(config.auth.api, { logger });
    authHandles.push(apiAuth);
    if (apiAuth.insecure) logger.warn({ group: 'api' }, 'auth disabled for a route group');
    const clairAuth = createAuth(config.auth.clair, { logger });
    const harborAuth = createAuth(config.auth.harbor, { logger });
    authHandles.push(clairAuth, harborAuth);
    if (clairAuth.insecure) logger.warn({ group: 'clair' }, 'auth disabled for a route group');
    if (harborAuth.insecure) logger.warn({ group: 'harbor' }, 'auth disabled for a route group');
    compat = createCompat({
      knex: database.knex,
      databaseUrl: database.url,
      images,
      indexer,
      reports,
      registries,
      registryConfigs: toRegistryConfigs(config),
      notifications,
      vulnerabilities,
      logger,
      scanner: { name: 'Lookout', vendor: 'Lookout', version: LOOKOUT_VERSION },
      allowedLayerOrigins: config.compat.clair.allowedLayerOrigins,
      harbor: { authorizationType: config.compat.harbor.registryAuthorizationType, refreshAfterSeconds: config.compat.harbor.refreshAfterSeconds, retentionDays: config.compat.harbor.retentionDays },
      limits: { bodyBytes: config.server.bodyLimitBytes },
    });
    routers.push(
      clairRoutes({ ...compat.clair, auth: clairAuth, logger }),
      harborRoutes({ adapter: compat.harbor, auth: harborAuth, logger, prefix: config.compat.harbor.prefix }),
    );
    routers.push(
      apiRoutes({
        status: new ImageStatusService({ knex: database.knex, reports, ...(statusChanges ? { changes: statusChanges } : {}) }),
        scans: new ScanRequestService({
          registries,
          registryIds,
          processor: eventProcessor,
          defaultRegistry: config.registries.length === 1 ? new URL(config.registries[0]!.url).host : null,
        }),
        auth: apiAuth,
        bodyLimitBytes: config.server.bodyLimitBytes,
      }),
      subscriptionRoutes({
        service: new SubscriptionService({
          subscriptions,
          notifications,
          registries: config.registries.map((r) => r.name),
          allowedWebhookOrigins: config.notifier.allowedWebhookOrigins,
          maxPerOwner: config.notifier.maxSubscriptionsPerOwner,
          onRedrive: () => deliverer?.wake(),
        }),
        auth: apiAuth,
        bodyLimitBytes: config.server.bodyLimitBytes,
      }),
      advisoryRoutes({ service: advisories, auth: apiAuth, bodyLimitBytes: config.server.bodyLimitBytes }),
      vexRoutes({ service: vex, auth: apiAuth, bodyLimitBytes: config.server.bodyLimitBytes }),
      exceptionRoutes({ service: exceptions, auth: apiAuth, bodyLimitBytes: config.server.bodyLimitBytes }),
    );
  }
  const app = createApp({
    logger,
    metrics,
    bodyLimitBytes: config.server.bodyLimitBytes,
    trustProxy: config.server.trustProxy,
    routers,
  });

  const syncConfig = async () => {
    for (const [name, id] of await new PgRegistryStore(database.knex).sync(config.registries)) registryIds.set(name, id);
    await subscriptions.syncConfig(configSubscriptions(config));
  };
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
    registries,
    images,
    indexer,
    feeds,
    vulnerabilities,
    reports,
    advisories,
    vex,
    exceptions,
    reconciler,
    syncConfig,
    async start() {
      await syncConfig();
      await statusChanges?.start();
      await queue.start({ work: (name) => config.roles.includes(queueRoles[name] ?? 'worker') });
      if (runsWorkers) dispatcher.start();
      if (config.roles.includes('updater')) await feeds.startSchedule(queue);
      if (runsWorkers) await reconciler.startSchedule(queue);
      if (runsWorkers) await expirySchedule.start(queue);
      if (deliverer) delivering = deliverer.run(stopDelivering.signal);
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
        await dispatcher.stop();
        await statusChanges?.close();
        stopDelivering.abort();
        await delivering;
        await compat?.close(timeoutMs);
        await Promise.all([closed, queue.stop(timeoutMs)]);
        await registries.close();
        await feeds.close();
        await Promise.all(authHandles.map((h) => h.close()));
        await webhookSender.close();
        emailSender?.close();
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
