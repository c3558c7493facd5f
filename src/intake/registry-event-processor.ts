import { INDEX_MANIFEST_QUEUE, type IndexManifestJob } from '../indexer/index-manifest-job.ts';
import { PermanentJobError, type JobContext, type JobQueue } from '../jobs/job-queue.ts';
import type { Logger } from '../log/create-logger.ts';
import { isDigest, type Digest } from '../oci/digest.ts';
import { INDEX_MEDIA_TYPES, bareMediaType } from '../registry/media-types.ts';
import type { RegistryClient } from '../registry/registry-client.ts';
import { isRegistryError } from '../registry/registry-error.ts';
import type { RegistrySet } from '../registry/registry-set.ts';
import type { ImageStore } from '../store/image-store.ts';
import type { StoredWebhookEvent, WebhookEventStore } from '../store/webhook-event-store.ts';
import type { RegistryEventJob } from './intake-service.ts';

export interface RegistryEventProcessorDeps {
  events: WebhookEventStore;
  images: ImageStore;
  registries: RegistrySet;
  /** Configured name → registry row id. */
  registryIds: ReadonlyMap<string, number>;
  /** Configured name → platforms to scan (empty: every linux platform). */
  platforms: ReadonlyMap<string, readonly string[]>;
  queue: JobQueue;
  /** Index jobs start this many seconds after the push that asked for them (one scan per digest). */
  debounceSeconds: number;
  logger: Logger;
}

/**
 * Turns a stored registry event into image work: a push is resolved against the CONFIGURED
 * registry (never a host from the event), the manifest or index and its platform manifests are
 * recorded with the repository and tag, and each image is queued for indexing, debounced per digest
 * (an index's children arrive first, untagged: they and the index cause one index job per child).
 * A delete marks the tag or the manifest gone in the repository. A manifest the registry no longer
 * has is treated as deleted, not as a failure.
 */
export class RegistryEventProcessor {
  private readonly deps: RegistryEventProcessorDeps;

  constructor(deps: RegistryEventProcessorDeps) {
    this.deps = deps;
  }

  async handle(job: JobContext<RegistryEventJob>): Promise<void> {
    const { events } = this.deps;
    const event = await events.get(job.data.eventRowId);
    if (!event) return;
    const registryName = [...this.deps.registryIds].find(([, id]) => id === event.registryId)?.[0];
    const client = registryName ? this.deps.registries.byConfigName(registryName) : undefined;
    if (!registryName || !client || event.repository === null) {
      await events.finish(event.id, 'ignored', 'the registry is no longer configured');
      return;
    }
    try {
      const reason = event.action === 'delete' ? await this.remove(event) : await this.push(event, registryName, client, job.signal);
      await events.finish(event.id, 'processed', reason ?? undefined);
    } catch (err) {
      if (isRegistryError(err, 'not_found')) {
        await events.finish(event.id, 'processed', 'the manifest is gone from the registry');
        return;
      }
      const retryable = isRegistryError(err) && err.retryable;
      const reason = err instanceof Error ? err.message : String(err);
      if (!retryable) {
        await events.finish(event.id, 'failed', reason);
        throw new PermanentJobError(reason, { cause: err });
      }
      throw err;
    }
  }

  private async remove(event: StoredWebhookEvent): Promise<string | null> {
    const { images } = this.deps;
    const repositoryId = await images.repositoryId(event.registryId, event.repository!);
    if (event.digest !== null) {
      const removed = await images.deleteFromRepository(repositoryId, event.digest);
      return removed ? null : 'nothing to delete';
    }
    if (event.tag !== null) {
      const removed = await images.deleteTag(repositoryId, event.tag);
      return removed ? null : 'tag not known';
    }
    return 'nothing to delete';
  }

