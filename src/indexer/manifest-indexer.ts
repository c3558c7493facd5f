import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FoundDistribution, FoundPackage, Scanner, ScanResult } from '../ecosystems/scanner.ts';
import { distributionKey } from '../ecosystems/distribution-key.ts';
import type { Logger } from '../log/create-logger.ts';
import { isDigest, type Digest } from '../oci/digest.ts';
import { isRegistryError } from '../registry/registry-error.ts';
import { withAdvisoryLock } from '../store/advisory-lock.ts';
import { packageKey, scannerKey, type LayerScanRecord, type LayerStore, type StoredPackage } from '../store/layer-store.ts';
import { coalesceImage, type LayerContribution } from './coalesce-image.ts';
import type { SourceImage } from './image-source.ts';
import { LayerError } from './layer-errors.ts';
import type { LayerLimits } from './layer-limits.ts';
import { readLayer } from './layer-reader.ts';
import { scanLayer } from './scan-layer.ts';

const OS_ECOSYSTEMS = new Set(['dpkg', 'apk', 'rpm']);
const RELEASE_HINT_PATH = 'etc/apk/repositories';
/** Layer media types that cannot be scanned (foreign Windows layers, encrypted layers). */
const UNSCANNABLE = /foreign|\+encrypted|nondistributable.*\+encrypted/;

export interface ManifestIndexerDeps {
  layerStore: LayerStore;
  scanners: readonly Scanner[];
  /** For per-layer locks, so two jobs sharing a layer download it once. */
  databaseUrl: string;
  logger: Logger;
  limits?: Partial<LayerLimits>;
  /** Layers of one image read at once. */
  layerConcurrency: number;
}

/** What indexing one image did. */
export interface IndexOutcome {
  layers: { digest: string; outcome: 'scanned' | 'cached' | 'skipped' | 'failed'; reason?: string; bytes?: number }[];
  packages: number;
  distribution: string | null;
  /** Set when a layer could not be scanned: the image view is incomplete. */
  failure: string | null;
  /** A release key from a file other than os-release that decides which feed applies (`alpine:3.19` from etc/apk/repositories). */
  releaseHint: string | null;
  /** The platform the image config names. */
  platform: { os: string | null; architecture: string | null; variant: string | null };
  notes: string[];
}

/**
 * Indexes one image: records its layers, scans each layer not yet scanned by the current scanner
 * set (streaming, under a per-layer lock so a layer shared by concurrent jobs is read once),
 * attributes language packages to the OS package that installed them, then coalesces the layers
 * into the image view (`manifest_packages`, the distribution). Layers already scanned, whatever
 * image or registry they came from, are not fetched again.
 */
export class ManifestIndexer {
  private readonly deps: ManifestIndexerDeps;
  private scannerIdCache: Map<string, number> | null = null;
  /** A fingerprint of the scanner set (names and versions): an image indexed with it needs no re-index. */
  readonly fingerprint: string;

  constructor(deps: ManifestIndexerDeps) {
    this.deps = deps;
    const keys = deps.scanners.map((s) => scannerKey(s)).sort();
    this.fingerprint = createHash('sha256').update(keys.join('\n')).digest('hex').slice(0, 16);
  }

  /**
   * Indexes `image` as manifest row `manifestId`. `onLayer` hears about each layer as it is settled
   * (for progress lines).
   */
  async index(manifestId: number, image: SourceImage, signal?: AbortSignal, onLayer?: (index: number, result: IndexOutcome['layers'][number]) => void): Promise<IndexOutcome> {
    // One indexing of an image at a time, whichever process asks (a job, a CLI scan).
    const locked = await withAdvisoryLock(this.deps.databaseUrl, `lookout-manifest:${image.digest}`, { wait: true }, () => this.indexLocked(manifestId, image, signal, onLayer));
    if (!locked.locked) throw new Error(`could not lock ${image.digest}`);
    return locked.value;
  }

