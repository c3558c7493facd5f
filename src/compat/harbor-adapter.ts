import type { ManifestIndexer } from '../indexer/manifest-indexer.ts';
import { registryImageSource } from '../indexer/registry-image-source.ts';
import type { Logger } from '../log/create-logger.ts';
import type { ReportService } from '../matcher/report-service.ts';
import type { Digest } from '../oci/digest.ts';
import { describeUrl } from '../registry/describe-url.ts';
import { INDEX_MEDIA_TYPES } from '../registry/media-types.ts';
import { RegistryClient, type RegistryClientOptions } from '../registry/registry-client.ts';
import type { RegistryConfig } from '../registry/registry-config.ts';
import type { RegistrySet } from '../registry/registry-set.ts';
import { withAdvisoryLock } from '../store/advisory-lock.ts';
import type { ImageStore } from '../store/image-store.ts';
import type { VulnerabilityStore } from '../store/vulnerability-store.ts';
import { COMPAT_LIMITS, type CompatLimits } from './compat-limits.ts';
import { HarborError } from './harbor-error.ts';
import { harborVulnerabilityReport } from './harbor-report.ts';
import type { HarborScanRecord, HarborScanStore } from './harbor-scan-store.ts';
import {
  CONSUMED_TYPES,
  HARBOR_MEDIA_TYPES,
  SBOM_MEDIA_TYPES,
  VULNERABILITY_REPORT_TYPES,
  type HarborArtifact,
  type HarborMetadata,
  type HarborScanner,
  type HarborScanRequest,
  type SbomMediaType,
} from './harbor-types.ts';
import { indexImage } from './index-image.ts';
import { packageSbom } from './package-sbom.ts';
import { parseRegistryAuthorization, withCredentials, type RegistryCredentials } from './registry-credentials.ts';
import { parseHttpUrl, registryForUrl } from './registry-for-url.ts';

/** What {@link HarborAdapter} needs. */
export interface HarborAdapterDeps {
  store: HarborScanStore;
  images: ImageStore;
  indexer: ManifestIndexer;
  reports: ReportService;
  /** The shared clients, used when Harbor sends no registry authorization. */
  registries: RegistrySet;
  /** The configured registries: `registry.url` must be one of them (by origin or alias). */
  registryConfigs: readonly RegistryConfig[];
  /** Where the latest feed runs are read (for `vulnerability-database-updated-at`). */
  feeds: Pick<VulnerabilityStore, 'latestRuns'>;
  scanner: HarborScanner;
  /** For the per-manifest lock shared with the Clair API. */
  databaseUrl: string;
  logger: Logger;
  /** How Harbor should fill `registry.authorization` (metadata property; Harbor's default is Basic). */
  authorizationType?: 'Basic' | 'Bearer';
  /** `Refresh-After` of a report not ready yet, seconds (Harbor reads an int8: at most 127). */
  refreshAfterSeconds?: number;
  /** A queued or running scan whose process has been silent this long is lost. */
  leaseSeconds?: number;
  /** Scan requests are kept this many days. */
  retentionDays?: number;
  limits?: Partial<CompatLimits>;
  registryClientOptions?: RegistryClientOptions;
}

/** Which report `GET /scan/{id}/report` asked for. */
export type HarborReportType = { kind: 'vulnerability'; mediaType: (typeof VULNERABILITY_REPORT_TYPES)[number] } | { kind: 'sbom'; sbomMediaType: SbomMediaType };

/** What `GET /scan/{id}/report` answers. */
export type HarborReportOutcome =
  | { kind: 'not-found' }
  | { kind: 'pending'; refreshAfterSeconds: number }
  | { kind: 'failed'; message: string }
  | { kind: 'report'; mediaType: string; body: unknown };

interface Scan {
  id: string;
  config: RegistryConfig;
  request: HarborScanRequest;
  credentials: RegistryCredentials | null;
  controller: AbortController;
}

/**
 * The Harbor pluggable scanner adapter: a scan request for an artifact of a configured registry
 * is recorded and answered at once with its id; the image is then pulled with the credentials
 * Harbor handed over (kept in memory only, used only for that registry's origin), indexed and
 * reported in the background (at most `limits.scanConcurrency` at a time, up to
 * `limits.maxPendingScans` waiting). While a scan runs its row's heartbeat is kept fresh, so that a
 * scan whose process stopped is seen as lost and answered 404 (Harbor then submits it again).
 * `close()` lets running scans finish (or aborts them after the timeout).
 */
export class HarborAdapter {
  private readonly deps: HarborAdapterDeps;
  private readonly limits: Readonly<CompatLimits>;
  private readonly refreshAfter: number;
  private readonly leaseSeconds: number;
  private readonly owned = new Map<string, AbortController>();
  private readonly waiting: Scan[] = [];
  private readonly tasks = new Set<Promise<void>>();
  private running = 0;
  private heartbeat: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(deps: HarborAdapterDeps) {
    this.deps = deps;
    this.limits = { ...COMPAT_LIMITS, ...deps.limits };
    this.refreshAfter = Math.min(127, Math.max(1, Math.round(deps.refreshAfterSeconds ?? 5)));
    this.leaseSeconds = Math.max(5, deps.leaseSeconds ?? 60);
  }

