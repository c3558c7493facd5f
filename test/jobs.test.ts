import test from 'ava';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { PermanentJobError, type JobDefinition } from '../src/jobs/job-queue.ts';
import { PgBossJobQueue, type JobDefaults } from '../src/jobs/pg-boss-job-queue.ts';
import { createLogger } from '../src/log/create-logger.ts';
import { ROOT } from './helpers/cli.ts';
import { useDatabase, type TestDatabase } from './helpers/database.ts';

const database = useDatabase(test, 'jobs', async (db) => {
  await db.knex.raw('create table job_runs (job_id text not null, worker text not null, attempt int not null, at timestamptz not null default clock_timestamp())');
  await db.knex.raw('create table job_claims (job_id text not null, pid int not null)');
});
let db: TestDatabase;
test.before(async () => {
  db = await database();
});

const DEFAULTS: JobDefaults = {
  concurrency: 2,
  pollingIntervalSeconds: 0.5,
  retryLimit: 3,
  retryDelaySeconds: 1,
  retryDelayMaxSeconds: 60,
  expireInSeconds: 60,
  superviseIntervalSeconds: 1,
  retentionDays: 1,
};

/** A started queue on the test database; stopped when the test ends. */
async function startQueue<T>(
  t: { teardown(fn: () => Promise<void>): void },
  definition: JobDefinition<T>,
  options: { work?: boolean; defaults?: Partial<JobDefaults> } = {},
): Promise<PgBossJobQueue> {
  const queue = new PgBossJobQueue({ url: db.url, logger: createLogger('silent'), defaults: { ...DEFAULTS, ...options.defaults } });
  queue.define(definition);
  await queue.start({ work: options.work ?? true });
  t.teardown(() => queue.stop(1000));
  return queue;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(100);
  }
}

async function runsOf(queueJobIds: string[]): Promise<{ job_id: string; worker: string; attempt: number; at: Date }[]> {
  return db.knex('job_runs').whereIn('job_id', queueJobIds).orderBy('at');
}

function recorder(worker: string, work: (attempt: number) => Promise<void> = async () => undefined) {
  return async (job: { id: string; attempt: number }) => {
    await db.knex('job_runs').insert({ job_id: job.id, worker, attempt: job.attempt });
    await work(job.attempt);
  };
}

test('two workers on one database never run the same job twice', async (t) => {
  const name = 'concurrent';
  const handle = (worker: string) => recorder(worker, () => sleep(5));
  const a = await startQueue(t, { queue: name, handle: handle('a'), concurrency: 4 });
  await startQueue(t, { queue: name, handle: handle('b'), concurrency: 4 });
  const ids: string[] = [];
  for (let i = 0; i < 300; i++) ids.push((await a.enqueue(name, { i }))!);
  t.is(new Set(ids).size, 300);

  const runs = await until(() => runsOf(ids), (rows) => new Set(rows.map((r) => r.job_id)).size === 300);
  await sleep(1500); // a duplicate would show up in this window
  const final = await runsOf(ids);
  t.is(new Set(runs.map((r) => r.job_id)).size, 300, 'every job ran');
  t.is(final.length, 300, 'no job ran twice');
  const workers = new Set(final.map((r) => r.worker));
  t.deepEqual([...workers].sort(), ['a', 'b'], 'both workers took jobs');
  for (const id of ids.slice(0, 5)) t.is((await a.get(name, id))?.state, 'completed');
});

test('a deduplicating queue keeps one waiting job per key', async (t) => {
  const name = 'dedupe';
  const queue = await startQueue(t, { queue: name, dedupe: true, handle: async () => undefined }, { work: false });
  const first = await queue.enqueue(name, { digest: 'sha256:aa' }, { key: 'sha256:aa' });
  const second = await queue.enqueue(name, { digest: 'sha256:aa' }, { key: 'sha256:aa' });
  const other = await queue.enqueue(name, { digest: 'sha256:bb' }, { key: 'sha256:bb' });
  t.truthy(first);
  t.is(second, null, 'the same key while one waits is dropped');
  t.truthy(other);
  t.not(first, other);
});

test('a failing job is retried with exponential backoff, then succeeds', async (t) => {
  const name = 'backoff';
  let jobId = '';
  const queue = await startQueue(t, {
    queue: name,
    retryLimit: 3,
    retryDelaySeconds: 1,
    handle: recorder('a', async (attempt) => {
      if (attempt < 3) throw new Error(`flaky attempt ${attempt}`);
    }),
  });
  jobId = (await queue.enqueue(name, {}))!;
  const job = await until(() => queue.get(name, jobId), (j) => j?.state === 'completed', 90_000);
  t.is(job?.state, 'completed');
  t.is(job?.retryCount, 3);
  const runs = await runsOf([jobId]);
  t.deepEqual(
    runs.map((r) => r.attempt),
    [0, 1, 2, 3],
  );
  const gaps = runs.slice(1).map((r, i) => (r.at.getTime() - runs[i]!.at.getTime()) / 1000);
  // delay n = retryDelay * 2^(n-1) * (1 + jitter in [0,1)): at least 1 s, 2 s, 4 s.
  t.true(gaps[0]! >= 0.95, `gaps ${gaps}`);
  t.true(gaps[1]! >= 1.95, `gaps ${gaps}`);
  t.true(gaps[2]! >= 3.95, `gaps ${gaps}`);
  t.true(gaps[2]! > gaps[0]!, `backoff grows: ${gaps}`);
});

