import test, { type ExecutionContext } from 'ava';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { createLogger } from '../src/log/create-logger.ts';
import { createKnex } from '../src/store/database.ts';
import { EmbeddedPostgres } from '../src/store/embedded-postgres.ts';
import { migrateLatest, migrateRollbackAll, migrationNames } from '../src/store/migrations.ts';
import { createTestDatabase, testEnvironment } from './helpers/database.ts';

/** Tables the first schema must provide for the later parts (DESIGN.md §2). */
const EXPECTED_TABLES = [
  'registries', 'repositories', 'tags', 'tag_history', 'manifests', 'manifest_children', 'repository_manifests',
  'layers', 'manifest_layers', 'scanners', 'layer_scans', 'distributions', 'layer_distributions', 'packages',
  'layer_packages', 'layer_whiteouts', 'manifest_packages', 'vulnerabilities', 'update_runs', 'update_diffs',
  'enrichments', 'reports', 'subscriptions', 'notification_deliveries', 'notifications', 'webhook_events',
  'custom_advisories', 'vex_documents', 'vex_statements', 'exceptions', 'image_layer_chains',
];

async function tables(knex: Knex): Promise<string[]> {
  const rows = await knex('information_schema.tables').where({ table_schema: 'public' }).pluck('table_name');
  return (rows as string[]).sort();
}

async function indexes(knex: Knex): Promise<string[]> {
  return (await knex('pg_indexes').where({ schemaname: 'public' }).pluck('indexname')) as string[];
}

/** Up on an empty database, down to nothing, and up again. */
async function upAndDown(t: ExecutionContext, knex: Knex): Promise<void> {
  t.deepEqual(await tables(knex), []);
  t.deepEqual(await migrateLatest(knex), migrationNames());
  const created = await tables(knex);
  for (const table of EXPECTED_TABLES) t.true(created.includes(table), `table ${table}`);
  t.deepEqual(await migrateLatest(knex), [], 'a second run applies nothing');

  const hot = await indexes(knex);
  for (const index of ['packages_ecosystem_name_idx', 'layers_digest_key', 'manifests_digest_key', 'manifest_packages_package_idx', 'vulnerabilities_package_idx']) {
    t.true(hot.includes(index), `index ${index}`);
  }
  // Digests are checked in the database too.
  await t.throwsAsync(knex('layers').insert({ digest: 'not-a-digest' }), { message: /layers_digest_check/ });

  t.deepEqual(await migrateRollbackAll(knex), [...migrationNames()].reverse());
  t.deepEqual(await tables(knex), ['knex_migrations', 'knex_migrations_lock'], 'down leaves only the migration bookkeeping');
  t.deepEqual(await migrateLatest(knex), migrationNames(), 'up again after down');
}

const onServer = testEnvironment().engine === 'server';
(onServer ? test : test.skip)(
  `migrations go up and down on a PostgreSQL server${onServer ? '' : ' (skipped: TEST_DATABASE_URL is not set)'}`,
  async (t) => {
    const db = await createTestDatabase('migrate_server', { empty: true });
    t.teardown(() => db.drop());
    const { rows } = await db.knex.raw<{ rows: { server_version: string }[] }>('show server_version');
    t.log(`server ${rows[0]!.server_version}`);
    await upAndDown(t, db.knex);
  },
);

test('migrations go up and down on the embedded engine', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-migrate-'));
  await chmod(dir, 0o755);
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const embedded = await EmbeddedPostgres.start({ dataDir: dir, osUser: 'postgres', startTimeoutMs: 60_000, logger: createLogger('silent') });
  t.teardown(() => embedded.stop());
  const knex = createKnex(embedded.connectionString);
  t.teardown(() => knex.destroy());
  await upAndDown(t, knex);
});
