import { Agent, type Dispatcher } from 'undici';
import { AppError, BadRequestError } from '../errors/app-error.ts';
import type { ManifestIndexer } from '../indexer/manifest-indexer.ts';
import type { Logger } from '../log/create-logger.ts';
import type { ReportService } from '../matcher/report-service.ts';
import { describeUrl } from '../registry/describe-url.ts';
import type { RegistryConfig } from '../registry/registry-config.ts';
import { withAdvisoryLock } from '../store/advisory-lock.ts';
import type { ImageStore } from '../store/image-store.ts';
import { clairImageSource } from './clair-image-source.ts';
import { clairIndexReport } from './clair-reports.ts';
import type { ClairIndexRecord, ClairStore } from './clair-store.ts';
import type { ClairIndexReport, ClairManifest } from './clair-types.ts';
import { COMPAT_LIMITS, type CompatLimits } from './compat-limits.ts';
import { indexImage } from './index-image.ts';
import { parseHttpUrl, registryForUrl } from './registry-for-url.ts';

/** What {@link ClairIndexer} needs. */
export interface ClairIndexerDeps {
  store: ClairStore;
  images: ImageStore;
  indexer: ManifestIndexer;
  reports: ReportService;
  /** The configured registries: layer URIs on their origins (or aliases) may be fetched. */
  registries: readonly RegistryConfig[];
  /**
   * More origins layer URIs may point at (`https://storage.example:443`): the storage Quay hands
   * out pre-signed URLs for. Nothing else is ever fetched.
   */
  allowedLayerOrigins?: readonly string[];
  /** For the per-manifest lock that makes concurrent submissions of one manifest index it once. */
  databaseUrl: string;
  logger: Logger;
  limits?: Partial<CompatLimits>;
}

/** An index report with the indexer state it was made with (the `ETag`). */
export interface StatedIndexReport {
  report: ClairIndexReport;
  indexerState: string | null;
}

/**
 * Clair v4's indexer on Lookout's: a submitted manifest (`{hash, layers:[{hash, uri, headers}]}`)
 * is indexed once per scanner set — a manifest already indexed with the current one is answered
 * from storage, layers already scanned are not fetched — and answered with Clair's IndexReport.
 * Layer URIs are fetched only from configured registries and the allowed origins; at most
 * `limits.indexConcurrency` submissions are worked at once (more get 429, as in Clair).
 */
export class ClairIndexer {
  private readonly deps: ClairIndexerDeps;
  private readonly limits: Readonly<CompatLimits>;
  private readonly origins: ReadonlySet<string>;
  private readonly dispatcher: Agent;
  private readonly insecureDispatcher: Agent;
  private inFlight = 0;

  constructor(deps: ClairIndexerDeps) {
    this.deps = deps;
    this.limits = { ...COMPAT_LIMITS, ...deps.limits };
    this.origins = new Set(
      (deps.allowedLayerOrigins ?? []).map((origin) => {
        const url = parseHttpUrl(origin);
        if (url === null) throw new TypeError(`allowed layer origin ${JSON.stringify(origin)} is not an http(s) URL`);
        return url.origin;
      }),
    );
    const options = { headersTimeout: this.limits.layerHeadersTimeoutMs, bodyTimeout: this.limits.layerBodyIdleMs, connect: { timeout: 10_000 } };
    this.dispatcher = new Agent(options);
    this.insecureDispatcher = new Agent({ ...options, connect: { ...options.connect, rejectUnauthorized: false } });
  }

  /** The indexer state: changes whenever the scanner set (names, versions) changes. */
  state(): string {
    return this.deps.indexer.fingerprint;
  }

  /** Whether a layer URI may be fetched: a configured registry's origin or alias, or an allowed origin. */
  allowed(url: URL): boolean {
    if (url.username !== '' || url.password !== '') return false;
    return registryForUrl(this.deps.registries, url) !== null || this.origins.has(url.origin);
  }

  /**
   * Indexes `manifest` (waiting for a concurrent submission of the same manifest to finish first)
   * and returns its IndexReport: `IndexFinished`, or `IndexError` with the reason. Throws a 400
   * before anything is stored when a layer URI is not allowed, and a 429 when busy.
   */
  async index(manifest: ClairManifest, options: { ifNoneMatch?: string } = {}): Promise<StatedIndexReport> {
    for (const [i, layer] of manifest.layers.entries()) {
      const url = parseHttpUrl(layer.uri);
      if (url === null) throw new BadRequestError(`invalid manifest: layers.${i}.uri is not an http(s) URL`, { code: 'bad-request' });
      if (!this.allowed(url)) {
        throw new BadRequestError(`invalid manifest: layers.${i}.uri: ${describeUrl(url)} is not on a configured registry or an allowed layer origin`, { code: 'bad-request' });
      }
    }
    if (this.inFlight >= this.limits.indexConcurrency) {
      throw new AppError(429, 'too-many-requests', `more than ${this.limits.indexConcurrency} index requests in flight`, { headers: { 'Retry-After': '5' } });
    }
    this.inFlight++;
    try {
      const locked = await withAdvisoryLock(this.deps.databaseUrl, `lookout-compat-manifest:${manifest.hash}`, { wait: true }, () => this.indexLocked(manifest, options));
      if (!locked.locked) throw new Error('manifest lock not taken');
      return locked.value;
    } finally {
      this.inFlight--;
    }
  }