test('retries stop at the limit, and the job shows the last error', async (t) => {
  const name = 'exhausted';
  const queue = await startQueue(t, {
    queue: name,
    retryLimit: 2,
    retryDelaySeconds: 1,
    retryDelayMaxSeconds: 1,
    handle: recorder('a', async (attempt) => {
      throw new Error(`registry answered 503 on attempt ${attempt}`);
    }),
  });
  const id = (await queue.enqueue(name, {}))!;
  const job = await until(() => queue.get(name, id), (j) => j?.state === 'failed');
  t.is(job?.state, 'failed');
  t.is(job?.retryCount, 2);
  t.is(job?.lastError, 'registry answered 503 on attempt 2');
  await sleep(2500);
  t.is((await runsOf([id])).length, 3, 'one run plus two retries, then nothing');
});

test('a permanent error fails the job at once, without retries', async (t) => {
  const name = 'permanent';
  const queue = await startQueue(t, {
    queue: name,
    retryLimit: 5,
    handle: recorder('a', async () => {
      throw new PermanentJobError('digest mismatch: sha256:aa != sha256:bb');
    }),
  });
  const id = (await queue.enqueue(name, {}))!;
  const job = await until(() => queue.get(name, id), (j) => j?.state === 'failed');
  t.is(job?.state, 'failed');
  t.is(job?.lastError, 'digest mismatch: sha256:aa != sha256:bb');
  await sleep(2500);
  t.is((await runsOf([id])).length, 1);
});

test('a job claimed by a worker that is killed is run again by another worker', async (t) => {
  const name = 'crash';
  const producer = await startQueue(t, { queue: name, expireInSeconds: 2, handle: async () => undefined }, { work: false });
  const id = (await producer.enqueue(name, { n: 1 }))!;

  const child = spawn(process.execPath, ['test/helpers/job-worker-process.ts', db.url, name, '2'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const claims = await until(
    () => db.knex('job_claims').where({ job_id: id }),
    (rows) => rows.length > 0,
  );
  t.is(claims.length, 1, 'the child claimed the job');
  t.is((await producer.get(name, id))?.state, 'active');
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));

  await startQueue(t, { queue: name, expireInSeconds: 2, handle: recorder('survivor') });
  const job = await until(() => producer.get(name, id), (j) => j?.state === 'completed');
  t.is(job?.state, 'completed');
  t.true(job!.retryCount >= 1, 'the second run is a retry of the expired claim');
  const runs = await runsOf([id]);
  t.deepEqual(
    runs.map((r) => r.worker),
    ['survivor'],
  );
});

test('stop lets a running job finish within the timeout', async (t) => {
  const name = 'graceful-finish';
  const queue = new PgBossJobQueue({ url: db.url, logger: createLogger('silent'), defaults: DEFAULTS });
  let started = false;
  queue.define({
    queue: name,
    handle: recorder('a', async () => {
      started = true;
      await sleep(700);
    }),
  });
  await queue.start({ work: true });
  const id = (await queue.enqueue(name, {}))!;
  await until(async () => started, (s) => s);
  const checker = await startQueue(t, { queue: name, handle: async () => undefined }, { work: false });
  await queue.stop(10_000);
  t.is((await checker.get(name, id))?.state, 'completed');
});

test('stop releases a job that outlives the timeout, and it runs again elsewhere', async (t) => {
  const name = 'graceful-release';
  const queue = new PgBossJobQueue({ url: db.url, logger: createLogger('silent'), defaults: DEFAULTS });
  let aborted = false;
  let started = false;
  queue.define({
    queue: name,
    async handle(job) {
      if (job.attempt > 0) return;
      started = true;
      await new Promise<void>((resolve) => job.signal.addEventListener('abort', () => resolve(), { once: true }));
      aborted = true;
    },
  });
  await queue.start({ work: true });
  const id = (await queue.enqueue(name, {}))!;
  await until(async () => started, (s) => s);
  await queue.stop(1000);
  t.true(aborted, 'the handler was told to stop');
  const other = await startQueue(t, { queue: name, handle: recorder('b') });
  const job = await until(() => other.get(name, id), (j) => j?.state === 'completed');
  t.is(job?.state, 'completed');
  t.is(job?.retryCount, 1);
});
