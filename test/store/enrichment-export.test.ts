import test from 'ava';
import { PgVulnerabilityStore } from '../../src/store/vulnerability-store.ts';
import { useDatabase, type TestDatabase } from '../helpers/database.ts';

const database = useDatabase(test, 'enrichment_export');
let db: TestDatabase;
test.before(async () => {
  db = await database();
});

test('an updater’s enrichments are read back whole, in key order, over several pages, without another updater’s', async (t) => {
  const [epss] = await db.knex('update_runs').insert({ updater: 'epss', state: 'changed' }).returning('id');
  const [kev] = await db.knex('update_runs').insert({ updater: 'kev', state: 'changed' }).returning('id');
  // 12,000 EPSS rows (more than two pages) and KEV rows for some of the same ids.
  await db.knex.raw(
    `insert into enrichments (kind, vuln_name, data, run_id)
     select 'epss', 'CVE-2024-' || (10000 + g), jsonb_build_object('score', g / 12000.0, 'percentile', 0.5, 'date', '2026-11-01'), ?::bigint from generate_series(1, 12000) g
     union all
     select 'kev', 'CVE-2024-' || (10000 + g), jsonb_build_object('dateAdded', '2024-01-02', 'dueDate', null, 'knownRansomware', false, 'name', null), ?::bigint from generate_series(1, 12000, 7) g`,
    [epss.id, kev.id],
  );
  const store = new PgVulnerabilityStore(db.knex);
  const read = [];
  for await (const e of store.enrichments('epss')) read.push(e);
  t.is(read.length, 12000);
  t.true(read.every((e) => e.kind === 'epss'));
  const names = read.map((e) => e.vulnName);
  t.deepEqual(names, [...names].sort(), 'in key order');
  t.is(new Set(names).size, 12000, 'no row twice across pages');
  t.like(read.find((e) => e.vulnName === 'CVE-2024-22000'), { data: { score: 1, date: '2026-11-01' } });

  const kevRead = [];
  for await (const e of store.enrichments('kev')) kevRead.push(e);
  t.is(kevRead.length, Math.ceil(12000 / 7));
  t.true(kevRead.every((e) => e.kind === 'kev'));
});
