import test from 'ava';
import { down, up } from '../../migrations/20261122002000_compat.ts';
import { createTestDatabase } from '../helpers/database.ts';

const TABLES = ['clair_index_reports', 'clair_notification_acks', 'harbor_scans'];

test('the compat migration goes down and up again; its tables check what they hold', async (t) => {
  const db = await createTestDatabase('compat_migration');
  t.teardown(() => db.drop());
  const present = async () => ((await db.knex('information_schema.tables').where({ table_schema: 'public' }).whereIn('table_name', TABLES).pluck('table_name')) as string[]).sort();
  t.deepEqual(await present(), TABLES, 'applied with the others');
  await down(db.knex);
  t.deepEqual(await present(), []);
  await up(db.knex);
  t.deepEqual(await present(), TABLES);

  await t.throwsAsync(db.knex('harbor_scans').insert({ registry: 'r', repository: 'a/b', digest: 'not-a-digest' }), { message: /harbor_scans_digest_check/ });
  await t.throwsAsync(db.knex('harbor_scans').insert({ registry: 'r', repository: 'a/b', digest: `sha256:${'a'.repeat(64)}`, status: 'weird' }), { message: /harbor_scans_status_check/ });
  const [manifest] = await db.knex('manifests').insert({ digest: `sha256:${'b'.repeat(64)}`, media_type: 'application/vnd.oci.image.manifest.v1+json', kind: 'image' }).returning('id');
  await t.throwsAsync(db.knex('clair_index_reports').insert({ manifest_id: manifest.id, state: 'Indexing' }), { message: /clair_index_reports_state_check/ });
  await db.knex('clair_index_reports').insert({ manifest_id: manifest.id, state: 'IndexFinished' });
  await db.knex('manifests').where({ id: manifest.id }).delete();
  t.is((await db.knex('clair_index_reports').count('* as n').first())?.n, '0', 'a Clair record goes with its manifest');
});
