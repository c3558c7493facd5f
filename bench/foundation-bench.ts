import pg from 'pg';
import type { Bench, BenchContext, Figure } from './figure.ts';
import { PgBossJobQueue } from '../src/jobs/pg-boss-job-queue.ts';
import { createLogger } from '../src/log/create-logger.ts';
import { createKnex } from '../src/store/database.ts';
import { EmbeddedPostgres } from '../src/store/embedded-postgres.ts';
import { migrateLatest } from '../src/store/migrations.ts';

const JOBS = 10_000;
const logger = createLogger('silent');

/** Foundation figures: the embedded engine against a PostgreSQL server, start time and 10,000 jobs. */
const bench: Bench = async (ctx) => {
  const server = ctx.serverUrl ? await serverFigures(ctx, ctx.serverUrl) : null;
  const embedded = await embeddedFigures(ctx);
  const ref = (key: 'start' | 'enqueue' | 'process', unit: string): Figure['reference'] =>
    server ? { name: `server.${key}`, value: server[key], unit } : null;
  const note = server ? undefined : 'no PostgreSQL server to compare with: set BENCH_DATABASE_URL or TEST_DATABASE_URL';
  ctx.emit({ name: 'db.embedded.start_cold_ms', value: embedded.start, unit: 'ms', reference: ref('start', 'ms'), note: note ?? 'reference: connect and first query on the server (it needs no start)' });
  ctx.emit({ name: 'db.embedded.start_warm_ms', value: embedded.warmStart!, unit: 'ms', reference: ref('start', 'ms'), note: note ?? 'reference: connect and first query on the server' });
  ctx.emit({ name: 'jobs.enqueue_10k.seconds', engine: 'embedded', value: embedded.enqueue, unit: 's', reference: ref('enqueue', 's'), note });
  ctx.emit({ name: 'jobs.process_10k.seconds', engine: 'embedded', value: embedded.process, unit: 's', reference: ref('process', 's'), note });
  ctx.emit({ name: 'jobs.process_10k.jobs_per_second', engine: 'embedded', value: round(JOBS / embedded.process), unit: 'jobs/s', reference: server ? { name: 'server.jobs_per_second', value: round(JOBS / server.process), unit: 'jobs/s' } : null, note });
};
export default bench;

interface EngineFigures {
  start: number;
  warmStart?: number;
  enqueue: number;
  process: number;
}

async function embeddedFigures(ctx: BenchContext): Promise<EngineFigures> {
  ctx.log('embedded: cold start');
  let t = performance.now();
  let embedded = await EmbeddedPostgres.start({ dataDir: ctx.tmpDir, osUser: 'postgres', startTimeoutMs: 60_000, logger });
  const start = round(performance.now() - t);
  await embedded.stop();
  t = performance.now();
  embedded = await EmbeddedPostgres.start({ dataDir: ctx.tmpDir, osUser: 'postgres', startTimeoutMs: 60_000, logger });
  const warmStart = round(performance.now() - t);
  try {
    const jobs = await jobFigures(ctx, embedded.connectionString, 'embedded');
    return { start, warmStart, ...jobs };
  } finally {
    await embedded.stop();
  }
}

async function serverFigures(ctx: BenchContext, adminUrl: string): Promise<EngineFigures> {
  const t = performance.now();
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query('select 1');
  const start = round(performance.now() - t);
  const name = `lookout_bench_${Date.now().toString(36)}`;
  await client.query(`create database ${name}`);
  try {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return { start, ...(await jobFigures(ctx, url.toString(), 'server')) };
  } finally {
    await client.query(`drop database if exists ${name} with (force)`);
    await client.end();
  }
}

/** Enqueues 10,000 jobs one by one through the queue API, then times two workers draining them. */
async function jobFigures(ctx: BenchContext, url: string, engine: string): Promise<{ enqueue: number; process: number }> {
  const knex = createKnex(url);
  await migrateLatest(knex);
  await knex.destroy();
  await PgBossJobQueue.install(url, logger);
  const defaults = {
    concurrency: 8,
    pollingIntervalSeconds: 0.5,
    retryLimit: 2,
    retryDelaySeconds: 1,
    retryDelayMaxSeconds: 10,
    expireInSeconds: 60,
    superviseIntervalSeconds: 5,
    retentionDays: 1,
  };
  const producer = new PgBossJobQueue({ url, defaults, logger });
  producer.define({ queue: 'bench', handle: async () => undefined });
  await producer.start({ work: false });

  ctx.log(`${engine}: enqueue ${JOBS}`);
  let t = performance.now();
  for (let i = 0; i < JOBS; i++) await producer.enqueue('bench', { i });
  const enqueue = round((performance.now() - t) / 1000);

  ctx.log(`${engine}: process ${JOBS} with two workers`);
  let done = 0;
  let finished!: () => void;
  const all = new Promise<void>((resolve) => (finished = resolve));
  const workers = [0, 1].map(() => {
    const worker = new PgBossJobQueue({ url, defaults, logger });
    worker.define({
      queue: 'bench',
      handle: async () => {
        done += 1;
        if (done === JOBS) finished();
      },
    });
    return worker;
  });
  t = performance.now();
  await Promise.all(workers.map((w) => w.start({ work: true })));
  await all;
  const process = round((performance.now() - t) / 1000);
  await Promise.all([...workers, producer].map((w) => w.stop(5000)));
  return { enqueue, process };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
