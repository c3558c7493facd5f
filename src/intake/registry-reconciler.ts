import type { JobQueue } from '../jobs/job-queue.ts';
import type { Logger } from '../log/create-logger.ts';
import type { Digest } from '../oci/digest.ts';
import { isRegistryError } from '../registry/registry-error.ts';
import type { RegistrySet } from '../registry/registry-set.ts';
import type { ImageStore } from '../store/image-store.ts';
import type { RegistryEventProcessor } from './registry-event-processor.ts';

/** The queue of reconciliation passes, one job per registry (keyed by its name). */
export const RECONCILE_QUEUE = 'registry-reconcile';

/** A reconciliation pass over one configured registry. */
export interface ReconcileJob {
  registry: string;
}

/** What one pass found and did. */
export interface ReconcileSummary {
  repositories: number;
  tags: number;
  /** Tags whose digest Lookout did not have (missed pushes): recorded and queued for indexing. */
  ingested: number;
  /** Tags Lookout had that the registry no longer lists (missed deletes). */
  removed: number;
  /** Tags or repositories that could not be read this time. */
  failed: number;
}

export interface RegistryReconcilerDeps {
  registries: RegistrySet;
  registryIds: ReadonlyMap<string, number>;
  images: ImageStore;
  processor: RegistryEventProcessor;
  /** Minutes between passes; 0 = off. */
  intervalMinutes: number;
  /** HEAD requests in flight at once (the registry client also limits per registry). */
  concurrency?: number;
  logger: Logger;
  onSummary?: (registry: string, summary: ReconcileSummary) => void;
}

/**
 * Catches pushes and deletes a registry never announced (Distribution keeps its notification
 * queue in memory and loses it on restart): walks `/v2/_catalog` and each repository's tag list
 * (`Link` paging), resolves each tag with a HEAD, and compares with what intake recorded. A tag
 * pointing at a digest Lookout does not have for it is ingested exactly as a push would be; a
 * recorded tag the registry no longer lists is marked gone. Deletions are applied only after the
 * whole catalog was read, so a failed or truncated listing never removes anything.
 *
 * Needs `registry:catalog:*` for Lookout's account on token-auth registries. Runs as a
 * self-rescheduling job per registry on the worker role.
 */
export class RegistryReconciler {
  private readonly deps: RegistryReconcilerDeps;

  constructor(deps: RegistryReconcilerDeps) {
    this.deps = deps;
  }

  get enabled(): boolean {
    return this.deps.intervalMinutes > 0;
  }

  /** Registers the job handler (a pass, then the next one queued `intervalMinutes` later). */
  defineSchedule(queue: JobQueue): void {
    queue.define<ReconcileJob>({
      queue: RECONCILE_QUEUE,
      dedupe: true,
      retryLimit: 0,
      expireInSeconds: 6 * 3600,
      handle: async (job) => {
        if (!this.enabled || !this.deps.registryIds.has(job.data.registry)) return;
        try {
          await this.reconcile(job.data.registry, job.signal);
        } catch (err) {
          this.deps.logger.warn({ registry: job.data.registry, err: { message: (err as Error).message, kind: (err as { kind?: unknown }).kind } }, 'registry reconcile failed');
        } finally {
          await queue.enqueue<ReconcileJob>(RECONCILE_QUEUE, { registry: job.data.registry }, { key: job.data.registry, delaySeconds: this.deps.intervalMinutes * 60 });
        }
      },
    });
  }

  /** Queues a pass of every registry now (a no-op for registries that have one pending). */
  async startSchedule(queue: JobQueue): Promise<void> {
    if (!this.enabled) return;
    for (const name of this.deps.registryIds.keys()) await queue.enqueue<ReconcileJob>(RECONCILE_QUEUE, { registry: name }, { key: name });
  }

  /** One pass over `registryName`; rejects when the catalog cannot be read (nothing is removed then). */
  async reconcile(registryName: string, signal?: AbortSignal): Promise<ReconcileSummary> {
    const { registries, registryIds, images, logger } = this.deps;
    const client = registries.byConfigName(registryName);
    const registryId = registryIds.get(registryName);
    if (!client || registryId === undefined) throw new Error(`registry ${registryName} is not configured`);
    const started = Date.now();
    const known = await images.liveTags(registryId);
    const summary: ReconcileSummary = { repositories: 0, tags: 0, ingested: 0, removed: 0, failed: 0 };
    const listed = new Map<string, Set<string> | null>();

    for await (const repository of client.catalog(signal ? { signal } : {})) {
      signal?.throwIfAborted();
      summary.repositories++;
      let tags: Set<string> | null = new Set();
      try {
        for await (const tag of client.tags(repository, signal ? { signal } : {})) tags.add(tag);
      } catch (err) {
        if (isRegistryError(err, 'not_found')) {
          tags = new Set(); // listed in the catalog but without tags (every tag deleted)
        } else {
          summary.failed++;
          logger.warn({ registry: registryName, repository, err: { message: (err as Error).message } }, 'registry reconcile repository failed');
          tags = null; // unknown: change nothing in this repository
        }
      }
      listed.set(repository, tags);
      if (tags === null) continue;
      summary.tags += tags.size;
      const recorded = known.get(repository) ?? new Map<string, string>();
      await this.pool([...tags], async (tag) => {
        try {
          const { digest } = await client.head(repository, tag, signal ? { signal } : {});
          if (recorded.get(tag) === digest) return;
          await this.deps.processor.ingest(registryId, registryName, client, repository, digest as Digest, tag, signal);
          summary.ingested++;
          logger.info({ registry: registryName, repository, tag, digest }, 'registry reconcile ingested');
        } catch (err) {
          if (isRegistryError(err, 'not_found')) return; // deleted since the listing
          summary.failed++;
          logger.warn({ registry: registryName, repository, tag, err: { message: (err as Error).message } }, 'registry reconcile tag failed');
        }
      });
    }

    // The whole catalog was read: what Lookout has and the registry does not list is gone.
    for (const [repository, tags] of known) {
      const now = listed.get(repository);
      if (now === null) continue;
      const gone = [...tags.keys()].filter((tag) => now === undefined || !now.has(tag));
      if (gone.length === 0) continue;
      const repositoryId = await images.repositoryId(registryId, repository);
      for (const tag of gone) {
        if (await images.deleteTag(repositoryId, tag)) {
          summary.removed++;
          logger.info({ registry: registryName, repository, tag }, 'registry reconcile removed tag');
        }
      }
    }
    logger.info({ registry: registryName, ...summary, ms: Date.now() - started }, 'registry reconcile finished');
    this.deps.onSummary?.(registryName, summary);
    return summary;
  }

  private async pool<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const workers = Array.from({ length: Math.min(this.deps.concurrency ?? 4, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    });
    await Promise.all(workers);
  }
}
