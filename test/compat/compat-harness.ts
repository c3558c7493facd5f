/**
 * Shared setup of the compatibility API tests: the services a Lookout process would wire (image
 * store, indexer with every scanner, report service, registries) plus the Clair and Harbor
 * services, an app serving chosen routers, real vulnerability data, a small Debian image, and the
 * published schemas of the reference folder (read in place, never copied).
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import type Router from '@koa/router';
import { parse as parseYaml } from 'yaml';
import { createCompat, type Compat } from '../../src/compat/create-compat.ts';
import type { CompatLimits } from '../../src/compat/compat-limits.ts';
import { allScanners } from '../../src/ecosystems/index.ts';
import { parseDebianTracker } from '../../src/ecosystems/debian/parse-debian-tracker.ts';
import { parseNvdPage } from '../../src/ecosystems/nvd/parse-nvd-pages.ts';
import { createApp } from '../../src/http/create-app.ts';
import { ManifestIndexer } from '../../src/indexer/manifest-indexer.ts';
import { createLogger } from '../../src/log/create-logger.ts';
import { ReportService } from '../../src/matcher/report-service.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { REGISTRY_DEFAULTS, type RegistryConfig } from '../../src/registry/registry-config.ts';
import { RegistrySet } from '../../src/registry/registry-set.ts';
import { PgImageStore } from '../../src/store/image-store.ts';
import { PgLayerStore } from '../../src/store/layer-store.ts';
import { PgNotificationStore } from '../../src/store/notification-store.ts';
import { PgRegistryStore } from '../../src/store/registry-store.ts';
import { PgVulnerabilityStore } from '../../src/store/vulnerability-store.ts';
import { ROOT } from '../helpers/cli.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { fixture } from '../helpers/fixtures.ts';
import { OciLayoutBuilder, type BuiltLayer, type BuiltManifest } from '../helpers/oci-image-builder.ts';

/** The shared reference folder (Clair's OpenAPI and schemas, the Harbor adapter spec and payloads). */
export const REFERENCE = path.resolve(process.env.LOOKOUT_REFERENCE ?? path.join(ROOT, '..', 'shared', 'reference'));
export const HAVE_REFERENCE = existsSync(path.join(REFERENCE, 'clair', 'openapi', 'types')) && existsSync(path.join(REFERENCE, 'registry', 'specs'));
export const NO_REFERENCE = ' (skipped: the shared reference folder is absent; set LOOKOUT_REFERENCE)';

/** A reference payload (its `_comment` dropped). */
export function referencePayload(name: string): Record<string, unknown> {
  const { _comment: _c, ...body } = JSON.parse(readFileSync(path.join(REFERENCE, 'registry', 'payloads', name), 'utf8')) as Record<string, unknown>;
  return body;
}

/** The Clair schema folder. */
export function clairTypesDir(): string {
  return path.join(REFERENCE, 'clair', 'openapi', 'types');
}

/** The Harbor scanner adapter OpenAPI document (v1.2), parsed. */
export function harborSpec(): Record<string, unknown> {
  return parseYaml(readFileSync(path.join(REFERENCE, 'registry', 'specs', 'harbor-scanner-adapter-openapi-v1.2.yaml'), 'utf8')) as Record<string, unknown>;
}

/** Settings of a test registry for the registry client. */
export function registryConfig(name: string, url: string, extra: Partial<RegistryConfig> = {}): RegistryConfig {
  return { name, url, ...REGISTRY_DEFAULTS, retries: { attempts: 2, baseDelayMs: 50, maxDelayMs: 500 }, ...extra };
}

/** The services the compatibility routes are built from. */
export interface CompatServices {
  images: PgImageStore;
  indexer: ManifestIndexer;
  reports: ReportService;
  registries: RegistrySet;
  notifications: PgNotificationStore;
  compat: Compat;
}

/** Wires the services on `db` for `registries` (rows synced, a client each), as the composition root would. */
export async function buildServices(
  db: TestDatabase,
  registries: RegistryConfig[],
  options: { allowedLayerOrigins?: string[]; limits?: Partial<CompatLimits>; harbor?: { authorizationType?: 'Basic' | 'Bearer'; leaseSeconds?: number } } = {},
): Promise<CompatServices> {
  const logger = createLogger('silent');
  const images = new PgImageStore(db.knex);
  const indexer = new ManifestIndexer({ layerStore: new PgLayerStore(db.knex), scanners: allScanners(), databaseUrl: db.url, logger, layerConcurrency: 2 });
  const reports = new ReportService({ knex: db.knex });
  await new PgRegistryStore(db.knex).sync(registries);
  const registrySet = new RegistrySet(registries, { logger });
  const notifications = new PgNotificationStore(db.knex);
  const compat = createCompat({
    knex: db.knex,
    databaseUrl: db.url,
    images,
    indexer,
    reports,
    registries: registrySet,
    registryConfigs: registries,
    notifications,
    vulnerabilities: new PgVulnerabilityStore(db.knex),
    logger,
    scanner: { name: 'Lookout', vendor: 'Lookout', version: '0.1.0' },
    ...(options.allowedLayerOrigins ? { allowedLayerOrigins: options.allowedLayerOrigins } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.harbor ? { harbor: options.harbor } : {}),
  });
  return { images, indexer, reports, registries: registrySet, notifications, compat };
}

