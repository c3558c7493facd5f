import type { JobContext } from '../jobs/job-queue.ts';
import { PermanentJobError } from '../jobs/job-queue.ts';
import type { Logger } from '../log/create-logger.ts';
import { parseDigest } from '../oci/digest.ts';
import { isRegistryError } from '../registry/registry-error.ts';
import type { RegistrySet } from '../registry/registry-set.ts';
import type { ImageStore } from '../store/image-store.ts';
import type { ManifestIndexer } from './manifest-indexer.ts';
import { registryImageSource } from './registry-image-source.ts';

/** The queue of images to index, deduplicated per manifest digest. */
export const INDEX_MANIFEST_QUEUE = 'index-manifest';

/** Payload of an {@link INDEX_MANIFEST_QUEUE} job. */
export interface IndexManifestJob {
  registry: string;
  repository: string;
  digest: string;
}

/** What happens after indexing (matching and the report); set by the composition root. */
export type AfterIndex = (manifestId: number, digest: string) => Promise<void>;

export interface IndexManifestDeps {
  registries: RegistrySet;
  images: ImageStore;
  indexer: ManifestIndexer;
  afterIndex: AfterIndex;
  logger: Logger;
  /** The queue's retry limit: after it, a transiently failing image is marked failed. */
  retryLimit: number;
}

/**
 * Runs one {@link INDEX_MANIFEST_QUEUE} job: fetch the image manifest from its registry, index it
 * (only unseen layers are fetched), then hand over to matching. An image already indexed with the
 * current scanner set is not indexed again (a re-push of the same digest costs nothing). A manifest
 * gone from the registry marks the image deleted, not failed; a transient registry failure is
 * retried by the queue; anything else fails the image with its reason.
 */
export class IndexManifestHandler {
  private readonly deps: IndexManifestDeps;

  constructor(deps: IndexManifestDeps) {
    this.deps = deps;
  }

  async handle(job: JobContext<IndexManifestJob>): Promise<void> {
    const { registries, images, indexer, afterIndex } = this.deps;
    const digest = parseDigest(job.data.digest, 'manifest digest');
    const row = await images.manifestByDigest(digest);
    if (!row) throw new PermanentJobError(`manifest ${digest} is not known`);
    if (row.status === 'done' && row.indexedWith === indexer.fingerprint) return;
    const client = registries.byConfigName(job.data.registry);
    if (!client) throw new PermanentJobError(`registry ${job.data.registry} is no longer configured`);

    await images.setStatus(row.id, 'indexing');
    try {
      const fetched = await client.manifest(job.data.repository, digest, { signal: job.signal });
      if (fetched.manifest.kind !== 'image') throw new PermanentJobError(`${digest} is an index, not an image manifest`);
      const source = registryImageSource(client, job.data.repository, {
        digest: fetched.digest,
        mediaType: fetched.mediaType,
        platform: null,
        manifest: fetched.manifest,
      });
      const outcome = await indexer.index(row.id, source, job.signal);
      await images.recordIndexed(row.id, indexer.fingerprint, outcome.releaseHint, outcome.platform);
      if (outcome.failure) {
        await images.setStatus(row.id, 'failed', outcome.failure);
        return;
      }
      await images.setStatus(row.id, 'matching');
      await afterIndex(row.id, digest);
    } catch (err) {
      if (isRegistryError(err, 'not_found')) {
        await images.setStatus(row.id, 'deleted', 'the registry no longer has this manifest');
        return;
      }
      const retryable = isRegistryError(err) ? err.retryable : !(err instanceof PermanentJobError);
      const willRetry = retryable && job.attempt < this.deps.retryLimit;
      const reason = err instanceof Error ? err.message : String(err);
      await images.setStatus(row.id, willRetry ? 'queued' : 'failed', willRetry ? `retrying: ${reason}` : reason);
      if (!retryable) throw new PermanentJobError(reason, { cause: err });
      throw err;
    }
  }
}