  /** The adapter's metadata: capabilities (vulnerability reports, SBOMs) and properties. */
  async metadata(): Promise<HarborMetadata> {
    const runs = await this.deps.feeds.latestRuns();
    const times = runs.filter((r) => (r.state === 'changed' || r.state === 'unchanged') && r.finishedAt !== null).map((r) => r.finishedAt!.getTime());
    const properties: Record<string, string> = {
      'harbor.scanner-adapter/scanner-type': 'os-package-vulnerability',
      'harbor.scanner-adapter/registry-authorization-type': this.deps.authorizationType ?? 'Basic',
    };
    if (times.length > 0) properties['harbor.scanner-adapter/vulnerability-database-updated-at'] = new Date(Math.max(...times)).toISOString();
    return {
      scanner: this.deps.scanner,
      capabilities: [
        { type: 'vulnerability', consumes_mime_types: [...CONSUMED_TYPES], produces_mime_types: [...VULNERABILITY_REPORT_TYPES] },
        {
          type: 'sbom',
          consumes_mime_types: [...CONSUMED_TYPES],
          produces_mime_types: [HARBOR_MEDIA_TYPES.sbomReport],
          additional_attributes: { sbom_media_types: [...SBOM_MEDIA_TYPES] },
        },
      ],
      properties,
    };
  }

  /**
   * Records a scan request and starts it in the background; returns its id. Throws a 422 when
   * `registry.url` is not a configured registry, a 500 when shutting down or too many scans wait.
   */
  async accept(request: HarborScanRequest): Promise<string> {
    if (this.closed) throw new HarborError(500, 'the scanner is shutting down');
    const url = parseHttpUrl(request.registry.url);
    const config = url === null ? null : registryForUrl(this.deps.registryConfigs, url);
    if (config === null) throw new HarborError(422, `invalid registry.url: ${url === null ? 'not a URL' : describeUrl(url)} is not a configured registry`);
    if (this.owned.size >= this.limits.scanConcurrency + this.limits.maxPendingScans) throw new HarborError(500, 'too many scans waiting; try again later');
    const credentials = request.registry.authorization === null ? null : parseRegistryAuthorization(request.registry.authorization);
    const { store, logger } = this.deps;
    const id = await store.create({
      registry: config.name,
      repository: request.artifact.repository,
      digest: request.artifact.digest,
      tag: request.artifact.tag,
      mimeType: request.artifact.mimeType,
      capabilities: request.capabilities,
    });
    store.prune(this.deps.retentionDays ?? 7).catch((err: unknown) => logger.warn({ err }, 'harbor prune failed'));
    const controller = new AbortController();
    this.owned.set(id, controller);
    this.waiting.push({ id, config, request, credentials, controller });
    this.startHeartbeat();
    logger.info({ scan: id, registry: config.name, repository: request.artifact.repository, digest: request.artifact.digest }, 'harbor scan accepted');
    this.pump();
    return id;
  }

  /** The report of scan `id` in the asked type, or where the scan is. */
  async report(id: string, type: HarborReportType): Promise<HarborReportOutcome> {
    const scan = await this.deps.store.get(id);
    if (scan === null) return { kind: 'not-found' };
    switch (scan.status) {
      case 'queued':
      case 'running':
        if (!this.owned.has(id) && scan.silentSeconds > this.leaseSeconds) {
          await this.deps.store.setStatus(id, 'lost', { error: 'the process running the scan stopped' });
          return { kind: 'not-found' };
        }
        return { kind: 'pending', refreshAfterSeconds: this.refreshAfter };
      case 'lost':
        return { kind: 'not-found' };
      case 'failed':
        return { kind: 'failed', message: scan.error ?? 'the scan failed' };
      case 'done':
        return this.render(scan, type);
    }
  }

