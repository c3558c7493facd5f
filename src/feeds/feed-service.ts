import type { Config } from '../config/config-schema.ts';
import type { FeedDefinition, Updater } from '../ecosystems/updater.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import type { Logger } from '../log/create-logger.ts';
import type { RunSummary, VulnerabilityStore } from '../store/vulnerability-store.ts';
import type { FeedRunner, FeedSource, RunOutcome } from './feed-runner.ts';
import { UndiciFeedHttp } from './undici-feed-http.ts';

/** The queue of scheduled feed runs: one pending run per feed (the job key is the feed name). */
export const FEED_UPDATE_QUEUE = 'feed-update';

export interface FeedUpdateJob {
  feed: string;
}

/** A configured feed: its definition, whether it runs, and the updater built from its settings. */
export interface ConfiguredFeed {
  name: string;
  description: string;
  enabled: boolean;
  url: string;
  intervalMinutes: number;
  source: FeedSource;
}

/** Called after a run that changed data (the notifier's reverse match hangs here). */
export type OnFeedChanged = (outcome: Extract<RunOutcome, { state: 'changed' }>) => Promise<void>;

/**
 * Every feed as configured (`feeds.*`), and how they run: now (`lookout feeds update`), or on a
 * schedule through the job queue — each feed's job runs it and then queues its next run after
 * `intervalMinutes`, keyed by the feed's name so however many processes start, one run is pending
 * per feed; the runner's lock keeps runs of one feed from overlapping.
 */
export class FeedService {
  readonly feeds: ReadonlyMap<string, ConfiguredFeed>;
  private readonly runner: FeedRunner;
  private readonly store: VulnerabilityStore;
  private readonly logger: Logger;
  private readonly https: UndiciFeedHttp[];
  /** `feeds.timeoutMinutes`: a run taking longer is abandoned (it fails, the previous data stays). */
  private readonly timeoutMinutes: number;
  private onChanged: OnFeedChanged | null = null;

  constructor(deps: { config: Config; definitions: ReadonlyMap<string, FeedDefinition<any>>; runner: FeedRunner; store: VulnerabilityStore; logger: Logger }) {
    this.runner = deps.runner;
    this.store = deps.store;
    this.logger = deps.logger;
    this.https = [];
    this.timeoutMinutes = deps.config.feeds.timeoutMinutes;
    const feeds = new Map<string, ConfiguredFeed>();
    const section = deps.config.feeds as Record<string, unknown> & Config['feeds'];
    for (const [name, definition] of deps.definitions) {
      const settings = (section[name] ?? {}) as { enabled?: boolean; url?: string; intervalMinutes?: number; maxBytes?: number; options?: Record<string, unknown> };
      const url = settings.url ?? definition.defaultUrl;
      // Options were validated with the whole config; parsing again applies the defaults.
      const options = definition.options.parse(settings.options ?? {});
      const http = new UndiciFeedHttp({ allowedBases: [url], maxBytes: settings.maxBytes ?? section.maxBytes });
      this.https.push(http);
      const updater: Updater = definition.create({ url, options });
      feeds.set(name, {
        name,
        description: definition.description,
        enabled: section.enabled && (settings.enabled ?? definition.enabledByDefault),
        url,
        intervalMinutes: settings.intervalMinutes ?? section.intervalMinutes,
        source: { updater, url, http },
      });
    }
    this.feeds = feeds;
  }

  /** Sets what runs after a run that changed data. */
  whenChanged(hook: OnFeedChanged): void {
    this.onChanged = hook;
  }

  /** Runs feeds now, one after another (`only` = names; default every enabled feed). */
  async runNow(only: readonly string[] | null, progress?: (outcome: RunOutcome) => void, signal?: AbortSignal): Promise<RunOutcome[]> {
    const names = only ?? [...this.feeds.values()].filter((f) => f.enabled).map((f) => f.name);
    const outcomes: RunOutcome[] = [];
    for (const name of names) {
      const feed = this.feeds.get(name);
      if (!feed) throw new Error(`unknown feed ${name} (known: ${[...this.feeds.keys()].join(', ')})`);
      const outcome = await this.runOne(feed, signal);
      outcomes.push(outcome);
      progress?.(outcome);
    }
    return outcomes;
  }

  private async runOne(feed: ConfiguredFeed, signal?: AbortSignal): Promise<RunOutcome> {
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new Error(`the run took longer than feeds.timeoutMinutes (${this.timeoutMinutes} min)`)),
      this.timeoutMinutes * 60_000,
    );
    let outcome: RunOutcome;
    try {
      outcome = await this.runner.run(feed.source, signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal);
    } finally {
      clearTimeout(timer);
    }
    if (outcome.state === 'changed' && this.onChanged) {
      try {
        await this.onChanged(outcome);
      } catch (err) {
        this.logger.error({ err, feed: feed.name, runId: outcome.runId }, 'feed change hook failed');
      }
    }
    return outcome;
  }

  /** Declares the scheduled-run queue; its handler runs the feed and queues the next run. */
  defineSchedule(queue: JobQueue): void {
    queue.define<FeedUpdateJob>({
      queue: FEED_UPDATE_QUEUE,
      dedupe: true,
      retryLimit: 0,
      // the run's own timeout comes first; the job expires only if its process died
      expireInSeconds: this.timeoutMinutes * 60 + 600,
      handle: async (job) => {
        const feed = this.feeds.get(job.data.feed);
        if (!feed || !feed.enabled) return;
        try {
          await this.runOne(feed, job.signal);
        } finally {
          await queue.enqueue<FeedUpdateJob>(FEED_UPDATE_QUEUE, { feed: feed.name }, { key: feed.name, delaySeconds: feed.intervalMinutes * 60 });
        }
      },
    });
  }

  /** Queues a run of every enabled feed now (a no-op for feeds that already have one pending). */
  async startSchedule(queue: JobQueue): Promise<void> {
    for (const feed of this.feeds.values()) {
      if (!feed.enabled) continue;
      await queue.enqueue<FeedUpdateJob>(FEED_UPDATE_QUEUE, { feed: feed.name }, { key: feed.name });
    }
  }

  /** The latest run of each feed. */
  async status(): Promise<Array<{ feed: ConfiguredFeed; run: RunSummary | null }>> {
    const runs = new Map((await this.store.latestRuns()).map((r) => [r.updater, r]));
    return [...this.feeds.values()].map((feed) => ({ feed, run: runs.get(feed.source.updater.name) ?? null }));
  }

  async close(): Promise<void> {
    await Promise.all(this.https.map((h) => h.close()));
  }
}
