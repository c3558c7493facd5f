/**
 * `npm test`: runs ava against a PostgreSQL server. With TEST_DATABASE_URL set, that server is
 * used; otherwise an embedded PostgreSQL is started in a temporary directory and stopped at the
 * end. A migrated template database is made once; each test file clones its own database from it
 * (test/helpers/database.ts), so files run in parallel. Arguments are passed to ava
 * (`npm test -- test/config.test.ts`, `npm test -- --tap`).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createLogger } from '../src/log/create-logger.ts';
import { EmbeddedPostgres } from '../src/store/embedded-postgres.ts';
import { createKnex } from '../src/store/database.ts';
import { migrateLatest } from '../src/store/migrations.ts';
import { PgBossJobQueue } from '../src/jobs/pg-boss-job-queue.ts';
import { databaseUrl } from './helpers/database-url.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const logger = createLogger(process.env.LOOKOUT_TEST_LOG_LEVEL ?? 'warn');
const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;

let embedded: EmbeddedPostgres | null = null;
let embeddedDir: string | null = null;
let adminUrl = process.env.TEST_DATABASE_URL ?? '';
const engine = adminUrl === '' ? 'embedded' : 'server';
if (adminUrl === '') {
  embeddedDir = await mkdtemp(path.join(os.tmpdir(), 'lookout-test-pg-'));
  await chmod(embeddedDir, 0o755); // as root, the server's own user must be able to enter it
  embedded = await EmbeddedPostgres.start({ dataDir: embeddedDir, osUser: 'postgres', startTimeoutMs: 60_000, logger, database: 'test' });
  adminUrl = embedded.connectionString;
}

const template = `lookout_tpl_${runId}`;
let exitCode = 1;
try {
  await admin(async (client) => client.query(`create database ${template}`));
  const knex = createKnex(databaseUrl(adminUrl, template), { poolMax: 2, logger });
  try {
    await migrateLatest(knex);
  } finally {
    await knex.destroy();
  }
  await PgBossJobQueue.install(databaseUrl(adminUrl, template), logger);
  process.stderr.write(`test database: ${engine} engine, template ${template}\n`);

  exitCode = await new Promise<number>((resolve) => {
    const ava = spawn(process.execPath, [path.join(root, 'node_modules/ava/entrypoints/cli.js'), ...process.argv.slice(2)], {
      cwd: root,
      stdio: 'inherit',
      env: {
        ...process.env,
        LOOKOUT_TEST_ADMIN_URL: adminUrl,
        LOOKOUT_TEST_TEMPLATE: template,
        LOOKOUT_TEST_RUN: runId,
        LOOKOUT_TEST_ENGINE: engine,
      },
    });
    ava.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => ava.kill(signal));
  });
} finally {
  await cleanup().catch((err: unknown) => process.stderr.write(`test cleanup failed: ${String(err)}\n`));
}
process.exit(exitCode);

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Drops this run's template and any database a test file left behind, then the embedded server. */
async function cleanup(): Promise<void> {
  if (embedded) {
    await embedded.stop();
    if (embeddedDir) await rm(embeddedDir, { recursive: true, force: true });
    return;
  }
  await admin(async (client) => {
    const { rows } = await client.query<{ datname: string }>('select datname from pg_database where datname like $1', [`lookout_%${runId}%`]);
    for (const { datname } of rows) await client.query(`drop database if exists ${client.escapeIdentifier(datname)} with (force)`);
  });
}