  private async indexLocked(manifestId: number, image: SourceImage, signal?: AbortSignal, onLayer?: (index: number, result: IndexOutcome['layers'][number]) => void): Promise<IndexOutcome> {
    const { layerStore, logger } = this.deps;
    const log = logger.child({ manifest: image.digest });
    const notes: string[] = [];
    const config = await image.config(signal);
    const diffIds = config.diffIds.length === image.layers.length ? config.diffIds : [];
    if (config.diffIds.length > 0 && diffIds.length === 0) {
      notes.push(`the image config lists ${config.diffIds.length} diff_ids for ${image.layers.length} layers; uncompressed digests not verified`);
    }
    const layerIds = await layerStore.upsertLayers(
      image.layers.map((l, i) => ({ digest: l.digest, diffId: diffIds[i] ?? null, mediaType: l.mediaType, size: l.size })),
    );
    const orderedIds = image.layers.map((l) => layerIds.get(l.digest)!);
    await layerStore.setManifestLayers(manifestId, image.layers.map((l, i) => ({ id: orderedIds[i]!, digest: l.digest })));

    const scannerIds = await this.scannerIds();
    const allScannerIds = [...scannerIds.values()];
    const done = await layerStore.scannedBy(orderedIds, allScannerIds);
    const outcome: IndexOutcome = {
      layers: [],
      packages: 0,
      distribution: null,
      failure: null,
      releaseHint: null,
      platform: { os: config.os, architecture: config.architecture, variant: config.variant },
      notes,
    };

    const scanIndex = async (index: number, open: () => Promise<Readable>) => {
      const layer = image.layers[index]!;
      const layerId = orderedIds[index]!;
      if (UNSCANNABLE.test(layer.mediaType)) {
        outcome.layers[index] = { digest: layer.digest, outcome: 'skipped', reason: `media type ${layer.mediaType} cannot be scanned` };
        onLayer?.(index, outcome.layers[index]!);
        return;
      }
      const missing = this.deps.scanners.filter((s) => !done.get(layerId)?.has(scannerIds.get(scannerKey(s))!));
      if (missing.length === 0) {
        outcome.layers[index] = { digest: layer.digest, outcome: 'cached' };
        onLayer?.(index, outcome.layers[index]!);
        return;
      }
      const locked = await withAdvisoryLock(this.deps.databaseUrl, `lookout-layer:${layer.digest}`, { wait: true }, async () => {
        // Another job may have scanned it while we waited for the lock.
        const now = await layerStore.scannedBy([layerId], allScannerIds);
        const still = missing.filter((s) => !now.get(layerId)?.has(scannerIds.get(scannerKey(s))!));
        if (still.length === 0) return { digest: layer.digest, outcome: 'cached' as const };
        return this.scanOne(image, index, open, layerId, still, scannerIds, diffIds[index], signal);
      });
      outcome.layers[index] = locked.locked ? locked.value : { digest: layer.digest, outcome: 'failed', reason: 'lock not taken' };
      onLayer?.(index, outcome.layers[index]!);
    };
    if (image.openLayers) {
      // A source read from the start: one pass, layers in storage order, unneeded ones drained.
      for await (const { index, stream } of image.openLayers(signal)) {
        let used = false;
        await scanIndex(index, async () => {
          used = true;
          return stream;
        });
        if (!used) stream.destroy();
      }
    } else {
      await runLimited(image.layers.map((_, index) => () => scanIndex(index, () => image.openLayer(index, signal))), this.deps.layerConcurrency);
    }

    const failed = outcome.layers.filter((l) => l.outcome === 'failed');
    if (failed.length > 0) outcome.failure = failed.map((l) => `layer ${l.digest}: ${l.reason}`).join('; ');

    const contributions = await layerStore.contributions(orderedIds, allScannerIds);
    const layers = orderedIds.map((id) => contributions.get(id)!);
    const view = coalesceImage<StoredPackage>(
      layers.map(
        (c): LayerContribution<StoredPackage> => ({
          packages: c.packages,
          distributions: c.distributions.filter((d) => d.path !== RELEASE_HINT_PATH),
          files: c.files,
          whiteouts: c.whiteouts,
          symlinks: c.symlinks,
        }),
      ),
    );
    // The distributions given to coalesceImage came from the store, so they carry their row id.
    const found = view.distribution?.distribution as (FoundDistribution & { id?: number }) | undefined;
    const distributionId = found?.id ?? null;
    await layerStore.saveImageView(manifestId, {
      distributionId,
      packages: view.packages.map((p) => ({
        packageId: p.package.id,
        path: p.package.path,
        introducedIn: orderedIds[p.introducedIn]!,
        distributionId: OS_ECOSYSTEMS.has(p.package.ecosystem) ? distributionId : null,
        ownerPackageId: typeof p.package.extra?.ownerPackageId === 'number' ? p.package.extra.ownerPackageId : null,
      })),
    });
    outcome.packages = view.packages.length;
    const hints = layers.flatMap((c) => c.distributions.filter((d) => d.path === RELEASE_HINT_PATH));
    const hint = hints[hints.length - 1];
    outcome.releaseHint = hint ? distributionKey(hint) : null;
    outcome.distribution = view.distribution ? `${view.distribution.distribution.did} ${view.distribution.distribution.versionId ?? ''}`.trim() : null;
    log.info(
      {
        layers: outcome.layers.length,
        scanned: outcome.layers.filter((l) => l.outcome === 'scanned').length,
        cached: outcome.layers.filter((l) => l.outcome === 'cached').length,
        packages: outcome.packages,
        failure: outcome.failure,
      },
      'indexer image done',
    );
    return outcome;
  }

