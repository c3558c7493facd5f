/** What a job handler receives: the payload, which attempt this is, and a signal aborted on shutdown or expiry. */
export interface JobContext<T> {
  id: string;
  queue: string;
  data: T;
  /** 0 for the first run, 1 for the first retry, … */
  attempt: number;
  signal: AbortSignal;
}

/** A kind of durable job and how it is run. Unset options take the `jobs.*` config defaults. */
export interface JobDefinition<T> {
  /** Queue name: lowercase words and dashes (`scan-manifest`). */
  queue: string;
  handle(job: JobContext<T>): Promise<void>;
  /**
   * With `dedupe`, jobs enqueued with the same key collapse: at most one waits and at most one runs
   * per key at a time (a key sent while one waits is dropped; while one runs, one more may wait).
   */
  dedupe?: boolean;
  retryLimit?: number;
  retryDelaySeconds?: number;
  retryDelayMaxSeconds?: number;
  expireInSeconds?: number;
  concurrency?: number;
}

/**
 * A connection that runs SQL with `$n` placeholders; given to {@link JobQueue.enqueue} so the job is
 * written in the caller's own transaction (it exists exactly when that transaction commits).
 */
export interface JobDb {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

export interface EnqueueOptions {
  /** Deduplication key (e.g. a manifest digest) for queues defined with `dedupe`. */
  key?: string;
  /** Run no earlier than this many seconds from now (debounce). */
  delaySeconds?: number;
  /** Write the job through this connection (inside the caller's transaction). */
  db?: JobDb;
}

export type JobState = 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';

/** A job as stored: state, how many times it was retried, and the error its last attempt ended with. */
export interface JobInfo<T = unknown> {
  id: string;
  queue: string;
  state: JobState;
  data: T;
  retryCount: number;
  retryLimit: number;
  lastError: string | null;
  createdAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
}

/** Counts per queue, for metrics and `lookout jobs`. */
export interface QueueCounts {
  queue: string;
  queued: number;
  active: number;
  failed: number;
  total: number;
}

/**
 * Durable jobs in PostgreSQL. Several processes may share one database: a job is claimed by one
 * worker at a time (`FOR UPDATE SKIP LOCKED`), retried with exponential backoff up to its limit,
 * and released for retry when its worker dies (after `expireInSeconds`) or shuts down.
 */
export interface JobQueue {
  /** Declares a queue and its handler; call before {@link start}. */
  define<T>(definition: JobDefinition<T>): void;
  /** Creates the queues; starts polling for jobs the queues `work` selects (all with `true`). */
  start(options: { work: boolean | ((queue: string) => boolean) }): Promise<void>;
  /** Stores a job; resolves to its id, or null when an equal key already waits (deduplicated). */
  enqueue<T extends object>(queue: string, data: T, options?: EnqueueOptions): Promise<string | null>;
  /** Stores many jobs in one statement (through `options.db` to join the caller's transaction). */
  enqueueMany<T extends object>(queue: string, jobs: readonly { data: T; key?: string; delaySeconds?: number }[], options?: { db?: JobDb }): Promise<void>;
  get<T = unknown>(queue: string, id: string): Promise<JobInfo<T> | null>;
  counts(): Promise<QueueCounts[]>;
  /** Stops claiming; waits up to `timeoutMs` for running jobs, then releases the rest for retry. */
  stop(timeoutMs: number): Promise<void>;
}

/** Thrown by a handler when retrying cannot help (bad input, digest mismatch): the job fails at once. */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}