  /** The IndexReport of `digest` (submitted, or indexed from a registry), null when unknown. */
  async indexReport(digest: string): Promise<StatedIndexReport | null> {
    const record = await this.deps.store.find(digest);
    return record === null ? null : this.reportOf(record);
  }

  /** Forgets submitted manifests; returns the digests that were known. */
  delete(digests: readonly string[]): Promise<string[]> {
    return this.deps.store.delete(digests);
  }

  /** Closes the layer-fetch connection pools. */
  async close(): Promise<void> {
    await Promise.all([this.dispatcher.close(), this.insecureDispatcher.close()]);
  }

  private async indexLocked(manifest: ClairManifest, options: { ifNoneMatch?: string }): Promise<StatedIndexReport> {
    const { store, images, indexer, logger } = this.deps;
    const fingerprint = indexer.fingerprint;
    const existing = await store.find(manifest.hash);
    const current = existing !== null && existing.state === 'IndexFinished' && existing.indexerState === fingerprint;
    if (current && options.ifNoneMatch !== undefined && etagMatches(options.ifNoneMatch, fingerprint)) {
      throw new AppError(412, 'precondition-failed', 'the manifest is already indexed with this indexer state');
    }
    if (current) {
      if (!existing.submitted) await store.setState(existing.manifestId, 'IndexFinished', { indexerState: fingerprint });
      return this.reportOf({ ...existing, submitted: true });
    }
    const known = await images.manifestByDigest(manifest.hash);
    const manifestId =
      known?.id ??
      (await images.upsertManifest({
        digest: manifest.hash,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        kind: 'image',
        size: null,
        content: { hash: manifest.hash, layers: manifest.layers.map((l) => ({ hash: l.hash, ...(l.media_type ? { media_type: l.media_type } : {}) })) },
      }));
    await store.setState(manifestId, 'CheckManifest');
    const started = Date.now();
    logger.info({ manifest: manifest.hash, layers: manifest.layers.length }, 'clair index start');
    await store.setState(manifestId, 'ScanLayers');
    const source = clairImageSource(manifest, {
      dispatcher: this.dispatcherFor(manifest),
      allowed: (url) => this.allowed(url),
      limits: this.limits,
    });
    const result = await indexImage(this.deps, manifestId, source, { onMatching: () => store.setState(manifestId, 'IndexManifest') });
    if (result.failure === null) await store.setState(manifestId, 'IndexFinished', { indexerState: fingerprint });
    else await store.setState(manifestId, 'IndexError', { error: result.failure, indexerState: fingerprint });
    logger.info({ manifest: manifest.hash, ms: Date.now() - started, failure: result.failure }, 'clair index done');
    const record = await store.find(manifest.hash);
    if (record === null) throw new Error(`manifest ${manifest.hash} vanished while indexing`);
    return this.reportOf(record);
  }

  /** The insecure pool only when every layer is on a registry configured with `insecure`. */
  private dispatcherFor(manifest: ClairManifest): Dispatcher {
    const insecure = manifest.layers.every((l) => {
      const url = parseHttpUrl(l.uri);
      return url !== null && registryForUrl(this.deps.registries, url)?.insecure === true;
    });
    return insecure ? this.insecureDispatcher : this.dispatcher;
  }

  private async reportOf(record: ClairIndexRecord): Promise<StatedIndexReport> {
    const finished = record.state === 'IndexFinished';
    const cached = finished ? await this.deps.reports.report(record.manifestId) : null;
    const distribution = finished ? await this.deps.store.distributionOf(record.manifestId) : null;
    return {
      report: clairIndexReport({ digest: record.digest, state: record.state, error: record.error, report: cached?.report ?? null, distribution }),
      indexerState: record.indexerState,
    };
  }
}

/** Whether an `If-None-Match` value names the entity tag `"<value>"` (or is `*`). */
export function etagMatches(header: string, value: string): boolean {
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === '*' || t === `"${value}"` || t === value);
}
