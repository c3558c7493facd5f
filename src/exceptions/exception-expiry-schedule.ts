import type { JobQueue } from '../jobs/job-queue.ts';
import type { Logger } from '../log/create-logger.ts';
import type { ExceptionService } from './exception-service.ts';

/** The queue of the exception expiry check: one pending job (key `expiry`) that queues the next. */
export const EXCEPTION_EXPIRY_QUEUE = 'exception-expiry';

const KEY = 'expiry';

/** Another periodic chore of operator data run with each check (e.g. re-applying advisories whose application failed). */
export interface ScheduledChore {
  name: string;
  run(): Promise<unknown>;
}

/**
 * Checks for expired exceptions every `intervalSeconds` through the job queue: each job runs the
 * chores, then {@link ExceptionService.processExpired}, and queues the next one (keyed, so however
 * many processes start, one is pending), as feed schedules do. A failure is logged; the next
 * job tries again.
 */
export class ExceptionExpirySchedule {
  private readonly service: ExceptionService;
  private readonly intervalSeconds: number;
  private readonly logger: Logger;
  private readonly chores: readonly ScheduledChore[];

  constructor(deps: { service: ExceptionService; intervalSeconds: number; logger: Logger; chores?: readonly ScheduledChore[] }) {
    this.service = deps.service;
    this.intervalSeconds = deps.intervalSeconds;
    this.logger = deps.logger;
    this.chores = deps.chores ?? [];
  }

  /** Declares the queue and its handler; call before the queue starts. */
  define(queue: JobQueue): void {
    queue.define<{ check: true }>({
      queue: EXCEPTION_EXPIRY_QUEUE,
      dedupe: true,
      retryLimit: 0,
      handle: async (job) => {
        try {
          for (const chore of this.chores) {
            try {
              await chore.run();
            } catch (err) {
              this.logger.error({ err, chore: chore.name }, 'operator data chore failed');
            }
          }
          await this.service.processExpired(job.signal);
        } catch (err) {
          this.logger.error({ err }, 'exception expiry failed');
        } finally {
          await queue.enqueue(EXCEPTION_EXPIRY_QUEUE, { check: true }, { key: KEY, delaySeconds: this.intervalSeconds });
        }
      },
    });
  }

  /** Queues the first check now (a no-op when one is already pending). */
  async start(queue: JobQueue): Promise<void> {
    await queue.enqueue(EXCEPTION_EXPIRY_QUEUE, { check: true }, { key: KEY });
  }
}
