import test from 'ava';
import { zstdDecompressSync } from 'node:zlib';
import { migrationNames, migratorConfig } from '../../src/store/migrations.ts';
import { createTestDatabase } from '../helpers/database.ts';

const MIGRATION = '20261122005200_report_zstd.ts';

test('cached reports stored as text are compressed by the migration, byte for byte, and decompressed back by its down', async (t) => {
  const db = await createTestDatabase('report_zstd_migration', { empty: true });
  t.teardown(() => db.drop());
  const config = migratorConfig();
  // Up to the migration before it, one at a time.
  const before = migrationNames().filter((name) => name < MIGRATION);
  for (let i = 0; i < before.length; i++) await db.knex.migrate.up(config);
  t.deepEqual(((await db.knex('knex_migrations').orderBy('id').pluck('name')) as string[]).slice(-1), before.slice(-1));

  // More rows than one batch of the conversion, and text that is not ASCII.
  const reports = new Map<number, string>();
  for (let i = 0; i < 130; i++) {
    const [m] = await db.knex('manifests')
      .insert({ digest: `sha256:${i.toString(16).padStart(64, '0')}`, media_type: 'application/vnd.oci.image.manifest.v1+json', kind: 'image', status: 'done' })
      .returning('id');
    const text = JSON.stringify({ schemaVersion: 1, kind: 'image', findings: [{ description: `Überlauf № ${i} — ✓`, n: i }], notes: ['x'.repeat(i * 10)] });
    reports.set(Number(m.id), text);
    await db.knex('reports').insert({ manifest_id: m.id, generation: 1, etag: `"e${i}"`, report: text, summary: '{}' });
  }

  await db.knex.migrate.up(config);
  const compressed = await db.knex('reports').select('manifest_id', 'report_zstd').orderBy('manifest_id');
  t.deepEqual(new Map(compressed.map((r) => [Number(r.manifest_id), zstdDecompressSync(r.report_zstd as Buffer).toString('utf8')])), reports);
  const columns = await db.knex('information_schema.columns').where({ table_name: 'reports' }).pluck('column_name');
  t.false(columns.includes('report'), 'the text column is gone');

  await db.knex.migrate.down(config);
  const restored = await db.knex('reports').select('manifest_id', 'report').orderBy('manifest_id');
  t.deepEqual(new Map(restored.map((r) => [Number(r.manifest_id), r.report as string])), reports);
});
