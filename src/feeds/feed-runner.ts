import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UNCHANGED, type FeedHttp, type Updater } from '../ecosystems/updater.ts';
import type { Logger } from '../log/create-logger.ts';
import { withAdvisoryLock } from '../store/advisory-lock.ts';
import type { AppliedHook, RunCounts, VulnerabilityStore } from '../store/vulnerability-store.ts';

export type RunOutcome =
  | { updater: string; runId: number; state: 'changed'; counts: RunCounts; fingerprint: string; seconds: number }
  | { updater: string; runId: number; state: 'unchanged'; seconds: number }
  | { updater: string; runId: number | null; state: 'failed'; error: string; seconds: number }
  | { updater: string; runId: null; state: 'locked'; seconds: number };

export interface FeedRunnerDeps {
  store: VulnerabilityStore;
  /** The database URL, for the session-level advisory lock that keeps one run per updater. */
  databaseUrl: string;
  logger: Logger;
  /** Where spool directories are made (default: the OS temp dir). */
  spoolRoot?: string;
  /** Runs inside each changing run's transaction (the notifier's reverse match). */
  onApplied?: AppliedHook;
}

export interface FeedSource {
  updater: Updater;
  /** The configured base URL (`feeds.<name>.url`). */
  url: string;
  http: FeedHttp;
}

/**
 * Runs one updater: under a database advisory lock (one run per updater across every process), a
 * conditional fetch into a private spool directory, then the streaming parse applied in one
 * transaction. "Unchanged" (every URL 304, or the same fingerprint) costs the fetch only; a failed
 * fetch or parse is recorded with its reason and leaves the previous data in place.
 */
export class FeedRunner {
  private readonly deps: FeedRunnerDeps;

  constructor(deps: FeedRunnerDeps) {
    this.deps = deps;
  }

  async run(source: FeedSource, signal?: AbortSignal): Promise<RunOutcome> {
    const { updater } = source;
    const started = performance.now();
    const seconds = () => Math.round((performance.now() - started) / 10) / 100;
    const result = await withAdvisoryLock(this.deps.databaseUrl, `lookout-feed:${updater.name}`, { wait: false }, () =>
      this.runLocked(source, seconds, signal),
    );
    if (result.locked) return result.value;
    this.deps.logger.info({ updater: updater.name }, 'feed run skipped locked');
    return { updater: updater.name, runId: null, state: 'locked', seconds: seconds() };
  }

  private async runLocked(source: FeedSource, seconds: () => number, signal?: AbortSignal): Promise<RunOutcome> {
    const { updater } = source;
    const { store, logger } = this.deps;
    const log = logger.child({ updater: updater.name });
    const previous = await store.lastSuccessfulRun(updater.name);
    const runId = await store.startRun(updater.name);
    const spoolDir = await mkdtemp(path.join(this.deps.spoolRoot ?? os.tmpdir(), `lookout-feed-${updater.name}-`));
    log.info({ runId }, 'feed run start');
    try {
      const fetched = await updater.fetch({
        url: source.url,
        http: source.http,
        spoolDir,
        previousFingerprint: previous?.fingerprint ?? null,
        validators: previous?.validators ?? {},
        ...(signal ? { signal } : {}),
      });
      if (fetched === UNCHANGED || (previous !== null && fetched.fingerprint === previous.fingerprint)) {
        const validators = fetched === UNCHANGED ? (previous?.validators ?? {}) : fetched.validators;
        await store.finishRun(runId, { state: 'unchanged', fingerprint: previous?.fingerprint ?? null, validators });
        log.info({ runId, seconds: seconds() }, 'feed run unchanged');
        return { updater: updater.name, runId, state: 'unchanged', seconds: seconds() };
      }
      const counts = await store.applyRun(runId, updater.name, untilAborted(updater.parse(fetched), signal), {
        delta: fetched.delta === true,
        ...(this.deps.onApplied ? { onApplied: this.deps.onApplied } : {}),
      });
      await store.finishRun(runId, { state: 'changed', fingerprint: fetched.fingerprint, validators: fetched.validators, counts });
      log.info({ runId, ...counts, seconds: seconds() }, 'feed run changed');
      return { updater: updater.name, runId, state: 'changed', counts, fingerprint: fetched.fingerprint, seconds: seconds() };
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      await store.finishRun(runId, { state: 'failed', error }).catch(() => undefined);
      log.warn({ runId, err, seconds: seconds() }, 'feed run failed');
      return { updater: updater.name, runId, state: 'failed', error, seconds: seconds() };
    } finally {
      await rm(spoolDir, { recursive: true, force: true });
    }
  }
}

/** The records, until `signal` aborts: then its reason is thrown (the run's transaction rolls back). */
async function* untilAborted<T>(records: AsyncIterable<T>, signal: AbortSignal | undefined): AsyncGenerator<T> {
  for await (const record of records) {
    signal?.throwIfAborted();
    yield record;
  }
}
