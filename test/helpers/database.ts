import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import pg from 'pg';
import { createKnex } from '../../src/store/database.ts';
import { databaseUrl } from './database-url.ts';

/** A database of one test file's own, cloned from the migrated template made by test/run.ts. */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  readonly knex: Knex;
  drop(): Promise<void>;
}

/** Environment set by test/run.ts; a test started some other way fails with this explanation. */
export function testEnvironment(): { adminUrl: string; template: string; runId: string; engine: 'server' | 'embedded' } {
  const adminUrl = process.env.LOOKOUT_TEST_ADMIN_URL;
  const template = process.env.LOOKOUT_TEST_TEMPLATE;
  const runId = process.env.LOOKOUT_TEST_RUN;
  if (!adminUrl || !template || !runId) {
    throw new Error('the tests need the database prepared by test/run.ts: run them with `npm test` (arguments go to ava)');
  }
  return { adminUrl, template, runId, engine: process.env.LOOKOUT_TEST_ENGINE === 'server' ? 'server' : 'embedded' };
}

/** Runs `fn` with a client on the server's admin database. */
export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testEnvironment().adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates a database for `label`: cloned from the migrated template, or empty with `{ empty: true }`.
 * `CREATE DATABASE … TEMPLATE` fails while another session copies the same template, so it is retried.
 */
export async function createTestDatabase(label: string, options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const env = testEnvironment();
  const name = `lookout_${label.replace(/[^a-z0-9]/g, '_')}_${env.runId}_${randomBytes(3).toString('hex')}`;
  await withAdmin(async (client) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`create database ${name} ${options.empty ? '' : `template ${env.template}`}`);
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== '55006' || attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 150));
      }
    }
  });
  const url = databaseUrl(env.adminUrl, name);
  const knex = createKnex(url, { poolMax: 5 });
  return {
    name,
    url,
    knex,
    async drop() {
      await knex.destroy();
      await withAdmin((client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/**
 * This test file's database, created on first use (after optional `setup`) and dropped after the
 * file's last test. Call at the top of the file; tests `await db()` for it.
 */
export function useDatabase(
  test: { after: { always(fn: () => Promise<void>): void } },
  label: string,
  setup?: (db: TestDatabase) => Promise<void>,
): () => Promise<TestDatabase> {
  let created: Promise<TestDatabase> | null = null;
  test.after.always(async () => {
    if (created) await (await created).drop();
  });
  return () => {
    created ??= createTestDatabase(label).then(async (db) => {
      await setup?.(db);
      return db;
    });
    return created;
  };
}