  private async push(event: StoredWebhookEvent, registryName: string, client: RegistryClient, signal: AbortSignal): Promise<string | null> {
    const repository = event.repository!;
    const targets: { digest: Digest; tag: string | null }[] = [];
    if (event.digest !== null && isDigest(event.digest)) {
      targets.push({ digest: event.digest, tag: event.tag });
    } else {
      // Quay says which tags moved, not where to: resolve each with a HEAD on the manifest.
      const tags = quayTags(event);
      for (const tag of tags) {
        try {
          const head = await client.head(repository, tag, { signal });
          targets.push({ digest: head.digest, tag });
        } catch (err) {
          if (!isRegistryError(err, 'not_found')) throw err;
        }
      }
      if (targets.length === 0) return 'no tag could be resolved';
    }
    for (const target of targets) await this.ingest(event.registryId, registryName, client, repository, target.digest, target.tag, signal);
    return null;
  }

  /**
   * Records what `digest` is in `repository` (an image, an index and its platform images, or an
   * artifact), points `tag` at it, and queues each image for indexing. Also used for scans asked
   * for through the API.
   */
  async ingest(registryId: number, registryName: string, client: RegistryClient, repository: string, digest: Digest, tag: string | null, signal?: AbortSignal): Promise<void> {
    const { images, queue, debounceSeconds } = this.deps;
    const platforms = this.deps.platforms.get(registryName) ?? [];
    const resolution = await client.resolve(repository, digest, { ...(platforms.length > 0 ? { platforms } : {}), ...(signal ? { signal } : {}) });
    const repositoryId = await images.repositoryId(registryId, repository);
    const isIndex = INDEX_MEDIA_TYPES.has(bareMediaType(resolution.mediaType));
    const enqueue = (image: Digest) =>
      queue.enqueue<IndexManifestJob>(INDEX_MANIFEST_QUEUE, { registry: registryName, repository, digest: image }, { key: image, delaySeconds: debounceSeconds });

    if (isIndex) {
      const indexId = await images.upsertManifest({ digest: resolution.digest, mediaType: resolution.mediaType, kind: 'index', size: null });
      await images.linkToRepository(repositoryId, indexId);
      const children = [
        ...resolution.images.map((i) => ({ digest: i.digest, mediaType: i.mediaType, size: i.size, platform: i.platform, skipReason: null })),
        ...resolution.skipped.map((s) => ({ digest: s.digest, mediaType: s.mediaType, size: null, platform: s.platform, skipReason: `${s.reason}: ${s.detail}` })),
      ];
      const childIds = await images.setIndexChildren(indexId, children);
      for (const image of resolution.images) await images.linkToRepository(repositoryId, childIds.get(image.digest)!);
      if (tag !== null) await images.setTag(repositoryId, tag, indexId);
      for (const image of resolution.images) await enqueue(image.digest);
      await images.setStatus(indexId, resolution.images.length > 0 ? 'queued' : 'skipped', resolution.images.length > 0 ? null : 'no platform image to scan');
      return;
    }

    const image = resolution.images[0];
    if (!image) {
      const skip = resolution.skipped[0];
      const id = await images.upsertManifest({
        digest: resolution.digest,
        mediaType: resolution.mediaType,
        kind: 'artifact',
        size: null,
        skipReason: skip ? `${skip.reason}: ${skip.detail}` : 'not an image',
      });
      await images.linkToRepository(repositoryId, id);
      if (tag !== null) await images.setTag(repositoryId, tag, id);
      return;
    }
    const id = await images.upsertManifest({
      digest: image.digest,
      mediaType: image.mediaType,
      kind: 'image',
      size: image.size,
      configDigest: image.manifest.config.digest,
      platform: image.platform,
    });
    await images.linkToRepository(repositoryId, id);
    if (tag !== null) await images.setTag(repositoryId, tag, id);
    await enqueue(image.digest);
  }
}

function quayTags(event: StoredWebhookEvent): string[] {
  const body = event.body as { updated_tags?: unknown } | null;
  const tags = Array.isArray(body?.updated_tags) ? body.updated_tags.filter((t): t is string => typeof t === 'string') : [];
  return tags.length > 0 ? tags : event.tag !== null ? [event.tag] : [];
}