  /**
   * Stops taking scans: waiting ones are marked lost at once (Harbor re-submits them elsewhere),
   * running ones get `timeoutMs` to finish, then are aborted and marked lost.
   */
  async close(timeoutMs = 30_000): Promise<void> {
    this.closed = true;
    for (const scan of this.waiting.splice(0)) {
      this.owned.delete(scan.id);
      await this.deps.store.setStatus(scan.id, 'lost', { error: 'the scanner stopped before the scan started' }).catch(() => undefined);
    }
    const all = Promise.allSettled([...this.tasks]);
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([all.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)))]);
    clearTimeout(timer);
    if (late) {
      for (const controller of this.owned.values()) controller.abort(new Error('the scanner is stopping'));
      await all;
    }
    this.stopHeartbeat();
  }

  private async render(scan: HarborScanRecord, type: HarborReportType): Promise<HarborReportOutcome> {
    if (scan.manifestId === null) return { kind: 'failed', message: 'the scanned image is no longer stored' };
    const { report } = await this.deps.reports.report(scan.manifestId);
    const artifact: HarborArtifact = { repository: scan.repository, digest: scan.digest, ...(scan.mimeType !== null ? { mime_type: scan.mimeType } : {}) };
    if (type.kind === 'vulnerability') return { kind: 'report', mediaType: type.mediaType, body: harborVulnerabilityReport(report, artifact, this.deps.scanner) };
    const sbom = packageSbom(type.sbomMediaType, report, { name: scan.repository, toolName: this.deps.scanner.name.toLowerCase(), toolVersion: this.deps.scanner.version });
    return {
      kind: 'report',
      mediaType: HARBOR_MEDIA_TYPES.sbomReport,
      body: { generated_at: report.generatedAt, artifact, scanner: this.deps.scanner, vendor_attributes: {}, media_type: type.sbomMediaType, sbom },
    };
  }

  private pump(): void {
    while (this.running < this.limits.scanConcurrency && this.waiting.length > 0) {
      const scan = this.waiting.shift()!;
      this.running++;
      const task: Promise<void> = this.run(scan).finally(() => {
        this.running--;
        this.tasks.delete(task);
        this.owned.delete(scan.id);
        if (this.owned.size === 0) this.stopHeartbeat();
        if (!this.closed) this.pump();
      });
      this.tasks.add(task);
    }
  }

  private async run(scan: Scan): Promise<void> {
    const { store, logger } = this.deps;
    const signal = scan.controller.signal;
    const started = Date.now();
    const own = scan.credentials !== null ? new RegistryClient(withCredentials(scan.config, scan.credentials), { logger, ...this.deps.registryClientOptions }) : null;
    try {
      await store.setStatus(scan.id, 'running');
      const client = own ?? this.deps.registries.byConfigName(scan.config.name);
      if (client === undefined) throw new Error(`registry ${scan.config.name} is no longer configured`);
      const outcome = await this.scan(scan, client, signal);
      if (signal.aborted && this.closed) await store.setStatus(scan.id, 'lost', { error: 'the scanner stopped during the scan' });
      else if (outcome.failure !== null) await store.setStatus(scan.id, 'failed', { error: outcome.failure, manifestId: outcome.manifestId });
      else await store.setStatus(scan.id, 'done', { error: null, manifestId: outcome.manifestId });
      logger.info({ scan: scan.id, ms: Date.now() - started, failure: outcome.failure }, 'harbor scan done');
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const stopping = signal.aborted && this.closed;
      logger.warn({ scan: scan.id, reason }, 'harbor scan failed');
      await store.setStatus(scan.id, stopping ? 'lost' : 'failed', { error: reason }).catch(() => undefined);
    } finally {
      await own?.close().catch(() => undefined);
    }
  }

  private async scan(scan: Scan, client: RegistryClient, signal: AbortSignal): Promise<{ failure: string | null; manifestId: number | null }> {
    const { images, indexer, reports, store } = this.deps;
    const { repository, digest, tag } = scan.request.artifact;
    const resolution = await client.resolve(repository, digest, { signal });
    if (INDEX_MEDIA_TYPES.has(resolution.mediaType)) return { failure: `${digest} is an image index: only image manifests are scanned`, manifestId: null };
    const image = resolution.images.find((i) => i.digest === digest);
    if (image === undefined) return { failure: `${digest} is not an image (${resolution.skipped[0]?.detail ?? 'no image found'})`, manifestId: null };

    const known = await images.manifestByDigest(digest);
    const manifestId =
      known?.id ??
      (await images.upsertManifest({ digest, mediaType: image.mediaType, kind: 'image', size: image.size, configDigest: image.manifest.config.digest }));
    const registryId = await store.registryId(scan.config.name);
    if (registryId !== null) {
      const repositoryId = await images.repositoryId(registryId, repository);
      await images.linkToRepository(repositoryId, manifestId);
      if (tag !== null) await images.setTag(repositoryId, tag, manifestId);
    }
    const locked = await withAdvisoryLock(this.deps.databaseUrl, `lookout-compat-manifest:${digest}`, { wait: true }, async () => {
      const row = await images.manifestByDigest(digest);
      if (row?.status === 'done' && row.indexedWith === indexer.fingerprint) {
        await reports.report(manifestId);
        return { failure: null };
      }
      const source = registryImageSource(client, repository, { digest: digest as Digest, mediaType: image.mediaType, platform: image.platform, manifest: image.manifest });
      return indexImage(this.deps, manifestId, source, { signal });
    });
    if (!locked.locked) return { failure: 'manifest lock not taken', manifestId };
    return { failure: locked.value.failure, manifestId };
  }

  private startHeartbeat(): void {
    if (this.heartbeat !== null) return;
    const every = Math.max(1000, Math.floor((this.leaseSeconds * 1000) / 3));
    this.heartbeat = setInterval(() => {
      this.deps.store.heartbeat([...this.owned.keys()]).catch((err: unknown) => this.deps.logger.warn({ err }, 'harbor heartbeat failed'));
    }, every);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}
