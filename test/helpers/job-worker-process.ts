/**
 * A worker in a process of its own, for crash tests: it claims jobs from the queue named in argv,
 * records the claim in `job_claims`, and never finishes them. The test kills it with SIGKILL.
 * argv: DATABASE_URL QUEUE EXPIRE_SECONDS
 */
import pg from 'pg';
import { PgBossJobQueue } from '../../src/jobs/pg-boss-job-queue.ts';
import { createLogger } from '../../src/log/create-logger.ts';

const [url, queue, expire] = process.argv.slice(2) as [string, string, string];
const client = new pg.Client({ connectionString: url });
await client.connect();
const jobs = new PgBossJobQueue({
  url,
  logger: createLogger('silent'),
  defaults: {
    concurrency: 1,
    pollingIntervalSeconds: 0.5,
    retryLimit: 3,
    retryDelaySeconds: 1,
    retryDelayMaxSeconds: 1,
    expireInSeconds: Number(expire),
    superviseIntervalSeconds: 1,
    retentionDays: 1,
  },
});
jobs.define<{ n: number }>({
  queue,
  async handle(job) {
    await client.query('insert into job_claims (job_id, pid) values ($1, $2)', [job.id, process.pid]);
    await new Promise(() => undefined); // hang until killed
  },
});
await jobs.start({ work: true });
process.stdout.write('ready\n');