/** Serves `routers` in the real Koa app (request ids, access log, error rendering) on 127.0.0.1. */
export async function serveRouters(routers: Router[]): Promise<{ url: string; close(): Promise<void> }> {
  const app = createApp({ logger: createLogger('silent'), metrics: createMetrics({ processMetrics: false }), bodyLimitBytes: 1024 * 1024, trustProxy: false, routers });
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * An NVD CVE API 2.0 page for CVE-2025-53603, written here in NVD's format (the fixtures' NVD
 * samples do not cover the CVEs of the Debian samples): a CVSS 3.1 base score of 7.5 and a CWE.
 */
const NVD_PAGE = JSON.stringify({
  resultsPerPage: 1,
  startIndex: 0,
  totalResults: 1,
  format: 'NVD_CVE',
  version: '2.0',
  timestamp: '2025-08-01T00:00:00.000',
  vulnerabilities: [
    {
      cve: {
        id: 'CVE-2025-53603',
        published: '2025-07-04T18:15:00.000',
        lastModified: '2025-07-10T00:00:00.000',
        vulnStatus: 'Analyzed',
        descriptions: [{ lang: 'en', value: 'Test description of CVE-2025-53603 in the NVD page format.' }],
        metrics: {
          cvssMetricV31: [
            {
              source: 'nvd@nist.gov',
              type: 'Primary',
              cvssData: { version: '3.1', vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', baseScore: 7.5, baseSeverity: 'HIGH' },
            },
          ],
        },
        weaknesses: [{ source: 'nvd@nist.gov', type: 'Primary', description: [{ lang: 'en', value: 'CWE-476' }] }],
      },
    },
  ],
});

/**
 * Loads the Debian security tracker samples (bookworm, by the real parser) and an NVD enrichment
 * through the real store, as feed runs that changed data. Returns when the last run finished.
 */
export async function loadVulnerabilities(db: TestDatabase): Promise<void> {
  const store = new PgVulnerabilityStore(db.knex);
  const debianRun = await store.startRun('debian');
  async function* debian() {
    for (const file of ['vunnel-security-tracker-sample.json', 'vulnerablecode-security-tracker-sample.json']) {
      yield* parseDebianTracker(createReadStream(fixture('feeds', 'debian', file)), { releases: new Set(['bookworm']) });
    }
  }
  const counts = await store.applyRun(debianRun, 'debian', debian());
  await store.finishRun(debianRun, { state: 'changed', fingerprint: 'fixture-samples', counts });
  const nvdRun = await store.startRun('nvd');
  const nvdCounts = await store.applyRun(nvdRun, 'nvd', parseNvdPage(Readable.from([NVD_PAGE])));
  await store.finishRun(nvdRun, { state: 'changed', fingerprint: 'test-page', counts: nvdCounts });
}

const stanza = (name: string, version: string, source?: string) =>
  `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\n${source ? `Source: ${source}\n` : ''}Maintainer: Debian Maintainers <debian-devel@lists.debian.org>\nDescription: ${name}\n`;

/** The test images: a Debian 12 base (vulnerable sope and atomicparsley, curl) and two images on it. */
export interface DebianImages {
  layout: OciLayoutBuilder;
  base: BuiltLayer;
  /** base + a layer with a Python package; tagged `app`. */
  app: BuiltManifest;
  /** base + a layer with an npm package (zstd); tagged `other`. */
  other: BuiltManifest;
}

/** Writes the test images into an OCI layout in `dir`. */
export async function buildDebianImages(dir: string): Promise<DebianImages> {
  const layout = await OciLayoutBuilder.create(dir);
  const base = await layout.addLayer([
    { path: 'etc', type: 'directory' },
    { path: 'etc/os-release', content: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n' },
    {
      path: 'var/lib/dpkg/status',
      content: [stanza('libsope1', '5.8.0-1', 'sope'), stanza('atomicparsley', '20210114.184825.1dbe1be-2'), stanza('curl', '7.88.1-10+deb12u5')].join('\n'),
    },
  ]);
  const python = await layout.addLayer([{ path: 'usr/local/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA', content: 'Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n' }]);
  const npm = await layout.addLayer([{ path: 'usr/lib/node_modules/left-pad/package.json', content: '{"name":"left-pad","version":"1.3.0"}' }], { compression: 'zstd' });
  const app = await layout.addImage({ layers: [base, python], platform: { os: 'linux', architecture: 'amd64' } });
  const other = await layout.addImage({ layers: [base, npm], platform: { os: 'linux', architecture: 'amd64' } });
  await layout.tag('app', app);
  await layout.tag('other', other);
  return { layout, base, app, other };
}

/** `GET /v2/…/blobs/<digest>` answers the registry completed, from its log. */
export function blobGets(log: string, digest: string): number {
  return log.split('\n').filter((line) => line.includes('response completed') && line.includes('http.request.method=GET') && line.includes(`/blobs/${digest}`)).length;
}
