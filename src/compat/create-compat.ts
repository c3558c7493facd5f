import type { Knex } from 'knex';
import type { ManifestIndexer } from '../indexer/manifest-indexer.ts';
import type { Logger } from '../log/create-logger.ts';
import type { ReportService } from '../matcher/report-service.ts';
import type { RegistryConfig } from '../registry/registry-config.ts';
import type { RegistrySet } from '../registry/registry-set.ts';
import type { ImageStore } from '../store/image-store.ts';
import type { NotificationStore } from '../store/notification-store.ts';
import type { VulnerabilityStore } from '../store/vulnerability-store.ts';
import { ClairIndexer } from './clair-indexer.ts';
import { ClairMatcher } from './clair-matcher.ts';
import { ClairNotifier } from './clair-notifier.ts';
import { PgClairStore } from './clair-store.ts';
import type { CompatLimits } from './compat-limits.ts';
import { HarborAdapter } from './harbor-adapter.ts';
import { PgHarborScanStore } from './harbor-scan-store.ts';
import type { HarborScanner } from './harbor-types.ts';

/** What the compatibility services are built from (parts of a built Lookout). */
export interface CompatDeps {
  knex: Knex;
  databaseUrl: string;
  images: ImageStore;
  indexer: ManifestIndexer;
  reports: ReportService;
  registries: RegistrySet;
  /** The registry client settings of the configured registries (`toRegistryConfigs(config)`). */
  registryConfigs: readonly RegistryConfig[];
  notifications: NotificationStore;
  vulnerabilities: Pick<VulnerabilityStore, 'latestRuns'>;
  logger: Logger;
  /** How the Harbor adapter names itself (`{name: 'Lookout', vendor: 'Lookout', version}`). */
  scanner: HarborScanner;
  /** Origins besides the registries that Clair layer URIs may point at (pre-signed storage). */
  allowedLayerOrigins?: readonly string[];
  harbor?: { authorizationType?: 'Basic' | 'Bearer'; refreshAfterSeconds?: number; leaseSeconds?: number; retentionDays?: number };
  limits?: Partial<CompatLimits>;
}

/** The Clair and Harbor services, ready for `clairRoutes` and `harborRoutes`. */
export interface Compat {
  clair: { indexer: ClairIndexer; matcher: ClairMatcher; notifier: ClairNotifier };
  harbor: HarborAdapter;
  /** Lets running Harbor scans finish (aborting them after `timeoutMs`), closes connection pools. */
  close(timeoutMs?: number): Promise<void>;
}

/** Builds the compatibility services on the Postgres stores. */
export function createCompat(deps: CompatDeps): Compat {
  const store = new PgClairStore(deps.knex);
  const logger = deps.logger.child({ part: 'compat' });
  const indexer = new ClairIndexer({
    store,
    images: deps.images,
    indexer: deps.indexer,
    reports: deps.reports,
    registries: deps.registryConfigs,
    allowedLayerOrigins: deps.allowedLayerOrigins ?? [],
    databaseUrl: deps.databaseUrl,
    logger,
    ...(deps.limits ? { limits: deps.limits } : {}),
  });
  const harbor = new HarborAdapter({
    store: new PgHarborScanStore(deps.knex),
    images: deps.images,
    indexer: deps.indexer,
    reports: deps.reports,
    registries: deps.registries,
    registryConfigs: deps.registryConfigs,
    feeds: deps.vulnerabilities,
    scanner: deps.scanner,
    databaseUrl: deps.databaseUrl,
    logger,
    ...deps.harbor,
    ...(deps.limits ? { limits: deps.limits } : {}),
  });
  return {
    clair: { indexer, matcher: new ClairMatcher({ store, reports: deps.reports }), notifier: new ClairNotifier({ store, notifications: deps.notifications }) },
    harbor,
    async close(timeoutMs) {
      await harbor.close(timeoutMs);
      await indexer.close();
    },
  };
}
