import type { SourceImage } from '../indexer/image-source.ts';
import type { ManifestIndexer } from '../indexer/manifest-indexer.ts';
import type { Logger } from '../log/create-logger.ts';
import type { ReportService } from '../matcher/report-service.ts';
import type { ImageStore } from '../store/image-store.ts';

/** The services indexing one image needs. */
export interface IndexImageDeps {
  images: ImageStore;
  indexer: ManifestIndexer;
  reports: ReportService;
  logger: Logger;
}

/** How indexing one image ended: `failure` says why it did not (a layer, a fetch, a timeout). */
export interface IndexImageResult {
  failure: string | null;
}

/**
 * Indexes `source` as manifest `manifestId` and makes its report, keeping the image status as
 * the registry flow does (`indexing` → `matching` → `done`, or `failed` with the reason): the
 * indexer fetches only layers the current scanner set has not scanned, records which scanner set
 * indexed the image, then the report is computed and cached. `onMatching` hears when indexing is
 * over and matching starts. Never throws for a failure of the image itself; the reason is returned.
 */
export async function indexImage(deps: IndexImageDeps, manifestId: number, source: SourceImage, options: { signal?: AbortSignal; onMatching?: () => Promise<void> } = {}): Promise<IndexImageResult> {
  const { images, indexer, reports, logger } = deps;
  try {
    await images.setStatus(manifestId, 'indexing');
    const outcome = await indexer.index(manifestId, source, options.signal);
    await images.recordIndexed(manifestId, indexer.fingerprint, outcome.releaseHint, outcome.platform);
    if (outcome.failure !== null) {
      await images.setStatus(manifestId, 'failed', outcome.failure);
      return { failure: outcome.failure };
    }
    await images.setStatus(manifestId, 'matching');
    await options.onMatching?.();
    await reports.refresh(manifestId);
    await images.setStatus(manifestId, 'done');
    return { failure: null };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    logger.warn({ manifest: source.digest, reason }, 'compat index failed');
    await images.setStatus(manifestId, 'failed', reason).catch(() => undefined);
    return { failure: reason };
  }
}