  private async scanOne(
    image: SourceImage,
    index: number,
    open: () => Promise<Readable>,
    layerId: number,
    scanners: readonly Scanner[],
    scannerIds: Map<string, number>,
    diffId: Digest | undefined,
    signal?: AbortSignal,
  ): Promise<IndexOutcome['layers'][number]> {
    const layer = image.layers[index]!;
    const log = this.deps.logger.child({ layer: layer.digest });
    log.debug('layer fetch start');
    try {
      const stream = await open();
      const read = await readLayer(stream, {
        scanners,
        ...(this.deps.limits ? { limits: this.deps.limits } : {}),
        ...(isDigest(layer.digest) ? { digest: layer.digest } : {}),
        ...(diffId ? { diffId } : {}),
        mediaType: layer.mediaType,
        ...(signal ? { signal } : {}),
      });
      const results = await scanLayer(read, scanners);
      const records = buildRecords(scanners, scannerIds, read.scanners, results, read.notes);
      await this.deps.layerStore.saveLayer(
        layerId,
        { whiteouts: read.whiteouts, uncompressedSize: read.stats.uncompressedBytes, compression: read.stats.format },
        records,
      );
      log.info({ bytes: read.stats.compressedBytes, uncompressed: read.stats.uncompressedBytes, entries: read.stats.entries }, 'layer scan done');
      return { digest: layer.digest, outcome: 'scanned', bytes: read.stats.compressedBytes };
    } catch (err) {
      // A layer that is over a limit, corrupt, or does not match its digest fails on its own: it is
      // recorded (so the reason is visible) and the image's other layers go on. Transient registry
      // failures are left to the job's retries.
      const permanent = err instanceof LayerError || isRegistryError(err, 'digest_mismatch', 'too_large', 'invalid_manifest', 'unsupported', 'not_found');
      if (!permanent) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      log.warn({ reason }, 'layer scan failed');
      await this.deps.layerStore.saveLayer(
        layerId,
        { whiteouts: [], uncompressedSize: null, compression: null },
        scanners.map((s) => ({ scannerId: scannerIds.get(scannerKey(s))!, state: 'failed', error: reason, files: [], symlinks: {}, notes: [], packages: [], distributions: [] })),
      );
      return { digest: layer.digest, outcome: 'failed', reason };
    }
  }

  private async scannerIds(): Promise<Map<string, number>> {
    this.scannerIdCache ??= await this.deps.layerStore.scannerIds(this.deps.scanners.map((s) => ({ name: s.name, version: s.version, kind: s.kind })));
    return this.scannerIdCache;
  }
}

/**
 * Turns one layer's scan results into store records. A language package whose file an OS package
 * installed (same layer) gets that OS package as owner, so it is matched through the OS package only.
 */
function buildRecords(
  scanners: readonly Scanner[],
  scannerIds: Map<string, number>,
  inputs: ReadonlyMap<string, { files: ReadonlyMap<string, unknown>; symlinks: ReadonlyMap<string, string> }>,
  results: Map<string, ScanResult>,
  layerNotes: readonly string[],
): LayerScanRecord[] {
  const owners = new Map<string, string>();
  for (const result of results.values()) {
    for (const p of result.packages ?? []) {
      if (!OS_ECOSYSTEMS.has(p.ecosystem)) continue;
      for (const file of p.files ?? []) owners.set(file.replace(/^\/+/, '').replace(/\/+$/, ''), packageKey(p));
    }
  }
  const ownerOf = (p: FoundPackage): string | null => {
    if (OS_ECOSYSTEMS.has(p.ecosystem) || owners.size === 0) return null;
    let path = p.path;
    for (;;) {
      const owner = owners.get(path);
      if (owner) return owner;
      const slash = path.lastIndexOf('/');
      if (slash <= 0) return null;
      path = path.slice(0, slash);
    }
  };
  return scanners.map((scanner, i) => {
    const result = results.get(scanner.name) ?? {};
    const input = inputs.get(scanner.name);
    return {
      scannerId: scannerIds.get(scannerKey(scanner))!,
      state: 'done' as const,
      files: input ? [...input.files.keys()] : [],
      symlinks: input ? Object.fromEntries(input.symlinks) : {},
      notes: [...(i === 0 ? layerNotes : []), ...(result.notes ?? [])].slice(0, 200),
      packages: (result.packages ?? []).map((p) => ({ ...p, ownerKey: ownerOf(p) })),
      distributions: result.distributions ?? [],
    };
  });
}

/** Runs the tasks with at most `limit` at once; rejects with the first failure after all settle. */
async function runLimited(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  let failure: unknown = null;
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++]!;
      try {
        await task();
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
  if (failure !== null) throw failure;
}
